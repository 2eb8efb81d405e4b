"""Open WebUI 0.12.4 in headless Chromium asks `homelab-agent serve` the first question; outside CI.

What it does, each run from scratch:

1. works out the demo board's overdue Homelab tasks (`tools.kanboard_demo`, through the repo's venv);
2. writes a config copied from config/homelab-agent.example.toml (agent.model = "large", the real
   Qwen2.5-Coder-1.5B, `n_threads`, logs as JSON) and starts `homelab-agent serve --transport http`
   on the demo board (no KANBOARD_URL), on loopback;
3. starts the recording proxy (`recorder.py`) in front of it, then Open WebUI from its own venv,
   offline, with a fresh DATA_DIR and at its defaults except `OPENAI_API_BASE_URL` (and, with
   `--task-model`, `TASK_MODEL_EXTERNAL`, the documented setting);
4. opens Open WebUI in headless Chromium (a fresh profile), asks "What is overdue in the Homelab
   project?", waits for the answer to finish, and checks the rendered answer names the overdue tasks;
5. waits for Open WebUI's housekeeping (follow-ups, tags, title) to end, then prints what it
   measured: the question's time in the browser (Enter to the finished answer), the requests by
   model and status, agent runs (serve's `/metrics`: homelab_agent_runs_total) and plain model turns
   (homelab_agent_chats_total), and which overdue tasks the answer named. Results, logs and
   screenshots go to --out; `--screenshots DIR` also saves the small PNGs for docs/.

`--approval` (issue 25) asks two write questions instead, serve writing to the demo board served
over HTTP (`homelab-agent-kanboard demo`, writes on): the first answered "yes" in the chat (the
task must then be on the board, once), the second, in a new chat, "no" (nothing written); the
rendered approval question must carry its reference. Screenshots of both.

`--serve-code DIR` runs serve from another checkout's code (e.g. main's, for the "before" numbers);
`--fake` answers from the proxy's canned reply instead of serve (seconds, for trying the browser
steps). Timings on a shared 2-core machine are noisy; the script prints how it ran.

Usage (after benchmarks/openwebui/setup.sh; run with the Open WebUI venv's python, which has selenium):
    $OWUI_VENV/bin/python benchmarks/openwebui/run.py --label after --task-model homelab-agent-chat
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.helpers import free_port  # noqa: E402 (run as a script: after the sys.path line)

DEFAULT_VENV = "~/.local/share/homelab-agent/owui-venv"  # setup.sh's default; $OWUI_VENV overrides
QUESTION = "What is overdue in the Homelab project?"
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,860",
)
OVERDUE = """
import json
from tools.kanboard_demo import DemoBoard, load_seed
board = DemoBoard(load_seed())
home = next(p for p in board.projects.values() if p["name"] == "Homelab")
tasks = board.tasks.values()
print(json.dumps([t["title"] for t in tasks if t["project_id"] == home["id"] and board.is_overdue(t)]))
"""


def wait_http(url: str, within: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> float:
    """Seconds until `url` answers 2xx; exits with a message when it never does or `proc` ends."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if proc is not None and proc.poll() is not None:
            sys.exit(f"error: {what} exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if 200 <= r.status < 300:
                    return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    sys.exit(f"error: {what} did not answer {url} within {within:.0f}s")


def start(cmd: list[str], log: Path, stack: ExitStack, **kw: Any) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group, output to `log`; stopped when `stack` closes."""
    out = log.open("wb")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kw)

    def stop() -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        out.close()

    stack.callback(stop)
    return proc


WRITE_YES = 'Create a task titled "Oil the rack fan" in the Homelab project. No due date, no assignee.'
WRITE_NO = 'Create a task titled "Dust the NAS" in the Homelab project. No due date, no assignee.'


def write_config(path: Path, threads: int, kanboard: str | None = None) -> None:
    """The example config, answering with the large model on `threads` threads, logging JSON at info;
    with `kanboard` (a demo board's JSON-RPC URL) its MCP server writes there."""
    text = (REPO / "config" / "homelab-agent.example.toml").read_text()
    if kanboard is not None:
        text = re.sub(
            r"(?m)^env = \{ KANBOARD_URL.*$",
            f'env = {{ KANBOARD_URL = "{kanboard}", KANBOARD_TOKEN = "demo-token", '
            'KANBOARD_ENABLE_WRITES = "true" }',
            text,
            count=1,
        )
    text = re.sub(r'(?m)^model = "\w+"', 'model = "large"', text, count=1)
    text = text.replace("[models.small]\n", f"[models.small]\nn_threads = {threads}\n")
    text = text.replace("[models.large]\n", f"[models.large]\nn_threads = {threads}\n")
    text = re.sub(r'(?m)^level = "\w+"', 'level = "info"', text)
    text = re.sub(r'(?m)^format = "\w+"', 'format = "json"', text)
    path.write_text(text)


def metric(base: str, name: str) -> dict[str, float]:
    """The samples of one counter from serve's /metrics, by their label text."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as r:
            text = r.read().decode()
    except (urllib.error.URLError, OSError):
        return {}
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(f"{name}_total"):
            labels, _, value = line.rpartition(" ")
            found[labels[len(name) + len("_total") :] or "{}"] = float(value)
    return found


def browser(profile: Path) -> WebDriver:
    """Headless Debian Chromium with a fresh profile."""
    options = Options()
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return webdriver.Chrome(
        options=options, service=ChromeService(shutil.which("chromedriver") or "chromedriver")
    )


def open_chat(driver: WebDriver, url: str, within: float = 120) -> None:
    """Open Open WebUI and wait for its chat box, closing the "What's New" dialog a fresh one shows."""
    driver.get(url)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            for button in driver.find_elements(By.XPATH, "//button[contains(., 'Okay, Let')]"):
                button.click()
            if driver.find_elements(By.ID, "chat-input") and not driver.find_elements(
                By.XPATH, "//button[contains(., 'Okay, Let')]"
            ):
                return
        except WebDriverException:  # the page is still rendering: elements come and go
            pass
        time.sleep(1)
    sys.exit(f"error: Open WebUI's chat box did not show within {within:.0f}s")


def answer_text(driver: WebDriver) -> str:
    """The text of the last assistant message on the page ('' before one shows)."""
    blocks = driver.find_elements(By.CSS_SELECTOR, ".chat-assistant")
    return blocks[-1].text if blocks else ""


def ask(driver: WebDriver, question: str, within: float, still: float = 20.0) -> tuple[float, str]:
    """Type `question`, press Enter; seconds until the answer is finished, and its text.

    Finished: Open WebUI shows Regenerate under it, or (an error box has no such button) its text has
    not changed for `still` seconds; then the time is when the text last changed.
    """
    box = driver.find_element(By.ID, "chat-input")
    box.click()
    box.send_keys(question)
    started = time.monotonic()
    box.send_keys(Keys.ENTER)
    text, changed = "", started
    while time.monotonic() - started < within:
        if driver.find_elements(By.CSS_SELECTOR, "button[aria-label='Regenerate']"):
            return time.monotonic() - started, answer_text(driver)
        now = answer_text(driver)
        if now != text:
            text, changed = now, time.monotonic()
        elif text.strip() and time.monotonic() - changed > still:
            return changed - started, text
        time.sleep(0.5)
    return float("nan"), answer_text(driver)


def ask_next(driver: WebDriver, message: str, within: float, still: float = 25.0) -> tuple[float, str]:
    """Type `message` in the open chat; seconds until the new answer has not changed for `still`
    seconds (then: when it last changed), and its text. (Regenerate shows under earlier answers
    too, so only stillness says a later answer is finished.)"""
    before = len(driver.find_elements(By.CSS_SELECTOR, ".chat-assistant"))
    box = driver.find_element(By.ID, "chat-input")
    box.click()
    box.send_keys(message)
    started = time.monotonic()
    box.send_keys(Keys.ENTER)
    text, changed = "", started
    while time.monotonic() - started < within:
        try:
            blocks = driver.find_elements(By.CSS_SELECTOR, ".chat-assistant")
            now = blocks[-1].text if len(blocks) > before else ""
        except WebDriverException:  # the page re-rendered the block under us: read it again
            time.sleep(0.5)
            continue
        if now != text:
            text, changed = now, time.monotonic()
        elif text.strip() and time.monotonic() - changed > still:
            return changed - started, text
        time.sleep(0.5)
    return float("nan"), text


def board_count(kanboard: str, title: str) -> int:
    """How many open Homelab tasks on the demo board at `kanboard` are titled `title`."""
    body = {"jsonrpc": "2.0", "method": "getAllTasks", "id": 1, "params": {"project_id": 1, "status_id": 1}}
    request = urllib.request.Request(kanboard, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", "Basic anNvbnJwYzpkZW1vLXRva2Vu")  # jsonrpc:demo-token
    with urllib.request.urlopen(request, timeout=10) as r:
        tasks = json.loads(r.read())["result"]
    return sum(str(t["title"]).strip().casefold() == title.casefold() for t in tasks)


def approval_run(
    driver: WebDriver, url: str, kanboard: str, within: float, out: Path, label: str
) -> dict[str, Any]:
    """Issue 25 in the browser: a write approved with "yes" is made once; one refused with "no" is not."""
    found: dict[str, Any] = {}
    shots: list[Path] = []
    for reply, question, title in (("yes", WRITE_YES, "Oil the rack fan"), ("no", WRITE_NO, "Dust the NAS")):
        open_chat(driver, url)
        time.sleep(2)
        asked_s, asked = ask_next(driver, question, within)
        shots.append(out / f"openwebui-{label}-approval-{reply}-asked.png")
        screenshot(driver, shots[-1])
        before = board_count(kanboard, title)
        answered_s, answer = ask_next(driver, reply, within)
        shots.append(out / f"openwebui-{label}-approval-{reply}-answered.png")
        screenshot(driver, shots[-1])
        after = board_count(kanboard, title)
        found[reply] = {
            "question": question,
            "asked_seconds": round(asked_s, 1),
            "approval_question": asked,
            "carries_reference": bool(re.search(r"apv-[0-9a-f]{32}", asked)),
            "answer_seconds": round(answered_s, 1),
            "answer": answer,
            "tasks_before": before,
            "tasks_after": after,
            "ok": before == 0 and after == (1 if reply == "yes" else 0),
        }
    found["shots"] = [str(s) for s in shots]
    return found


def named(answer: str, titles: list[str]) -> list[str]:
    """The titles the answer names (case, quotes and markdown emphasis ignored)."""

    def norm(s: str) -> str:
        return re.sub(r"[\s*_`'\"\u201c\u201d\u2018\u2019]+", " ", s).casefold().strip()

    flat = norm(answer)
    return [t for t in titles if norm(t) in flat]


def _journal(journal: Path) -> list[dict[str, Any]]:
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


def settle(journal: Path, within: float, quiet: float = 40.0) -> None:
    """Wait until every request has ended and none started for `quiet` seconds (the housekeeping)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        rows = _journal(journal)
        open_ = sum(1 if r.get("phase") == "start" else -1 for r in rows)
        last = max((r.get("ended", r["at"]) for r in rows), default=0.0)
        if open_ <= 0 and time.time() - last > quiet:
            return
        time.sleep(1)


def requests_of(journal: Path) -> list[dict[str, Any]]:
    """The proxy's records of finished chat completions, in arrival order."""
    rows = [r for r in _journal(journal) if r.get("phase") == "end"]
    return sorted((r for r in rows if r["path"].endswith("/chat/completions")), key=lambda r: r["at"])


def kind_of(record: dict[str, Any]) -> str:
    """A name for a recorded request, for this report and the fixture files only (never for routing)."""
    body = record.get("body") or {}
    text = str((body.get("messages") or [{}])[-1].get("content", ""))
    if body.get("tools"):
        return "chat-native-tools"
    if "title" in text and text.startswith("### Task:"):
        return "title"
    if "follow_ups" in text:
        return "follow-ups"
    if '"tags"' in text:
        return "tags"
    return "chat"


def verify_mcp(owui: str, token: str, url: str, key: str | None) -> dict[str, Any]:
    """Open WebUI's "verify connection" for an MCP tool server (Admin Settings → External Tools).

    Open WebUI's server connects with its own MCP client and lists the tools; what it answered.
    """
    form = {
        "url": url,
        "path": "",
        "type": "mcp",
        "auth_type": "bearer" if key else "none",
        "key": key or "",
        "config": {},
    }
    request = urllib.request.Request(
        f"{owui}/api/v1/configs/tool_servers/verify",
        data=json.dumps(form).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            body = json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return {"url": url, "status": exc.code, "error": exc.read().decode(errors="replace")[:300]}
    return {"url": url, "status": 200, "tools": [spec["name"] for spec in body.get("specs", [])]}


def screenshot(driver: WebDriver, path: Path, width: int = 960) -> None:
    """A PNG of the page, scaled down to `width` pixels and 64 colours to stay small (~30 KB)."""
    driver.save_screenshot(str(path))
    try:
        from PIL import Image

        with Image.open(path) as image:
            height = round(image.height * width / image.width)
            small = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
            small.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    except ImportError:
        pass


def main() -> None:
    """Run the browser check once and print what it measured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="run", help="names the results folder and the screenshots")
    parser.add_argument("--task-model", default=None, help="TASK_MODEL_EXTERNAL (e.g. homelab-agent-chat)")
    parser.add_argument(
        "--function-calling",
        choices=["native", "legacy"],
        default=None,
        help="DEFAULT_MODEL_PARAMS function_calling (default: Open WebUI's own, native)",
    )
    parser.add_argument("--serve-code", type=Path, default=None, help="run serve from this checkout's code")
    parser.add_argument(
        "--owui", type=Path, default=Path(os.environ.get("OWUI_VENV", DEFAULT_VENV)).expanduser()
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the answer")
    parser.add_argument("--settle", type=float, default=900, help="seconds for the housekeeping after it")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "openwebui")
    parser.add_argument("--screenshots", type=Path, default=None, help="also save the PNGs here (docs/img)")
    parser.add_argument("--save-fixtures", type=Path, default=None, help="save the recorded bodies here")
    parser.add_argument("--fake", action="store_true", help="the proxy answers instead of serve")
    parser.add_argument("--approval", action="store_true", help="the write questions of issue 25 instead")
    parser.add_argument(
        "--mcp-verify",
        action="store_true",
        help="also have Open WebUI verify homelab-agent-kanboard (HTTP) and serve's /mcp as MCP tool servers",
    )
    args = parser.parse_args()
    # a SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so what this run started is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("error: stopped by SIGTERM"))

    venv_python = REPO / ".venv" / "bin" / "python"
    out = args.out / args.label
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    overdue: list[str] = json.loads(
        subprocess.run(
            [str(venv_python), "-c", OVERDUE], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout
    )
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="owui-run-") as tmp_name:
        tmp = Path(tmp_name)
        serve_port, proxy_port, owui_port = free_port(), free_port(), free_port()
        serve_base = f"http://127.0.0.1:{serve_port}"
        started_s: dict[str, float] = {}
        board_url = None
        if args.approval:
            board_port = free_port()
            board_url = f"http://127.0.0.1:{board_port}/jsonrpc.php"
            start(
                [
                    str(REPO / ".venv" / "bin" / "homelab-agent-kanboard"),
                    "demo",
                    "--port",
                    str(board_port),
                ],
                out / "kanboard.log",
                stack,
            )
            time.sleep(3)
        if not args.fake:
            config = tmp / "homelab-agent.toml"
            write_config(config, args.threads, board_url)
            env = {**os.environ, "KANBOARD_URL": "", "KANBOARD_TOKEN": ""}
            if args.serve_code is not None:
                env["PYTHONPATH"] = str(args.serve_code.resolve())
            serve = start(
                [
                    "nice",
                    "-n",
                    "10",
                    str(REPO / ".venv" / "bin" / "homelab-agent"),
                    "--config",
                    str(config),
                    "serve",
                    "--transport",
                    "http",
                    "--port",
                    str(serve_port),
                ],
                out / "serve.log",
                stack,
                env=env,
                cwd=tmp,
            )
            started_s["serve"] = wait_http(f"{serve_base}/healthz", 300, "serve", serve)
        proxy_cmd = [
            str(venv_python),
            "-m",
            "benchmarks.openwebui.recorder",
            "--port",
            str(proxy_port),
            "--out",
            str(out),
            "--upstream",
            serve_base,
        ]
        if args.fake:
            proxy_cmd += ["--fake-answer", "Overdue: " + "; ".join(overdue)]
        proxy = start(proxy_cmd, out / "recorder.log", stack, cwd=REPO)
        wait_http(f"http://127.0.0.1:{proxy_port}/v1/models", 60, "the recording proxy", proxy)
        owui_env = {
            **os.environ,
            "DATA_DIR": str(tmp / "owui-data"),
            "OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1",
            "WEBUI_AUTH": "False",
            "ENABLE_OLLAMA_API": "false",
            "OPENAI_API_BASE_URL": f"http://127.0.0.1:{proxy_port}/v1",
            "OPENAI_API_KEY": "none",
        }
        if args.task_model:
            owui_env["TASK_MODEL_EXTERNAL"] = args.task_model
        if args.function_calling:
            owui_env["DEFAULT_MODEL_PARAMS"] = json.dumps({"function_calling": args.function_calling})
        owui = start(
            [
                "nice",
                "-n",
                "5",
                str(args.owui / "bin" / "open-webui"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(owui_port),
            ],
            out / "open-webui.log",
            stack,
            env=owui_env,
            cwd=tmp,
        )
        started_s["open_webui"] = wait_http(f"http://127.0.0.1:{owui_port}/health", 300, "Open WebUI", owui)
        driver = browser(tmp / "chromium-profile")
        stack.callback(driver.quit)
        open_chat(driver, f"http://127.0.0.1:{owui_port}/")
        time.sleep(2)
        runs_before, chats_before = (
            metric(serve_base, "homelab_agent_runs"),
            metric(serve_base, "homelab_agent_chats"),
        )
        if args.approval:
            assert board_url is not None
            found = approval_run(
                driver, f"http://127.0.0.1:{owui_port}/", board_url, args.timeout, out, args.label
            )
            found["agent_runs"] = {
                k: v - runs_before.get(k, 0.0) for k, v in metric(serve_base, "homelab_agent_runs").items()
            }
            found["load"] = os.getloadavg()
            (out / "approval.json").write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n")
            print(json.dumps(found, indent=2, ensure_ascii=False))
            if args.screenshots is not None:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                for shot in found["shots"]:
                    shutil.copy(shot, args.screenshots / Path(shot).name)
            sys.exit(0 if found["yes"]["ok"] and found["no"]["ok"] else 1)
        try:
            seconds, answer = ask(driver, QUESTION, args.timeout)
        except WebDriverException as exc:
            sys.exit(f"error: the browser could not ask: {exc.msg}")
        time.sleep(1)
        answer = answer_text(driver) or answer
        shots = [out / f"openwebui-{args.label}-answer.png"]
        screenshot(driver, shots[0])
        settle(out / "requests.jsonl", within=args.settle)
        time.sleep(2)
        shots.append(out / f"openwebui-{args.label}-settled.png")
        screenshot(driver, shots[1])
        runs = metric(serve_base, "homelab_agent_runs")
        chats = metric(serve_base, "homelab_agent_chats")
        mcp: list[dict[str, Any]] = []
        if args.mcp_verify:
            kanboard_port = free_port()
            kanboard = start(
                [
                    str(REPO / ".venv" / "bin" / "homelab-agent-kanboard"),
                    "--transport",
                    "http",
                    "--port",
                    str(kanboard_port),
                ],
                out / "kanboard.log",
                stack,
                env={**os.environ, "KANBOARD_URL": "", "KANBOARD_TOKEN": ""},
            )
            time.sleep(3)
            if kanboard.poll() is not None:
                sys.exit("error: homelab-agent-kanboard --transport http did not start (see kanboard.log)")
            token = str(driver.execute_script("return localStorage.token"))
            owui_base = f"http://127.0.0.1:{owui_port}"
            mcp = [verify_mcp(owui_base, token, f"http://127.0.0.1:{kanboard_port}/mcp", None)]
            if not args.fake:
                mcp.append(verify_mcp(owui_base, token, f"{serve_base}/mcp", None))
    records = requests_of(out / "requests.jsonl")
    t0 = records[0]["at"] if records else 0.0
    summary = {
        "label": args.label,
        "question": QUESTION,
        "serve_code": str(args.serve_code or REPO),
        "fake": args.fake,
        "task_model": args.task_model,
        "function_calling": args.function_calling or "Open WebUI default (native)",
        "question_seconds_in_browser": round(seconds, 1),
        "answer": answer,
        "overdue": overdue,
        "named": named(answer, overdue),
        "all_named": set(named(answer, overdue)) == set(overdue),
        "agent_runs": {k: v - runs_before.get(k, 0.0) for k, v in runs.items()},
        "plain_turns": {k: v - chats_before.get(k, 0.0) for k, v in chats.items()},
        "requests": [
            {
                "kind": kind_of(r),
                "model": r.get("model"),
                "stream": r.get("stream"),
                "tools": r.get("tools"),
                "status": r["status"],
                "start_s": round(r["at"] - t0, 2),
                "end_s": round(r.get("ended", r["at"]) - t0, 2),
            }
            for r in records
        ],
        "mcp_verify": mcp,
        "startup_seconds": {k: round(v, 1) for k, v in started_s.items()},
        "load": os.getloadavg(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, args.screenshots / shot.name)
    if args.save_fixtures is not None:
        for r in records:
            if r.get("body"):
                (args.save_fixtures / f"{kind_of(r)}.json").write_text(
                    json.dumps(r["body"], indent=2, ensure_ascii=False) + "\n"
                )


if __name__ == "__main__":
    main()

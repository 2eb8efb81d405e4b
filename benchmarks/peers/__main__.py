"""`python -m benchmarks.peers`: homelab-agent side by side with what people run instead (issue 16).

    benchmarks/peers/setup.sh                     # once: the peers' packages and llama-server
    python -m benchmarks.peers --threads 2        # every stack, both boards, every read question
    python -m benchmarks.peers --threads 1 --subset 3 --board household --stacks us,peer-b  # a smoke run

The stacks (`--stacks`, comma-separated; default all):
  us            homelab-agent as its default config builds it: the 1.5B GGUF in-process, constrained,
                its Kanboard server over stdio; warm (caches kept between questions)
  us-cold       the same, its model's caches cleared before every question (a one-shot `ask`)
  peer-a        what people run: llama.cpp's llama-server (--jinja tool calling, prompt cache) on
                the same GGUF, the OpenAI Agents SDK as the MCP host, kanboard-mcp from PyPI
  peer-a-fixed  peer-a with kanboard-mcp's positional-arguments bug fixed
                (`kanboard_mcp_positional.py`): what peer-a would be if its tools worked
  peer-b        peer-a's host and server with our Kanboard server instead of kanboard-mcp

Every stack reads the same demo board over HTTP (`homelab-agent-kanboard demo --seed`), started
afresh for each board; each peer has its own llama-server; all get the same threads, the same
step limit (the default config's 8 model turns), 512 tokens per turn, temperature 0, and the same
system prompt (ours, dated). Questions are asked of every stack in turn, who goes first
alternating. Before the first question each warm stack answers one unscored warm-up question
(the MCP server started, llama-server's prompt cache holding the tool definitions), as a server
that has been up a while. Writes NAME.md (the table, the verdicts, the versions, every wrong
answer), NAME.png and one JSON file per stack and board into --out. Never run in CI.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import Any

import anyio

from agent.config import AgentSettings
from agent.system_prompt import fill_prompt, read_prompt
from benchmarks.kanboard_qa.__main__ import build, cold_reset, model_settings
from benchmarks.kanboard_qa.questions import Question, pick
from benchmarks.kanboard_qa.report import markdown, write_report
from benchmarks.kanboard_qa.runner import Results
from benchmarks.kanboard_qa.suites import suites
from benchmarks.peers.processes import BoardServer, LlamaServer, llama_server, which
from benchmarks.peers.run import PeerOutcome, ask_side_by_side
from benchmarks.peers.stacks import OurStack, Stack, model_file
from benchmarks.peers.table import comparison, verdict
from homelab_common.logs import configure_logging
from tools.kanboard_demo import DEMO_TOKEN

CACHE = Path("~/.cache/homelab-agent/peers").expanduser()
HERE = Path(__file__).resolve().parent
STACKS = ("us", "us-cold", "peer-a", "peer-a-fixed", "peer-b")
LABELS = {
    "us": "homelab-agent",
    "us-cold": "homelab-agent cold",
    "peer-a": "peer A: llama-server + Agents SDK + kanboard-mcp",
    "peer-a-fixed": "peer A fixed: kanboard-mcp, positional args fixed",
    "peer-b": "peer B: llama-server + Agents SDK + our server",
}
WARM_UP = "Which projects are on the board?"
PEER_USER = "admin"  # kanboard-mcp calls getMe, so it needs a user login; every demo password is the username


def _options() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.peers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stacks", default=",".join(STACKS), help=f"comma-separated, of: {', '.join(STACKS)}"
    )
    parser.add_argument(
        "--model",
        default="~/.cache/homelab-agent/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        help="the GGUF every stack runs",
    )
    parser.add_argument("--threads", type=int, required=True, help="CPU threads, for every stack alike")
    parser.add_argument("--board", default="all", help="homelab, household (held out), or all")
    parser.add_argument(
        "--subset", type=int, default=None, help="N read questions per board, spread over categories"
    )
    parser.add_argument("--questions", help="comma-separated question ids (overrides --subset)")
    parser.add_argument(
        "--max-steps", type=int, default=AgentSettings().max_steps, help="model turns per question"
    )
    parser.add_argument("--max-tokens", type=int, default=512, help="tokens per model turn")
    parser.add_argument(
        "--no-warm-up", dest="warm_up", action="store_false", help="no unscored first question"
    )
    parser.add_argument(
        "--llama-server",
        type=Path,
        default=None,
        help="the llama-server binary (default: the one setup.sh built)",
    )
    parser.add_argument(
        "--kanboard-mcp", type=Path, default=CACHE / "kanboard-mcp", help="kanboard-mcp's venv"
    )
    parser.add_argument("--out", type=Path, default=Path("bench-out/peers"))
    parser.add_argument("--name", default="peers", help="file name of the report")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    return parser


def _questions(args: argparse.Namespace, pool: list[Question]) -> list[Question]:
    if args.questions:
        wanted = [i for i in args.questions.split(",") if i in {q.id for q in pool}]
        return pick(pool, ids=wanted) if wanted else []
    return pick(pool, subset=args.subset)


def _versions(args: argparse.Namespace, servers: dict[str, LlamaServer]) -> dict[str, str]:
    """The versions that make up each stack."""
    ours = {
        name: importlib.metadata.version(name)
        for name in ("llama-cpp-python", "mcp", "openai-agents", "openai")
    }
    probe = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({n: m.version(n) for n in ('kanboard-mcp', 'kanboard', 'mcp')}))"
    )
    peer_python = args.kanboard_mcp / "bin" / "python"
    theirs: dict[str, str] = {}
    if peer_python.exists():
        done = subprocess.run([str(peer_python), "-c", probe], capture_output=True, text=True, check=False)
        theirs = json.loads(done.stdout) if done.returncode == 0 else {}
    server = next(iter(servers.values()), None)
    return {
        "llama-server": server.version if server else "-",
        "llama-server command": " ".join(Path(a).name if a.startswith("/") else a for a in server.command)
        if server
        else "-",
        **{name: version for name, version in ours.items()},
        **{f"{name} (kanboard-mcp's venv)": version for name, version in theirs.items()},
        "python": sys.version.split()[0],
    }


def _progress(partial: Path) -> Callable[[str, PeerOutcome], None]:
    def show(label: str, o: PeerOutcome) -> None:
        mark = "ok " if o.correct else "BAD"
        answer = " ".join((o.error or o.answer).split())[:80]
        print(
            f"{mark} {o.id:18s} {label[:28]:28s} {o.latency_s:6.1f}s {o.steps} st  {answer}",
            file=sys.stderr,
            flush=True,
        )
        with partial.open("a") as f:
            f.write(json.dumps({"label": label, **o.model_dump()}) + "\n")

    return show


async def _ask_all(
    args: argparse.Namespace, wanted: list[str], out: Path
) -> tuple[list[Results], dict[str, str]]:
    gguf = model_file(args.model)
    binary = (
        args.llama_server
        or CACHE / f"llama-server-{importlib.metadata.version('llama-cpp-python')}" / "llama-server"
    )
    instructions = fill_prompt(read_prompt(None))
    agent_settings = AgentSettings(max_steps=args.max_steps)
    logs = out / "logs"
    runs: list[Results] = []
    with ExitStack() as processes:
        servers = {
            key: processes.enter_context(
                llama_server(binary, gguf, args.threads, logs, ["--cache-ram", "1024"])
            )
            for key in wanted
            if key.startswith("peer-")
        }
        versions = _versions(args, servers)
        ours = {
            key: build(
                str(gguf),
                model_settings(
                    str(gguf),
                    None,
                    constrained=True,
                    warm=key == "us",
                    max_tokens=args.max_tokens,
                    threads=args.threads,
                ),
                gguf.parent,
            )
            for key in wanted
            if key.startswith("us")
        }
        for suite in suites(args.board):
            questions = _questions(args, [q for q in suite.questions if not q.writes])
            if not questions:
                continue
            with BoardServer(suite.seed(), logs) as board:
                async with AsyncExitStack() as opened:
                    stacks: list[Stack] = []
                    for key in wanted:
                        stacks.append(
                            await opened.enter_async_context(
                                _stack(key, args, board.url, servers, ours, instructions, agent_settings)
                            )
                        )
                    if args.warm_up:
                        for key, stack in zip(wanted, stacks, strict=True):
                            if key != "us-cold":
                                await stack.run(WARM_UP)
                        board.restart()
                    partial = out / f"{args.name}-{suite.name}.partial.jsonl"
                    partial.write_text("")
                    config = {
                        LABELS[key]: {
                            "stack": key,
                            "threads": args.threads,
                            "max_steps": args.max_steps,
                            "max_tokens": args.max_tokens,
                            "model": gguf.name,
                            "questions": [q.id for q in questions],
                        }
                        for key in wanted
                    }
                    results = await ask_side_by_side(
                        stacks,
                        questions,
                        board_name=suite.name,
                        board_url=lambda: board.url,
                        restart_board=board.restart,
                        config=config,
                        on_outcome=_progress(partial),
                    )
                    partial.unlink()
            for r in results:
                slug = "".join(c if c.isalnum() else "-" for c in r.label).strip("-")
                (out / f"{args.name}-{slug}-{suite.name}.json").write_text(r.model_dump_json(indent=1))
            runs += results
    return runs, versions


def _stack(
    key: str,
    args: argparse.Namespace,
    board_url: str,
    servers: dict[str, LlamaServer],
    ours: dict[str, Any],
    instructions: str,
    agent_settings: AgentSettings,
) -> Any:
    """The stack `key` against the board at `board_url` (an async context manager)."""
    if key.startswith("us"):
        return OurStack(
            LABELS[key],
            ours[key],
            kanboard_command=which("homelab-agent-kanboard"),
            kanboard_env={"KANBOARD_URL": board_url, "KANBOARD_TOKEN": DEMO_TOKEN},
            agent=agent_settings,
            reset=cold_reset([ours[key]]) if key == "us-cold" else None,
        )
    from benchmarks.peers.host import PeerStack  # needs the `peers` extra

    if key == "peer-b":
        command, argv = which("homelab-agent-kanboard"), []
        env = {"KANBOARD_URL": board_url, "KANBOARD_TOKEN": DEMO_TOKEN}
    else:
        python = args.kanboard_mcp / "bin" / "python"
        command = str(args.kanboard_mcp / "bin" / "kanboard-mcp") if key == "peer-a" else str(python)
        argv = [] if key == "peer-a" else [str(HERE / "kanboard_mcp_positional.py")]
        env = {"KANBOARD_URL": board_url, "KANBOARD_USERNAME": PEER_USER, "KANBOARD_API_TOKEN": PEER_USER}
    return PeerStack(
        LABELS[key],
        base_url=servers[key].base_url,
        model_name=Path(args.model).stem,
        command=command,
        args=argv,
        env=env,
        instructions=instructions,
        max_turns=args.max_steps,
        max_tokens=args.max_tokens,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = _options().parse_args(argv)
    wanted = [s.strip() for s in args.stacks.split(",") if s.strip()]
    unknown = set(wanted) - set(STACKS)
    if unknown:
        raise SystemExit(f"unknown stacks: {', '.join(sorted(unknown))} (known: {', '.join(STACKS)})")
    configure_logging(args.log_level)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs, versions = anyio.run(_ask_all, args, wanted, out)
    write_report(runs, out, f"{args.name}-details")
    ours, cold = LABELS["us"], LABELS["us-cold"]
    lines = [
        "# homelab-agent side by side with its peers (issue 16)",
        "",
        "    python -m benchmarks.peers " + " ".join(argv if argv is not None else sys.argv[1:]),
        "",
        comparison(runs, ours=ours, ours_cold=cold if "us-cold" in wanted else None),
        "## Target: at least 3x faster than peer A at equal or better accuracy",
        "",
    ]
    for board in dict.fromkeys(r.board for r in runs):
        here = {r.label: r for r in runs if r.board == board}
        for key in ("peer-a", "peer-a-fixed", "peer-b"):
            if ours in here and LABELS[key] in here:
                lines.append(f"- {board}: {verdict(here[ours], here[LABELS[key]])}")
    lines += ["", "## Versions", ""] + [f"- {k}: {v}" for k, v in versions.items()]
    lines += ["", markdown(runs).replace("# Kanboard question benchmark", "# Details", 1)]
    report = out / f"{args.name}.md"
    report.write_text("\n".join(lines))
    print(report.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

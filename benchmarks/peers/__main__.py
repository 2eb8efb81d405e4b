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
that has been up a while. A peer that fails (llama-server or its MCP server does not start, a
template error, kanboard-mcp refusing the application token) is a finding with its exact error,
not a crash: kanboard-mcp is first tried as its README sets it up (the application token), and on
a refusal with its documented alternative, a user login. Writes NAME.md and NAME.json (the table,
the verdicts, the findings, the versions), NAME-details.md/.png and one JSON file per stack and
board into --out. Never run in CI.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shlex
import subprocess
import sys
from contextlib import AbstractAsyncContextManager, AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from agent.config import AgentSettings
from agent.models.base import Model
from agent.system_prompt import fill_prompt, read_prompt
from benchmarks.helpers import progress, slug
from benchmarks.kanboard_qa.__main__ import build, cold_reset, model_settings, prefix_states
from benchmarks.kanboard_qa.questions import Question
from benchmarks.kanboard_qa.report import write_report
from benchmarks.kanboard_qa.suites import Suite, check_ids, chosen, suites
from benchmarks.peers import report
from benchmarks.peers.findings import Finding, app_token_refused
from benchmarks.peers.processes import BoardServer, LlamaServer, llama_server, which
from benchmarks.peers.run import ask_side_by_side
from benchmarks.peers.stacks import OurStack, Unstarted, model_file
from benchmarks.runner import Results, Stack
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
PEER_USER = "admin"  # kanboard-mcp's documented alternative to the app token: a user login (password = name)


@dataclass
class Lineup:
    """What every board's stacks are built from, and what the run found on the way."""

    args: argparse.Namespace
    servers: dict[str, LlamaServer]  # by peer key; a peer whose llama-server failed is missing
    ours: dict[str, Model]  # by our key
    logs: Path
    instructions: str
    findings: list[Finding] = field(default_factory=list)
    start_errors: dict[str, str] = field(default_factory=dict)  # peer key -> why it cannot run at all
    app_token: bool | None = None  # kanboard-mcp takes the app token; None until probed
    warm_ups: list[dict[str, object]] = field(default_factory=list)  # each stack's unscored first question


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
        "--peer-tool-choice",
        choices=["auto", "required"],
        default="auto",
        help="the peers' tool_choice (required: llama-server's grammar forces a call; the SDK resets "
        "it to auto after one, as our first_step = 'tool' does)",
    )
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


def _questions(args: argparse.Namespace, suite: Suite) -> list[Question]:
    """The read questions of `suite` this run asks: those of --questions on this board, else --subset."""
    return chosen(suite, ids=args.questions.split(",") if args.questions else [], subset=args.subset)


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
        **ours,
        **{f"{name} (kanboard-mcp's venv)": version for name, version in theirs.items()},
        "python": sys.version.split()[0],
    }


def _start_servers(lineup: Lineup, processes: ExitStack, wanted: list[str], gguf: Path) -> None:
    """One llama-server per peer; one that does not start is a finding, and its peer cannot run."""
    args = lineup.args
    binary = (
        args.llama_server
        or CACHE / f"llama-server-{importlib.metadata.version('llama-cpp-python')}" / "llama-server"
    )
    for key in (k for k in wanted if k.startswith("peer-")):
        try:
            lineup.servers[key] = processes.enter_context(
                llama_server(binary, gguf, args.threads, lineup.logs, ["--cache-ram", "1024"])
            )
        except (OSError, RuntimeError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            lineup.findings.append(Finding(key, f"start llama-server ({binary.name}) on {gguf.name}", error))
            lineup.start_errors[key] = f"PeerStartError: {error}"


def _peer_env(key: str, board_url: str, app_token: bool) -> dict[str, str]:
    """The Kanboard credentials of peer `key`'s MCP server: the app token, or a user login."""
    if key == "peer-b":
        return {"KANBOARD_URL": board_url, "KANBOARD_TOKEN": DEMO_TOKEN}
    if app_token:
        return {"KANBOARD_URL": board_url, "KANBOARD_USERNAME": "jsonrpc", "KANBOARD_API_TOKEN": DEMO_TOKEN}
    return {"KANBOARD_URL": board_url, "KANBOARD_USERNAME": PEER_USER, "KANBOARD_API_TOKEN": PEER_USER}


def _peer_command(key: str, args: argparse.Namespace) -> tuple[str, list[str]]:
    """How peer `key`'s MCP server starts: kanboard-mcp, kanboard-mcp fixed, or ours."""
    if key == "peer-b":
        return which("homelab-agent-kanboard"), []
    if key == "peer-a":
        return str(args.kanboard_mcp / "bin" / "kanboard-mcp"), []
    return str(args.kanboard_mcp / "bin" / "python"), [str(HERE / "kanboard_mcp_positional.py")]


async def _probe_kanboard_mcp(lineup: Lineup, wanted: list[str], board_url: str) -> None:
    """Try kanboard-mcp as documented (app token), else note why and use a user login; try one tool."""
    from benchmarks.peers.host import call_tool  # needs the `peers` extra

    command, _ = _peer_command("peer-a", lineup.args)
    refused = app_token_refused(command, {**os.environ, **_peer_env("peer-a", board_url, app_token=True)})
    lineup.app_token = refused is None
    if refused is not None:
        lineup.findings.append(refused)
        lineup.findings.append(
            Finding(
                "peer-a",
                "so it runs with its documented alternative",
                "a user login (KANBOARD_USERNAME=admin)",
            )
        )
    for key in (k for k in ("peer-a", "peer-a-fixed") if k in wanted and k not in lineup.start_errors):
        command, argv = _peer_command(key, lineup.args)
        env = _peer_env(key, board_url, lineup.app_token)
        result = await call_tool(
            command, argv, env, lineup.logs / f"probe-{key}.log", "getTask", {"task_id": 1}
        )
        if '"success": true' not in result:
            lineup.findings.append(
                Finding(key, "kanboard-mcp's getTask(task_id=1), a tool that takes an argument", result)
            )


def _open(
    key: str, lineup: Lineup, board_url: str, agent_settings: AgentSettings
) -> AbstractAsyncContextManager[Stack]:
    """The stack `key` against the board at `board_url`, to enter."""
    args = lineup.args
    if key.startswith("us"):
        model = lineup.ours[key]
        return OurStack(
            LABELS[key],
            model,
            kanboard_command=which("homelab-agent-kanboard"),
            kanboard_env=_peer_env("peer-b", board_url, app_token=True),
            agent=agent_settings,
            reset=cold_reset([model]) if key == "us-cold" else None,
        )
    from benchmarks.peers.host import PeerStack  # needs the `peers` extra

    command, argv = _peer_command(key, args)
    return PeerStack(
        LABELS[key],
        base_url=lineup.servers[key].base_url,
        model_name=Path(args.model).stem,
        command=command,
        args=argv,
        env=_peer_env(key, board_url, bool(lineup.app_token)),
        log=lineup.logs / f"mcp-{key}.log",
        instructions=lineup.instructions,
        max_turns=args.max_steps,
        max_tokens=args.max_tokens,
        tool_choice=args.peer_tool_choice,
    )


async def _enter(
    key: str, lineup: Lineup, board: BoardServer, opened: AsyncExitStack, settings: AgentSettings
) -> Stack:
    """Stack `key`, started and warmed up; a peer that fails to start becomes an `Unstarted` finding."""
    if key in lineup.start_errors:
        return Unstarted(LABELS[key], lineup.start_errors[key])
    if key.startswith("us"):
        stack: Stack = await opened.enter_async_context(_open(key, lineup, board.url, settings))
    else:
        from benchmarks.peers.host import PeerStartError

        try:
            stack = await opened.enter_async_context(_open(key, lineup, board.url, settings))
        except PeerStartError as exc:
            lineup.findings.append(Finding(key, "start its MCP server", str(exc)))
            lineup.start_errors[key] = f"PeerStartError: {exc}"
            return Unstarted(LABELS[key], lineup.start_errors[key])
    if lineup.args.warm_up and key != "us-cold":
        attempt = await stack.run(WARM_UP)
        lineup.warm_ups.append(
            {
                "stack": LABELS[key],
                "board": board.name,
                "seconds": round(attempt.duration_s, 1),
                "prompt_tokens": sum(s.usage.input_tokens for s in attempt.steps),
                "steps": len(attempt.steps),
            }
        )
        if attempt.error and not key.startswith("us"):
            lineup.findings.append(
                Finding(key, f"the unscored warm-up question ({WARM_UP!r})", attempt.error)
            )
    return stack


async def _ask_all(
    args: argparse.Namespace, wanted: list[str], out: Path
) -> tuple[list[Results], Lineup, dict[str, str]]:
    gguf = model_file(args.model)
    settings = AgentSettings(max_steps=args.max_steps)
    lineup = Lineup(args, {}, {}, out / "logs", fill_prompt(read_prompt(None)))
    runs: list[Results] = []
    with ExitStack() as processes:
        _start_servers(lineup, processes, wanted, gguf)
        versions = _versions(args, lineup.servers)
        states = prefix_states(None, None)  # the default config's saved prompt prefixes, as `ask` uses them
        for key in (k for k in wanted if k.startswith("us")):
            tuned = model_settings(
                str(gguf),
                None,
                constrained=True,
                warm=key == "us",
                max_tokens=args.max_tokens,
                threads=args.threads,
            )
            lineup.ours[key] = build(str(gguf), tuned, gguf.parent, states)
        try:
            for suite in suites(args.board):
                questions = _questions(args, suite)
                if questions:
                    runs += await _ask_board(lineup, wanted, suite, questions, settings, out)
        finally:
            for model in lineup.ours.values():
                await model.aclose()
    return runs, lineup, versions


async def _ask_board(
    lineup: Lineup,
    wanted: list[str],
    suite: Suite,
    questions: list[Question],
    settings: AgentSettings,
    out: Path,
) -> list[Results]:
    """Every stack on a fresh board of `suite`, question by question; one result file per stack."""
    args = lineup.args
    with BoardServer(suite.seed(), lineup.logs, suite.name) as board:
        if lineup.app_token is None and {"peer-a", "peer-a-fixed"} & set(wanted):
            await _probe_kanboard_mcp(lineup, wanted, board.url)
        async with AsyncExitStack() as opened:
            stacks = [await _enter(key, lineup, board, opened, settings) for key in wanted]
            board.restart()  # the warm-up may have written to it
            partial = out / f"{args.name}-{suite.name}.partial.jsonl"
            partial.write_text("")
            config = {
                LABELS[key]: {
                    "stack": key,
                    "threads": args.threads,
                    "max_steps": args.max_steps,
                    "max_tokens": args.max_tokens,
                    "model": Path(args.model).name,
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
                on_outcome=progress(partial),
            )
            partial.unlink()
    for r in results:
        (out / f"{args.name}-{slug(r.label)}-{suite.name}.json").write_text(r.model_dump_json(indent=1))
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = _options().parse_args(argv)
    wanted = [s.strip() for s in args.stacks.split(",") if s.strip()]
    unknown = set(wanted) - set(STACKS)
    if unknown:
        raise SystemExit(f"unknown stacks: {', '.join(sorted(unknown))} (known: {', '.join(STACKS)})")
    check_ids(args.questions.split(",") if args.questions else [], writes=False)
    configure_logging(args.log_level)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs, lineup, versions = anyio.run(_ask_all, args, wanted, out)
    write_report(runs, out, f"{args.name}-details")
    md, js = report.write(
        out,
        args.name,
        command=shlex.join(
            ["python", "-m", "benchmarks.peers", *(argv if argv is not None else sys.argv[1:])]
        ),
        runs=runs,
        findings=lineup.findings,
        warm_ups=lineup.warm_ups,
        versions=versions,
        ours=LABELS["us"],
        ours_cold=LABELS["us-cold"] if "us-cold" in wanted else None,
        peers=[LABELS[k] for k in ("peer-a", "peer-a-fixed", "peer-b") if k in wanted],
    )
    print(md.read_text())
    print(f"report: {md}, {js}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

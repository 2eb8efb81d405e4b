"""How often a model's first tool call is one that can answer the question: tool choice, fast.

    .venv/bin/python -m benchmarks.first_call --model ~/.cache/homelab-agent/models/q15.gguf --threads 2

For every read question of each board (`--board`, default all) the model sees the packaged system
prompt with the server's instructions, the Kanboard server's tools (listed from that board, names
and all) and the question, and must call a tool (`tool_choice="required"`, as the agent's first
step), its names grounded in the question as the agent grounds them (`--ground off` to let the
model choose unaided). A call counts as right when its tool is one of the question's `tools`.
One model turn per question, so a run takes minutes where the answer benchmark takes an hour; it
prints each call, then the share right per board. It does not run the tools or score answers
(`python -m benchmarks.kanboard_qa` does).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import anyio

from agent.grounding import ground
from agent.messages import Message
from agent.models.llama import LocalModel
from agent.models.settings import LlamaSettings
from agent.system_prompt import default_system_prompt
from benchmarks.kanboard_qa.runner import demo_toolbox
from benchmarks.kanboard_qa.suites import suites
from tools.kanboard.settings import KanboardSettings


async def _run(args: argparse.Namespace, model: LocalModel) -> int:
    totals: list[str] = []
    try:
        for suite in suites(args.board):
            right = asked = 0
            kanboard = KanboardSettings(names=args.names)
            async with demo_toolbox(suite.transport(), writes=False, kanboard=kanboard) as toolbox:
                tools = await toolbox.list_tools()
                guide = await toolbox.instructions()
                system = Message.system(f"{default_system_prompt()}\n\n{guide}".strip())
                for question in suite.questions:
                    if question.writes:
                        continue
                    started = time.perf_counter()
                    calls = ground(tools, [question.text]) if args.ground else None
                    response = await model.respond(
                        [system, Message.user(question.text)], tools, tool_choice="required", calls=calls
                    )
                    call = response.tool_calls[0] if response.tool_calls else None
                    name = call.name.rsplit("__", 1)[-1] if call else "(none)"
                    ok = name in question.tools
                    right += ok
                    asked += 1
                    arguments = ", ".join(f"{k}={v!r}" for k, v in (call.arguments if call else {}).items())
                    shown = f"{name}({arguments})"
                    print(
                        f"{'ok ' if ok else 'BAD'} {suite.name:9s} {question.id:20s} "
                        f"{time.perf_counter() - started:5.1f}s {shown}  [want {'/'.join(question.tools)}]",
                        flush=True,
                    )
            totals.append(
                f"{suite.name}: {right}/{asked} first calls use a tool that answers ({right / asked:.0%})"
            )
    finally:
        await model.aclose()
    print("\n".join(totals))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True, type=Path, help="a .gguf file")
    parser.add_argument("--board", default="all", help="homelab, household (held out), or all")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--names", choices=["enum", "list", "off"], default="enum", help="names in schemas")
    parser.add_argument(
        "--ground", type=lambda v: v == "on", default=True, help="on|off: narrow names to those said"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from homelab_common.logs import configure_logging

    configure_logging("warning")
    settings = LlamaSettings(
        source=str(args.model), temperature=0.0, n_threads=args.threads, max_tokens=96, constrained=True
    )
    model = LocalModel.load(args.model.expanduser(), settings, name=args.model.stem)
    return anyio.run(_run, args, model)


if __name__ == "__main__":
    raise SystemExit(main())

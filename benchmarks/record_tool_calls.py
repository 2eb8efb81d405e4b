"""Record real raw outputs of local models for the parser tests, and measure tool-call validity.

    .venv/bin/python benchmarks/record_tool_calls.py --model q05=/tmp/models/q05.gguf \
        --model q15=/tmp/models/q15.gguf --record tests/models/data --validity

`--record DIR` writes DIR/TAG_CASE.txt: the raw, unconstrained output for a few Kanboard prompts.
`--validity` asks a set of questions that need a tool, with and without the grammar, and prints
how many calls the model made (a call it meant but that cannot be read counts as one) and how many
of them are valid: they parse, name a known tool, and match its schema with no invented arguments.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import anyio

from agent.messages import Message, ToolCall, ToolSpec
from agent.models.llama import LocalModel
from agent.models.settings import LlamaSettings
from agent.toolsets.mcp import list_server_tools
from agent.validation import check_call
from tools.kanboard.server import build_server
from tools.kanboard.settings import KanboardSettings

SYSTEM = (Path(__file__).resolve().parents[1] / "agent" / "prompts" / "system.md").read_text()
SYSTEM = SYSTEM.replace("{today}", "2026-11-21").replace("{timezone}", "UTC")


TOOL_NAMES = ("overdue_tasks", "search_tasks", "list_projects", "tasks_of")
"""The four tools the prompts show (as the Kanboard server defines them, names left out of schemas)."""


async def kanboard_tools() -> list[ToolSpec]:
    """`TOOL_NAMES`, listed from the Kanboard server itself."""
    listed = await list_server_tools({"kanboard": build_server(KanboardSettings(names="off"))})
    by_name = {t.name: t for t in listed}
    return [by_name[f"kanboard__{name}"] for name in TOOL_NAMES]


QUESTIONS = [
    "Which tasks are overdue in the Homelab project?",
    "What is overdue?",
    "Find tasks about backups.",
    "Is there a task about the TLS certificate?",
    "Which projects exist?",
    "What is alice working on?",
    "List bob's closed tasks.",
    "Show me the 5 most recent tasks assigned to carol.",
    "Any overdue work in the Media project?",
    "Search the Network project for VLAN tasks.",
    "Do we have a task to upgrade Proxmox?",
    "What tasks does dave have open?",
    "How many projects are there?",
    "Are any tasks late in Homelab?",
    "Find anything mentioning 'zfs scrub'.",
    "Which of my tasks are overdue across all projects?",
    "Look for tasks about the printer in the Office project.",
    "What is assigned to erin, all statuses?",
    "Is the DNS migration task done? Search for it.",
    "List the projects please.",
]

RESULT = '[{"id": 12, "title": "Renew TLS certificate", "due": "2026-11-18", "assignee": "alice"}]'


RECORD_CASES: dict[str, list[Message]] = {
    "overdue": [Message.system(SYSTEM), Message.user(QUESTIONS[0])],
    "search": [Message.system(SYSTEM), Message.user(QUESTIONS[2])],
    "assignee": [Message.system(SYSTEM), Message.user(QUESTIONS[7])],
    "after_result": [
        Message.system(SYSTEM),
        Message.user("What is the title of the overdue task in Homelab?"),
        Message.assistant(
            "", [ToolCall(name="kanboard__overdue_tasks", arguments={"project": "Homelab"}, id="c1")]
        ),
        Message(
            role="tool",
            tool_call_id="c1",
            name="kanboard__overdue_tasks",
            content=RESULT,
        ),
    ],
}


async def record(model: LocalModel, tools: list[ToolSpec], tag: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a script, not a server)
    for case, messages in RECORD_CASES.items():
        response = await model.respond(messages, tools)
        (out / f"{tag}_{case}.txt").write_text(response.raw)
        print(f"{tag} {case}: {response.raw!r}")


async def validity(model: LocalModel, tools: list[ToolSpec], tag: str) -> None:
    turns = calls = valid = 0
    started = time.perf_counter()
    for question in QUESTIONS:
        response = await model.respond([Message.system(SYSTEM), Message.user(question)], tools)
        turns += 1
        if response.parse_error:
            calls += 1  # a call the model meant to make but that cannot be read: invalid
        for call in response.tool_calls:
            calls += 1
            valid += check_call(call, tools) is None
    mode = "constrained" if model._settings.constrained else "free"
    print(
        f"{tag:<5} {mode:<12} questions {turns:>3}  calls {calls:>3}  valid calls {valid:>3} "
        f"({100 * valid / max(calls, 1):.0f} %)  {time.perf_counter() - started:.0f} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", action="append", required=True, help="TAG=PATH of a GGUF file")
    parser.add_argument("--record", type=Path, help="folder for the raw outputs")
    parser.add_argument("--validity", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    tools = await kanboard_tools()
    for spec in args.model:
        tag, _, path = spec.partition("=")
        for constrained in (False, True):
            settings = LlamaSettings(
                n_ctx=4096, n_threads=args.threads, constrained=constrained, max_tokens=160
            )
            model = LocalModel.load(Path(path), settings, name=tag)
            if args.record and not constrained:
                await record(model, tools, tag, args.record)
            if args.validity:
                await validity(model, tools, tag)
            await model.aclose()


if __name__ == "__main__":
    anyio.run(main)

"""Prefill and decode speed of local models, ours against raw llama-cpp-python on the same prompt;
the prompt prefix restored from disk; speculative decoding on answers that quote tool results.

    .venv/bin/python -m benchmarks.model_speed --model /tmp/models/q05.gguf --threads 1 --repeat 3

Table 1, for each model: a system prompt + four Kanboard tool definitions + a question that gets a
long plain answer (so every engine generates the same number of tokens). "cold" starts from an
empty KV cache and no saved state (a fresh random line at the top of the system prompt); "disk"
asks the second question of a newly loaded model (a new process) that finds the prompt's stable
prefix saved on disk by the cold run; "warm" asks the second question after the first in the same
model, so the system prompt and tools are in its KV cache. `ours` is `LocalModel.respond`
(unconstrained, `speculative = "prompt_lookup"`), `ours-nospec` the same with `speculative = "off"`
(the default, since it measured faster here), `ours+grammar` the default, constrained; `raw` is
`Llama.create_completion(prompt_tokens, stream=True)` on the same tokens with its own Llama object
(no disk phase). Medians over --repeat runs; time to first token (TTFT) is when the first generated
token is ready; `load s` is the time to load the model in the disk phase (what a new process pays
besides the prompt).

Table 2, "quoting": the answer turn after a real Kanboard tool call on the demo board (all eight
Kanboard tools in the prompt, the question restated after the result as the agent loop does,
constrained), generated one token at a time and with prompt-lookup speculation: decode tok/s,
guesses accepted, and whether both outputs are the same.

Before issue 14 there were no "disk" rows, no `ours-nospec` and no table 2 (the script then took
the same options).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio

from agent.messages import Message, ToolCall, ToolSpec
from agent.models.llama import LocalModel
from agent.models.llama.kv_cache import common_prefix
from agent.models.llama.loading import load_llama
from agent.models.llama.shim import evaluated
from agent.models.prefix_states import PrefixStates
from agent.models.settings import LlamaSettings
from agent.policy import RESTATED
from benchmarks.kanboard_qa.runner import demo_toolbox
from benchmarks.kanboard_qa.suites import SUITES
from benchmarks.record_tool_calls import SYSTEM, kanboard_tools

QUESTIONS = (
    "Explain in detail, in about 300 words, how RAID 1 differs from RAID 5 for a home NAS.",
    "Explain in detail, in about 300 words, why a homelab needs offsite backups.",
)
QUOTING = (
    ("What is overdue in Homelab?", "kanboard__overdue_tasks", {"project": "Homelab"}),
    ("What is Alice Chen working on?", "kanboard__tasks_of", {"person": "Alice Chen"}),
    (
        "What is in progress in Homelab?",
        "kanboard__show_board",
        {"project": "Homelab", "column": "In Progress"},
    ),
)
Row = dict[str, float]


def conversation(nonce: str, question: str) -> list[Message]:
    return [Message.system(f"Session {nonce}.\n{SYSTEM}"), Message.user(question)]


async def ours(model: LocalModel, messages: list[Message], tools: list[ToolSpec]) -> Row:
    response = await model.respond(messages, tools)
    u = response.usage
    new = u.input_tokens - u.cached_tokens
    return {
        "prompt": u.input_tokens,
        "cached": u.cached_tokens,
        "prefill_tok_s": new / u.prefill_s,
        "ttft_s": u.prefill_s + u.decode_s / max(u.output_tokens, 1),
        "decode_tok_s": u.output_tokens / u.decode_s,
        "out": u.output_tokens,
    }


def raw(llm: Any, tokens: list[int], max_tokens: int) -> Row:
    cached = min(common_prefix(evaluated(llm), tokens), len(tokens) - 1)
    started = time.perf_counter()
    first, chunks = 0.0, 0
    for chunk in llm.create_completion(tokens, max_tokens=max_tokens, temperature=0.0, stream=True):
        first = first or time.perf_counter()
        chunks += chunk["choices"][0]["finish_reason"] is None  # type: ignore[index]
    ended = time.perf_counter()
    ttft = first - started
    return {
        "prompt": len(tokens),
        "cached": cached,
        "prefill_tok_s": (len(tokens) - cached) / ttft,
        "ttft_s": ttft,
        "decode_tok_s": (chunks - 1) / (ended - first),
        "out": chunks,
    }


def median(rows: list[Row]) -> Row:
    return {k: statistics.median(r.get(k, 0.0) for r in rows) for k in rows[0]}


async def bench(
    path: Path, threads: int | None, repeat: int, max_tokens: int, states_dir: Path
) -> list[tuple[str, str, Row]]:
    settings = LlamaSettings(
        n_ctx=4096, n_threads=threads, max_tokens=max_tokens, constrained=False, n_gpu_layers=0
    )
    engines: dict[str, LlamaSettings] = {
        "ours": settings.model_copy(update={"speculative": "prompt_lookup"}),
        "ours-nospec": settings.model_copy(update={"speculative": "off"}),
        "ours+grammar": settings.model_copy(update={"constrained": True}),
    }
    states = PrefixStates(states_dir, 1024**3)

    def load(name: str) -> LocalModel:
        return LocalModel.load(path, engines[name], name=name, states=states)

    models = {name: load(name) for name in engines}
    threads = models["ours"].n_threads
    llm, _ = load_llama(path, settings.model_copy(update={"n_threads": threads}), name="raw")
    results: dict[tuple[str, str], list[Row]] = {}
    tools = await kanboard_tools()
    try:
        for _ in range(repeat):
            for name, model in models.items():
                nonce = uuid.uuid4().hex[:8]  # one per engine: another engine's saved prefix is no help
                cold, warm = conversation(nonce, QUESTIONS[0]), conversation(nonce, QUESTIONS[1])
                results.setdefault((name, "cold"), []).append(await ours(model, cold, tools))
                started = time.perf_counter()
                fresh = load(name)  # a new process: nothing in its KV cache, the prefix on disk
                load_s = time.perf_counter() - started
                try:
                    row = await ours(fresh, warm, tools)
                finally:
                    await fresh.aclose()
                results.setdefault((name, "disk"), []).append({**row, "load_s": load_s})
                results.setdefault((name, "warm"), []).append(await ours(model, warm, tools))
            for phase, messages in (("cold", cold), ("warm", warm)):
                tokens = models["ours"].prompt_tokens(messages, tools)
                results.setdefault(("raw", phase), []).append(raw(llm, tokens, max_tokens))
    finally:
        for model in models.values():
            await model.aclose()
        llm.close()
    return [(who, phase, median(rows)) for (who, phase), rows in results.items()]


async def quoting_cases() -> tuple[list[ToolSpec], list[list[Message]]]:
    """Answer-turn conversations after real Kanboard tool calls on the demo board."""
    system = Message.system(SYSTEM)
    cases = []
    async with demo_toolbox(SUITES["homelab"].transport(), writes=False) as toolbox:
        tools = await toolbox.list_tools()
        for question, name, arguments in QUOTING:
            call = ToolCall(name=name, arguments=arguments, id="call_1")
            result = await toolbox.call_tool(name, arguments)
            cases.append(
                [
                    system,
                    Message.user(question),
                    Message.assistant("", [call]),
                    Message.tool(call, result.text),
                    Message.reminder(RESTATED.format(question=question)),
                ]
            )
    return tools, cases


async def quoting(
    path: Path, threads: int | None, repeat: int, max_tokens: int
) -> list[tuple[str, int, Row, str]]:
    """Decode speed of each case's answer turn, one token at a time and speculating: (mode, case,
    medians, the answer)."""
    tools, cases = await quoting_cases()
    base = LlamaSettings(n_ctx=4096, n_threads=threads, max_tokens=max_tokens, n_gpu_layers=0)
    rows: list[tuple[str, int, Row, str]] = []
    for mode in ("off", "prompt_lookup"):
        model = LocalModel.load(path, base.model_copy(update={"speculative": mode}), name=mode)
        try:
            for case, messages in enumerate(cases):
                runs, answer = [], ""
                for _ in range(repeat):  # the prompt is cached after the first run: decoding is compared
                    response = await model.respond(messages, tools, tool_choice="none")
                    u, answer = response.usage, response.raw
                    runs.append(
                        {
                            "out": u.output_tokens,
                            "decode_s": u.decode_s,
                            "decode_tok_s": u.output_tokens / u.decode_s,
                            "drafted": u.drafted_tokens,
                            "accepted": u.accepted_tokens,
                        }
                    )
                rows.append((mode, case, median(runs), answer))
        finally:
            await model.aclose()
    return rows


def _print_speed(path: Path, rows: list[tuple[str, str, Row]]) -> None:
    for who, phase, r in sorted(rows, key=lambda x: (("cold", "disk", "warm").index(x[1]), x[0])):
        load = f"{r['load_s']:>7.2f}" if "load_s" in r else f"{'':>7}"
        print(
            f"{path.name[:28]:<28} {who:<13} {phase:<5} {r['prompt']:>6.0f} {r['cached']:>6.0f} "
            f"{r['prefill_tok_s']:>13.1f} {r['ttft_s']:>7.3f} {r['decode_tok_s']:>12.1f} {r['out']:>4.0f} "
            f"{load}"
        )


def _print_quoting(path: Path, rows: list[tuple[str, int, Row, str]]) -> None:
    plain = {case: answer for mode, case, _, answer in rows if mode == "off"}
    for mode, case, r, answer in rows:
        same = "yes" if plain[case] == answer else "NO"
        print(
            f"{path.name[:28]:<28} {QUOTING[case][0][:34]:<34} {mode:<13} {r['out']:>4.0f} "
            f"{r['decode_s']:>8.2f} {r['decode_tok_s']:>12.1f} {r['accepted']:>4.0f}/{r['drafted']:<4.0f} "
            f"{same:>5}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", action="append", type=Path, help="GGUF file (default: every *.gguf in --models-dir)"
    )
    parser.add_argument("--models-dir", type=Path, default=Path("~/.cache/homelab-agent/models").expanduser())
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--quoting-tokens", type=int, default=384, help="token budget of a quoting answer")
    parser.add_argument("--skip", choices=["speed", "quoting"], action="append", default=[])
    args = parser.parse_args()
    paths = args.model or sorted(args.models_dir.glob("*.gguf"))
    if "speed" not in args.skip:
        print(
            f"{'model':<28} {'engine':<13} {'phase':<5} {'prompt':>6} {'cached':>6} {'prefill tok/s':>13} "
            f"{'TTFT s':>7} {'decode tok/s':>12} {'out':>4} {'load s':>7}"
        )
        for path in paths:
            with tempfile.TemporaryDirectory(prefix="prefix-states-") as states_dir:
                rows = anyio.run(bench, path, args.threads, args.repeat, args.max_tokens, Path(states_dir))
            _print_speed(path, rows)
    if "quoting" not in args.skip:
        print(
            f"\n{'model':<28} {'quoting answer to':<34} {'speculative':<13} {'out':>4} {'decode s':>8} "
            f"{'decode tok/s':>12} {'accepted':>9} {'same':>5}"
        )
        for path in paths:
            _print_quoting(path, anyio.run(quoting, path, args.threads, args.repeat, args.quoting_tokens))


if __name__ == "__main__":
    main()

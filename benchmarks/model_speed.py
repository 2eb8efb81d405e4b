"""Prefill and decode speed of local models, ours against raw llama-cpp-python on the same prompt.

    .venv/bin/python benchmarks/model_speed.py --model /tmp/models/q05.gguf --threads 1 --repeat 3

For each model: a system prompt + four Kanboard tool definitions + a question that gets a long plain
answer (so both sides generate the same number of tokens). "cold" starts from an empty KV cache
(a fresh random line at the top of the system prompt); "warm" asks a second question after the
first, so the system prompt and tools are already in the cache. `ours` is `LocalModel.respond`
(unconstrained, then constrained); `raw` is `Llama.create_completion(prompt_tokens, stream=True)`
on the same tokens with its own Llama object. Medians over --repeat runs; time to first token
(TTFT) is when the first generated token is ready.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from pathlib import Path

import anyio
import llama_cpp

from agent.messages import Message, ToolSpec
from agent.models.llama import LocalModel
from agent.models.llama.kv_cache import common_prefix
from agent.models.llama.shim import evaluated
from agent.models.settings import LlamaSettings
from benchmarks.record_tool_calls import SYSTEM, kanboard_tools

QUESTIONS = (
    "Explain in detail, in about 300 words, how RAID 1 differs from RAID 5 for a home NAS.",
    "Explain in detail, in about 300 words, why a homelab needs offsite backups.",
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


def raw(llm: llama_cpp.Llama, tokens: list[int], max_tokens: int) -> Row:
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
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


async def bench(path: Path, threads: int | None, repeat: int, max_tokens: int) -> list[tuple[str, str, Row]]:
    settings = LlamaSettings(
        n_ctx=4096, n_threads=threads, max_tokens=max_tokens, constrained=False, n_gpu_layers=0
    )
    free = LocalModel.load(path, settings, name="ours")
    bound = LocalModel.load(path, settings.model_copy(update={"constrained": True}), name="ours-grammar")
    threads = free.n_threads
    llm = llama_cpp.Llama(str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False)
    results: dict[tuple[str, str], list[Row]] = {}
    tools = await kanboard_tools()
    try:
        for _ in range(repeat):
            nonce = uuid.uuid4().hex[:8]
            cold, warm = conversation(nonce, QUESTIONS[0]), conversation(nonce, QUESTIONS[1])
            for phase, messages in (("cold", cold), ("warm", warm)):
                results.setdefault(("ours", phase), []).append(await ours(free, messages, tools))
                tokens = free.tokenize(free.template.render(messages, tools))
                results.setdefault(("raw", phase), []).append(raw(llm, tokens, max_tokens))
                results.setdefault(("ours+grammar", phase), []).append(await ours(bound, messages, tools))
    finally:
        await free.aclose()
        await bound.aclose()
        llm.close()
    return [(who, phase, median(rows)) for (who, phase), rows in results.items()]


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
    args = parser.parse_args()
    paths = args.model or sorted(args.models_dir.glob("*.gguf"))
    print(
        f"{'model':<28} {'engine':<13} {'phase':<5} {'prompt':>6} {'cached':>6} {'prefill tok/s':>13} "
        f"{'TTFT s':>7} {'decode tok/s':>12} {'out':>4}"
    )
    for path in paths:
        rows = anyio.run(bench, path, args.threads, args.repeat, args.max_tokens)
        for who, phase, r in sorted(rows, key=lambda x: (x[1], x[0])):
            print(
                f"{path.name[:28]:<28} {who:<13} {phase:<5} {r['prompt']:>6.0f} {r['cached']:>6.0f} "
                f"{r['prefill_tok_s']:>13.1f} {r['ttft_s']:>7.3f} {r['decode_tok_s']:>12.1f} {r['out']:>4.0f}"
            )


if __name__ == "__main__":
    main()

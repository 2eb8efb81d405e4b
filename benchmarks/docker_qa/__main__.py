"""`python -m benchmarks.docker_qa`: ask the Docker and cross-server questions with a local model.

    out=$(scripts/scratch-dockerd.sh start) && eval "$out"      # as root: a scratch engine
    M=~/.cache/homelab-agent/models
    python -m benchmarks.docker_qa --model $M/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --threads 1
    python -m benchmarks.docker_qa --model PATH.gguf --threads 1 --questions jellyfin-up,kanboard-overdue
    scripts/scratch-dockerd.sh stop "$HOMELAB_AGENT_SCRATCH_DOCKERD"

Builds the sample homelab (`tests.support.docker_stack`) on the engine HOMELAB_AGENT_TEST_DOCKER_HOST
(or --docker-host) names, asks every question (or --questions) at temperature 0, prints each
answer and a summary per category, writes LABEL.json into --out, and removes the stack. The engine
must be a scratch one: the stack's containers are created and removed there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import anyio

from agent.config import AgentSettings
from agent.models.factory import build_model
from agent.models.settings import LlamaSettings
from benchmarks.docker_qa.questions import QUESTIONS, pick
from benchmarks.docker_qa.runner import run_questions
from benchmarks.helpers import progress, slug
from benchmarks.runner import Results
from homelab_common.logs import configure_logging
from tests.support.docker_stack import build_stack, engine_host, remove_stack


def summary(results: Results) -> str:
    """Accuracy overall and per category, and the median latency."""
    per = ", ".join(f"{c} {r}/{n}" for c, (r, n) in results.by_category().items())
    right = sum(o.correct for o in results.outcomes)
    return (
        f"{results.label}: {right}/{len(results.outcomes)} correct ({results.accuracy:.0%}), "
        f"median {results.median_latency:.1f}s; {per}"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.docker_qa",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, type=Path, help="a GGUF file")
    parser.add_argument(
        "--docker-host",
        default=engine_host(),
        help="a scratch engine (default: $HOMELAB_AGENT_TEST_DOCKER_HOST)",
    )
    parser.add_argument("--questions", help="comma-separated question ids")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the model")
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=384)
    parser.add_argument("--label", help="name of this run; default: the model file's name")
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    if not args.docker_host:
        parser.error("no engine: start one with scripts/scratch-dockerd.sh, or give --docker-host")
    questions = pick(QUESTIONS, args.questions.split(",") if args.questions else ())
    label = args.label or args.model.stem
    settings = LlamaSettings(
        source=str(args.model.expanduser()),
        temperature=0.0,
        n_threads=args.threads,
        max_tokens=args.max_tokens,
        n_gpu_layers=0,
    )

    async def run() -> Results:
        stack = await build_stack(args.docker_host, health_interval_s=3.0)
        model = build_model(settings, label, args.model.expanduser().parent)
        try:
            return await run_questions(
                model,
                questions,
                docker_host=args.docker_host,
                label=label,
                agent_settings=AgentSettings(max_steps=args.max_steps),
                config={
                    "model": str(args.model),
                    "threads": args.threads,
                    "max_tokens": args.max_tokens,
                    "max_steps": args.max_steps,
                },
                on_outcome=progress(),
            )
        finally:
            await model.aclose()
            await remove_stack(stack)

    results = anyio.run(run)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{slug(label)}.json"
    path.write_text(results.model_dump_json(indent=1))
    print(f"{summary(results)} -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How fast and how well the router decides, from lexical cues alone or with a one-word model verdict.

    .venv/bin/python benchmarks/router_decision.py                       # lexical only
    .venv/bin/python benchmarks/router_decision.py --model /tmp/models/q05.gguf

Over the 42 read questions of the Kanboard benchmark: the time `Router.decide` takes (median and
max, ms), whether the ranked tool list holds a tool that answers the question (first tool, and any
of `max_tools`), and how often the small/large choice agrees with the question's category (lookup,
people, dates, details and unanswerable are "simple"; aggregate and multistep are "complex").
With --model, the same again with `classify_with_model = true` and `model_band = 1.0`, so the
model is asked about every question: its cost is what choosing it would add to every question.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import anyio

from agent.config import RouterSettings
from agent.messages import ToolSpec
from agent.models.base import Model
from agent.models.scripted import ScriptedModel
from agent.router import Router
from benchmarks.kanboard_qa.questions import QUESTIONS
from benchmarks.kanboard_qa.runner import demo_toolbox
from homelab_common.logs import configure_logging
from tools.kanboard_demo import demo_transport

SIMPLE = {"lookup", "people", "dates", "details", "unanswerable"}


async def tools() -> list[ToolSpec]:
    """The Kanboard read tools, as the agent sees them."""
    async with demo_toolbox(demo_transport(), writes=False) as toolbox:
        return await toolbox.list_tools()


async def measure(router: Router, specs: list[ToolSpec], label: str) -> None:
    times, first, anywhere, agree = [], 0, 0, 0
    questions = [q for q in QUESTIONS if not q.writes]
    for q in questions:
        started = time.perf_counter()
        decision = await router.decide(q.text, specs)
        times.append((time.perf_counter() - started) * 1000)
        names = [t.name.rsplit("__", 1)[-1] for t in decision.tools]
        first += names[0] in q.tools
        anywhere += any(n in q.tools for n in names)
        agree += (decision.model == "small") == (q.category in SIMPLE)
    n = len(questions)
    print(
        f"{label:34s} decide median {statistics.median(times):8.2f} ms  max {max(times):8.2f} ms  "
        f"tool first {first}/{n}  tool in list {anywhere}/{n}  model choice agrees {agree}/{n}"
    )


async def main(model_path: Path | None, threads: int | None) -> None:
    specs = await tools()
    settings = RouterSettings(mode="auto")
    idle = ScriptedModel(model_name="unused")
    await measure(Router(small=idle, large=idle, settings=settings), specs, "lexical cues")
    if model_path is None:
        return
    from agent.models.llama import LocalModel
    from agent.models.settings import LlamaSettings

    small: Model = LocalModel.load(
        model_path, LlamaSettings(source=str(model_path), temperature=0.0, n_threads=threads), name="router"
    )
    try:
        asked = settings.model_copy(update={"classify_with_model": True, "model_band": 1.0})
        router = Router(small=small, large=idle, settings=asked, router_model=small)
        await router.decide("warm-up question", specs)
        await measure(router, specs, f"cues + {model_path.stem} verdict")
    finally:
        await small.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, help="a GGUF to ask for a simple/complex verdict")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    configure_logging("warning")
    anyio.run(main, args.model, args.threads)

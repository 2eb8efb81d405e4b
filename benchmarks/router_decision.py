"""How fast and how well the router decides, from its lexical cues.

    .venv/bin/python benchmarks/router_decision.py

Over the read questions of the Kanboard benchmark: the time `Router.begin` takes to decide (median
and max, ms) and how often the small/large choice agrees with the question's category (lookup,
people, dates, details and unanswerable are "simple"; aggregate and multistep are "complex").
No model is loaded. (A one-word verdict from a model was measured too and did worse than the cues,
at ~222 ms a question: benchmarks/kanboard_qa/RESULTS.md.)
"""

from __future__ import annotations

import statistics
import time

from agent.config import RouterSettings
from agent.models.scripted import ScriptedModel
from agent.router import Router
from benchmarks.kanboard_qa.questions import QUESTIONS
from homelab_common.logs import configure_logging

SIMPLE = {"lookup", "people", "dates", "details", "unanswerable"}


def measure(router: Router) -> None:
    """Print the decision time and how often the choice agrees with each question's category."""
    times, agree = [], 0
    questions = [q for q in QUESTIONS if not q.writes]
    for q in questions:
        started = time.perf_counter()
        run = router.begin(q.text, [])
        times.append((time.perf_counter() - started) * 1000)
        agree += (run.decided == "small") == (q.category in SIMPLE)
    n = len(questions)
    print(
        f"lexical cues  decide median {statistics.median(times):8.3f} ms  max {max(times):8.3f} ms  "
        f"model choice agrees {agree}/{n}"
    )


if __name__ == "__main__":
    configure_logging("warning")
    idle = ScriptedModel(model_name="unused")
    measure(Router(small=idle, large=idle, settings=RouterSettings(mode="auto")))

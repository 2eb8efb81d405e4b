"""CI smoke: five benchmark questions with the real 0.5B model at temperature 0, above a floor.

The floor is set a little under what was measured (see FLOOR). The model is found by
`tests.support.real_model.real_model_path`; without one the test fails and says how to get it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import AgentSettings, Config
from benchmarks.kanboard_qa.__main__ import build, model_settings
from benchmarks.kanboard_qa.questions import QUESTIONS, SMOKE, pick
from benchmarks.kanboard_qa.runner import run_questions
from tests.support.real_model import real_model_path

pytestmark = pytest.mark.real_model

FLOOR_CORRECT = 0  # of 5 answers right; measured 0/5 (see benchmarks/kanboard_qa/RESULTS.md)
FLOOR_VALID = 4  # of 5 runs without unreadable output or invalid tool calls; measured 5/5
DEFAULT_MODELS_DIR = Path(Config().models_dir).expanduser()


@pytest.fixture
def model_path() -> Path:
    return real_model_path()


async def test_the_small_model_answers_enough_smoke_questions(model_path: Path) -> None:
    spec = str(model_path)
    settings = model_settings(spec, None, constrained=True, warm=True).model_copy(update={"max_tokens": 200})
    model = build(spec, settings, DEFAULT_MODELS_DIR)
    try:
        results = await run_questions(
            model, pick(QUESTIONS, ids=SMOKE), label="smoke", agent_settings=AgentSettings(max_steps=4)
        )
    finally:
        await model.aclose()
    correct = sum(o.correct for o in results.outcomes)
    valid = sum(o.valid_calls and o.error is None for o in results.outcomes)
    report = "\n".join(
        f"{'ok ' if o.correct else 'BAD'} {o.id}: {o.answer[:120]!r} {o.missing}" for o in results.outcomes
    )
    assert correct >= FLOOR_CORRECT, f"{correct}/5 correct, floor {FLOOR_CORRECT}:\n{report}"
    assert valid >= FLOOR_VALID, f"{valid}/5 runs with valid tool calls, floor {FLOOR_VALID}:\n{report}"

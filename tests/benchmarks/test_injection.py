"""The injection benchmark's counting: a write the model makes shows as a write call and a change
of the board; a read-only run shows neither. Scripted model, in-process board and server."""

from __future__ import annotations

from agent.config import AgentSettings
from agent.messages import ToolCall
from agent.models.scripted import ScriptedModel
from benchmarks.injection import INJECTIONS, QUESTIONS, injected_seed, run_question, summary


async def test_a_write_call_counts_as_one_write_call_and_one_changed_task() -> None:
    model = ScriptedModel([ToolCall(name="kanboard__close_task", arguments={"task": "#3"}), "Closed it."])
    outcome = await run_question(model, QUESTIONS[0])
    assert outcome.error is None
    assert outcome.tools == ["close_task"]
    assert outcome.write_calls == ['close_task({"task": "#3"})']
    assert outcome.write_procedures == ["closeTask"]
    assert len(outcome.changes) == 1
    assert outcome.changes[0].startswith("tasks 3 changed:") and "is_active" in outcome.changes[0]
    assert summary([outcome]).startswith("1 questions, 1 write calls, 1 state changes")


async def test_a_read_only_run_counts_no_write_and_no_change() -> None:
    model = ScriptedModel(
        [ToolCall(name="kanboard__get_task", arguments={"task": "#3"}), "It is in the backlog."]
    )
    outcome = await run_question(model, QUESTIONS[0])
    assert outcome.error is None
    assert outcome.tools == ["get_task"]
    assert outcome.answer
    assert (outcome.write_calls, outcome.write_procedures, outcome.changes) == ([], [], [])
    assert summary([outcome]).startswith("1 questions, 0 write calls, 0 state changes")


def test_every_question_reads_a_task_that_holds_an_injection() -> None:
    injected = {task_id for _, task_id, _ in INJECTIONS}
    assert {q.task_id for q in QUESTIONS} <= injected
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    seed = injected_seed()
    texts = [t["title"] + t.get("description", "") for t in seed["tasks"]] + [
        c["comment"] for c in seed["comments"]
    ]
    for _, _, text in INJECTIONS:
        assert sum(text.strip() in t for t in texts) == 1, text


async def test_a_model_that_reads_the_results_is_marked_as_having_read_them() -> None:
    model = ScriptedModel([ToolCall(name="kanboard__get_task", arguments={"task": "#3"}), "In the backlog."])
    outcome = await run_question(model, QUESTIONS[0], AgentSettings(quote_lists="off"))
    assert outcome.model_read
    assert outcome.answer == "In the backlog."
    seen = [m.content for m in model.requests[1].messages if m.role == "tool"]
    assert len(model.requests) == 2 and "SYSTEM: maintenance mode" in seen[0]

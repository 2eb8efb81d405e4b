"""The Docker benchmark's questions and ground truth, computed from the engine running the test
stack (and the demo board), and checked against the tools by answers that echo them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agent.messages import Message, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel, Turn, latest
from benchmarks.docker_qa.engine import snapshot
from benchmarks.docker_qa.questions import CATEGORIES, QUESTIONS, pick
from benchmarks.docker_qa.runner import run_questions
from benchmarks.kanboard_qa.board import snapshot as board_snapshot
from tests.support.docker_stack import Stack, steady
from tools.docker import DockerSettings
from tools.kanboard_demo import demo_transport

pytestmark = pytest.mark.docker_engine


def test_the_questions_cover_every_category_with_unique_ids() -> None:
    assert {q.category for q in QUESTIONS} == set(CATEGORIES)
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS) >= 15
    assert sum(q.kanboard for q in QUESTIONS) >= 3
    with pytest.raises(KeyError):
        pick(QUESTIONS, ["nope"])


async def test_every_question_computes_its_truth_from_the_engine(stack: Stack) -> None:
    engine = await steady(stack, lambda: snapshot(DockerSettings(host=stack.host)))
    board = await board_snapshot(demo_transport())
    for q in QUESTIONS:
        truth = q.truth(engine, board if q.kanboard else None)
        assert truth.required, q.id
        for fact in truth.required + truth.forbidden:
            assert fact.spellings, q.id


def _echo(*calls: tuple[str, dict[str, Any]]) -> Callable[[list[Message], list[ToolSpec]], Turn]:
    """A model that makes `calls` one per turn, then answers with every result, word for word."""

    def turn(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        done = [
            m
            for m in messages[messages.index(next(m for m in messages if m.role == "user")) :]
            if m.role == "tool"
        ]
        if len(done) < len(calls):
            tool, arguments = calls[len(done)]
            return ToolCall(name=tool, arguments=arguments)
        return "\n".join(m.content for m in done)

    return turn


# Answers that repeat the right tools' output must score as right: the truth agrees with the tools.
ECHOED = [
    ("jellyfin-up", [("docker__list_containers", {"project": "media"})]),
    ("db-why", [("docker__container_details", {"container": "office/db"})]),
    ("paperless-why", [("docker__container_details", {"container": "paperless"})]),
    ("kanboard-port", [("docker__list_containers", {})]),
    ("paperless-logs", [("docker__container_logs", {"container": "paperless"})]),
    ("kanboard-image", [("docker__container_details", {"container": "kanboard"})]),
    ("kanboard-volume", [("docker__container_details", {"container": "kanboard"})]),
    ("projects", [("docker__list_containers", {})]),
    ("running-count", [("docker__list_containers", {})]),
    ("nextcloud", [("docker__container_details", {"container": "nextcloud"})]),
    (
        "kanboard-overdue",
        [("docker__list_containers", {"project": "office"}), ("kanboard__overdue_tasks", {})],
    ),
    (
        "jellyfin-gpu",
        [
            ("docker__list_containers", {"project": "media"}),
            ("kanboard__search_tasks", {"query": "Jellyfin"}),
        ],
    ),
]


@pytest.mark.parametrize(("qid", "calls"), ECHOED)
async def test_repeating_the_right_tool_results_scores_as_correct(
    stack: Stack, qid: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    model = ScriptedModel(function=_echo(*calls))
    results = await steady(
        stack, lambda: run_questions(model, pick(QUESTIONS, [qid]), docker_host=stack.host, label="echo")
    )
    outcome = results.outcomes[0]
    assert outcome.correct, (outcome.missing, outcome.forbidden_found, outcome.answer)
    assert outcome.valid_calls and outcome.tools == [tool for tool, _ in calls]


@pytest.mark.parametrize(("qid", "marker"), [("unhealthy", "UNHEALTHY"), ("restarting", "RESTARTING")])
async def test_the_list_lines_marked_with_a_state_answer_which_containers_are_in_it(
    stack: Stack, qid: str, marker: str
) -> None:
    def turn(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        if latest(messages).role != "tool":
            return ToolCall(name="docker__list_containers", arguments={})
        return "\n".join(
            line for line in latest(messages).content.splitlines() if marker in line.split(";")[0]
        )

    # the truth and the tool read the engine at different moments: both while nothing restarts
    results = await steady(
        stack,
        lambda: run_questions(
            ScriptedModel(function=turn), pick(QUESTIONS, [qid]), docker_host=stack.host, label="m"
        ),
    )
    outcome = results.outcomes[0]
    assert outcome.correct, (outcome.missing, outcome.forbidden_found, outcome.answer)
    everything = ScriptedModel(function=_echo(("docker__list_containers", {})))
    named_all = (
        await steady(
            stack,
            lambda: run_questions(everything, pick(QUESTIONS, [qid]), docker_host=stack.host, label="a"),
        )
    ).outcomes[0]
    assert not named_all.correct and named_all.forbidden_found  # naming every container is wrong


async def test_a_wrong_or_empty_answer_scores_as_wrong(stack: Stack) -> None:
    model = ScriptedModel(function=_echo(("docker__list_containers", {"project": "media"})))
    outcome = await steady(
        stack,
        lambda: run_questions(model, pick(QUESTIONS, ["kanboard-port"]), docker_host=stack.host, label="w"),
    )
    assert not outcome.outcomes[0].correct and outcome.outcomes[0].missing
    shrug = ScriptedModel(function=lambda m, t: "I do not know.")
    results = await run_questions(shrug, pick(QUESTIONS, ["jellyfin-up"]), docker_host=stack.host, label="s")
    assert results.accuracy == 0.0 and results.by_category() == {"state": (0, 1)}

"""The questions and their ground truth, computed from the demo board and checked against the tools."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.messages import Message, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel, Turn, latest
from benchmarks.kanboard_qa.board import Board, snapshot
from benchmarks.kanboard_qa.questions import CATEGORIES, QUESTIONS, SMOKE, pick
from benchmarks.kanboard_qa.report import load, markdown, router_verdict, summarise, write_report
from benchmarks.kanboard_qa.runner import Contender, run_questions, run_side_by_side
from benchmarks.kanboard_qa.suites import SUITES, suites
from benchmarks.runner import Results
from tools.kanboard_demo import demo_transport


@pytest.fixture
async def board() -> Board:
    return await snapshot(demo_transport())


def test_there_are_at_least_forty_read_questions_over_every_category() -> None:
    reads = [q for q in QUESTIONS if not q.writes]
    assert len(reads) >= 40
    assert {q.category for q in QUESTIONS} == set(CATEGORIES)
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)


def test_every_question_computes_its_truth_from_the_board(board: Board) -> None:
    for q in QUESTIONS:
        truth = q.truth(board)
        assert truth.required or q.writes, q.id
        for fact in truth.required + truth.forbidden:
            assert fact.spellings, q.id


def test_write_checks_fail_on_a_fresh_board(board: Board) -> None:
    for q in QUESTIONS:
        if q.check is not None:
            assert q.check(board), q.id


def test_a_subset_spreads_over_the_categories_and_skips_writes_unless_asked() -> None:
    chosen = pick(QUESTIONS, subset=7)
    assert len({q.category for q in chosen}) == 7 and not any(q.writes for q in chosen)
    assert any(q.writes for q in pick(QUESTIONS, subset=8, writes=True))
    assert [q.id for q in pick(QUESTIONS, ids=SMOKE)] == list(SMOKE)
    with pytest.raises(KeyError):
        pick(QUESTIONS, ids=["nope"])


def _echo(tool: str, arguments: dict[str, Any]) -> Callable[[list[Message], list[ToolSpec]], Turn]:
    """A model that calls `tool` and answers with its result, word for word."""

    def turn(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        if latest(messages).role == "tool":
            return latest(messages).content
        return ToolCall(name=f"kanboard__{tool}", arguments=arguments)

    return turn


# Answers that repeat a tool's output must score as right: the ground truth agrees with the tools.
ECHOED = [
    ("overdue-homelab", "overdue_tasks", {"project": "Homelab"}),
    ("overdue-web", "overdue_tasks", {"project": "Website Redesign"}),
    ("overdue-all", "overdue_tasks", {}),
    ("dave", "tasks_of", {"person": "Dave Okafor"}),
    ("alice", "tasks_of", {"person": "Alice Chen"}),
    ("bob", "tasks_of", {"person": "Bob Martinez"}),
    ("carol-open", "tasks_of", {"person": "Carol Nguyen"}),
    ("tag-zfs", "search_tasks", {"query": "tag:zfs"}),
    ("projects", "list_projects", {}),
    ("web-members", "list_people", {"project": "Website Redesign"}),
    ("zfs-comment", "get_task", {"task": "#1"}),
    ("nextcloud-blocked", "get_task", {"task": "#16"}),
    ("opnsense-late", "get_task", {"task": "#12"}),
    ("k3s-due", "get_task", {"task": "#8"}),
    ("no-person", "search_tasks", {"query": "Frank"}),
]


@pytest.mark.parametrize(("qid", "tool", "arguments"), ECHOED)
async def test_repeating_the_right_tool_result_scores_as_correct(
    qid: str, tool: str, arguments: dict[str, Any]
) -> None:
    model = ScriptedModel(function=_echo(tool, arguments))
    results = await run_questions(model, pick(QUESTIONS, ids=[qid]), label="echo")
    outcome = results.outcomes[0]
    assert outcome.correct, (outcome.missing, outcome.forbidden_found, outcome.answer)
    assert outcome.valid_calls and outcome.tools == [f"kanboard__{tool}"] and outcome.steps == 2


async def test_a_wrong_answer_scores_as_wrong_and_names_what_is_missing() -> None:
    model = ScriptedModel(function=_echo("tasks_of", {"person": "Alice Chen"}))
    outcome = (await run_questions(model, pick(QUESTIONS, ids=["dave"]), label="wrong")).outcomes[0]
    assert not outcome.correct and outcome.missing and outcome.forbidden_found


async def test_a_write_request_is_checked_on_the_board_afterwards() -> None:
    doing = ScriptedModel(function=_echo("close_task", {"task": "Rotate WireGuard keys"}))
    claiming = ScriptedModel(script=["Closed it."])
    question = pick(QUESTIONS, ids=["write-close"], writes=True)
    assert (await run_questions(doing, question, label="does")).outcomes[0].correct
    lied = (await run_questions(claiming, question, label="claims")).outcomes[0]
    assert not lied.correct and lied.write_problems


async def test_each_write_request_gets_a_fresh_board() -> None:
    model = ScriptedModel(function=_echo("close_task", {"task": "Rotate WireGuard keys"}))
    question = pick(QUESTIONS, ids=["write-close"], writes=True)
    first = await run_questions(model, question, label="1")
    second = await run_questions(model, question, label="2")
    assert first.outcomes[0].correct and second.outcomes[0].correct
    assert "Closed task" in second.outcomes[0].answer  # not "already closed"


async def test_a_run_that_hits_the_step_limit_counts_as_wrong() -> None:
    def search_on(messages: list[Message], tools: list[ToolSpec]) -> ToolCall:
        looked = sum(1 for m in messages if m.role == "tool")
        return ToolCall(name="kanboard__search_tasks", arguments={"query": f"backup {looked}"})

    model = ScriptedModel(function=search_on)
    outcome = (await run_questions(model, pick(QUESTIONS, ids=["projects"]), label="loop")).outcomes[0]
    assert not outcome.correct and outcome.error and "MaxStepsError" in outcome.error
    assert outcome.steps == 6 and outcome.tools == ["kanboard__search_tasks"] * 6  # the steps are kept


async def test_results_round_trip_through_json_into_a_combined_report(tmp_path: Path) -> None:
    good = await run_questions(
        ScriptedModel(function=_echo("list_projects", {})),
        pick(QUESTIONS, ids=["projects", "count-homelab"]),
        label="echo projects",
    )
    bad = await run_questions(
        ScriptedModel(function=lambda m, t: "I do not know."),
        pick(QUESTIONS, ids=["projects", "no-person"]),
        label="shrug",
    )
    paths = []
    for r in (good, bad):
        path = tmp_path / f"{r.label}.json"
        path.write_text(r.model_dump_json())
        paths.append(path)
    loaded = [load(p) for p in paths]
    assert summarise(loaded[1]).accuracy == 0.5
    md, png = write_report(loaded, tmp_path / "out")
    text = md.read_text()
    assert "| echo projects | homelab | 2 |" in text and "| shrug | homelab | 2 |" in text
    assert "Wrong answers: shrug [homelab]" in text
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "unanswerable" in markdown(loaded)


async def test_the_report_command_combines_finished_and_partial_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.kanboard_qa.__main__ import main

    done = await run_questions(
        ScriptedModel(function=_echo("list_projects", {})), pick(QUESTIONS, ids=["projects"]), label="done"
    )
    (tmp_path / "done.json").write_text(done.model_dump_json())
    (tmp_path / "cut.partial.jsonl").write_text(done.outcomes[0].model_dump_json() + "\n")
    assert (
        main(
            [
                "report",
                str(tmp_path / "done.json"),
                str(tmp_path / "cut.partial.jsonl"),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "| done | homelab | 1 | 100% |" in printed
    assert "| cut (partial) | homelab | 1 | 100% |" in printed
    assert (tmp_path / "report.png").exists()


def test_the_runner_runs_models_at_temperature_zero_with_the_options_given() -> None:
    from benchmarks.kanboard_qa.__main__ import model_settings

    settings = model_settings("/models/x.gguf", None, constrained=False, warm=False, max_tokens=64)
    assert settings.source == "/models/x.gguf" and settings.temperature == 0.0
    assert settings.constrained is False and settings.cache_ram_mb == 0 and settings.max_tokens == 64
    assert model_settings("/models/x.gguf", None, constrained=None, warm=True).constrained is True


def test_rescoring_applies_the_current_scorer_to_recorded_answers(tmp_path: Path) -> None:
    from benchmarks.kanboard_qa.__main__ import main
    from benchmarks.runner import Outcome

    shrug = Outcome(id="no-person", category="unanswerable", question="?", answer="I do not know.")
    path = tmp_path / "shrug.json"
    path.write_text(
        Results(label="shrug", outcomes=[shrug]).model_dump_json()
    )  # scored wrong, as an old scorer did
    assert main(["rescore", str(path)]) == 0
    assert load(path).outcomes[0].correct


async def test_a_side_by_side_run_asks_each_question_of_both_taking_turns_at_going_first() -> None:
    asked: list[str] = []

    def tagged(tag: str, tool: str) -> Callable[[list[Message], list[ToolSpec]], Turn]:
        echo = _echo(tool, {})

        def turn(messages: list[Message], tools: list[ToolSpec]) -> Turn:
            if latest(messages).role == "user":
                asked.append(tag)
            return echo(messages, tools)

        return turn

    a = Contender("a", ScriptedModel(function=tagged("a", "list_projects")))
    b = Contender("b", ScriptedModel(function=tagged("b", "list_people")))
    questions = pick(QUESTIONS, ids=["projects", "count-homelab", "web-members"])
    ra, rb = await run_side_by_side([a, b], questions)
    assert asked == ["a", "b", "b", "a", "a", "b"]
    assert [o.id for o in ra.outcomes] == [o.id for o in rb.outcomes] == [q.id for q in questions]
    assert (ra.label, rb.label) == ("a", "b")
    assert [o.correct for o in ra.outcomes] == [True, True, False]


def _timed(label: str, seconds: list[float], correct: list[bool]) -> Results:
    from benchmarks.runner import Outcome

    outcomes = [
        Outcome(id=f"q{i}", category="lookup", question="?", latency_s=s, correct=c)
        for i, (s, c) in enumerate(zip(seconds, correct, strict=True))
    ]
    return Results(label=label, outcomes=outcomes)


def test_the_router_verdict_needs_half_the_median_latency_and_accuracy_within_three_points() -> None:
    large = _timed("large", [10, 12, 14, 16], [True, True, False, False])
    fast_and_good = _timed("router", [4, 5, 6, 30], [True, True, False, False])
    fast_but_worse = _timed("router", [4, 5, 6, 30], [True, False, False, False])
    good_but_slow = _timed("router", [6, 7, 8, 9], [True, True, True, False])
    assert router_verdict(large, fast_and_good).startswith("MET: router median 5.5 s = 0.42 x")
    assert router_verdict(large, fast_but_worse).startswith("NOT MET")
    assert "-25.0 points" in router_verdict(large, fast_but_worse)
    assert router_verdict(large, good_but_slow).startswith("NOT MET")
    with pytest.raises(ValueError, match="same questions"):
        router_verdict(large, _timed("router", [1], [True]))


@pytest.mark.parametrize("name", ["household", "big", "dev"])
async def test_each_other_board_has_25_questions_over_every_category_whose_truth_comes_from_its_own_board(
    name: str,
) -> None:
    suite = SUITES[name]
    reads = [q for q in suite.questions if not q.writes]
    assert len(reads) >= 25
    assert {q.category for q in reads} == set(CATEGORIES) - {"write"}
    ids = [q.id for q in suite.questions]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {q.id for other in SUITES.values() if other is not suite for q in other.questions}
    board = await snapshot(suite.transport())
    for q in suite.questions:
        truth = q.truth(board)
        assert truth.required and all(fact.spellings for fact in truth.required + truth.forbidden), q.id


async def test_the_held_out_board_is_a_household_never_used_to_tune() -> None:
    household = SUITES["household"]
    assert household.held_out and not SUITES["homelab"].held_out
    board = await snapshot(household.transport())
    assert {p.name for p in board.projects} == {
        "House Renovation",
        "Family Admin",
        "Pottery Shop",
        "Smart Home",
    }


def test_boards_are_chosen_by_name_or_all_and_all_leaves_out_the_tuning_board() -> None:
    assert [s.name for s in suites("all")] == ["homelab", "household", "big"]
    assert [s.name for s in suites("household")] == ["household"]
    assert [s.name for s in suites("dev")] == ["dev"]
    assert [s.name for s in suites("household,dev")] == ["household", "dev"]
    with pytest.raises(KeyError, match="unknown boards: nope"):
        suites("nope")


async def test_a_run_on_the_held_out_board_asks_its_questions_of_its_own_board() -> None:
    household = SUITES["household"]
    results = await run_questions(
        ScriptedModel(function=_echo("list_projects", {})),
        pick(household.questions, ids=["h-projects", "h-tom"]),
        label="echo",
        suite=household,
    )
    assert results.board == "household"
    assert [o.correct for o in results.outcomes] == [True, False]
    assert "Pottery Shop" in results.outcomes[0].answer


async def test_the_big_board_is_a_thousand_tasks_over_a_dozen_projects_and_two_dozen_people() -> None:
    board = await snapshot(SUITES["big"].transport())
    closed = [t for t in board.tasks if not t.is_active]
    assert len(board.tasks) >= 1000 and 0.12 <= len(closed) / len(board.tasks) <= 0.18
    assert len(board.projects) >= 12 and len([u for u in board.users if u.username != "admin"]) >= 25
    firsts = [u.name.split()[0] for u in board.users]
    assert {"Sam", "Samantha", "Samir", "Leo", "Leonie"} <= set(firsts)
    assert sum(len(c) for c in board.comments.values()) > 300
    assert sum(len(s) for s in board.subtasks.values()) > 300
    assert sum(len(x) for x in board.links.values()) > 50
    hires, customers = board.titled("checklist for new hires"), board.titled("checklist for new customers")
    assert hires.project_id != customers.project_id
    assert hires.title.split()[:5] == customers.title.split()[:5]


def test_the_big_board_is_the_same_on_every_call() -> None:
    from benchmarks.kanboard_qa import bigboard

    first, second = bigboard.seed(), bigboard.seed()
    assert first == second
    first["tasks"].clear()  # a copy: changing one leaves the next untouched
    assert len(bigboard.seed()["tasks"]) >= 1000


async def test_the_big_boards_comparisons_have_one_clear_answer() -> None:
    big = SUITES["big"]
    assert big.held_out
    board = await snapshot(big.transport())
    open_counts = sorted((len(board.owned_by(u.username)) for u in board.users), reverse=True)
    assert open_counts[0] > open_counts[1]
    late = sorted((len(board.overdue(p.name)) for p in board.projects), reverse=True)
    assert late[0] > late[1]
    assert len(board.owned_by("sam")) != len(board.owned_by("samir"))


async def test_the_tuning_board_is_a_makerspace_with_the_traps_the_agent_falls_into() -> None:
    dev = SUITES["dev"]
    assert dev.tuning_only and not dev.held_out
    assert not any(s.tuning_only for s in SUITES.values() if s is not dev)
    board = await snapshot(dev.transport())
    assert {p.name for p in board.projects} == {"Workshop", "Laser Cutter", "Open Days", "Membership"}
    assert {"Jo", "Joanna"} <= {u.name.split()[0] for u in board.users}
    # the comparisons have one clear answer
    open_counts = sorted((len(board.owned_by(u.username)) for u in board.users), reverse=True)
    assert open_counts[0] > open_counts[1]
    late = sorted((len(board.overdue(p.name)) for p in board.projects), reverse=True)
    assert late[0] > late[1]
    # the tasks asked about by name are not overdue, and one of them has a near twin elsewhere
    for words in ("Open Day poster", "first aid kit for the Open Day", "dust extractor"):
        assert board.titled(words).id not in board.overdue_ids, words
    kit, twin = board.titled("first aid kit for the Open Day"), board.titled("first aid kit in the wood shop")
    assert kit.project_id != twin.project_id and twin.id in board.overdue_ids
    # what blocks the exhaust fan is someone else's task
    fan = board.titled("exhaust fan")
    (blocker,) = [link.task_id for link in board.links[fan.id] if link.label == "is blocked by"]
    assert board.task(blocker).owner_id != fan.owner_id
    assert sum(1 for t in board.tasks if board.subtasks[t.id]) >= 2
    assert sum(1 for t in board.tasks if not t.is_active and t.date_completed) >= 5


OTHER_ECHOED = [
    ("big", "b-sam", "tasks_of", {"person": "Sam Porter"}),
    ("big", "b-projects", "list_projects", {}),
    ("big", "b-movers-quote", "get_task", {"task": "Get quotes from moving companies"}),
    ("big", "b-no-person", "search_tasks", {"query": "Gustavo"}),
    ("dev", "d-jo", "tasks_of", {"person": "Jo Nakamura"}),
    ("dev", "d-joanna", "tasks_of", {"person": "Joanna Pike"}),
    ("dev", "d-projects", "list_projects", {}),
    ("dev", "d-late-workshop", "overdue_tasks", {"project": "Workshop"}),
    ("dev", "d-safety", "search_tasks", {"query": "tag:safety status:open"}),
    ("dev", "d-poster-due", "get_task", {"task": "Design the Open Day poster"}),
    ("dev", "d-acrylic-cost", "get_task", {"task": "Buy acrylic sheets for the sign workshop"}),
    ("dev", "d-exhaust-holdup", "get_task", {"task": "Upgrade the laser exhaust fan"}),
    ("dev", "d-kit-due", "get_task", {"task": "Restock first aid kit for the Open Day"}),
    ("dev", "d-no-person", "search_tasks", {"query": "Priyanka"}),
]


@pytest.mark.parametrize(("name", "qid", "tool", "arguments"), OTHER_ECHOED)
async def test_repeating_the_right_tool_result_about_another_board_scores_as_correct(
    name: str, qid: str, tool: str, arguments: dict[str, Any]
) -> None:
    suite = SUITES[name]
    model = ScriptedModel(function=_echo(tool, arguments))
    results = await run_questions(model, pick(suite.questions, ids=[qid]), label="echo", suite=suite)
    outcome = results.outcomes[0]
    assert results.board == name
    assert outcome.correct, (outcome.missing, outcome.forbidden_found, outcome.answer)


def test_compare_and_ablate_share_one_path_that_writes_a_file_per_contender_and_one_report(
    tmp_path: Path,
) -> None:
    import argparse

    from agent.config import AgentSettings
    from benchmarks.kanboard_qa.__main__ import _common_options, _side_by_side

    parser = argparse.ArgumentParser()
    _common_options(parser)
    parser.add_argument("--name", default="ablate")
    args = parser.parse_args(["--board", "homelab", "--questions", "projects", "--out", str(tmp_path)])
    a, b = ScriptedModel(function=_echo("list_projects", {})), ScriptedModel(script=["I do not know."])
    contenders = [Contender("echo it", a), Contender("shrug", b)]
    (runs,) = _side_by_side(args, contenders, AgentSettings(max_steps=4), closing=[a, b])
    assert [r.label for r in runs] == ["echo it", "shrug"] and [r.accuracy for r in runs] == [1.0, 0.0]
    assert runs[0].config["questions"] == ["projects"] and a.closed and b.closed
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["ablate-echo-it-homelab.json", "ablate-shrug-homelab.json", "ablate.md", "ablate.png"]

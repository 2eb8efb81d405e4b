"""The tuning board: a volunteer-run community makerspace (workshop, laser cutter, open days, membership).

The one board the agent may be tuned against, and so the one whose numbers are never reported as
accuracy: `homelab`, `household` and `big` are the reported boards. Its domain, people, columns,
tags, timezone and phrasings are its own, so a change tuned here still has to show on the others.
The board's data is `dev.json` (dates relative to now, like the demo seed); each question computes
its truth from a snapshot of that board, as in `questions`. This module runs no model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.kanboard_qa.board import Board, seed_file
from benchmarks.kanboard_qa.questions import (
    Question,
    closed_fact,
    dont_know,
    due_fact,
    only,
    owner_fact,
    person_fact,
    task_fact,
)
from benchmarks.kanboard_qa.questions import late_of as _late_of
from benchmarks.kanboard_qa.questions import most_overdue as _most_overdue
from benchmarks.kanboard_qa.questions import question as _q
from benchmarks.kanboard_qa.questions import subtask_facts as _subtasks
from benchmarks.kanboard_qa.questions import tagged as _tagged
from benchmarks.kanboard_qa.scoring import Fact, Truth, number_fact

__all__ = ["QUESTIONS", "seed"]

SEED = Path(__file__).with_name("dev.json")


def seed() -> dict[str, Any]:
    """The makerspace board's data."""
    return seed_file(SEED)


def _members(b: Board, project: str) -> Truth:
    """Everyone on `project`, and no one else."""
    ids = b.members[b.project(project).id]
    return Truth(
        required=[person_fact(u) for u in b.users if u.id in ids],
        forbidden=[person_fact(u) for u in b.users if u.id not in ids],
    )


QUESTIONS: list[Question] = [
    # Single lookups
    _q(
        "d-late-workshop",
        "lookup",
        "Is anything in the Workshop project behind schedule?",
        lambda b: only(b.overdue("Workshop"), b.open_tasks("Workshop")),
        "overdue_tasks",
    ),
    _q(
        "d-late-all",
        "lookup",
        "Which tasks have missed their due date, anywhere on the board?",
        lambda b: only(b.overdue(), b.open_tasks()),
        "overdue_tasks",
    ),
    _q(
        "d-projects",
        "lookup",
        "Which projects does the makerspace keep on this board?",
        lambda b: Truth(required=[Fact.of(p.name) for p in b.projects]),
        "list_projects",
    ),
    _q(
        "d-safety",
        "lookup",
        "Which open tasks are tagged safety?",
        lambda b: only(
            [t for t in _tagged(b, "safety") if t.is_active], _tagged(b, "safety") + b.open_tasks("Workshop")
        ),
        "search_tasks",
    ),
    _q(
        "d-review-column",
        "lookup",
        "What is sitting in Needs Review on the Laser Cutter board?",
        lambda b: only(b.in_column("Laser Cutter", "Needs Review"), b.open_tasks("Laser Cutter")),
        "show_board",
    ),
    # People
    _q(
        "d-jo",
        "people",
        "What is Jo working on at the moment?",
        lambda b: only(b.owned_by("jo"), b.owned_by("jo", open_only=False) + b.owned_by("joanna")),
        "tasks_of",
    ),
    _q(
        "d-joanna",
        "people",
        "Show me Joanna's open tasks.",
        lambda b: only(b.owned_by("joanna"), b.owned_by("joanna", open_only=False) + b.owned_by("jo")),
        "tasks_of",
    ),
    _q(
        "d-induction-owner",
        "people",
        "Who's running the Saturday induction for new members?",
        lambda b: Truth(
            required=[owner_fact(b, b.titled("Saturday induction"))],
            forbidden=[person_fact(b.user("joanna"))],
        ),
        "search_tasks",
        "get_task",
    ),
    _q(
        "d-bandsaw-owner",
        "people",
        "Who is looking after the bandsaw blade?",
        lambda b: Truth(required=[owner_fact(b, b.titled("bandsaw blade"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "d-open-days-team",
        "people",
        "Which volunteers are on the Open Days project?",
        lambda b: _members(b, "Open Days"),
        "list_people",
    ),
    # Dates: one named task, none of them overdue
    _q(
        "d-poster-due",
        "dates",
        "When is the Open Day poster due?",
        lambda b: Truth(required=[due_fact(b, b.titled("Open Day poster"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "d-kit-due",
        "dates",
        "By when must we restock the first aid kit for the Open Day?",
        lambda b: Truth(required=[due_fact(b, b.titled("first aid kit for the Open Day"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "d-extractor-due",
        "dates",
        "What's the deadline for servicing the dust extractor?",
        lambda b: Truth(required=[due_fact(b, b.titled("dust extractor"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "d-lens-closed",
        "dates",
        "When was cleaning the laser's focus lens and mirrors finished?",
        lambda b: Truth(required=[closed_fact(b, b.titled("focus lens"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "d-next-4-days",
        "dates",
        "What has a deadline in the coming four days?",
        lambda b: only(
            b.due_within(4),
            [t for t in b.open_tasks() if t not in b.due_within(4) and t.date_due and t.date_due > b.now],
        ),
        "search_tasks",
        "due_soon",
    ),
    # Details in descriptions, comments, subtasks and links
    _q(
        "d-acrylic-cost",
        "details",
        "How much did we end up paying for the acrylic sheets?",
        lambda b: Truth(required=[Fact.of("186.40", "186,40", "186.4")]),  # only in a comment
        "get_task",
        "search_tasks",
    ),
    _q(
        "d-soldering-postponed",
        "details",
        "Why was the kids' soldering workshop postponed?",
        lambda b: Truth(required=[Fact.of("election", "elections")]),  # only in a comment
        "get_task",
        "search_tasks",
    ),
    _q(
        "d-exhaust-holdup",
        "details",
        "What is holding up the laser exhaust fan upgrade?",
        lambda b: Truth(required=[Fact.of("landlord", f"#{b.titled('landlord approval').id}")]),  # a link
        "get_task",
        "search_tasks",
    ),
    _q(
        "d-fobs-holdup",
        "details",
        "What's holding up the key fob rollout?",
        lambda b: Truth(required=[Fact.of("firmware")]),  # only in a comment
        "get_task",
        "search_tasks",
    ),
    _q(
        "d-cnc-left",
        "details",
        "Which steps of commissioning the CNC router are left?",
        lambda b: Truth(
            required=_subtasks(b, "CNC router", done=False), forbidden=_subtasks(b, "CNC router", done=True)
        ),
        "get_task",
        "search_tasks",
    ),
    _q(
        "d-run-sheet-left",
        "details",
        "What still needs doing on the Open Day run sheet?",
        lambda b: Truth(
            required=_subtasks(b, "run sheet", done=False), forbidden=_subtasks(b, "run sheet", done=True)
        ),
        "get_task",
        "search_tasks",
    ),
    # Counts and comparisons
    _q(
        "d-count-laser",
        "aggregate",
        "How many tasks are still open on the Laser Cutter board?",
        lambda b: Truth(required=[number_fact(len(b.open_tasks("Laser Cutter")))]),
        "list_projects",
    ),
    _q(
        "d-busiest",
        "aggregate",
        "Which volunteer is carrying the most open tasks?",
        lambda b: Truth(required=[person_fact(max(b.users, key=lambda u: len(b.owned_by(u.username))))]),
        "list_people",
        "tasks_of",
    ),
    _q(
        "d-most-late-project",
        "aggregate",
        "Which project has fallen furthest behind on its deadlines?",
        lambda b: Truth(required=[Fact.of(max(b.projects, key=lambda p: len(b.overdue(p.name))).name)]),
        "list_projects",
    ),
    # Several steps
    _q(
        "d-exhaust-blocker",
        "multistep",
        "Whose task is stopping the exhaust fan upgrade, and when was that task due?",
        lambda b: Truth(
            required=[
                owner_fact(b, b.titled("landlord approval")),
                due_fact(b, b.titled("landlord approval")),
            ]
        ),
        "get_task",
        "search_tasks",
    ),
    _q(
        "d-hamish-late",
        "multistep",
        "Which of Hamish's jobs are overdue?",
        lambda b: only(_late_of(b, "hamish"), b.overdue()),
        "tasks_of",
        "overdue_tasks",
    ),
    _q(
        "d-longest-late",
        "multistep",
        "What has been overdue the longest, and whose is it?",
        lambda b: Truth(required=[task_fact(_most_overdue(b)), owner_fact(b, _most_overdue(b))]),
        "overdue_tasks",
    ),
    # Not on the board
    _q("d-no-person", "unanswerable", "What's on Priyanka's list?", dont_know, "tasks_of"),
    _q(
        "d-no-project",
        "unanswerable",
        "How far along is the Robotics Club project?",
        dont_know,
        "list_projects",
        "search_tasks",
    ),
    _q(
        "d-no-secret",
        "unanswerable",
        "What's the door code for the back entrance?",
        dont_know,
        "search_tasks",
    ),
]

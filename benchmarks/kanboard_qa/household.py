"""The held-out board: a household (renovation, family admin, a pottery shop, a smart home).

Written before any tuning of tools or prompts against it, and never used to tune: other domain,
other names, other columns, another timezone and other phrasings than the homelab board in
`questions`. A change counts as a gain only when it shows on both boards. The board's data is
`household.json` (dates relative to now, like the demo seed); each question computes its truth
from a snapshot of that board, as in `questions`.
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

SEED = Path(__file__).with_name("household.json")


def seed() -> dict[str, Any]:
    """The household board's data."""
    return seed_file(SEED)


def _top_priority(b: Board, project: str) -> Any:
    return max(b.open_tasks(project), key=lambda t: t.priority)


QUESTIONS: list[Question] = [
    # Single lookups
    _q(
        "h-late-reno",
        "lookup",
        "Anything late in House Renovation?",
        lambda b: only(b.overdue("House Renovation"), b.open_tasks("House Renovation")),
        "overdue_tasks",
    ),
    _q(
        "h-late-all",
        "lookup",
        "List everything that is past its due date.",
        lambda b: only(b.overdue(), b.open_tasks()),
        "overdue_tasks",
    ),
    _q(
        "h-photo-column",
        "lookup",
        "What's in the Photograph & List column of the Pottery Shop?",
        lambda b: only(b.in_column("Pottery Shop", "Photograph & List"), b.open_tasks("Pottery Shop")),
        "show_board",
    ),
    _q(
        "h-projects",
        "lookup",
        "What projects are on this Kanboard?",
        lambda b: Truth(required=[Fact.of(p.name) for p in b.projects]),
        "list_projects",
    ),
    _q(
        "h-plumbing",
        "lookup",
        "Show me the open plumbing tasks.",
        lambda b: only([t for t in _tagged(b, "plumbing") if t.is_active], _tagged(b, "plumbing")),
        "search_tasks",
    ),
    _q(
        "h-blocked-column",
        "lookup",
        "What's stuck in the Blocked column of Smart Home?",
        lambda b: only(b.in_column("Smart Home", "Blocked"), b.open_tasks("Smart Home")),
        "show_board",
    ),
    # People
    _q(
        "h-tom",
        "people",
        "What does Tom have on his plate?",
        lambda b: only(b.owned_by("tom"), b.owned_by("tom", open_only=False) + b.owned_by("marcus")),
        "tasks_of",
    ),
    _q(
        "h-sofia",
        "people",
        "List Sofia's open tasks.",
        lambda b: only(b.owned_by("sofia"), b.owned_by("sofia", open_only=False) + b.owned_by("lena")),
        "tasks_of",
    ),
    _q(
        "h-fence-owner",
        "people",
        "Who is painting the garden fence?",
        lambda b: Truth(required=[owner_fact(b, b.titled("garden fence"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "h-fan-owner",
        "people",
        "Who's assigned to the bathroom extractor fan?",
        lambda b: Truth(
            required=[owner_fact(b, b.titled("extractor fan"))],
            forbidden=[person_fact(u) for u in b.users if u.username != "admin"],
        ),
        "search_tasks",
        "get_task",
    ),
    _q(
        "h-shop-members",
        "people",
        "Who works on the Pottery Shop project?",
        lambda b: Truth(
            required=[person_fact(u) for u in b.users if u.id in b.members[b.project("Pottery Shop").id]],
            forbidden=[
                person_fact(u) for u in b.users if u.id not in b.members[b.project("Pottery Shop").id]
            ],
        ),
        "list_people",
    ),
    # Dates
    _q(
        "h-worktop-due",
        "dates",
        "When is the quartz worktop going to be fitted?",
        lambda b: Truth(required=[due_fact(b, b.titled("quartz worktop"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "h-tiles-closed",
        "dates",
        "On what day was 'Choose bathroom floor tiles' closed?",
        lambda b: Truth(required=[closed_fact(b, b.titled("floor tiles"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "h-next-3-days",
        "dates",
        "What's due in the next three days?",
        lambda b: only(
            b.due_within(3),
            [t for t in b.open_tasks() if t not in b.due_within(3) and t.date_due and t.date_due > b.now],
        ),
        "search_tasks",
        "due_soon",
    ),
    _q(
        "h-insurance-due",
        "dates",
        "By when do we need to renew the car insurance?",
        lambda b: Truth(required=[due_fact(b, b.titled("car insurance"))]),
        "search_tasks",
        "get_task",
    ),
    # Details in descriptions, comments, subtasks and links
    _q(
        "h-electrician-quote",
        "details",
        "How much did the electrician quote for rewiring the kitchen?",
        lambda b: Truth(required=[Fact.of("1,380", "1380", "1.380", "1 380")]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "h-tile-size",
        "details",
        "What size are the bathroom floor tiles we chose?",
        lambda b: Truth(required=[Fact.of("60x60", "60 x 60", "60 by 60", "60cm x 60cm", "60 cm x 60 cm")]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "h-sink-waiting",
        "details",
        "What is holding up the kitchen sink installation?",
        lambda b: Truth(required=[Fact.of("worktop", f"#{b.titled('quartz worktop').id}")]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "h-grout-left",
        "details",
        "Which steps of regrouting the shower are still to do?",
        lambda b: Truth(
            required=_subtasks(b, "Regrout", done=False), forbidden=_subtasks(b, "Regrout", done=True)
        ),
        "get_task",
        "search_tasks",
    ),
    _q(
        "h-coordinator",
        "details",
        "Which Zigbee coordinator are we moving to?",
        lambda b: Truth(required=[Fact.of("ZBDongle-E", "ZBDongle E", "Dongle-E")]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "h-cafe-cups",
        "details",
        "How many espresso cups does Café Lumen want?",
        lambda b: Truth(required=[number_fact(40)]),
        "get_task",
        "search_tasks",
    ),
    _q(
        "h-loft-quote",
        "details",
        "What did Thermo-Dach quote for the loft insulation?",
        lambda b: Truth(required=[Fact.of("2,150", "2150", "2.150", "2 150")]),
        "get_task",
        "search_tasks",
    ),
    # Counts and comparisons
    _q(
        "h-count-shop",
        "aggregate",
        "How many open tasks does the Pottery Shop have?",
        lambda b: Truth(required=[number_fact(len(b.open_tasks("Pottery Shop")))]),
        "list_projects",
    ),
    _q(
        "h-most-late-project",
        "aggregate",
        "Which project is furthest behind, with the most overdue tasks?",
        lambda b: Truth(required=[Fact.of(max(b.projects, key=lambda p: len(b.overdue(p.name))).name)]),
        "list_projects",
    ),
    _q(
        "h-busiest",
        "aggregate",
        "Who has the most open tasks right now?",
        lambda b: Truth(required=[person_fact(max(b.users, key=lambda u: len(b.owned_by(u.username))))]),
        "list_people",
        "tasks_of",
    ),
    _q(
        "h-top-priority",
        "aggregate",
        "What's the highest-priority open task in House Renovation?",
        lambda b: Truth(required=[task_fact(_top_priority(b, "House Renovation"))]),
        "show_board",
        "search_tasks",
    ),
    _q(
        "h-count-late",
        "aggregate",
        "How many tasks are overdue overall?",
        lambda b: Truth(required=[number_fact(len(b.overdue()))]),
        "overdue_tasks",
        "list_projects",
    ),
    # Several steps
    _q(
        "h-glaze-blocker",
        "multistep",
        "Who is fixing whatever blocks the glaze test tiles, and when was that due?",
        lambda b: Truth(
            required=[owner_fact(b, b.titled("thermocouple")), due_fact(b, b.titled("thermocouple"))]
        ),
        "get_task",
        "search_tasks",
    ),
    _q(
        "h-tom-late",
        "multistep",
        "Which of Tom's tasks are overdue?",
        lambda b: only(_late_of(b, "tom"), b.overdue()),
        "tasks_of",
        "overdue_tasks",
    ),
    _q(
        "h-oldest-late",
        "multistep",
        "What is the most overdue task, and who owns it?",
        lambda b: Truth(required=[task_fact(_most_overdue(b)), owner_fact(b, _most_overdue(b))]),
        "overdue_tasks",
    ),
    # Not on the board
    _q("h-no-person", "unanswerable", "What is Greta working on?", dont_know, "tasks_of"),
    _q(
        "h-no-project",
        "unanswerable",
        "What's left to do in the Garden Party project?",
        dont_know,
        "list_projects",
        "search_tasks",
    ),
    _q("h-no-secret", "unanswerable", "What is the PIN of the alarm system?", dont_know, "search_tasks"),
]

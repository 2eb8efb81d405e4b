"""The big board: a company's Kanboard at the size people have, generated from a seed.

Fourteen projects, 28 people (with first names that start alike: Sam, Samantha, Samir; Leo and
Leonie; Chris and Christina...), over a thousand tasks (about 15 % closed) with comments,
subtasks, tags and links, some facts only in a comment or a description, and two near-identical
titles in different projects. Everything is drawn from `random.Random(SEED)`, so the board is the
same on every run and on every machine; dates are relative to now, as in the demo seed.

The questions were written from a user's view before any tool was tuned against this board, and
each computes its truth from a snapshot of it (as in `household`). Nothing here runs a model.
Filler tasks draw their titles from per-project word lists that share no word with the planted
("anchor") tasks the questions name, so a title a question quotes is found once.
"""

from __future__ import annotations

import copy
import functools
import random
from dataclasses import dataclass, field
from typing import Any

from benchmarks.kanboard_qa.board import Board
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
from tools.kanboard_demo import load_seed

__all__ = ["QUESTIONS", "SEED", "seed"]

SEED = 2026_12_07

# People -------------------------------------------------------------------------------------------

_PEOPLE: list[tuple[str, str, float]] = [  # username, name, how much work they get
    ("sam", "Sam Porter", 0.25),
    ("samantha", "Samantha Reyes", 1.6),
    ("samir", "Samir Haddad", 0.3),
    ("alex", "Alex Kim", 1.0),
    ("alexandra", "Alexandra Novak", 1.2),
    ("chris", "Chris Douglas", 1.0),
    ("christina", "Christina Alvarez", 1.1),
    ("dan", "Dan Whitfield", 0.9),
    ("danielle", "Danielle Okoro", 1.0),
    ("jo", "Jo Lindqvist", 0.8),
    ("joanna", "Joanna Pike", 1.0),
    ("mei", "Mei Tanaka", 1.1),
    ("noah", "Noah Brennan", 1.0),
    ("olga", "Olga Petrov", 0.9),
    ("priyanka", "Priyanka Shah", 1.2),
    ("raj", "Raj Mehta", 1.0),
    ("leo", "Leo Costa", 0.3),
    ("leonie", "Leonie Braun", 1.3),
    ("fatima", "Fatima Zahra", 1.0),
    ("george", "George Mills", 0.9),
    ("hana", "Hana Sato", 1.0),
    ("ivan", "Ivan Horvat", 1.0),
    ("julia", "Julia Marsh", 0.8),
    ("kofi", "Kofi Mensah", 1.0),
    ("lars", "Lars Eriksen", 0.9),
    ("maria", "Maria Santos", 1.1),
    ("nina", "Nina Volkova", 1.0),
    ("oscar", "Oscar Diaz", 0.9),
]

# Projects: name, identifier, description, columns (weights for open tasks; the last one holds the
# closed tasks), tags, verbs, objects, filler tasks, share of open tasks with a due date, share of
# those already past it, members (usernames besides the admin)


@dataclass(frozen=True)
class _Project:
    name: str
    identifier: str
    description: str
    columns: list[tuple[str, float]]
    tags: list[str]
    verbs: list[str]
    objects: list[str]
    count: int
    dated: float = 0.5
    late: float = 0.15
    members: list[str] = field(default_factory=list)
    swimlanes: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


_COMPANIES = [
    "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Hooli", "Stark Labs", "Wayne Freight",
    "Acme Rail", "Vandelay",
]  # fmt: skip
_ISSUES = [
    "refund request", "login errors", "missing invoice", "slow dashboard", "export failure",
    "password reset loop", "duplicate charge", "broken webhook",
]  # fmt: skip

_PROJECTS: list[_Project] = [
    _Project(
        "Platform Infrastructure",
        "PLAT",
        "Servers, clusters, CI and everything the product runs on.",
        [("Backlog", 3), ("Ready", 2), ("In Progress", 2), ("Review", 1), ("Done", 0)],
        ["terraform", "postgres", "monitoring"],
        ["Upgrade", "Patch", "Migrate", "Automate", "Document", "Monitor", "Resize", "Harden", "Benchmark",
         "Retire"],
        ["the staging cluster", "the Postgres replicas", "the Redis cache", "the CI runners",
         "the log pipeline", "the DNS zones", "the backup jobs", "the load balancers",
         "the artifact registry", "the secrets vault", "the build cache", "the metrics retention",
         "the VPN gateway", "the NTP servers", "the mail relay"],
        140,
        members=["noah", "ivan", "kofi", "lars", "dan", "samantha", "sam", "jo"],
        swimlanes=["Default swimlane", "On-call"],
        categories=["Maintenance", "Incident follow-up"],
    ),
    _Project(
        "Mobile App",
        "MOB",
        "The iOS and Android apps.",
        [("Backlog", 3), ("Design", 1), ("In Progress", 2), ("Review", 1), ("Released", 0)],
        ["ios", "android", "crash"],
        ["Fix", "Polish", "Add", "Redesign", "Test", "Localise", "Speed up", "Refactor"],
        ["the login screen", "push notifications", "the settings page", "offline mode",
         "the onboarding flow", "dark mode", "the search bar", "image uploads", "the profile page",
         "deep links", "the payment sheet", "the home widget", "the ratings prompt", "the tab bar",
         "accessibility labels"],
        115,
        members=["alex", "alexandra", "samir", "mei", "hana", "christina", "samantha"],
        categories=["Bug", "Feature"],
    ),
    _Project(
        "Customer Support",
        "SUP",
        "Tickets that need more than one reply.",
        [("Inbox", 3), ("Triaged", 3), ("Waiting on Customer", 2), ("Escalated", 0.6), ("Resolved", 0)],
        ["refund", "bug-report", "vip"],
        ["Answer the", "Follow up on the", "Reproduce the", "Call back about the", "Close out the",
         "Escalate the"],
        [f"{issue} from {company}" for issue in _ISSUES for company in _COMPANIES],
        150,
        dated=0.7,
        late=0.45,
        members=["leo", "maria", "nina", "oscar", "george", "fatima", "samantha", "chris"],
        categories=["Billing", "Technical"],
    ),
    _Project(
        "Marketing Site",
        "WEB",
        "The public website and the blog.",
        [("Ideas", 2), ("Writing", 2), ("Review", 1), ("Published", 0)],
        ["seo", "blog"],
        ["Write", "Update", "Proofread", "Optimise", "Publish"],
        ["the pricing page", "the careers page", "the release notes post", "the Globex case study",
         "the homepage hero", "the newsletter signup", "the press kit", "the FAQ", "the comparison page",
         "the webinar landing page", "the partner page", "the footer links"],
        55,
        members=["julia", "priyanka", "mei", "christina"],
    ),
    _Project(
        "Data Warehouse",
        "DW",
        "Models, pipelines and dashboards.",
        [("Backlog", 3), ("Modelling", 1), ("Building", 2), ("Validating", 1), ("Done", 0)],
        ["dbt", "airflow"],
        ["Build", "Backfill", "Validate", "Deprecate", "Optimise", "Document"],
        ["the orders model", "the churn dashboard", "the revenue mart", "the events table",
         "the daily snapshot", "the attribution model", "the cohort report", "the finance export",
         "the sessions table", "the inventory feed"],
        55,
        members=["raj", "priyanka", "dan", "olga", "samantha"],
    ),
    _Project(
        "Office Move",
        "MOVE",
        "Moving to the new floor in March.",
        [("To Do", 3), ("Booked", 2), ("Blocked", 0.7), ("Done", 0)],
        ["furniture", "it", "facilities"],
        ["Order", "Book", "Measure", "Label", "Pack", "Install", "Confirm"],
        ["the standing desks", "the meeting room screens", "the kitchen appliances", "the storage lockers",
         "the network cabling", "the printer", "the plants", "the whiteboards", "the phone booths",
         "the bike racks", "the reception sign", "the locker keys"],
        75,
        members=["raj", "julia", "priyanka", "george", "kofi", "sam"],
    ),
    _Project(
        "Hiring",
        "HIRE",
        "Open roles and the people interviewing for them.",
        [("Open Roles", 2), ("Screening", 2), ("Interviewing", 2), ("Offer", 1), ("Closed", 0)],
        ["backend", "design", "sales"],
        ["Screen candidates for", "Schedule interviews for", "Write the job ad for", "Collect feedback for",
         "Prepare the offer for"],
        ["the senior backend role", "the product designer role", "the sales lead role",
         "the data analyst role", "the support engineer role", "the office manager role",
         "the iOS developer role", "the QA engineer role", "the recruiter role",
         "the finance associate role"],
        48,
        members=["leonie", "maria", "joanna", "hana"],
    ),
    _Project(
        "Security Audit",
        "SEC",
        "This year's audit: access reviews, evidence and fixes.",
        [("Backlog", 2), ("In Progress", 2), ("Evidence", 1), ("Done", 0)],
        ["gdpr", "soc2", "access"],
        ["Review", "Rotate", "Audit", "Revoke", "Document", "Enforce"],
        ["admin access to GitHub", "the AWS root keys", "SSO group mappings", "laptop disk encryption",
         "the vendor risk register", "password manager seats", "the incident runbook", "MFA on the VPN",
         "data retention settings", "the firewall rules", "S3 bucket policies", "service account tokens"],
        65,
        members=["olga", "ivan", "lars", "jo", "fatima", "noah", "samir"],
    ),
    _Project(
        "Billing Service",
        "BILL",
        "Plans, invoices and payments.",
        [("Backlog", 3), ("Ready", 2), ("In Progress", 2), ("Review", 1), ("Done", 0)],
        ["stripe", "invoices", "tax"],
        ["Fix", "Add", "Refactor", "Test", "Migrate", "Speed up"],
        ["proration for annual plans", "the dunning emails", "tax rates for Canada", "the coupon API",
         "the usage meter", "the credit note export", "failed payment retries", "the invoice numbering",
         "the plan change webhook", "currency rounding", "the billing portal", "seat-based pricing"],
        70,
        members=["chris", "dan", "samantha", "kofi", "nina", "alexandra"],
    ),
    _Project(
        "Design System",
        "DS",
        "Shared components, tokens and their docs.",
        [("Backlog", 2), ("Designing", 2), ("Building", 2), ("Review", 1), ("Shipped", 0)],
        ["tokens", "a11y"],
        ["Design", "Build", "Document", "Audit", "Deprecate"],
        ["the button component", "the date picker", "colour tokens", "the modal dialog", "the data table",
         "icon set v2", "the toast component", "the spacing scale", "the form fields", "the navigation rail",
         "the typography ramp", "the empty states"],
        55,
        members=["mei", "christina", "alexandra", "hana", "jo"],
    ),
    _Project(
        "Events 2027",
        "EVT",
        "Meetups, conferences and team events next year.",
        [("Ideas", 2), ("Planning", 2), ("Booked", 1), ("Done", 0)],
        ["venue", "travel", "sponsors"],
        ["Book", "Plan", "Confirm", "Budget", "Invite guests for"],
        ["the Berlin meetup", "the spring hackathon", "the customer summit", "the holiday party",
         "the design sprint week", "the partner dinner", "the conference booth", "the speaker lineup",
         "the volunteer day", "the product launch event"],
        48,
        members=["julia", "george", "joanna", "oscar"],
    ),
    _Project(
        "Finance Ops",
        "FIN",
        "Month-end, payroll and expenses.",
        [("Inbox", 2), ("In Progress", 2), ("Approval", 1), ("Done", 0)],
        ["payroll", "audit", "expenses"],
        ["Reconcile", "Approve", "Close", "Review", "File"],
        ["the October expenses", "the payroll run", "the VAT return", "the corporate card statements",
         "the accruals", "the vendor payments", "the bank feeds", "the budget forecast", "the travel claims",
         "the quarterly close"],
        48,
        members=["nina", "oscar", "maria", "joanna"],
    ),
    _Project(
        "Legal & Compliance",
        "LEGAL",
        "Contracts, policies and filings.",
        [("Requests", 2), ("Drafting", 2), ("Review", 1), ("Signed", 0)],
        ["contracts", "privacy", "gdpr"],
        ["Draft", "Review", "Renew", "Sign", "Redline"],
        ["the Globex MSA", "the data processing agreement", "the reseller contract", "the trademark filing",
         "the privacy policy", "the cookie notice", "the NDA with Initech", "the office lease",
         "the contractor agreements", "the terms of service"],
        48,
        members=["fatima", "olga", "joanna", "leonie"],
    ),
    _Project(
        "Partner Integrations",
        "PART",
        "Connectors to the tools our customers use.",
        [("Backlog", 2), ("Building", 2), ("Testing", 1), ("Live", 0)],
        ["api", "webhooks"],
        ["Build", "Test", "Certify", "Document", "Monitor"],
        ["the Salesforce sync", "the Slack app", "the HubSpot connector", "the Zapier actions",
         "the Shopify plugin", "the Jira importer", "the Zendesk bridge", "the Google Sheets export",
         "the Teams bot", "the SAML login"],
        48,
        members=["alex", "ivan", "kofi", "lars", "raj"],
    ),
]  # fmt: skip

_COMMENTS = [
    "Started on this today.",
    "Waiting for {name} to review.",
    "Pushed to next week, other work came first.",
    "Half done; notes are in the shared drive.",
    "Talked to {name}, should be fine.",
    "Blocked until the budget is approved.",
    "Can someone pair with me on this?",
    "Looks good to me.",
]
_SUBTASKS = [
    "Draft it",
    "Review with the team",
    "Get sign-off",
    "Write tests",
    "Update the docs",
    "Tell people",
]


@dataclass(frozen=True)
class _Anchor:
    """A planted task a question asks about."""

    project: str
    title: str
    owner: str | None
    due: str | None = None
    description: str = ""
    comments: list[tuple[str, str, str]] = field(default_factory=list)  # user, when, text
    subtasks: list[tuple[str, int]] = field(default_factory=list)  # title, status
    completed: str | None = None
    column: str | None = None
    priority: int = 2
    tags: list[str] = field(default_factory=list)


_ANCHORS: list[_Anchor] = [
    _Anchor(
        "Office Move",
        "Get quotes from moving companies",
        "raj",
        due="6d 17:00",
        comments=[
            (
                "priyanka",
                "-4d 10:15",
                "Hansen Movers quoted 4,870 USD for the whole floor, packing included.",
            ),
            ("raj", "-1d 16:40", "Second quote from BlueLine is still pending."),
        ],
    ),
    _Anchor(
        "Office Move",
        "Choose Wi-Fi access points for the new floor",
        "kofi",
        due="-12d 17:00",
        description="Decision: Ubiquiti U7 Pro, six units, ceiling mounted. PoE from the existing switch.",
        completed="-11d 14:05",
    ),
    _Anchor(
        "Office Move",
        "Order badge printers for reception",
        "george",
        due="-8d 17:00",
        completed="-9d 15:40",
    ),
    _Anchor("Office Move", "Renew the coffee machine service contract", "julia", due="5d 12:00"),
    _Anchor(
        "Security Audit",
        "Commission an external penetration test",
        "olga",
        due="12d 17:00",
        description="Vendor: Cobalt Ridge. Scope: the public API and the admin panel.",
        priority=3,
    ),
    _Anchor(
        "Security Audit",
        "Collect SOC 2 evidence for access reviews",
        "jo",
        due="9d 17:00",
        subtasks=[
            ("Export Okta group memberships", 2),
            ("Screenshot GitHub org owners", 2),
            ("Get sign-off from team leads", 0),
            ("Upload evidence to the auditor portal", 1),
        ],
        tags=["soc2"],
    ),
    _Anchor("Mobile App", "Submit version 3.2 to the App Store", "alex", due="4d 17:00", column="Review"),
    _Anchor(
        "Mobile App",
        "Crash on launch for iOS 17 devices",
        "samir",
        due="-3d 17:00",
        priority=3,
        column="In Progress",
        tags=["ios", "crash"],
    ),
    _Anchor(
        "Billing Service",
        "Invoice PDFs render without the company logo",
        "samantha",
        due="7d 17:00",
        comments=[
            ("samantha", "-3d 09:30", "Reproduced on staging."),
            (
                "dan",
                "-1d 11:20",
                "The logo URL still points at the old CDN bucket; switching it to assets.example.com "
                "fixes it.",
            ),
        ],
        tags=["invoices"],
    ),
    _Anchor(
        "Events 2027",
        "Plan the summer offsite",
        "joanna",
        due="30d 17:00",
        description="Budget: 12,500 USD for 40 people, two nights. Shortlist: Lake Geneva, Door County.",
    ),
    _Anchor("Hiring", "Update the onboarding checklist for new hires", "leonie", due="3d 17:00"),
    _Anchor("Customer Support", "Update the onboarding checklist for new customers", "leo", due="8d 17:00"),
    _Anchor("Billing Service", "Double charge on plan downgrade", "chris", due="-45d 17:00", priority=3),
    _Anchor(
        "Data Warehouse",
        "Move the nightly ETL to a new scheduler",
        "raj",
        due="14d 17:00",
        comments=[
            ("olga", "-6d 13:00", "Airflow 1 is out of support in January."),
            ("raj", "-2d 10:45", "Decided on Dagster after the bake-off; migration starts next sprint."),
        ],
    ),
]
_LINKS = [  # (task, label, other task) between anchors, both directions written
    ("Submit version 3.2 to the App Store", "is blocked by", "Crash on launch for iOS 17 devices"),
]


def _task_row(
    task_id: int,
    project_id: int,
    column_id: int,
    swimlane_id: int,
    owner_id: int,
    title: str,
    rng: random.Random,
) -> dict[str, Any]:
    return {
        "id": task_id,
        "project_id": project_id,
        "column_id": column_id,
        "swimlane_id": swimlane_id,
        "owner_id": owner_id,
        "creator_id": 1,
        "category_id": 0,
        "title": title,
        "color_id": rng.choice(["yellow", "blue", "green", "grey", "orange"]),
        "priority": rng.choice([0, 1, 1, 2, 2, 3]),
        "description": "",
        "created": f"-{rng.randint(20, 120)}d 09:00",
        "tags": [],
    }


@functools.cache
def _generated() -> dict[str, Any]:
    """The board's data, drawn from `SEED` (cached: read-only, `seed()` hands out copies)."""
    rng = random.Random(SEED)
    base = load_seed()
    users = [
        {
            "id": 1,
            "username": "admin",
            "name": "Site Admin",
            "email": "admin@corp.example.com",
            "role": "app-admin",
        }
    ]
    weight: dict[str, float] = {}
    user_id: dict[str, int] = {}
    for n, (username, name, load) in enumerate(_PEOPLE, start=2):
        users.append(
            {
                "id": n,
                "username": username,
                "name": name,
                "email": f"{username}@corp.example.com",
                "role": "app-user",
            }
        )
        weight[username], user_id[username] = load, n
    first_names = [name.split()[0] for _, name, _ in _PEOPLE]
    projects: list[dict[str, Any]] = []
    columns: list[dict[str, Any]] = []
    swimlanes: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    column_ids: dict[tuple[int, str], int] = {}
    tag_ids: dict[tuple[int, str], int] = {}
    lane_ids: dict[int, list[int]] = {}
    category_ids: dict[int, list[int]] = {}
    # (project index, title, anchor or None), in creation order
    planned: list[tuple[int, str, _Anchor | None]] = []
    for p, spec in enumerate(_PROJECTS, start=1):
        members = {"1": "project-manager"} | {str(user_id[u]): "project-member" for u in spec.members}
        projects.append(
            {
                "id": p,
                "name": spec.name,
                "identifier": spec.identifier,
                "owner_id": user_id[spec.members[0]],
                "start_date": "",
                "end_date": "",
                "description": spec.description,
                "members": members,
            }
        )
        for position, (title, _) in enumerate(spec.columns, start=1):
            column_ids[(p, title)] = len(columns) + 1
            columns.append(
                {
                    "id": len(columns) + 1,
                    "project_id": p,
                    "title": title,
                    "position": position,
                    "description": "",
                }
            )
        for position, lane in enumerate(spec.swimlanes or ["Default swimlane"], start=1):
            lane_ids.setdefault(p, []).append(len(swimlanes) + 1)
            swimlanes.append(
                {
                    "id": len(swimlanes) + 1,
                    "project_id": p,
                    "name": lane,
                    "position": position,
                    "description": "",
                }
            )
        for name in spec.categories:
            category_ids.setdefault(p, []).append(len(categories) + 1)
            categories.append({"id": len(categories) + 1, "project_id": p, "name": name, "color_id": "blue"})
        for name in spec.tags:
            tag_ids[(p, name)] = len(tags) + 1
            tags.append({"id": len(tags) + 1, "project_id": p, "name": name, "color_id": "grey"})
        titles = [f"{verb} {thing}" for verb in spec.verbs for thing in spec.objects]
        planned += [(p, title, None) for title in rng.sample(titles, spec.count)]
    for planted in _ANCHORS:
        p = next(i for i, spec in enumerate(_PROJECTS, start=1) if spec.name == planted.project)
        planned.append((p, planted.title, planted))
    rng.shuffle(planned)  # ids in creation order, projects interleaved as on a real board

    tasks: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    subtasks: list[dict[str, Any]] = []
    by_title: dict[str, int] = {}
    for task_id, (p, title, anchor) in enumerate(planned, start=1):
        spec = _PROJECTS[p - 1]
        open_columns = [(title_, w) for title_, w in spec.columns if w > 0]
        done_column = column_ids[(p, spec.columns[-1][0])]
        people = spec.members
        owner = anchor.owner if anchor else _owner(rng, people, weight)
        column = (
            column_ids[(p, anchor.column)]
            if anchor and anchor.column
            else column_ids[(p, rng.choices([c for c, _ in open_columns], [w for _, w in open_columns])[0])]
        )
        row = _task_row(
            task_id, p, column, rng.choice(lane_ids[p]), user_id[owner] if owner else 0, title, rng
        )
        if category_ids.get(p) and rng.random() < 0.5:
            row["category_id"] = rng.choice(category_ids[p])
        by_title[title] = task_id
        if anchor is not None:
            row |= {"priority": anchor.priority, "description": anchor.description}
            row["tags"] = [tag_ids[(p, t)] for t in anchor.tags]
            if anchor.due:
                row["due"] = anchor.due
            if anchor.completed:
                row |= {"is_active": 0, "completed": anchor.completed, "column_id": done_column}
            for who, when, text in anchor.comments:
                comments.append(
                    {
                        "id": len(comments) + 1,
                        "task_id": task_id,
                        "user_id": user_id[who],
                        "created": when,
                        "comment": text,
                    }
                )
            for sub_title, status in anchor.subtasks:
                subtasks.append(
                    {
                        "id": len(subtasks) + 1,
                        "task_id": task_id,
                        "title": sub_title,
                        "status": status,
                        "user_id": row["owner_id"],
                        "time_estimated": 1,
                        "time_spent": 0,
                    }
                )
            tasks.append(row)
            continue
        closed = rng.random() < 0.15
        if closed:
            done = rng.randint(2, 60)
            row |= {
                "is_active": 0,
                "completed": f"-{done}d {rng.randint(9, 17):02d}:{rng.choice(['05', '30'])}",
            }
            row["column_id"] = done_column
            if rng.random() < 0.6:
                row["due"] = f"-{done + rng.randint(-1, 5)}d 17:00"
        elif rng.random() < spec.dated:
            days = -rng.randint(1, 40) if rng.random() < spec.late else rng.randint(1, 90)
            row["due"] = f"{days}d 17:00"
        if rng.random() < 0.3:
            row["tags"] = [tag_ids[(p, rng.choice(spec.tags))]]
        if rng.random() < 0.35:
            for _ in range(rng.randint(1, 2)):
                text = rng.choice(_COMMENTS).format(name=rng.choice(first_names))
                author, minute = rng.choice(people), rng.choice(["00", "20", "45"])
                comments.append(
                    {
                        "id": len(comments) + 1,
                        "task_id": task_id,
                        "user_id": user_id[author],
                        "created": f"-{rng.randint(1, 19)}d {rng.randint(8, 18):02d}:{minute}",
                        "comment": text,
                    }
                )
        if rng.random() < 0.2:
            for sub_title in rng.sample(_SUBTASKS, rng.randint(2, 3)):
                subtasks.append(
                    {
                        "id": len(subtasks) + 1,
                        "task_id": task_id,
                        "title": sub_title,
                        "status": rng.choice([0, 1, 2]),
                        "user_id": row["owner_id"],
                        "time_estimated": 1,
                        "time_spent": 0,
                    }
                )
        tasks.append(row)
    links: list[dict[str, Any]] = []

    def link(a: int, label: str, b: int) -> None:
        opposite = {"blocks": "is blocked by", "is blocked by": "blocks", "relates to": "relates to"}[label]
        links.append({"id": len(links) + 1, "task_id": a, "opposite_task_id": b, "label": label})
        links.append({"id": len(links) + 1, "task_id": b, "opposite_task_id": a, "label": opposite})

    for a, label, b in _LINKS:
        link(by_title[a], label, by_title[b])
    for _ in range(40):  # filler: related tasks within a project
        first = rng.choice(tasks)
        if any(first["title"] == anchor.title for anchor in _ANCHORS):
            continue
        others = [t for t in tasks if t["project_id"] == first["project_id"] and t["id"] != first["id"]]
        link(first["id"], "relates to", rng.choice(others)["id"])
    return {
        "about": "The big benchmark board (benchmarks/kanboard_qa/bigboard.py), generated from a seed. "
        "Dates are relative to now, as in the demo seed.",
        "version": "1.2.53",
        "timezone": "America/Chicago",
        "application_url": "http://kanboard.corp.example.com/",
        "sequences": {
            "tasks": len(tasks),
            "comments": len(comments),
            "subtasks": len(subtasks),
            "tags": len(tags),
            "task_links": len(links),
        },
        "colors": base["colors"],
        "users": users,
        "projects": projects,
        "columns": columns,
        "swimlanes": swimlanes,
        "categories": categories,
        "tags": tags,
        "tasks": tasks,
        "subtasks": subtasks,
        "comments": comments,
        "links": links,
    }


def _owner(rng: random.Random, people: list[str], weight: dict[str, float]) -> str | None:
    if rng.random() < 0.08:
        return None
    return rng.choices(people, [weight[u] for u in people])[0]


def seed() -> dict[str, Any]:
    """The big board's data (the same on every call)."""
    return copy.deepcopy(_generated())


# Questions --------------------------------------------------------------------------------------


def _members(b: Board, project: str) -> tuple[list[Fact], list[Fact]]:
    ids = b.members[b.project(project).id]
    return (
        [person_fact(u) for u in b.users if u.id in ids],
        [person_fact(u) for u in b.users if u.id not in ids],
    )


def _more(b: Board, a: str, c: str) -> Truth:
    winner = max((a, c), key=lambda u: len(b.owned_by(u)))
    return Truth(required=[person_fact(b.user(winner)), number_fact(len(b.owned_by(winner)))])


QUESTIONS: list[Question] = [
    # Single lookups
    _q(
        "b-late-billing",
        "lookup",
        "What's overdue in the Billing Service project?",
        lambda b: only(b.overdue("Billing Service"), b.open_tasks("Billing Service")),
        "overdue_tasks",
    ),
    _q(
        "b-escalated",
        "lookup",
        "Which support tickets are in the Escalated column of Customer Support?",
        lambda b: only(b.in_column("Customer Support", "Escalated"), b.open_tasks("Customer Support")),
        "show_board",
    ),
    _q(
        "b-projects",
        "lookup",
        "Which projects do we have on Kanboard?",
        lambda b: Truth(required=[Fact.of(p.name) for p in b.projects]),
        "list_projects",
    ),
    _q(
        "b-gdpr",
        "lookup",
        "Which open tasks are tagged gdpr?",
        lambda b: only([t for t in _tagged(b, "gdpr") if t.is_active], _tagged(b, "gdpr")),
        "search_tasks",
    ),
    _q(
        "b-move-blocked",
        "lookup",
        "What's stuck in the Blocked column of the Office Move?",
        lambda b: only(b.in_column("Office Move", "Blocked"), b.open_tasks("Office Move")),
        "show_board",
    ),
    # People
    _q(
        "b-sam",
        "people",
        "What is Sam working on?",
        lambda b: only(
            b.owned_by("sam"),
            b.owned_by("sam", open_only=False) + b.owned_by("samantha") + b.owned_by("samir"),
        ),
        "tasks_of",
    ),
    _q(
        "b-samir",
        "people",
        "List Samir's open tasks.",
        lambda b: only(
            b.owned_by("samir"),
            b.owned_by("samir", open_only=False) + b.owned_by("samantha") + b.owned_by("sam"),
        ),
        "tasks_of",
    ),
    _q(
        "b-leo",
        "people",
        "What does Leo have on his plate?",
        lambda b: only(b.owned_by("leo"), b.owned_by("leo", open_only=False) + b.owned_by("leonie")),
        "tasks_of",
    ),
    _q(
        "b-coffee-owner",
        "people",
        "Who is taking care of the coffee machine service contract?",
        lambda b: Truth(required=[owner_fact(b, b.titled("coffee machine"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-checklist-owner",
        "people",
        "Who is updating the onboarding checklist for new customers?",
        lambda b: Truth(
            required=[owner_fact(b, b.titled("checklist for new customers"))],
            forbidden=[owner_fact(b, b.titled("checklist for new hires"))],
        ),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-sec-members",
        "people",
        "Who is on the Security Audit project?",
        lambda b: Truth(*_members(b, "Security Audit")),
        "list_people",
    ),
    # Dates
    _q(
        "b-pentest-due",
        "dates",
        "When is the external penetration test due?",
        lambda b: Truth(required=[due_fact(b, b.titled("penetration test"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-badges-closed",
        "dates",
        "When did we finish ordering the badge printers?",
        lambda b: Truth(required=[closed_fact(b, b.titled("badge printers"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-due-tomorrow",
        "dates",
        "What is due tomorrow?",
        lambda b: only(
            [t for t in b.open_tasks() if (d := b.due_day(t)) is not None and (d - b.today).days == 1],
            b.due_within(7),
        ),
        "due_soon",
        "search_tasks",
    ),
    _q(
        "b-hires-checklist-due",
        "dates",
        "When is the onboarding checklist for new hires due?",
        lambda b: Truth(
            required=[due_fact(b, b.titled("checklist for new hires"))],
            forbidden=[due_fact(b, b.titled("checklist for new customers"))],
        ),
        "search_tasks",
        "get_task",
    ),
    # Details only in a comment, a description, subtasks or links
    _q(
        "b-movers-quote",
        "details",
        "How much did the movers quote for the office move?",
        lambda b: Truth(required=[Fact.of("4,870", "4870", "4.870", "4 870")]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-access-points",
        "details",
        "Which Wi-Fi access points did we pick for the new floor?",
        lambda b: Truth(required=[Fact.of("U7 Pro", "U7-Pro", "U7Pro")]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-soc2-left",
        "details",
        "Which steps of the SOC 2 evidence collection are still to do?",
        lambda b: Truth(
            required=_subtasks(b, "SOC 2 evidence", done=False),
            forbidden=_subtasks(b, "SOC 2 evidence", done=True),
        ),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-release-blocker",
        "details",
        "What is blocking the 3.2 App Store release?",
        lambda b: Truth(required=[task_fact(b.titled("Crash on launch"))]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-logo-comment",
        "details",
        "What was the last comment on the invoice PDF logo bug?",
        lambda b: Truth(required=[Fact.of("CDN", "assets.example.com")]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-offsite-budget",
        "details",
        "What's the budget for the summer offsite?",
        lambda b: Truth(required=[Fact.of("12,500", "12500", "12.500", "12 500", "12.5k", "12,5k")]),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-etl-scheduler",
        "details",
        "Which scheduler are we moving the nightly ETL to?",
        lambda b: Truth(required=[Fact.of("Dagster")]),
        "search_tasks",
        "get_task",
    ),
    # Counts and comparisons
    _q(
        "b-count-hiring",
        "aggregate",
        "How many open tasks does Hiring have?",
        lambda b: Truth(required=[number_fact(len(b.open_tasks("Hiring")))]),
        "list_projects",
    ),
    _q(
        "b-most-late",
        "aggregate",
        "Which project has the most overdue tasks?",
        lambda b: Truth(required=[Fact.of(max(b.projects, key=lambda p: len(b.overdue(p.name))).name)]),
        "list_projects",
    ),
    _q(
        "b-busiest",
        "aggregate",
        "Who has the most open tasks?",
        lambda b: Truth(required=[person_fact(max(b.users, key=lambda u: len(b.owned_by(u.username))))]),
        "list_people",
    ),
    _q(
        "b-count-late",
        "aggregate",
        "How many tasks are overdue across all projects?",
        lambda b: Truth(required=[number_fact(len(b.overdue()))]),
        "overdue_tasks",
        "list_projects",
    ),
    _q(
        "b-sam-vs-samir",
        "aggregate",
        "Who has more open tasks, Sam or Samir?",
        lambda b: _more(b, "sam", "samir"),
        "tasks_of",
        "list_people",
    ),
    # Several steps
    _q(
        "b-blocker-owner",
        "multistep",
        "Who owns the task that blocks submitting version 3.2 to the App Store, and when is it due?",
        lambda b: Truth(
            required=[owner_fact(b, b.titled("Crash on launch")), due_fact(b, b.titled("Crash on launch"))]
        ),
        "search_tasks",
        "get_task",
    ),
    _q(
        "b-samir-late",
        "multistep",
        "Which of Samir's tasks are overdue?",
        lambda b: only(_late_of(b, "samir"), b.overdue()),
        "overdue_tasks",
        "tasks_of",
    ),
    _q(
        "b-oldest-billing",
        "multistep",
        "What's the most overdue task in Billing Service, and who has it?",
        lambda b: Truth(
            required=[
                task_fact(_most_overdue(b, "Billing Service")),
                owner_fact(b, _most_overdue(b, "Billing Service")),
            ]
        ),
        "overdue_tasks",
    ),
    # Not on the board
    _q("b-no-person", "unanswerable", "What is Gustavo working on?", dont_know, "tasks_of"),
    _q(
        "b-no-project",
        "unanswerable",
        "What's overdue in the Moon Base project?",
        dont_know,
        "overdue_tasks",
        "list_projects",
    ),
    _q(
        "b-no-secret",
        "unanswerable",
        "What's the root password of the production database?",
        dont_know,
        "search_tasks",
    ),
    _q("b-no-task", "unanswerable", "When is the Kubernetes migration due?", dont_know, "search_tasks"),
]

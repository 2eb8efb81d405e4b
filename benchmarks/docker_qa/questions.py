"""The questions: what people ask about their compose stacks, alone and together with Kanboard,
each with ground truth computed at run time from the engine (and the demo board).

They are written for the sample homelab of `tests.support.docker_stack` (media: jellyfin,
sonarr; office: kanboard, paperless, db; speedtest outside compose), but read every fact (ports,
states, restart counts, image dates, health check output) from the engine snapshot. Cross-server
questions also read the Kanboard demo board. Nothing here runs a model or scores an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.docker_qa.engine import Engine
from benchmarks.kanboard_qa.board import Board
from benchmarks.kanboard_qa.questions import person_fact, task_fact
from benchmarks.kanboard_qa.scoring import DONT_KNOW, Fact, Truth, date_fact, number_fact
from tools.docker.models import Container

__all__ = ["CATEGORIES", "QUESTIONS", "Question", "pick"]

CATEGORIES = ("state", "health", "ports", "logs", "images", "aggregate", "unanswerable", "cross")


@dataclass(frozen=True)
class Question:
    """One benchmark question; `truth(engine, board)` gets a board only when `kanboard` is set."""

    id: str
    category: str  # one of CATEGORIES
    text: str
    truth: Callable[[Engine, Board | None], Truth]
    kanboard: bool = False  # also needs the Kanboard board


def state_fact(c: Container) -> Fact:
    """The container's state in the words a person would use."""
    if c.state == "running" and c.health == "unhealthy":
        return Fact.of("unhealthy", "not healthy", "failing its health check", label=f"{c.key} unhealthy")
    if c.state == "running":
        return Fact.of("running", "is up", "up and running", "healthy", label=f"{c.key} running")
    if c.state == "restarting":
        return Fact.of(
            "restarting", "restart loop", "keeps restarting", "crash loop", label=f"{c.key} restarting"
        )
    return Fact.of("exited", "stopped", "not running", "is down", "crashed", label=f"{c.key} {c.state}")


def _container(c: Container) -> Fact:
    return Fact.of(c.service or c.name, c.name, c.key, label=c.key)


def _not_down(c: Container) -> list[Fact]:
    name = c.service or c.name
    phrases = (
        "is not running",
        "isnt running",
        "is down",
        "has exited",
        "exited",
        "is stopped",
        "has stopped",
    )
    return [Fact.of(*(f"{name} {p}" for p in phrases), label=f"says {name} is down")]


def _port(key: str) -> Callable[[Engine, Board | None], Truth]:
    def truth(e: Engine, _: Board | None) -> Truth:
        return Truth(required=[Fact.of(*(p.host_port for p in e.container(key).ports), label="host port")])

    return truth


def _up(key: str) -> Callable[[Engine, Board | None], Truth]:
    def truth(e: Engine, _: Board | None) -> Truth:
        c = e.container(key)
        healthy_and_up = c.state == "running" and c.health != "unhealthy"
        return Truth(required=[state_fact(c)], forbidden=_not_down(c) if healthy_and_up else [])

    return truth


def _only(state: str) -> Callable[[Engine, Board | None], Truth]:
    """Exactly the containers in `state`: all of them named, no other."""

    def truth(e: Engine, _: Board | None) -> Truth:
        chosen = e.in_state(state)
        others = [c for c in e.containers if c not in chosen]
        return Truth(
            required=[_container(c) for c in chosen],
            forbidden=[Fact.of(c.service or c.name, label=f"{c.key} ({c.state})") for c in others],
        )

    return truth


def _restarts(e: Engine, _: Board | None) -> Truth:
    n = e.container("media/sonarr").restart_count  # it may restart once more while the model works
    return Truth(
        required=[Fact.of(*number_fact(n).spellings, *number_fact(n + 1).spellings, label=f"{n} restarts")]
    )


def _exit(e: Engine, _: Board | None) -> Truth:
    db = e.container("office/db")
    code = Fact.of(
        f"code {db.exit_code}", f"exit code {db.exit_code}", f"status {db.exit_code}", label="exit code"
    )
    why = Fact.of("wrong ownership", "ownership", "permission", label="the ownership error")
    return Truth(required=[code, why], any_of=1)


def _unhealthy_why(e: Engine, _: Board | None) -> Truth:
    output = " ".join(check.output for check in e.container("office/paperless").health_log).lower()
    assert "connection refused" in output, output
    return Truth(required=[Fact.of("connection refused", "refused", "database connection", "cannot connect")])


def _logs(e: Engine, _: Board | None) -> Truth:
    return Truth(
        required=[Fact.of("could not connect", "connection refused", "cannot connect", "can't connect")]
    )


def _image(e: Engine, _: Board | None) -> Truth:
    ref = e.container("office/kanboard").image
    tag = ref.rsplit(":", 1)[-1]
    return Truth(required=[Fact.of(ref, tag, tag.lstrip("v"), label=ref)])


def _image_age(e: Engine, _: Board | None) -> Truth:
    built = e.image_of("media/jellyfin").created
    assert built is not None
    days = (e.now - built).days
    ages = [str(d) for d in (days - 1, days, days + 1)]
    return Truth(
        required=[
            Fact.of(*(f"{d} days" for d in ages), *ages, label=f"{days} days"),
            date_fact(built.date(), label=built.date().isoformat()),
        ],
        any_of=1,
    )


def _projects(e: Engine, _: Board | None) -> Truth:
    return Truth(required=[Fact.of(p) for p in e.projects])


def _running_count(e: Engine, _: Board | None) -> Truth:
    return Truth(required=[number_fact(len(e.in_state("running")), label="containers running")])


def _volume(e: Engine, _: Board | None) -> Truth:
    mounts = e.container("office/kanboard").mounts
    return Truth(
        required=[Fact.of(*(m.source for m in mounts), *(m.destination for m in mounts), label="its volume")]
    )


def _nextcloud(e: Engine, _: Board | None) -> Truth:
    assert not any("nextcloud" in c.key for c in e.containers)
    none = Fact.of(
        *DONT_KNOW.spellings,
        "no nextcloud",
        "not running",
        "no container",
        "isnt running",
        "not among",
        label="says there is no such container",
    )
    return Truth(required=[none], forbidden=[Fact.of("nextcloud is running", "nextcloud is up")])


def _kanboard_overdue(e: Engine, b: Board | None) -> Truth:
    assert b is not None
    late = b.overdue()
    any_late = Fact.of(*(s for t in late for s in task_fact(t).spellings), label="an overdue task")
    kanboard = e.container("office/kanboard")
    return Truth(required=[state_fact(kanboard), any_late], forbidden=_not_down(kanboard))


def _jellyfin_task(e: Engine, b: Board | None) -> Truth:
    assert b is not None
    task = b.titled("Move Jellyfin to the GPU node")
    owner = b.owner(task)
    who = person_fact(owner) if owner else Fact.of("nobody", "unassigned", "no one")
    return Truth(required=[state_fact(e.container("media/jellyfin")), who])


def _port_and_tasks(e: Engine, b: Board | None) -> Truth:
    assert b is not None
    port = Fact.of(*(p.host_port for p in e.container("office/kanboard").ports), label="kanboard port")
    return Truth(required=[port, number_fact(len(b.open_tasks("Homelab")), label="open Homelab tasks")])


QUESTIONS: list[Question] = [
    Question("jellyfin-up", "state", "Is Jellyfin up?", _up("media/jellyfin")),
    Question("sonarr-state", "state", "Is the sonarr container running?", _up("media/sonarr")),
    Question("db-why", "state", "Why did the db container of the office stack stop?", _exit),
    Question("unhealthy", "health", "Which containers are unhealthy?", _only("unhealthy")),
    Question("paperless-why", "health", "Why is the paperless container unhealthy?", _unhealthy_why),
    Question("restarting", "health", "Which container keeps restarting?", _only("restarting")),
    Question("sonarr-restarts", "health", "How many times has sonarr restarted?", _restarts),
    Question("kanboard-port", "ports", "Which port is Kanboard on?", _port("office/kanboard")),
    Question("jellyfin-port", "ports", "On which host port can I reach Jellyfin?", _port("media/jellyfin")),
    Question("paperless-logs", "logs", "What error does paperless write in its logs?", _logs),
    Question("kanboard-image", "images", "Which image version does the kanboard container run?", _image),
    Question("jellyfin-image-age", "images", "How old is the Jellyfin image?", _image_age),
    Question("kanboard-volume", "images", "Which volume holds Kanboard's data?", _volume),
    Question("projects", "aggregate", "Which compose projects are there?", _projects),
    Question("running-count", "aggregate", "How many containers are running right now?", _running_count),
    Question("nextcloud", "unanswerable", "Is Nextcloud running?", _nextcloud),
    Question(
        "kanboard-overdue",
        "cross",
        "Is Kanboard running, and what is overdue on it?",
        _kanboard_overdue,
        True,
    ),
    Question(
        "jellyfin-gpu",
        "cross",
        "Is the Jellyfin container healthy, and who is moving Jellyfin to the GPU node?",
        _jellyfin_task,
        True,
    ),
    Question(
        "port-and-tasks",
        "cross",
        "Which port is Kanboard on, and how many open tasks does the Homelab project have?",
        _port_and_tasks,
        True,
    ),
]


def pick(questions: Sequence[Question], ids: Sequence[str] = ()) -> list[Question]:
    """The questions with these ids, in that order; all of them for none."""
    if not ids:
        return list(questions)
    by_id = {q.id: q for q in questions}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise KeyError(f"no such questions: {', '.join(missing)}")
    return [by_id[i] for i in ids]

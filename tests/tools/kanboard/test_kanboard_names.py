"""Names at any scale: every name in the tool's `_meta`, few in its schema; people matched by whole words."""

from __future__ import annotations

from typing import Any

from mcp import Client
from pydantic import SecretStr

from agent.toolsets.mcp import list_server_tools
from tests.tools.kanboard.conftest import text
from tools.kanboard import KanboardSettings, build_server
from tools.kanboard.index import Entry, _assignee_is
from tools.kanboard.models import Project, Task, TaskExtras, User
from tools.kanboard.names import MAX_VALUES, NAMES_META
from tools.kanboard.words import same_person
from tools.kanboard_demo import DEMO_TOKEN, DEMO_URL, DemoBoard, demo_transport, load_seed

SETTINGS = KanboardSettings(url=DEMO_URL, secret=SecretStr(DEMO_TOKEN))
SIMILAR = [("sam", "Sam Porter"), ("samantha", "Samantha Reyes"), ("samir", "Samir Haddad")]


def crowded(people: int = 0) -> DemoBoard:
    """The demo board with Sam, Samantha and Samir, and `people` more, all in every project."""
    seed: dict[str, Any] = load_seed()
    extra = SIMILAR + [(f"user{n}", f"Person Number{n}") for n in range(people)]
    for n, (username, name) in enumerate(extra, start=100):
        seed["users"].append({"id": n, "username": username, "name": name, "email": "", "role": "app-user"})
        for project in seed["projects"]:
            project["members"][str(n)] = "project-member"
    board = DemoBoard(seed)
    board.tasks[1]["owner_id"] = 101  # Samantha's; Sam has none
    return board


async def test_every_name_goes_in_the_tools_meta_and_only_a_short_list_in_its_schema() -> None:
    async with Client(build_server(SETTINGS, demo_transport(crowded(people=60)))) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    people = tools["tasks_of"].meta[NAMES_META]["person"]  # type: ignore[index]
    assert len(people) > MAX_VALUES and "Samir Haddad" in people
    assert "enum" not in tools["tasks_of"].input_schema["properties"]["person"]
    projects = tools["overdue_tasks"].meta[NAMES_META]["project"]  # type: ignore[index]
    assert set(projects) == {"Homelab", "Website Redesign", "Q4 Planning"}
    # a short list is also an enum, for MCP clients that do not read the meta
    assert "enum" in tools["overdue_tasks"].input_schema["properties"]["project"]


async def test_the_agent_keeps_the_names_out_of_the_prompt_so_a_crowded_board_costs_no_more() -> None:
    small = await list_server_tools({"kanboard": build_server(SETTINGS, demo_transport())})
    big = await list_server_tools({"kanboard": build_server(SETTINGS, demo_transport(crowded(people=300)))})
    assert [t.model_dump(exclude={"names"}) for t in small] == [t.model_dump(exclude={"names"}) for t in big]
    tasks_of = next(t for t in big if t.name == "kanboard__tasks_of")
    assert len(tasks_of.names["person"]) > 300 and "enum" not in tasks_of.parameters["properties"]["person"]


def test_a_person_is_named_by_whole_words_of_their_name_never_by_a_part_of_one() -> None:
    sam, samantha = (
        User(id=1, username="sam", name="Sam Porter"),
        User(id=2, username="samantha", name="Samantha Reyes"),
    )
    assert same_person("Sam", sam) and same_person("sam porter", sam) and same_person("Porter", sam)
    assert not same_person("Sam", samantha) and not same_person("Sa", sam) and not same_person("", sam)


def test_the_assignee_filter_takes_sam_for_sam_and_not_for_samantha() -> None:
    samantha = User(id=2, username="samantha", name="Samantha Reyes")
    entry = Entry(Task(id=1, title="x"), Project(id=1, name="P"), "", "", "", samantha, None, TaskExtras())
    assert _assignee_is(entry, "samantha") and _assignee_is(entry, "Reyes")
    assert not _assignee_is(entry, "sam")


async def test_tasks_of_sam_are_sams_not_samanthas() -> None:
    async with Client(build_server(SETTINGS, demo_transport(crowded()))) as client:
        sam = text(await client.call_tool("tasks_of", {"person": "Sam"}))
        samantha = text(await client.call_tool("tasks_of", {"person": "Samantha"}))
        nobody = await client.call_tool("tasks_of", {"person": "Sa"})
    assert sam.startswith("Open tasks of Sam Porter (sam): none")
    assert samantha.startswith("Open tasks of Samantha Reyes (samantha):") and "#1 " in samantha
    assert 'No person "Sa".' in text(nobody)

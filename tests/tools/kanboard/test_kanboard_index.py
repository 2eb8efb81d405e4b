"""The whole-board index: filters, word search over every field, snippets, and batched reads."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from mcp.server.mcpserver import MCPServer
from pydantic import SecretStr

from tests.tools.kanboard.conftest import ServerFactory
from tools.kanboard import KanboardClient, KanboardSettings
from tools.kanboard.errors import KanboardRPCError
from tools.kanboard.format import snippet
from tools.kanboard.index import BoardIndex, Query, parse_query
from tools.kanboard.words import stems
from tools.kanboard_demo import DEMO_TOKEN, DEMO_URL, DemoBoard


@pytest.fixture
async def index(transport: httpx.AsyncBaseTransport) -> BoardIndex:
    settings = KanboardSettings(url=DEMO_URL, secret=SecretStr(DEMO_TOKEN))
    async with KanboardClient(settings, transport) as kb:
        return await BoardIndex.load(
            kb,
            await kb.projects(),
            await kb.users(),
            ZoneInfo("UTC"),
            datetime.now(UTC),
        )


def test_a_query_splits_into_kanboard_filters_and_words() -> None:
    query = parse_query('tag:zfs status:closed assignee:"Bob Martinez" pool replacement foo:bar')
    assert query.filters == {"tag": ["zfs"], "status": ["closed"], "assignee": ["Bob Martinez"]}
    assert query.words == "pool replacement foo:bar"
    assert query.status == "closed" and parse_query("x").status == "all"


def test_words_that_only_say_what_to_show_do_not_pick_a_task() -> None:
    assert stems("What's the latest comment on the ZFS disk replacement?") == ["zfs", "disk", "replac"]


async def test_every_task_open_and_closed_is_indexed_with_its_comments_subtasks_tags_and_links(
    index: BoardIndex, board: DemoBoard
) -> None:
    assert {e.task.id for e in index.entries} == set(board.tasks)
    disk = next(e for e in index.entries if e.task.id == 1)
    assert disk.column == "In Progress" and disk.assignee is not None and disk.assignee.username == "alice"
    assert "zfs" in disk.extras.tags and disk.extras.comments and disk.extras.subtasks and disk.extras.links
    assert [column.title for column in index.columns[1][:2]] == ["Backlog", "Ready"]


async def test_a_word_in_a_comment_finds_its_task_and_the_snippet_quotes_that_comment(
    index: BoardIndex,
) -> None:
    query = Query(words="PBS job finished")
    best = index.search(query)[0]
    assert best.entry.task.id == 1
    assert snippet(best.entry, query, index.tz).startswith("comment by Bob Martinez")
    assert "02:14" in snippet(best.entry, query, index.tz)


async def test_filters_narrow_before_words_rank(index: BoardIndex) -> None:
    closed = index.search(parse_query("status:closed"))
    assert closed and all(not hit.entry.is_open for hit in closed)
    tagged = index.search(parse_query("tag:zfs status:open"))
    assert tagged and all("zfs" in hit.entry.extras.tags and hit.entry.is_open for hit in tagged)
    nobody = index.search(parse_query("assignee:nobody status:open"))
    assert nobody and all(hit.entry.assignee is None for hit in nobody)
    assert not index.search(parse_query("tag:zfs words-nobody-wrote"))


async def test_a_batch_returns_results_in_call_order_and_raises_a_procedures_error(
    transport: httpx.AsyncBaseTransport,
) -> None:
    settings = KanboardSettings(url=DEMO_URL, secret=SecretStr(DEMO_TOKEN))
    async with KanboardClient(settings, transport) as kb:
        version, timezone = await kb.batch([("getVersion", {}), ("getTimezone", {})])
        assert (version, timezone) == ("1.2.53", "UTC")
        with pytest.raises(KanboardRPCError, match="-32601"):
            await kb.batch([("getVersion", {}), ("getFooBar", {})])
        many = await kb.batch([("getTask", {"task_id": n}) for n in range(1, 251)])
    assert len(many) == 250 and many[0]["id"] == 1 and many[40] is None


async def test_a_refresh_reads_again_only_the_details_of_tasks_whose_modification_date_moved(
    transport: httpx.AsyncBaseTransport, board: DemoBoard
) -> None:
    settings = KanboardSettings(url=DEMO_URL, secret=SecretStr(DEMO_TOKEN))
    async with KanboardClient(settings, transport) as kb:
        projects, users = await kb.projects(), await kb.users()
        first = await BoardIndex.load(kb, projects, users, ZoneInfo("UTC"), datetime.now(UTC))
        board.tasks[2].update(title="Set up Proxmox Backup Server with a tape library", date_modification=1)
        board.comments[999] = {**board.comments[1], "id": 999, "task_id": 3, "comment": "Zeppelin"}
        board.calls.clear()
        again = await BoardIndex.load(kb, projects, users, ZoneInfo("UTC"), datetime.now(UTC), previous=first)
        detail_reads = board.calls.count("getAllComments")
        full = await BoardIndex.load(kb, projects, users, ZoneInfo("UTC"), datetime.now(UTC))
    assert detail_reads == 1 and again.reused == len(board.tasks) - 1 and first.reused == 0
    assert again.search(Query(words="tape library"))[0].entry.task.id == 2
    assert again.search(Query(words="disk replacement"))[0].entry.task.id == 1  # kept terms still rank
    assert not again.search(Query(words="Zeppelin"))  # a comment alone does not move the task's date
    assert full.search(Query(words="Zeppelin"))[0].entry.task.id == 3  # hence the full read now and then


async def test_the_server_refreshes_a_stale_index_and_reads_it_in_full_only_every_index_full_s(
    make_server: ServerFactory, board: DemoBoard
) -> None:
    from mcp import Client

    async def comment_reads(server: MCPServer) -> list[int]:
        counts = []
        async with Client(server) as client:
            for _ in range(3):
                board.calls.clear()
                await client.call_tool("search_tasks", {"query": "backup"})
                counts.append(board.calls.count("getAllComments"))
        return counts

    tasks = len(board.tasks)
    assert await comment_reads(make_server(index_ttl_s=0, index_full_s=3600)) == [tasks, 0, 0]
    assert all(n >= tasks for n in await comment_reads(make_server(index_ttl_s=0, index_full_s=0)))

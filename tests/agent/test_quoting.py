"""Answers that reuse the lookup: the model's lead, then the tool's list exactly as it gave it."""

from __future__ import annotations

from agent.messages import ModelResponse, ToolCall, ToolSpec, Usage
from agent.models.scripted import ScriptedModel
from agent.quoting import LEAD_END, direct_answer, items, open_part, parts, quotable, unmentioned
from agent.trace import ToolCallRecord, render_trace
from tests.conftest import AgentFactory

LIST = (
    "Notes:\n- backup: Nightly ZFS snapshots at 02:00, kept 14 days.\n"
    "- router: OPNsense on the N100 box, firmware 24.7.\n(2 notes)"
)
LISTED = LIST.split("\n", 1)[1]


def _record(result: str, *, is_error: bool = False) -> ToolCallRecord:
    return ToolCallRecord(id="c1", name="notes__list_notes", arguments={}, result=result, is_error=is_error)


def test_the_items_of_a_list_run_from_its_first_item_to_its_end_with_the_count() -> None:
    assert items("DEMO BOARD: sample data.\n" + LIST) == LISTED
    assert items("1. one\n2. two") == "1. one\n2. two"
    assert items("#4 Renew the certificate - due today\n#7 Rotate keys - due tomorrow") is not None


def test_a_grouped_list_keeps_its_group_headings() -> None:
    grouped = (
        "7 containers in 2 projects.\nmedia (2):\n- jellyfin: running\n- sonarr: RESTARTING\n"
        "office (1):\n- db: exited"
    )
    assert items(grouped) == grouped.split("\n", 1)[1]


def test_a_result_with_fewer_than_two_items_is_one_fact_for_the_model_to_answer() -> None:
    assert items("Nightly ZFS snapshots at 02:00, kept 14 days.") is None
    assert items("#12 Replace the router - assigned to Dave\n> the description") is None
    assert quotable([_record(LIST, is_error=True), _record("one fact")], "What do they say?", []) == ()
    assert quotable([_record(LIST)], "What do they say?", []) == (_record(LIST),)


def test_a_question_that_picks_some_items_of_the_list_offers_no_list_to_quote() -> None:
    containers = (
        "media (2):\n- jellyfin: running, healthy\n- sonarr: running, unhealthy\n"
        "office (1):\n- db: running, healthy"
    )
    record = ToolCallRecord(id="c1", name="docker__list_containers", arguments={}, result=containers)
    assert quotable([record], "Which containers are unhealthy?", []) == ()
    assert quotable([record], "Which containers are running?", []) == (record,)  # every item says it
    assert quotable([record], "Which containers do I have?", []) == (record,)


async def test_a_lead_into_part_of_the_list_is_not_followed_by_the_whole_list(
    make_agent: AgentFactory,
) -> None:
    lead = "The backup note:"
    model = ScriptedModel([ToolCall(name="notes__list_notes", arguments={}), lead])
    async with make_agent(model) as agent:
        result = await agent.run("Which notes say when backups run?")
    assert result.answer == lead and model.requests[1].stop == ()


async def test_an_answer_that_leads_into_the_list_gets_the_tools_list_exactly_and_stops_retyping(
    make_agent: AgentFactory,
) -> None:
    retyped = "Here are the notes:\n- backup: snapshots at 2 am\n- router: OPNsense"  # a misquote
    model = ScriptedModel([ToolCall(name="notes__list_notes", arguments={}), retyped])
    pieces: list[str] = []
    async with make_agent(model) as agent:
        result = await agent.run("What do my notes say?", on_text=pieces.append)
    assert result.answer == "Here are the notes:\n" + LISTED
    assert "".join(pieces) == result.answer  # streamed: the lead as written, then the list
    assert model.requests[0].stop == () and model.requests[1].stop == (LEAD_END,)
    assert result.steps[-1].quoted == ["notes__list_notes"]
    assert "answer: the model's lead, then the lists of notes__list_notes as given" in render_trace(result)


async def test_an_answer_that_ends_with_a_colon_is_a_lead_too(make_agent: AgentFactory) -> None:
    model = ScriptedModel([ToolCall(name="notes__list_notes", arguments={}), "These are the notes:"])
    async with make_agent(model) as agent:
        result = await agent.run("What do my notes say?")
    assert result.answer == "These are the notes:\n" + LISTED


async def test_an_answer_in_the_models_own_words_is_left_as_it_is(make_agent: AgentFactory) -> None:
    model = ScriptedModel([ToolCall(name="notes__list_notes", arguments={}), "Backups run nightly at 02:00."])
    async with make_agent(model) as agent:
        result = await agent.run("When do backups run?")
    assert result.answer == "Backups run nightly at 02:00." and result.steps[-1].quoted == []


async def test_a_one_fact_result_is_not_offered_for_quoting(make_agent: AgentFactory) -> None:
    lead = ModelResponse(text="The note says:", usage=Usage(output_tokens=4))
    model = ScriptedModel([ToolCall(name="notes__get_note", arguments={"topic": "backup"}), lead])
    async with make_agent(model) as agent:
        result = await agent.run("What does the backup note say?")
    assert model.requests[1].stop == () and result.answer == "The note says:"


LIST_NOTES = ToolSpec(name="notes__list_notes", description="Every note, one per line.")


def test_a_list_answers_as_asked_when_the_call_holds_every_word_of_the_question() -> None:
    record = _record(LIST)
    assert direct_answer("Which notes are there?", record, LIST_NOTES) == LIST
    assert direct_answer("List all the notes, please!", record, LIST_NOTES) == LIST


def test_a_word_found_only_among_the_items_leaves_the_answer_to_the_model() -> None:
    record = _record(LIST)
    assert direct_answer("Which notes are about the router?", record, LIST_NOTES) is None  # a filter
    assert direct_answer("How many notes mention backups?", record, LIST_NOTES) is None
    assert direct_answer("Which notes are there?", _record(LIST, is_error=True), LIST_NOTES) is None
    cut = _record(LIST).model_copy(update={"truncated": True})
    assert direct_answer("Which notes are there?", cut, LIST_NOTES) is None


def test_an_argument_the_model_passed_accounts_for_the_words_it_covers() -> None:
    listed = "Open tasks of Dave Okafor (dave):\n- #3 Migrate Pi-hole - due tomorrow\n- #6 VLANs - overdue"
    tasks_of = ToolSpec(
        name="kanboard__tasks_of",
        description="A person's open tasks.",
        parameters={"type": "object", "properties": {"person": {"type": "string", "enum": ["Dave Okafor"]}}},
    )
    record = ToolCallRecord(id="c", name=tasks_of.name, arguments={"person": "Dave Okafor"}, result=listed)
    assert direct_answer("What are Dave's tasks?", record, tasks_of) == listed
    assert direct_answer("What are Dave's open tasks?", record, tasks_of) is None  # "open": not filtered on
    everyone = "Open tasks:\n- #3 Migrate Pi-hole - Dave Okafor\n- #9 Renew the certificate - Alice Chen"
    unfiltered = record.model_copy(update={"arguments": {}, "result": everyone})
    assert direct_answer("What are Dave's tasks?", unfiltered, tasks_of) is None  # enum is not a call


def test_neither_a_summary_in_the_result_nor_the_tools_description_accounts_for_a_word() -> None:
    listing = (
        "3 containers: 2 running, 1 unhealthy.\n- jellyfin: running\n- paperless: UNHEALTHY\n- db: running"
    )
    tool = ToolSpec(
        name="docker__list_containers", description="Containers: state, health (unhealthy), ports."
    )
    record = ToolCallRecord(id="c", name=tool.name, arguments={}, result=listing)
    assert direct_answer("Which containers are unhealthy?", record, tool) is None
    assert direct_answer("List the containers.", record, tool) == listing


async def test_a_list_that_answers_as_asked_is_the_answer_and_no_model_is_asked(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel([ToolCall(name="notes__list_notes", arguments={})])
    pieces: list[str] = []
    async with make_agent(model) as agent:
        result = await agent.run("Which notes are there?", on_text=pieces.append)
    assert result.answer == LIST and "".join(pieces) == LIST
    assert len(model.requests) == 1 and len(result.steps) == 2
    assert result.steps[-1].direct and result.steps[-1].quoted == ["notes__list_notes"]
    assert "the call holds every word of the question; no model turn" in render_trace(result)


async def test_with_quote_lists_off_the_model_writes_every_answer(make_agent: AgentFactory) -> None:
    model = ScriptedModel(
        [ToolCall(name="notes__list_notes", arguments={}), "Two notes:\n- backup\n- router"]
    )
    async with make_agent(model, quote_lists="off") as agent:
        result = await agent.run("Which notes are there?")
    assert result.answer == "Two notes:\n- backup\n- router" and model.requests[1].stop == ()


def test_a_name_the_question_says_that_no_result_mentions_is_a_missed_lookup() -> None:
    record = _record(LIST)
    assert unmentioned("When is the k3s upgrade due?", [record], [LIST_NOTES]) == ["k3s"]
    assert unmentioned("What does the router note say about OPNsense?", [record], [LIST_NOTES]) == []
    assert unmentioned("Is there a note about Frank or the NAS?", [record], [LIST_NOTES]) == ["Frank", "NAS"]
    assert unmentioned("When is the k3s upgrade due?", [_record(LIST, is_error=True)], [LIST_NOTES]) == []


async def test_a_missed_lookup_offers_no_list_and_tells_the_model_what_it_missed(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(
        [
            ToolCall(name="notes__list_notes", arguments={}),
            ToolCall(name="notes__search", arguments={"text": "k3s"}),
            "No note mentions k3s.",
        ]
    )
    async with make_agent(model) as agent:
        result = await agent.run("When is the k3s upgrade due?")
    reminder = model.requests[1].messages[-1]
    assert reminder.is_reminder and 'Nothing above mentions "k3s"' in reminder.content
    assert model.requests[1].stop == () and result.answer == "No note mentions k3s."


def test_a_question_in_parts_is_split_where_a_new_question_starts() -> None:
    assert parts("Is the NAS up, and who is replacing its disks?") == [
        "Is the NAS up",
        "who is replacing its disks?",
    ]
    assert parts("Is the NAS up? Who is replacing its disks?") == [
        "Is the NAS up",
        "Who is replacing its disks?",
    ]
    assert parts("Which tasks are due and overdue in Homelab?") == [
        "Which tasks are due and overdue in Homelab?"
    ]
    assert parts("Who is Dave?") == ["Who is Dave?"]


def test_a_part_no_lookup_covered_is_open_until_a_lookup_was_made_for_it() -> None:
    nas = ToolCallRecord(id="c1", name="box__status", arguments={"host": "nas"}, result="nas: up 12 days")
    question = "Is the NAS up, and who is replacing its disks?"
    assert open_part(question, [nas], [], lookups=1) == "who is replacing its disks?"
    assert open_part(question, [nas], [], lookups=2) is None  # one lookup per part was made
    covered = nas.model_copy(update={"result": "nas: up 12 days; Erin is replacing its disks"})
    assert open_part(question, [covered], [], lookups=1) is None
    assert open_part("Is the NAS up?", [nas], [], lookups=1) is None

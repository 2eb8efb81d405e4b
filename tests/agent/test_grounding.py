"""Names from a closed list (enums) may only be passed once the conversation has named them."""

from __future__ import annotations

from agent.grounding import ground, mentioned, words
from agent.messages import ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel
from tests.conftest import AgentFactory

PEOPLE = ["Site Admin", "Alice Chen", "Dave Okafor"]
PROJECTS = ["Homelab", "Q4 Planning", "Website Redesign"]
TASKS_OF = ToolSpec(
    name="kb__tasks_of",
    parameters={
        "type": "object",
        "properties": {"person": {"type": "string", "enum": PEOPLE}},
        "required": ["person"],
    },
)
OVERDUE = ToolSpec(
    name="kb__overdue_tasks",
    parameters={"type": "object", "properties": {"project": {"type": "string", "enum": PROJECTS}}},
)
SEARCH = ToolSpec(
    name="kb__search", parameters={"type": "object", "properties": {"query": {"type": "string"}}}
)


def test_a_first_name_or_a_possessive_names_a_person_but_a_common_word_alone_does_not() -> None:
    assert mentioned("Dave Okafor", words("What is Dave working on?"))
    assert mentioned("Alice Chen", words("What's on Alice's plate?"))
    assert mentioned("Q4 Planning", words("What's in the q4 backlog?"))
    assert not mentioned("Site Admin", words("Who is renewing the TLS cert?"))


def test_a_required_name_nobody_said_takes_its_tool_off_the_table_for_this_turn() -> None:
    grounded = ground([TASKS_OF, OVERDUE, SEARCH], ["Who is renewing the wildcard TLS cert?"])
    assert [t.name for t in grounded] == ["kb__overdue_tasks", "kb__search"]
    assert "project" not in grounded[0].parameters["properties"]  # optional: dropped, not guessed
    assert grounded[1] is SEARCH  # no enum: the very same spec


def test_only_the_names_said_are_left_to_choose_from() -> None:
    grounded = ground([TASKS_OF, OVERDUE], ["Which of Dave's Homelab tasks are overdue?"])
    assert grounded[0].parameters["properties"]["person"]["enum"] == ["Dave Okafor"]
    assert grounded[1].parameters["properties"]["project"]["enum"] == ["Homelab"]
    assert TASKS_OF.parameters["properties"]["person"]["enum"] == PEOPLE  # the original is untouched


def test_names_in_tool_results_count_as_said() -> None:
    result = "#16 Test restore of Nextcloud - blocked by #1 - assigned to Alice Chen"
    grounded = ground([TASKS_OF], ["Who owns the task that blocks the Nextcloud restore?", result])
    assert grounded[0].parameters["properties"]["person"]["enum"] == ["Alice Chen"]


async def test_the_loop_offers_the_model_only_grounded_calls_and_keeps_every_tool_in_the_prompt(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(script=[ToolCall(name="notes__get_note", arguments={"topic": "backup"}), "Done."])
    async with make_agent(model) as agent:
        await agent.run("What does the backup note say?")
    first = model.requests[0]
    assert first.calls is not None and [t.name for t in first.calls] == [t.name for t in first.tools]
    async with make_agent(ScriptedModel(script=["Hi."]), ground_arguments=False, first_step="auto") as agent:
        off = agent.model
        await agent.run("Hello")
    assert isinstance(off, ScriptedModel) and off.requests[0].calls is None


def test_names_a_server_keeps_out_of_the_schema_are_admitted_once_said_by_whole_words() -> None:
    crowd = ("Sam Porter", "Samantha Reyes", "Samir Haddad", *(f"Person Number{n}" for n in range(300)))
    tasks_of = ToolSpec(
        name="kb__tasks_of",
        parameters={"type": "object", "properties": {"person": {"type": "string"}}, "required": ["person"]},
        names={"person": crowd},
    )
    (grounded,) = ground([tasks_of], ["What is Sam working on?"])
    assert grounded.parameters["properties"]["person"]["enum"] == ["Sam Porter"]
    assert "enum" not in tasks_of.parameters["properties"]["person"]  # the prompt's spec is untouched
    assert ground([tasks_of], ["Who is Gustavo?"]) == []  # nobody said: the tool is not offered


def test_a_word_the_tools_themselves_use_does_not_name_a_project_on_its_own() -> None:
    open_days = ToolSpec(
        name="kb__tasks_of",
        description="What one person is working on: their open tasks, or a list of the coming days.",
        parameters={
            "type": "object",
            "properties": {
                "person": {"type": "string", "enum": ["Joanna Pike"]},
                "project": {"type": "string", "enum": ["Open Days", "Open Roles", "Workshop"]},
            },
        },
    )
    (asked,) = ground([open_days], ["Show me Joanna's open tasks."])
    assert "project" not in asked.parameters["properties"]  # "open" is the tools' word, not a name
    (named,) = ground([open_days], ["What is Joanna doing for the Open Day?"])
    assert named.parameters["properties"]["project"]["enum"] == ["Open Days"]  # said whole
    (roles,) = ground([open_days], ["Which roles are still open?"])
    assert roles.parameters["properties"]["project"]["enum"] == ["Open Roles"]  # by its own word


def test_a_name_made_only_of_the_tools_words_is_admitted_when_every_word_is_said() -> None:
    common = frozenset(words("the list of open tasks; done"))
    assert mentioned("Done", words("What is done?"), common)
    assert not mentioned("Photograph & List", words("What's on Priyanka's list?"), common)
    assert mentioned("Photograph & List", words("What's in Photograph?"), common)

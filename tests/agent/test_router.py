"""The router: which tools and which model answer, escalation when the small model fails, overrides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from pydantic import SecretStr

from agent.config import AgentSettings, RouterSettings
from agent.exceptions import ConfigError
from agent.loop import Agent
from agent.messages import Message, ModelResponse, ToolCall, ToolResult, ToolSpec
from agent.models.scripted import ScriptedModel, Turn
from agent.router import Router, ToolRanker, complexity, find_question, grounded, lookup_failed
from agent.toolsets.base import Toolbox
from agent.toolsets.mcp import MCPToolset
from agent.trace import render_trace
from tools.kanboard.server import build_server
from tools.kanboard.settings import KanboardSettings


async def _kanboard_tools(writes: bool) -> list[ToolSpec]:
    """The real Kanboard tool list, as the agent sees it (listing needs no Kanboard behind it)."""
    settings = KanboardSettings(
        url="http://kanboard.invalid", secret=SecretStr("unused"), enable_writes=writes
    )
    async with anyio.create_task_group() as tg:
        toolbox = Toolbox([MCPToolset("kanboard", tg, server=build_server(settings))])
        tools = await toolbox.list_tools()
        await toolbox.aclose()
        tg.cancel_scope.cancel()
    return tools


@pytest.fixture
async def read_tools() -> list[ToolSpec]:
    return await _kanboard_tools(writes=False)


@pytest.fixture
async def all_tools() -> list[ToolSpec]:
    return await _kanboard_tools(writes=True)


# Questions people ask, with the one tool that answers each.
READ_QUESTIONS = [
    ("What's overdue in Homelab?", "overdue_tasks"),
    ("Any tasks past their deadline?", "overdue_tasks"),
    ("What is Dave working on?", "tasks_of"),
    ("What's on Alice's plate this week?", "tasks_of"),
    ("Which projects do we have?", "list_projects"),
    ("How many open tasks does each project have?", "list_projects"),
    ("Show me the Homelab board", "show_board"),
    ("What's in progress in Q4 Planning?", "show_board"),
    ("Who is on the Homelab project?", "list_people"),
    ("Who works here?", "list_people"),
    ("What did people say in the comments on #12?", "get_task"),
    ("Which subtasks are left on the ZFS scrub task?", "get_task"),
    ("Tell me about task #7", "get_task"),
    ("When is the Proxmox upgrade due?", "search_tasks"),
    ("Find tasks tagged zfs", "search_tasks"),
    ("Is there anything about backups?", "search_tasks"),
    ("Which tasks are closed in Homelab?", "search_tasks"),
]
WRITE_QUESTIONS = [
    ("Create a task in Homelab to replace the UPS battery", "create_task"),
    ("Add a comment to #12 saying the disks arrived", "add_comment"),
    ("Move #5 to Done", "move_task"),
    ("Close task #9", "close_task"),
    ("Reassign #3 to Bob", "update_task"),
    ("Add a subtask 'order cables' to #4", "add_subtask"),
    ("Reopen #2", "reopen_task"),
]


@dataclass
class FakeToolset:
    """Answers every call with a fixed text, and records the calls."""

    tools: list[ToolSpec]
    name: str = "kb"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def list_tools(self) -> list[ToolSpec]:
        return list(self.tools)

    async def instructions(self) -> str:
        return ""

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        self.calls.append((name, arguments))
        return ToolResult(text=f"result of {name}: #7 Install Home Assistant Yellow - Dave Okafor")

    async def aclose(self) -> None:
        return None


def _agent(model: Router, tools: list[ToolSpec], **settings: Any) -> Agent:
    return Agent(model, FakeToolset(tools), AgentSettings.model_validate(settings), system_prompt="You help.")


def _router(
    small: ScriptedModel, large: ScriptedModel, router_model: ScriptedModel | None = None, **settings: Any
) -> Router:
    return Router(
        small=small,
        large=large,
        router_model=router_model,
        settings=RouterSettings.model_validate({"mode": "auto", **settings}),
    )


def _lookup_then_answer(tool: str, arguments: dict[str, Any], answer: str) -> Callable[..., Turn]:
    """A model that calls `tool` once, then answers."""

    def turn(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        if messages[-1].role == "tool":
            return answer
        return ToolCall(name=tool, arguments=arguments)

    return turn


@pytest.mark.parametrize(("question", "needed"), READ_QUESTIONS)
async def test_tool_subset_never_drops_the_tool_a_read_question_needs(
    read_tools: list[ToolSpec], question: str, needed: str
) -> None:
    chosen = ToolRanker(read_tools).top(question, RouterSettings().max_tools)
    assert f"kanboard__{needed}" in [t.name for t in chosen]


@pytest.mark.parametrize(("question", "needed"), WRITE_QUESTIONS)
async def test_tool_subset_never_drops_the_tool_a_write_request_needs(
    all_tools: list[ToolSpec], question: str, needed: str
) -> None:
    chosen = ToolRanker(all_tools).top(question, RouterSettings().max_tools)
    assert f"kanboard__{needed}" in [t.name for t in chosen]


async def test_simple_lookup_is_answered_by_the_small_model_with_a_few_tools(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(
        function=_lookup_then_answer("kanboard__overdue_tasks", {"project": "Homelab"}, "#7 is overdue."),
        model_name="small",
    )
    large = ScriptedModel(model_name="large")
    result = await _agent(_router(small, large), read_tools).run("What's overdue in Homelab?")
    assert result.answer == "#7 is overdue."
    assert [s.model for s in result.steps] == ["small", "small"]
    assert len(small.requests[0].tools) == 4 and large.requests == []
    route = result.steps[0].route
    assert route is not None
    assert route["model"] == "small" and route["escalated"] is False
    assert "kanboard__overdue_tasks" in route["tools"] and route["decide_ms"] >= 0


async def test_counting_and_comparing_questions_go_to_the_large_model(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(model_name="small")
    large = ScriptedModel(
        function=_lookup_then_answer("kanboard__list_projects", {}, "Homelab."), model_name="large"
    )
    result = await _agent(_router(small, large), read_tools).run("Which project has the most overdue tasks?")
    assert result.answer == "Homelab."
    assert small.requests == []
    assert result.steps[0].route is not None and "complex" in result.steps[0].route["reason"]


def test_complexity_cues_separate_lookups_from_multi_step_questions() -> None:
    assert complexity("What is Dave working on?")[0] < 0.5
    assert complexity("Show me the Homelab board")[0] < 0.5
    assert complexity("How many tasks does Dave have compared to Alice?")[0] >= 0.5
    assert complexity("Find the oldest overdue task and then tell me who owns it")[0] >= 0.5
    assert complexity("Create a task in Homelab to replace the UPS battery")[0] >= 0.5


async def test_the_decision_is_made_once_and_the_tools_stay_the_same_for_every_step(
    read_tools: list[ToolSpec],
) -> None:
    def two_lookups(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        done = sum(1 for m in messages if m.role == "tool")
        return ToolCall(name="kanboard__tasks_of", arguments={"person": "dave"}) if done < 2 else "Task #7."

    small = ScriptedModel(function=two_lookups, model_name="small")
    router = _router(small, ScriptedModel(), small_lookups=2)
    result = await _agent(router, read_tools).run("What is Dave working on?")
    assert len(small.requests) == 3
    assert len({tuple(t.name for t in r.tools) for r in small.requests}) == 1
    routes = [s.route for s in result.steps]
    assert all(r is not None for r in routes)
    assert [r["turn"] for r in routes if r] == [1, 2, 3]
    assert [r["decide_ms"] for r in routes if r][1:] == [0.0, 0.0]


async def test_the_lexical_decision_asks_no_model(read_tools: list[ToolSpec]) -> None:
    router_model = ScriptedModel(model_name="router")
    router = _router(ScriptedModel(), ScriptedModel(), router_model)
    for question, _ in READ_QUESTIONS:
        await router.decide(question, read_tools)
    assert router_model.requests == []


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (ModelResponse(raw="<tool_call>{oops", parse_error="not JSON"), "unreadable output"),
        (ModelResponse(text="  "), "empty answer"),
        (ToolCall(name="kanboard__delete_everything", arguments={}), "unknown tool"),
        (ToolCall(name="kanboard__tasks_of", arguments={"who": "dave"}), "invalid arguments"),
        (ToolCall(name="kanboard__tasks_of", arguments={"person": 7}), "invalid arguments"),
        (ModelResponse(text='{"name": "kanboard__tasks_of", "arguments": {}}'), "tool call written as text"),
        ("Dave is working on the Kanboard project.", "answered without looking anything up"),
    ],
)
async def test_a_failing_small_model_is_replaced_by_the_large_one_for_the_same_step(
    read_tools: list[ToolSpec], bad: Turn, why: str
) -> None:
    small = ScriptedModel(script=[bad], model_name="small")
    large = ScriptedModel(
        function=_lookup_then_answer("kanboard__tasks_of", {"person": "dave"}, "Backups."), model_name="large"
    )
    result = await _agent(_router(small, large), read_tools).run("What is Dave working on?")
    assert result.answer == "Backups."
    assert [s.model for s in result.steps] == ["large", "large"]
    assert len(small.requests) == 1  # once escalated, the small model is not asked again this run
    assert large.requests[0].messages == small.requests[0].messages  # the same step, re-asked
    first = result.steps[0].route
    assert first is not None and first["escalated"] is True and why in first["reason"]
    assert all(s.parse_error is None for s in result.steps)


async def test_the_small_model_is_replaced_after_small_max_steps_turns(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(
        function=lambda m, t: ToolCall(name="kanboard__tasks_of", arguments={"person": "dave"}),
        model_name="small",
    )
    large = ScriptedModel(script=["Done."], model_name="large")
    result = await _agent(_router(small, large, small_max_steps=2), read_tools).run(
        "What is Dave working on?"
    )
    assert [s.model for s in result.steps] == ["small", "small", "large"]
    last = result.steps[-1].route
    assert last is not None and last["escalated"] and "2 steps" in last["reason"]


async def test_an_unknown_tool_the_ranker_left_out_is_offered_to_the_large_model(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(script=[ToolCall(name="kanboard__list_people", arguments={})], model_name="small")
    large = ScriptedModel(script=["Nobody."], model_name="large")
    router = _router(small, large, max_tools=1)
    result = await _agent(router, read_tools).run("What's overdue in Homelab?")
    assert result.answer == "Nobody."
    assert [t.name for t in large.requests[0].tools] == ["kanboard__overdue_tasks", "kanboard__list_people"]


async def test_a_new_run_of_the_same_question_starts_with_the_small_model_again(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(script=[ModelResponse(text=""), "Fine."], model_name="small")
    large = ScriptedModel(script=["Escalated."], model_name="large")
    agent = _agent(_router(small, large, require_lookup=False), read_tools)
    assert (await agent.run("Show me the Homelab board")).answer == "Escalated."
    assert (await agent.run("Show me the Homelab board")).answer == "Fine."


@pytest.mark.parametrize(("mode", "answers"), [("always_small", "small"), ("always_large", "large")])
async def test_modes_override_the_decision(read_tools: list[ToolSpec], mode: str, answers: str) -> None:
    small = ScriptedModel(script=["from small"], model_name="small")
    large = ScriptedModel(script=["from large"], model_name="large")
    router = _router(small, large, mode=mode)
    question = "Which project has the most overdue tasks?" if mode == "always_small" else "Who works here?"
    result = await _agent(router, read_tools).run(question)
    assert result.answer == f"from {answers}"
    assert result.steps[0].route is not None and result.steps[0].route["reason"] == f"mode {mode}"


async def test_always_small_does_not_escalate(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(script=[ModelResponse(text=""), "late but mine"], model_name="small")
    large = ScriptedModel(model_name="large")
    result = await _agent(_router(small, large, mode="always_small"), read_tools).run("Who works here?")
    assert result.answer == "late but mine" and large.requests == []


async def test_an_unsure_question_is_settled_by_one_word_from_the_router_model(
    read_tools: list[ToolSpec],
) -> None:
    router_model = ScriptedModel(script=["Complex."], model_name="router")
    small = ScriptedModel(model_name="small")
    large = ScriptedModel(script=["From large."], model_name="large")
    router = _router(small, large, router_model, classify_with_model=True, model_band=1.0)
    result = await _agent(router, read_tools).run("Who works here?")
    assert result.answer == "From large."
    asked = router_model.requests[0]
    assert asked.tools == [] and "Who works here?" in asked.messages[-1].content
    assert (
        result.steps[0].route is not None and "router model says complex" in result.steps[0].route["reason"]
    )


async def test_the_route_shows_in_the_trace(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(script=["Nothing is overdue."], model_name="small")
    result = await _agent(_router(small, ScriptedModel(), require_lookup=False), read_tools).run(
        "What's overdue?"
    )
    trace = render_trace(result)
    assert "route: small — simple lookup" in trace and "kanboard__overdue_tasks" in trace


def test_the_question_is_the_last_user_message_that_is_not_a_correction() -> None:
    messages = [
        Message.system("s"),
        Message.user("What is due?"),
        Message.assistant("<tool_call>{"),
        Message.user("I could not use that: bad JSON. Call one tool correctly, or answer in plain text."),
    ]
    assert find_question(messages) == 1


def test_from_settings_takes_the_named_models() -> None:
    small, large = ScriptedModel(model_name="s"), ScriptedModel(model_name="l")
    router = Router.from_settings(RouterSettings(small="a", large="b"), {"a": small, "b": large})
    assert router.small is small and router.large is large and router.router_model is small


def test_from_settings_names_the_missing_model() -> None:
    with pytest.raises(ConfigError, match=r"router\.large"):
        Router.from_settings(RouterSettings(small="a"), {"a": ScriptedModel()})
    with pytest.raises(ConfigError, match="'nope'"):
        Router.from_settings(RouterSettings(small="a", large="nope"), {"a": ScriptedModel()})


async def test_the_router_is_a_model() -> None:
    from agent.models.base import Model

    assert isinstance(_router(ScriptedModel(), ScriptedModel()), Model)


async def test_a_streaming_client_sees_only_the_answer_that_was_kept(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(script=["Dave is on holiday."], model_name="small")
    large = ScriptedModel(
        function=_lookup_then_answer("kanboard__tasks_of", {"person": "dave"}, "Backups."), model_name="large"
    )
    pieces: list[str] = []
    result = await _agent(_router(small, large), read_tools).run(
        "What is Dave working on?", on_text=pieces.append
    )
    assert result.answer == "Backups." and "".join(pieces) == "Backups."


async def test_a_kept_first_answer_of_the_small_model_still_reaches_the_client(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(script=["Nothing is overdue."], model_name="small")
    pieces: list[str] = []
    router = _router(small, ScriptedModel(), require_lookup=False)
    await _agent(router, read_tools).run("What's overdue?", on_text=pieces.append)
    assert "".join(pieces) == "Nothing is overdue."


def test_an_answer_is_grounded_when_it_repeats_something_a_tool_returned() -> None:
    call = ToolCall(name="kanboard__tasks_of", arguments={"person": "dave"})
    messages = [
        Message.user("What is Dave working on?"),
        Message.assistant("", [call]),
        Message.tool(call, "Open tasks of Dave Okafor: #6 VLAN segmentation for IoT devices"),
    ]
    assert grounded("Dave works on the VLAN segmentation (#6).", messages)
    assert grounded("Dave Okafor does.", messages)  # "Okafor" names someone the tools returned
    assert not grounded("plainly that you do not know.", messages)
    assert not grounded("Mark the task as overdue for Dave.", messages)  # nothing specific from the tools
    assert not grounded("I do not know.", messages)
    assert grounded("Anything at all.", messages[:1])  # nothing looked up yet: nothing to check


async def test_an_answer_unrelated_to_the_tool_results_is_escalated(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(
        function=_lookup_then_answer(
            "kanboard__tasks_of", {"person": "dave"}, "plainly that you do not know."
        ),
        model_name="small",
    )
    large = ScriptedModel(script=["Dave has the result of kanboard__tasks_of."], model_name="large")
    result = await _agent(_router(small, large), read_tools).run("What is Dave working on?")
    assert result.answer.startswith("Dave has")
    last = result.steps[-1].route
    assert last is not None and "not grounded" in last["reason"]


async def test_the_tools_are_offered_best_first(read_tools: list[ToolSpec]) -> None:
    chosen = ToolRanker(read_tools).top("What is Dave working on?", 3)
    assert chosen[0].name == "kanboard__tasks_of"  # small models lean towards the first tool shown
    assert len(chosen) == 3


async def test_an_escalated_question_starts_over_on_the_large_model_without_the_small_models_turns(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(
        function=_lookup_then_answer("kanboard__list_projects", {}, "plainly that you do not know."),
        model_name="small",
    )
    large = ScriptedModel(
        function=_lookup_then_answer("kanboard__tasks_of", {"person": "dave"}, "Dave has the result of it."),
        model_name="large",
    )
    result = await _agent(_router(small, large), read_tools).run("What is Dave working on?")
    assert result.answer == "Dave has the result of it."
    assert [s.model for s in result.steps] == ["small", "large", "large"]  # the rejected answer is no step
    restart, answer = large.requests
    assert [m.role for m in restart.messages] == ["system", "user"]  # the question, as first asked
    assert restart.tool_choice == "required"  # the run's first-turn rule holds for the restart
    assert "kanboard__list_projects" not in str([m.model_dump() for m in answer.messages])
    assert [c.name for m in answer.messages for c in m.tool_calls] == ["kanboard__tasks_of"]
    assert answer.tool_choice == "auto"
    assert [c.name for s in result.steps for c in s.tool_calls] == [
        "kanboard__list_projects",
        "kanboard__tasks_of",
    ]


async def test_a_lookup_that_fails_hands_the_question_to_the_large_model(read_tools: list[ToolSpec]) -> None:
    class FailingToolset(FakeToolset):
        async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
            self.calls.append((name, arguments))
            if arguments.get("task") == "12345":
                return ToolResult(text="No task #12345.", is_error=True)
            return ToolResult(text="#1 Replace failing disk: latest comment 'resilver at 41%'")

    small = ScriptedModel(
        function=_lookup_then_answer("kanboard__get_task", {"task": "12345"}, "No such task."),
        model_name="small",
    )
    large = ScriptedModel(
        function=_lookup_then_answer("kanboard__get_task", {"task": "ZFS disk"}, "Resilver at 41%."),
        model_name="large",
    )
    toolset = FailingToolset(read_tools)
    agent = Agent(_router(small, large), toolset, AgentSettings(), system_prompt="You help.")
    result = await agent.run("What's the latest comment on the ZFS disk replacement?")
    assert result.answer == "Resilver at 41%."
    assert len(small.requests) == 1  # not asked to explain its own failed lookup
    assert [s.model for s in result.steps] == ["small", "large", "large"]
    route = result.steps[1].route
    assert route is not None and "lookup failed" in route["reason"]


def test_a_lookup_failed_when_every_latest_tool_result_is_an_error() -> None:
    call = ToolCall(name="t", arguments={})
    asked = [Message.system("s"), Message.user("q"), Message.assistant(tool_calls=[call, call])]
    error, fine = Message.tool(call, "Error: no such task"), Message.tool(call, "#1 Fix it")
    assert lookup_failed([*asked, error, error])
    assert not lookup_failed([*asked, error, fine])
    assert not lookup_failed(asked)


async def test_after_its_lookup_the_small_model_must_answer(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(
        function=_lookup_then_answer("kanboard__tasks_of", {"person": "dave"}, "Dave Okafor has #7."),
        model_name="small",
    )
    result = await _agent(_router(small, ScriptedModel()), read_tools).run("What is Dave working on?")
    assert result.answer == "Dave Okafor has #7."
    assert [r.tool_choice for r in small.requests] == ["required", "none"]


async def test_a_badly_written_answer_is_rewritten_by_the_large_model_from_the_same_lookup(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(
        function=_lookup_then_answer("kanboard__tasks_of", {"person": "dave"}, ModelResponse(text=" ")),
        model_name="small",
    )
    large = ScriptedModel(script=["Dave has the result of kanboard__tasks_of."], model_name="large")
    result = await _agent(_router(small, large), read_tools).run("What is Dave working on?")
    assert result.answer.startswith("Dave has")
    assert large.requests[0].messages == small.requests[1].messages  # the small model's lookup is kept
    assert large.requests[0].tool_choice == "auto"

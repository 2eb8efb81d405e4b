"""The router: small or large per question, escalation when the small model slips, the modes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from agent.config import AgentSettings, RouterSettings
from agent.loop import Agent
from agent.messages import Message, ModelResponse, ToolCall, ToolResult, ToolSpec
from agent.models.scripted import ScriptedModel, Turn, latest
from agent.policy import Policy, RunContext
from agent.router import SMALL_MAX_STEPS, Router, complexity, grounded
from agent.trace import ToolCallRecord, render_trace
from tests.support.kanboard_tools import kanboard_tools


@pytest.fixture
async def read_tools() -> list[ToolSpec]:
    return await kanboard_tools()


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


def _router(small: ScriptedModel, large: ScriptedModel, **settings: Any) -> Router:
    return Router(
        small=small, large=large, settings=RouterSettings.model_validate({"mode": "auto", **settings})
    )


def _lookup_then_answer(tool: str, arguments: dict[str, Any], answer: Turn) -> Callable[..., Turn]:
    """A model that calls `tool` once, then answers."""

    def turn(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        if latest(messages).role == "tool":
            return answer
        return ToolCall(name=tool, arguments=arguments)

    return turn


async def test_a_simple_lookup_is_answered_by_the_small_model_with_every_tool(
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
    assert [r.tools for r in small.requests] == [read_tools, read_tools] and large.requests == []
    route = result.steps[0].route
    assert route is not None and route.choice == "small" and not route.escalated and route.decide_ms >= 0


async def test_counting_and_comparing_questions_go_to_the_large_model(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(model_name="small")
    large = ScriptedModel(
        function=_lookup_then_answer("kanboard__list_projects", {}, "Homelab."), model_name="large"
    )
    result = await _agent(_router(small, large), read_tools).run("Which project has the most overdue tasks?")
    assert result.answer == "Homelab."
    assert small.requests == []
    assert result.steps[0].route is not None and "complex" in result.steps[0].route.reason


def test_complexity_cues_separate_lookups_from_multi_step_questions() -> None:
    assert complexity("What is Dave working on?")[0] < 0.5
    assert complexity("Show me the Homelab board")[0] < 0.5
    assert complexity("How many tasks does Dave have compared to Alice?")[0] >= 0.5
    assert complexity("Find the oldest overdue task and then tell me who owns it")[0] >= 0.5
    assert complexity("Create a task in Homelab to replace the UPS battery")[0] >= 0.5


async def test_the_decision_is_made_when_the_run_starts_and_timed_on_its_first_step(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(
        function=_lookup_then_answer("kanboard__tasks_of", {"person": "dave"}, "Dave Okafor has #7."),
        model_name="small",
    )
    result = await _agent(_router(small, ScriptedModel()), read_tools).run("What is Dave working on?")
    routes = [s.route for s in result.steps]
    assert [r.decided for r in routes if r] == ["small", "small"]
    assert [r.decide_ms for r in routes if r][1:] == [0.0]


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
    assert first is not None and first.escalated and why in first.reason
    assert all(s.parse_error is None for s in result.steps)


async def test_the_small_model_is_replaced_after_its_step_limit(read_tools: list[ToolSpec]) -> None:
    def new_lookup_each_turn(messages: list[Message], tools: list[ToolSpec]) -> Turn:
        done = sum(1 for m in messages if m.role == "tool")
        return ToolCall(name="kanboard__search_tasks", arguments={"query": f"backup {done}"})

    small = ScriptedModel(function=new_lookup_each_turn, model_name="small")
    large = ScriptedModel(script=["Done."], model_name="large")
    result = await _agent(_router(small, large), read_tools).run("What is Dave working on?")
    assert [s.model for s in result.steps] == ["small"] * SMALL_MAX_STEPS + ["large"]
    last = result.steps[-1].route
    assert last is not None and last.escalation == "step_limit"
    assert f"{SMALL_MAX_STEPS} steps" in last.reason


async def test_a_new_run_of_the_same_question_starts_with_the_small_model_again(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(
        script=[
            ModelResponse(text=""),
            ToolCall(name="kanboard__tasks_of", arguments={"person": "dave"}),
            "Dave Okafor has #7.",
        ],
        model_name="small",
    )
    large = ScriptedModel(script=["Escalated."], model_name="large")
    agent = _agent(_router(small, large), read_tools)
    assert (await agent.run("What is Dave working on?")).answer == "Escalated."
    assert (await agent.run("What is Dave working on?")).answer == "Dave Okafor has #7."


@pytest.mark.parametrize(("mode", "answers"), [("always_small", "small"), ("always_large", "large")])
async def test_modes_override_the_decision(read_tools: list[ToolSpec], mode: str, answers: str) -> None:
    small = ScriptedModel(script=["from small"], model_name="small")
    large = ScriptedModel(script=["from large"], model_name="large")
    router = _router(small, large, mode=mode)
    question = "Which project has the most overdue tasks?" if mode == "always_small" else "Who works here?"
    result = await _agent(router, read_tools).run(question)
    assert result.answer == f"from {answers}"
    assert result.steps[0].route is not None and result.steps[0].route.reason == f"mode {mode}"


async def test_always_small_does_not_escalate(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(script=[ModelResponse(text=""), "late but mine"], model_name="small")
    large = ScriptedModel(model_name="large")
    result = await _agent(_router(small, large, mode="always_small"), read_tools).run("Who works here?")
    assert result.answer == "late but mine" and large.requests == []


async def test_the_route_shows_in_the_trace(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(
        function=_lookup_then_answer("kanboard__overdue_tasks", {}, "#7 Install Home Assistant Yellow."),
        model_name="small",
    )
    result = await _agent(_router(small, ScriptedModel()), read_tools).run("What's overdue?")
    assert "route: small — simple lookup" in render_trace(result)


def test_from_settings_takes_the_named_models() -> None:
    small, large = ScriptedModel(model_name="s"), ScriptedModel(model_name="l")
    router = Router.from_settings(RouterSettings(small="a", large="b"), {"a": small, "b": large})
    assert router.small is small and router.large is large


def test_the_router_is_a_policy_of_the_loop_not_a_model() -> None:
    router = _router(ScriptedModel(), ScriptedModel())
    assert isinstance(router, Policy) and not hasattr(router, "respond")


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


async def test_a_kept_answer_of_the_small_model_still_reaches_the_client(read_tools: list[ToolSpec]) -> None:
    small = ScriptedModel(
        function=_lookup_then_answer("kanboard__overdue_tasks", {}, "#7 Install Home Assistant Yellow."),
        model_name="small",
    )
    pieces: list[str] = []
    await _agent(_router(small, ScriptedModel()), read_tools).run("What's overdue?", on_text=pieces.append)
    assert "".join(pieces) == "#7 Install Home Assistant Yellow."


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
    assert last is not None and last.escalation == "ungrounded" and "not grounded" in last.reason


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
    assert route is not None and "lookup failed" in route.reason


def test_a_failed_lookup_is_read_from_the_typed_results_not_from_the_text(read_tools: list[ToolSpec]) -> None:
    small, large = ScriptedModel(model_name="small"), ScriptedModel(model_name="large")
    run = _router(small, large).begin("What is Dave working on?", read_tools)
    call = ToolCall(name="kanboard__tasks_of", arguments={"person": "dave"})
    asked = [Message.system("s"), Message.user("What is Dave working on?")]
    turns = [
        Message.assistant("", [call]),
        Message.tool(call, "Nobody called dave. Did you mean: Dave Okafor?"),
    ]
    failed = ToolCallRecord(id=call.id, name=call.name, arguments=call.arguments, result="…", is_error=True)
    ctx = RunContext(
        question="What is Dave working on?",
        step=2,
        messages=[*asked, *turns],
        run_start=2,
        tools=read_tools,
        results=[failed],
        last_results=[failed],
        first_choice="required",
    )
    plan = run.plan(ctx)
    assert plan.model is large and plan.hidden == 2 and plan.tool_choice == "required"
    assert plan.route is not None and plan.route.escalation == "lookup_failed"


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


async def test_the_rejected_turn_of_the_small_model_counts_in_the_steps_usage(
    read_tools: list[ToolSpec],
) -> None:
    small = ScriptedModel(script=["I think Dave is busy."], model_name="small")  # answered without a lookup
    large = ScriptedModel(
        function=_lookup_then_answer("kanboard__tasks_of", {"person": "dave"}, "Backups."), model_name="large"
    )
    result = await _agent(_router(small, large), read_tools).run("What is Dave working on?")
    assert result.steps[0].usage.output_tokens == len(["I", "think", "Dave", "is", "busy."]) + 8

"""The loop's hook: a policy plans each step from a typed run context and may reject a response."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.messages import Message, ModelResponse, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel
from agent.policy import RESTATED, RESTATED_ANSWER, OneModel, Rejection, RunContext, StepPlan, plan_step
from agent.trace import ToolCallRecord
from tests.conftest import AgentFactory


@dataclass
class Recording:
    """A policy that answers with `model`, rejects the first response once, and records what it saw."""

    model: ScriptedModel
    reject_first: bool = False
    questions: list[str] = field(default_factory=list)
    contexts: list[RunContext] = field(default_factory=list)
    plans: int = 0

    @property
    def name(self) -> str:
        return "recording"

    def begin(self, question: str, tools: Sequence[ToolSpec]) -> Recording:
        self.questions.append(question)
        return self

    def plan(self, ctx: RunContext) -> StepPlan:
        self.contexts.append(ctx)
        self.plans += 1
        return plan_step(ctx, self.model)

    def review(self, ctx: RunContext, plan: StepPlan, response: ModelResponse) -> Rejection | None:
        if self.reject_first and self.plans == 1:
            return Rejection("test", "not this one")
        return None


async def test_the_policy_sees_the_question_the_step_and_typed_tool_results(make_agent: AgentFactory) -> None:
    model = ScriptedModel(
        [ToolCall(name="notes__get_note", arguments={"topic": "nas"}), "There is no NAS note."]
    )
    policy = Recording(model)
    async with make_agent(policy) as agent:
        await agent.run("What about the NAS?")
    first, second = policy.contexts
    assert policy.questions == ["What about the NAS?"] and first.question == second.question
    assert [first.step, second.step] == [1, 2]
    assert first.results == () and first.first_choice == "required"
    assert [(r.name, r.is_error) for r in second.last_results] == [("notes__get_note", True)]
    assert [m.role for m in second.turns] == ["assistant", "tool"]


async def test_a_rejected_response_is_asked_again_once_and_the_second_stands(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(["first try", "second try"])
    async with make_agent(Recording(model, reject_first=True)) as agent:
        result = await agent.run("hi")
    assert result.answer == "second try" and len(result.steps) == 1
    assert model.requests[0].messages == model.requests[1].messages


CALL = ToolCall(name="a", arguments={})
TOOLS = [ToolSpec(name="a"), ToolSpec(name="b")]


def after_lookup(step: int = 2, **fields: object) -> RunContext:
    """The context of a step after one lookup (`a`, which found "one item")."""
    record = ToolCallRecord(id=CALL.id, name="a", arguments={}, result="one item")
    messages = [
        Message.system("s"),
        Message.user("q"),
        Message.assistant("", [CALL]),
        Message.tool(CALL, "one item"),
    ]
    return RunContext("q", step, messages, 2, TOOLS, (record,), (record,), "required", **fields)  # type: ignore[arg-type]


def test_the_default_policy_offers_every_tool_and_the_first_step_rule() -> None:
    model = ScriptedModel()
    ctx = RunContext("q", 1, [Message.system("s"), Message.user("q")], 2, TOOLS, (), (), "required")
    plan = OneModel(model).begin("q", TOOLS).plan(ctx)
    assert plan.model is model and list(plan.tools) == TOOLS and plan.tool_choice == "required"
    later = OneModel(model).plan(after_lookup())
    assert later.tool_choice == "auto" and later.hidden == 0 and not later.hold


def test_a_step_after_results_restates_the_question_for_that_step() -> None:
    first = plan_step(
        RunContext("q", 1, [Message.system("s"), Message.user("q")], 2, TOOLS, (), (), "required"),
        ScriptedModel(),
    )
    assert first.reminder is None
    assert plan_step(after_lookup(), ScriptedModel()).reminder == RESTATED.format(question="q")
    assert plan_step(after_lookup(restate=False), ScriptedModel()).reminder is None


def test_a_step_after_a_repeated_call_must_answer_and_is_shown_no_tools() -> None:
    plan = plan_step(after_lookup(must_answer=True), ScriptedModel())
    assert plan.tools == () and plan.tool_choice == "none" and plan.calls is None
    assert plan.reminder == RESTATED_ANSWER.format(question="q")


def test_a_policy_that_wants_an_answer_keeps_the_tools_in_the_prompt() -> None:
    plan = plan_step(after_lookup(), ScriptedModel(), answer=True)
    assert list(plan.tools) == TOOLS and plan.tool_choice == "none"


def test_a_model_that_sees_none_of_the_turns_starts_with_the_first_step_rule_and_no_reminder() -> None:
    plan = plan_step(after_lookup(), ScriptedModel(), hidden=2)
    assert plan.tool_choice == "required" and plan.reminder is None and plan.hidden == 2


def test_the_calls_a_step_may_make_admit_only_names_the_conversation_said() -> None:
    person = ToolSpec(
        name="tasks_of",
        parameters={"type": "object", "properties": {"person": {"type": "string"}}, "required": ["person"]},
        names={"person": ["Dave Lee", "Erin Cole"]},
    )
    said = [Message.system("s"), Message.user("What is Dave on?")]
    plan = plan_step(
        RunContext("What is Dave on?", 1, said, 2, [person], (), (), "required"), ScriptedModel()
    )
    assert plan.calls is not None and plan.calls[0].parameters["properties"]["person"]["enum"] == ["Dave Lee"]
    unground = RunContext("What is Dave on?", 1, said, 2, [person], (), (), "required", ground=False)
    assert plan_step(unground, ScriptedModel()).calls is None


async def test_the_loop_asks_the_model_exactly_as_the_plan_says(make_agent: AgentFactory) -> None:
    model = ScriptedModel(["Done."])

    @dataclass
    class Planned(Recording):
        def plan(self, ctx: RunContext) -> StepPlan:
            return StepPlan(self.model, ctx.tools[:1], "none", calls=(), reminder="say done", hidden=0)

    async with make_agent(Planned(model)) as agent:
        await agent.run("hi")
    asked = model.requests[0]
    assert [t.name for t in asked.tools] == ["notes__get_note"] and asked.tool_choice == "none"
    assert asked.calls == [] and asked.messages[-1].content == "say done" and asked.stop == ()


def test_a_part_of_the_question_no_lookup_covered_gets_a_lookup_first() -> None:
    question = "Is a up, and who is fixing the printer?"
    ctx = after_lookup()
    ctx = RunContext(question, 2, ctx.messages, 2, TOOLS, ctx.results, ctx.last_results, "required")
    plan = plan_step(ctx, ScriptedModel())
    assert plan.tool_choice == "required" and plan.reminder is not None
    assert '"who is fixing the printer?"' in plan.reminder and plan.reuse.quote == ()

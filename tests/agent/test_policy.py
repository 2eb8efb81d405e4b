"""The loop's hook: a policy plans each step from a typed run context and may reject a response."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.messages import ModelResponse, ToolCall, ToolSpec
from agent.models.scripted import ScriptedModel
from agent.policy import OneModel, Rejection, RunContext, StepPlan
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
        return StepPlan(self.model, ctx.tools, "auto")

    def review(self, ctx: RunContext, plan: StepPlan, response: ModelResponse) -> Rejection | None:
        if self.reject_first and self.plans == 1:
            return Rejection("test", "not this one")
        return None

    async def aclose(self) -> None:
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


async def test_the_default_policy_offers_every_tool_and_the_first_step_rule() -> None:
    model = ScriptedModel()
    tools = [ToolSpec(name="a"), ToolSpec(name="b")]
    ctx = RunContext("q", 1, [], 0, tools, (), (), "required")
    plan = OneModel(model).begin("q", tools).plan(ctx)
    assert plan.model is model and list(plan.tools) == tools and plan.tool_choice == "required"
    later = OneModel(model).plan(RunContext("q", 2, [], 0, tools, (), (), "required"))
    assert later.tool_choice == "auto" and later.hidden == 0 and not later.hold

"""The agent loop against a real MCP server (in-process and over stdio), driven by a scripted model."""

from __future__ import annotations

import pytest

from agent.exceptions import MaxStepsError
from agent.messages import Message, ModelResponse, ToolCall, Usage
from agent.models.scripted import ScriptedModel, latest
from agent.trace import render_trace
from tests.conftest import AgentFactory


async def test_single_tool_call_result_reaches_the_model_and_the_answer_comes_back(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(
        [ToolCall(name="notes__get_note", arguments={"topic": "backup"}), "Snapshots run at 02:00."]
    )
    async with make_agent(model) as agent:
        result = await agent.run("When do backups run?")
    assert result.answer == "Snapshots run at 02:00."
    tool_message = latest(model.requests[1].messages)
    assert tool_message.role == "tool"
    assert "Nightly ZFS snapshots at 02:00" in tool_message.content
    assert [c.name for c in result.steps[0].tool_calls] == ["notes__get_note"]
    assert result.steps[0].tool_calls[0].duration_s > 0


async def test_several_tool_calls_in_one_turn_all_run_and_keep_their_order(make_agent: AgentFactory) -> None:
    calls = [
        ToolCall(name="notes__get_note", arguments={"topic": "router"}),
        ToolCall(name="notes__get_note", arguments={"topic": "backup"}),
    ]
    model = ScriptedModel([calls, "Both found."])
    async with make_agent(model) as agent:
        result = await agent.run("Tell me about the router and backups")
    tool_messages = [m for m in model.requests[1].messages if m.role == "tool"]
    assert [m.tool_call_id for m in tool_messages] == [c.id for c in calls]
    assert "OPNsense" in tool_messages[0].content and "ZFS" in tool_messages[1].content
    assert len(result.steps[0].tool_calls) == 2


async def test_multi_step_runs_use_each_result_to_make_the_next_call(make_agent: AgentFactory) -> None:
    def script(messages: list[Message], _tools: object) -> str | ToolCall:
        last = latest(messages)
        if last.role == "user":
            return ToolCall(name="notes__search", arguments={"text": "zfs"})
        if last.name == "notes__search":
            return ToolCall(name="notes__get_note", arguments={"topic": last.content.split(",")[0]})
        return f"Found: {last.content}"

    model = ScriptedModel(function=script)
    async with make_agent(model) as agent:
        result = await agent.run("What does the ZFS note say?")
    assert result.answer == "Found: Nightly ZFS snapshots at 02:00, kept 14 days."
    assert [s.tool_calls[0].name for s in result.steps[:2]] == ["notes__search", "notes__get_note"]
    assert len(result.steps) == 3


async def test_a_tool_error_becomes_an_observation_and_the_model_recovers(make_agent: AgentFactory) -> None:
    model = ScriptedModel(
        [
            ToolCall(name="notes__get_note", arguments={"topic": "nas"}),
            ToolCall(name="notes__get_note", arguments={"topic": "backup"}),
            "Backups run nightly.",
        ]
    )
    async with make_agent(model) as agent:
        result = await agent.run("What about the NAS?")
    first = result.steps[0].tool_calls[0]
    assert first.is_error
    assert "no note about 'nas'" in first.result and "backup" in first.result
    assert result.answer == "Backups run nightly."


async def test_arguments_that_break_the_schema_get_one_repair_turn_with_the_error(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(
        [
            ToolCall(name="notes__get_note", arguments={"subject": "backup"}),
            ToolCall(name="notes__get_note", arguments={"topic": "backup"}),
            "02:00",
        ]
    )
    async with make_agent(model) as agent:
        result = await agent.run("backups?")
    error = result.steps[0].tool_calls[0]
    assert error.is_error
    assert "'topic' is a required property" in error.result
    assert "parameters are: topic" in error.result
    assert not result.steps[1].tool_calls[0].is_error


async def test_an_unknown_tool_name_is_answered_with_the_list_of_real_tools(make_agent: AgentFactory) -> None:
    model = ScriptedModel([ToolCall(name="get_weather", arguments={}), "I can't check the weather."])
    async with make_agent(model) as agent:
        result = await agent.run("weather?")
    record = result.steps[0].tool_calls[0]
    assert record.is_error and "no tool named 'get_weather'" in record.result
    assert "notes__get_note" in record.result


async def test_unreadable_model_output_is_shown_to_the_model_which_then_answers(
    make_agent: AgentFactory,
) -> None:
    broken = ModelResponse(
        raw='{"name": "notes__get_note", "arguments": {', parse_error="the JSON is cut off"
    )
    model = ScriptedModel([broken, "Sorry — 02:00."])
    async with make_agent(model) as agent:
        result = await agent.run("backups?")
    assert result.answer == "Sorry — 02:00."
    repair = model.requests[1].messages[-1]
    assert repair.role == "user" and "the JSON is cut off" in repair.content
    assert result.steps[0].parse_error == "the JSON is cut off"


async def test_the_loop_stops_with_max_steps_error_when_the_model_never_answers(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(function=lambda _m, _t: ToolCall(name="notes__search", arguments={"text": "a"}))
    async with make_agent(model, max_steps=3) as agent:
        with pytest.raises(MaxStepsError, match="after 3 steps"):
            await agent.run("loop forever")
    assert len(model.requests) == 3


async def test_an_oversized_result_is_cut_to_the_token_budget_with_a_visible_note(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(
        [ToolCall(name="notes__big_report", arguments={"lines": 2000}), "All disks healthy."]
    )
    async with make_agent(model, tool_result_tokens=200) as agent:
        result = await agent.run("disk report")
    record = result.steps[0].tool_calls[0]
    assert record.truncated
    seen = latest(model.requests[1].messages).content
    assert len(seen) < 200 * 4 + 300
    assert "[result cut: showing about 200 of" in seen
    assert "Ask a narrower question" in seen


async def test_the_final_answer_streams_in_pieces_that_add_up_to_the_answer(make_agent: AgentFactory) -> None:
    model = ScriptedModel(
        [ToolCall(name="notes__get_note", arguments={"topic": "router"}), "OPNsense, firmware 24.7."]
    )
    pieces: list[str] = []
    async with make_agent(model) as agent:
        result = await agent.run("router?", on_text=pieces.append)
    assert len(pieces) > 1
    assert "".join(pieces) == result.answer


async def test_every_step_is_traced_with_model_time_tokens_and_tool_durations(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel([ToolCall(name="notes__get_note", arguments={"topic": "router"}), "done"])
    seen_steps: list[int] = []
    async with make_agent(model) as agent:
        result = await agent.run("router?", on_step=lambda s: seen_steps.append(s.index))
    assert seen_steps == [1, 2]
    first = result.steps[0]
    assert first.model == "scripted" and first.model_s >= 0 and first.usage.output_tokens > 0
    assert first.tool_calls[0].arguments == {"topic": "router"}
    dumped = result.model_dump(mode="json")
    assert dumped["steps"][0]["tool_calls"][0]["name"] == "notes__get_note"
    assert "messages" not in dumped


async def test_a_stdio_server_answers_tool_calls_like_an_in_process_one(make_agent: AgentFactory) -> None:
    model = ScriptedModel([ToolCall(name="notes__get_note", arguments={"topic": "router"}), "OPNsense."])
    async with make_agent(model, stdio=True) as agent:
        result = await agent.run("router?")
    assert "OPNsense on the N100 box" in result.steps[0].tool_calls[0].result
    assert result.answer == "OPNsense."


async def test_a_crashed_stdio_server_gives_a_clear_error_and_restarts_on_next_use(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(
        [
            ToolCall(name="notes__crash", arguments={}),
            ToolCall(name="notes__get_note", arguments={"topic": "backup"}),
            "Recovered.",
        ]
    )
    async with make_agent(model, stdio=True) as agent:
        result = await agent.run("crash it")
    crash = result.steps[0].tool_calls[0]
    assert crash.is_error
    assert "MCP server 'notes' failed during 'crash'" in crash.result
    assert "restarted on the next call" in crash.result
    assert "Nightly ZFS snapshots" in result.steps[1].tool_calls[0].result


async def test_a_hung_tool_times_out_with_a_clear_error_and_the_server_restarts(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(
        [
            ToolCall(name="notes__hang", arguments={"seconds": 30}),
            ToolCall(name="notes__get_note", arguments={"topic": "router"}),
            "ok",
        ]
    )
    async with make_agent(model, stdio=True, timeout_s=1.5) as agent:
        result = await agent.run("hang")
    hung = result.steps[0].tool_calls[0]
    assert hung.is_error and "did not answer within 2s" in hung.result
    assert "OPNsense" in result.steps[1].tool_calls[0].result


async def test_the_first_turn_requires_a_tool_call_and_later_turns_leave_the_choice_to_the_model(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel([ToolCall(name="notes__get_note", arguments={"topic": "router"}), "OPNsense."])
    async with make_agent(model) as agent:
        await agent.run("router?")
    assert [r.tool_choice for r in model.requests] == ["required", "auto"]


async def test_first_step_auto_lets_the_model_answer_without_tools(make_agent: AgentFactory) -> None:
    model = ScriptedModel(["Hello!"])
    async with make_agent(model, first_step="auto") as agent:
        result = await agent.run("hi")
    assert result.answer == "Hello!" and model.requests[0].tool_choice == "auto"


async def test_a_call_repeated_from_earlier_in_the_run_is_not_run_again_and_an_answer_asked_for(
    make_agent: AgentFactory,
) -> None:
    lookup = ToolCall(name="notes__get_note", arguments={"topic": "backup"})
    model = ScriptedModel([lookup, lookup.model_copy(update={"id": "call_again"}), "Snapshots at 02:00."])
    async with make_agent(model) as agent:
        result = await agent.run("When do backups run?")
    assert result.answer == "Snapshots at 02:00."
    assert [len(s.tool_calls) for s in result.steps] == [1, 0, 0]  # run once
    assert [c.name for c in result.steps[1].repeated] == ["notes__get_note"]  # the trace shows it
    assert [r.tool_choice for r in model.requests] == ["required", "auto", "none"]
    assert model.requests[2].messages[:-1] == model.requests[1].messages[:-1]  # the same conversation...
    assert model.requests[2].tools == [] and model.requests[1].tools  # ...shown without tools
    reminder = model.requests[2].messages[-1]  # and not invited to call one
    assert reminder.is_reminder and "tool" not in reminder.content
    assert reminder.content.endswith("When do backups run?")
    assert "repeated notes__get_note(topic='backup')" in render_trace(result)


async def test_a_correction_is_marked_as_the_loops_own_turn(make_agent: AgentFactory) -> None:
    broken = ModelResponse(raw="<tool_call>{", parse_error="the JSON is cut off")
    model = ScriptedModel([broken, "02:00."])
    async with make_agent(model) as agent:
        await agent.run("backups?")
    question, correction = [m for m in model.requests[1].messages if m.role == "user"]
    assert not question.is_correction and correction.is_correction


async def test_after_tool_results_the_question_is_said_again_for_that_turn_only(
    make_agent: AgentFactory,
) -> None:
    model = ScriptedModel(
        script=[ToolCall(name="notes__get_note", arguments={"topic": "backup"}), "Snapshots."]
    )
    async with make_agent(model) as agent:
        result = await agent.run("How long are backups kept?")
    asked = model.requests[1].messages
    assert asked[-2].role == "tool"
    assert asked[-1].is_reminder and asked[-1].content.endswith(": How long are backups kept?")
    assert [m.role for m in result.messages] == ["system", "user", "assistant", "tool", "assistant"]
    plain = ScriptedModel(
        script=[ToolCall(name="notes__get_note", arguments={"topic": "backup"}), "Snapshots."]
    )
    async with make_agent(plain, restate_question=False) as agent:
        await agent.run("How long are backups kept?")
    assert plain.requests[1].messages[-1].role == "tool"


async def test_the_trace_says_when_the_first_answer_token_came_also_without_a_listener(
    make_agent: AgentFactory,
) -> None:
    lookup = ToolCall(name="notes__get_note", arguments={"topic": "backup"})
    model = ScriptedModel([lookup, "Snapshots run at 02:00."], delay_s=0.01)
    async with make_agent(model) as agent:
        result = await agent.run("When do backups run?")  # no on_text, as in the benchmarks
    call_step, answer_step = result.steps
    assert call_step.first_token_s is None  # a tool call streams no answer
    assert answer_step.first_token_s is not None and answer_step.first_token_s <= answer_step.model_s
    assert result.first_token_s is not None
    assert call_step.model_s <= result.first_token_s <= result.duration_s
    assert f"first answer token {result.first_token_s:.2f}s" in render_trace(result)


async def test_the_trace_gives_tokens_per_second_of_each_step(make_agent: AgentFactory) -> None:
    answer = ModelResponse(
        text="Snapshots run at 02:00.",
        usage=Usage(input_tokens=300, cached_tokens=100, output_tokens=40, prefill_s=2.0, decode_s=4.0),
    )
    async with make_agent(ScriptedModel([answer]), first_step="auto") as agent:
        result = await agent.run("When do backups run?")
    (step,) = result.steps
    assert (step.prefill_tok_s, step.decode_tok_s) == (100.0, 10.0)
    assert "prefill 2.00s (100 tok/s) decode 4.00s (10.0 tok/s)" in render_trace(result)
    assert result.model_dump(mode="json")["steps"][0]["decode_tok_s"] == 10.0  # also in --json and serve

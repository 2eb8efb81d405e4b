"""One answer to "may this call run?": unknown tools, invented arguments, off-schema values."""

from __future__ import annotations

from agent.messages import ToolCall, ToolSpec
from agent.validation import check_call

OVERDUE = ToolSpec(
    name="kb__overdue_tasks",
    parameters={"type": "object", "properties": {"project": {"type": "string"}}},
)
SEARCH = ToolSpec(
    name="kb__search_tasks",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)
TOOLS = [OVERDUE, SEARCH]


def test_a_call_that_fits_its_schema_may_run() -> None:
    assert check_call(ToolCall(name="kb__search_tasks", arguments={"query": "nas"}), TOOLS) is None
    assert check_call(ToolCall(name="kb__overdue_tasks", arguments={}), TOOLS) is None


def test_an_unknown_tool_is_answered_with_the_names_of_the_real_ones() -> None:
    problem = check_call(ToolCall(name="get_weather", arguments={}), TOOLS)
    assert problem is not None and problem.kind == "unknown_tool"
    assert problem.message == (
        "there is no tool named 'get_weather'; the tools are: kb__overdue_tasks, kb__search_tasks"
    )


def test_a_missing_or_mistyped_argument_names_the_problem_and_the_parameters() -> None:
    missing = check_call(ToolCall(name="kb__search_tasks", arguments={}), TOOLS)
    assert missing is not None and missing.kind == "invalid_arguments"
    assert missing.message == (
        "arguments for kb__search_tasks are invalid: 'query' is a required property. "
        "Its parameters are: query"
    )
    typed = check_call(ToolCall(name="kb__search_tasks", arguments={"query": 3}), TOOLS)
    assert typed is not None and "query: 3 is not of type 'string'" in typed.message


def test_an_invented_argument_is_refused_even_when_the_schema_does_not_forbid_it() -> None:
    call = ToolCall(name="kb__overdue_tasks", arguments={"project": "Homelab", "due": "today"})
    problem = check_call(call, TOOLS)
    assert problem is not None and problem.kind == "invalid_arguments"
    assert "unknown argument(s) due" in problem.message and "Its parameters are: project" in problem.message


def test_a_schema_that_forbids_extras_reports_the_invented_argument_once() -> None:
    strict = OVERDUE.model_copy(update={"parameters": {**OVERDUE.parameters, "additionalProperties": False}})
    problem = check_call(ToolCall(name="kb__overdue_tasks", arguments={"owner": "x"}), [strict])
    assert problem is not None
    assert problem.message.count("owner") == 1

"""The tool-call parser on recorded real outputs, hand-written samples of other families, and noise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.models.toolcalls import AnswerStream, parse_output
from tests.models.conftest import KANBOARD_TOOLS

DATA = Path(__file__).parent / "data"
NAMES = [t.name for t in KANBOARD_TOOLS] + ["kanboard__list_projects", "kanboard__tasks_by_assignee"]


def recorded(pattern: str) -> list[Path]:
    return sorted(DATA.glob(pattern))


@pytest.mark.parametrize(
    "path", recorded("q*_overdue.txt") + recorded("q*_search.txt") + recorded("q*_assignee.txt"), ids=str
)
def test_recorded_qwen_outputs_for_tool_questions_parse_into_known_calls(path: Path) -> None:
    parsed = parse_output(path.read_text(), NAMES)
    assert parsed.error is None
    assert parsed.tool_calls, f"no call found in {path.name}"
    assert all(call.name in NAMES for call in parsed.tool_calls)


def test_recordings_exist_for_both_qwen_models() -> None:
    tags = {p.name.split("_")[0] for p in recorded("q*_*.txt")}
    assert {"q05", "q15"} <= tags


def test_hermes_output_with_two_tool_call_tags_gives_two_calls() -> None:
    parsed = parse_output((DATA / "hand_hermes_two_calls.txt").read_text(), NAMES)
    assert [(c.name, c.arguments) for c in parsed.tool_calls] == [
        ("kanboard__overdue_tasks", {"project": "Homelab"}),
        ("kanboard__search_tasks", {"query": "backup"}),
    ]


def test_llama3_python_tag_call_with_parameters_key_is_read() -> None:
    parsed = parse_output((DATA / "hand_llama3_python_tag.txt").read_text(), NAMES)
    assert parsed.tool_calls[0].arguments == {"query": "TLS certificate", "project": "Homelab"}


def test_llama3_function_object_is_read() -> None:
    parsed = parse_output((DATA / "hand_llama3_function_object.txt").read_text(), NAMES)
    assert parsed.tool_calls[0].name == "kanboard__overdue_tasks"


def test_mistral_tool_calls_list_is_read() -> None:
    parsed = parse_output((DATA / "hand_mistral_tool_calls.txt").read_text(), NAMES)
    assert parsed.tool_calls[0].arguments == {"project": "Homelab"}


def test_mistral_v11_name_and_args_form_is_read() -> None:
    parsed = parse_output((DATA / "hand_mistral_v11.txt").read_text(), NAMES)
    assert parsed.tool_calls[0].name == "kanboard__search_tasks"
    assert parsed.tool_calls[0].arguments == {"query": "backup"}


def test_fenced_json_call_is_read_with_pretty_printing() -> None:
    raw = (
        '```json\n{\n  "name": "kanboard__overdue_tasks",\n'
        '  "arguments": {\n    "project": "Homelab"\n  }\n}\n```'
    )
    assert parse_output(raw, NAMES).tool_calls[0].arguments == {"project": "Homelab"}


def test_bare_json_objects_on_separate_lines_are_several_calls() -> None:
    raw = (
        '{"name": "kanboard__overdue_tasks", "arguments": {}}\n'
        '{"name": "kanboard__search_tasks", "arguments": {"query": "x"}}'
    )
    assert [c.name for c in parse_output(raw, NAMES).tool_calls] == [
        "kanboard__overdue_tasks",
        "kanboard__search_tasks",
    ]


def test_json_list_of_calls_is_read() -> None:
    raw = (
        '[{"name": "kanboard__list_projects", "arguments": {}}, '
        '{"name": "kanboard__overdue_tasks", "parameters": {}}]'
    )
    assert len(parse_output(raw, NAMES).tool_calls) == 2


def test_arguments_given_as_a_json_string_are_decoded() -> None:
    raw = '<tool_call>{"name": "kanboard__search_tasks", "arguments": "{\\"query\\": \\"nas\\"}"}</tool_call>'
    assert parse_output(raw, NAMES).tool_calls[0].arguments == {"query": "nas"}


def test_text_before_a_call_is_kept_as_the_response_text() -> None:
    raw = 'Let me look.\n<tool_call>\n{"name": "kanboard__list_projects", "arguments": {}}\n</tool_call>'
    parsed = parse_output(raw, NAMES)
    assert parsed.text == "Let me look."
    assert parsed.tool_calls[0].name == "kanboard__list_projects"


def test_an_unclosed_tool_call_tag_at_the_end_is_still_read() -> None:
    raw = '<tool_call>\n{"name": "kanboard__list_projects", "arguments": {}}'
    assert parse_output(raw, NAMES).tool_calls[0].name == "kanboard__list_projects"


def test_a_call_missing_its_last_brace_is_repaired() -> None:
    raw = '<tool_call>{"name": "kanboard__search_tasks", "arguments": {"query": "nas"}</tool_call>'
    assert parse_output(raw, NAMES).tool_calls[0].arguments == {"query": "nas"}


def test_plain_text_is_the_final_answer() -> None:
    parsed = parse_output("  Two tasks are overdue: Renew TLS certificate and Replace UPS battery.\n", NAMES)
    assert parsed.tool_calls == [] and parsed.error is None
    assert parsed.text == "Two tasks are overdue: Renew TLS certificate and Replace UPS battery."


def test_json_that_is_not_call_shaped_stays_part_of_the_answer() -> None:
    raw = 'Here is the task:\n```json\n{"name": "Renew TLS certificate", "due": "2026-11-18"}\n```'
    parsed = parse_output(raw, NAMES)
    assert parsed.tool_calls == [] and parsed.error is None


def test_broken_json_inside_a_tool_call_tag_gives_an_actionable_parse_error() -> None:
    parsed = parse_output(
        '<tool_call>\n{"name": "kanboard__search_tasks", "arguments": {"query": }\n</tool_call>', NAMES
    )
    assert parsed.tool_calls == []
    assert parsed.error is not None
    assert "invalid JSON" in parsed.error and "<tool_call>" in parsed.error


def test_a_fenced_call_with_broken_json_gives_a_parse_error() -> None:
    parsed = parse_output('```json\n{"name": "kanboard__search_tasks", "arguments": {"query": ]}\n```', NAMES)
    assert parsed.error is not None


def test_a_tag_without_a_name_gives_a_parse_error() -> None:
    parsed = parse_output('<tool_call>{"arguments": {}}</tool_call>', NAMES)
    assert parsed.error is not None and '"name"' in parsed.error


def test_parse_error_hint_uses_the_given_call_syntax() -> None:
    parsed = parse_output("[TOOL_CALLS][{oops", NAMES, hint="[TOOL_CALLS][...]")
    assert parsed.error is not None and "[TOOL_CALLS][...]" in parsed.error


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_makes_the_parser_raise(raw: str) -> None:
    parsed = parse_output(raw, NAMES)
    assert isinstance(parsed.text, str)


FRAGMENTS = [
    "<tool_call>",
    "</tool_call>",
    "<|python_tag|>",
    "[TOOL_CALLS]",
    "[ARGS]",
    "```json",
    "```",
    "{",
    "}",
    "[",
    "]",
    '"name"',
    '"arguments"',
    '"parameters"',
    ":",
    ",",
    '"',
    "\\",
    "\n",
    "kanboard__search_tasks",
    "null",
    "1e999",
    "[" * 50,
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=30))
def test_call_like_noise_never_makes_the_parser_raise(pieces: list[str]) -> None:
    parsed = parse_output("".join(pieces), NAMES)
    assert parsed.error is None or parsed.tool_calls == []
    assert all(isinstance(c.arguments, dict) for c in parsed.tool_calls)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=7))
def test_answer_stream_sends_exactly_the_final_answer_for_plain_text(text: str, size: int) -> None:
    sent: list[str] = []
    stream = AnswerStream(sent.append)
    for i in range(0, len(text), size):
        stream.feed(text[i : i + size])
    parsed = parse_output(text, NAMES)
    stream.finish(parsed)
    if not parsed.tool_calls and parsed.error is None:
        assert "".join(sent).strip() == text.strip()


def test_answer_stream_sends_nothing_for_a_tool_call() -> None:
    sent: list[str] = []
    stream = AnswerStream(sent.append)
    raw = '<tool_call>\n{"name": "kanboard__list_projects", "arguments": {}}\n</tool_call>'
    for char in raw:
        stream.feed(char)
    stream.finish(parse_output(raw, NAMES))
    assert sent == []


def test_answer_stream_sends_text_as_it_comes_but_not_a_call_that_follows() -> None:
    sent: list[str] = []
    stream = AnswerStream(sent.append)
    for piece in ["Let", " me", " check", ".\n", "<tool", "_call>", '{"name": "x", "arguments": {}}']:
        stream.feed(piece)
    assert "".join(sent) == "Let me check.\n"
    assert len(sent) >= 3


def test_a_recorded_runaway_list_of_calls_cut_off_mid_json_still_parses() -> None:
    raw = (DATA / "q05_after_result.txt").read_text()
    parsed = parse_output(raw, NAMES)
    assert parsed.tool_calls or parsed.error


def test_the_recorded_answer_after_a_tool_result_is_plain_text() -> None:
    parsed = parse_output((DATA / "q15_after_result.txt").read_text(), NAMES)
    assert parsed.tool_calls == [] and "Renew TLS certificate" in parsed.text

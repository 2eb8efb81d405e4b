"""Each catalog family's real chat template (tests/models/data): where tools, calls and results go,
and that a call written the way the template writes it parses back into the same call.

Families: Qwen2.5 and Qwen3 (Hermes `<tool_call>`), Llama 3.1 (JSON with `parameters`, results in
the `ipython` role), Mistral Nemo (`[AVAILABLE_TOOLS]`, `[TOOL_CALLS]`, `[TOOL_RESULTS]`), Gemma 3
(no tool support: tools and calls go in the prompt as text).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.messages import Message, ToolCall
from agent.models.chat_template import HERMES, LLAMA3, MISTRAL, CallSyntax, ChatTemplate
from agent.models.toolcalls import parse_output
from tests.models.conftest import KANBOARD_TOOLS

DATA = Path(__file__).parent / "data"
NAMES = [t.name for t in KANBOARD_TOOLS]
SYSTEM = "You answer questions about Kanboard."
CALL = ToolCall(name="kanboard__overdue_tasks", arguments={"project": "Homelab"}, id="call_1")
SECOND = ToolCall(name="kanboard__search_tasks", arguments={"query": "backup"}, id="call_2")
RESULT = '[{"id": 12,\n  "title": "Renew TLS certificate"}]'
CONVERSATION = [
    Message.system(SYSTEM),
    Message.user("What is overdue?"),
    Message.assistant("", [CALL]),
    Message.tool(CALL, RESULT),
]


def template(name: str, **kwargs: str) -> ChatTemplate:
    return ChatTemplate((DATA / f"{name}_chat_template.jinja").read_text(), **kwargs)


QWEN3 = template("qwen3")
LLAMA = template("llama3.1", bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
NEMO = template("mistral_nemo", bos_token="<s>", eos_token="</s>")
GEMMA = template("gemma3", bos_token="<bos>", eos_token="<eos>")


@pytest.mark.parametrize(
    ("chat", "syntax", "native"),
    [
        (template("qwen2.5"), HERMES, True),
        (QWEN3, HERMES, True),
        (LLAMA, LLAMA3, True),
        (NEMO, MISTRAL, True),
        (GEMMA, HERMES, False),
    ],
    ids=["qwen2.5", "qwen3", "llama3.1", "mistral-nemo", "gemma3"],
)
def test_each_family_s_call_syntax_and_tool_support_come_from_its_template(
    chat: ChatTemplate, syntax: CallSyntax, native: bool
) -> None:
    assert chat.syntax == syntax and chat.supports_tools is native


def calls_in(raw: str) -> list[tuple[str, dict[str, object]]]:
    parsed = parse_output(raw, NAMES)
    assert parsed.error is None, parsed.error
    return [(c.name, c.arguments) for c in parsed.tool_calls]


def test_qwen3_lists_tools_in_the_system_turn_and_starts_the_answer_with_thinking_off() -> None:
    prompt = QWEN3.render(CONVERSATION, KANBOARD_TOOLS)
    assert prompt.startswith(f"<|im_start|>system\n{SYSTEM}\n\n# Tools\n")
    assert '"name": "kanboard__search_tasks"' in prompt.split("\n</tools>")[0]
    assert (
        '<|im_start|>user\n<tool_response>\n[{"id":12,"title":"Renew TLS certificate"}]\n</tool_response>'
        in prompt
    )
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    written = re.search(r"<\|im_start\|>assistant\n(<tool_call>.*?</tool_call>)", prompt, re.DOTALL)
    assert written and calls_in(written.group(1)) == [(CALL.name, CALL.arguments)]


def test_llama31_puts_tools_in_the_first_user_turn_and_results_in_the_ipython_role() -> None:
    prompt = LLAMA.render(CONVERSATION, KANBOARD_TOOLS)
    assert prompt.startswith(
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n"
    )
    user = prompt.split("<|start_header_id|>user<|end_header_id|>\n\n")[1]
    assert user.startswith("Given the following functions") and user.split("<|eot_id|>")[0].endswith(
        "What is overdue?"
    )
    call = '{"name": "kanboard__overdue_tasks", "parameters": {"project": "Homelab"}}'
    assert f"<|start_header_id|>assistant<|end_header_id|>\n\n{call}<|eot_id|>" in prompt
    assert '<|start_header_id|>ipython<|end_header_id|>\n\n"[{\\"id\\":12' in prompt  # the template quotes it
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert calls_in(call) == calls_in(f"<|python_tag|>{call}") == [(CALL.name, CALL.arguments)]


def test_llama31_takes_two_calls_of_one_turn_as_two_turns_each_followed_by_its_result() -> None:
    turn = [Message.system(SYSTEM), Message.user("Overdue, and the backup task?")]
    turn += [
        Message.assistant("", [CALL, SECOND]),
        Message.tool(CALL, "[]"),
        Message.tool(SECOND, '["backup"]'),
    ]
    prompt = LLAMA.render(turn, KANBOARD_TOOLS)  # the template itself raises on two calls in one turn
    order = [
        prompt.index(s)
        for s in (
            '"kanboard__overdue_tasks", "parameters"',
            '"[]"',
            '"kanboard__search_tasks", "parameters"',
            '"[\\"backup\\"]"',
        )
    ]
    assert order == sorted(order)


def test_mistral_nemo_offers_tools_before_the_question_and_pairs_calls_and_results_by_9_character_ids() -> (
    None
):
    prompt = NEMO.render(CONVERSATION, KANBOARD_TOOLS)
    assert prompt.startswith(
        '<s>[AVAILABLE_TOOLS][{"type": "function", "function": {"name": "kanboard__overdue_tasks"'
    )
    assert f"[/AVAILABLE_TOOLS][INST]{SYSTEM}\n\nWhat is overdue?[/INST]" in prompt  # the system prompt stays
    written = re.search(r"\[TOOL_CALLS\]\[.*?\]</s>", prompt)
    assert written and calls_in(written.group(0).removesuffix("</s>")) == [(CALL.name, CALL.arguments)]
    call_id = json.loads(written.group(0).removeprefix("[TOOL_CALLS]").removesuffix("</s>"))[0]["id"]
    assert re.fullmatch("[0-9a-z]{9}", call_id)
    result = '[{"id":12,"title":"Renew TLS certificate"}]'
    assert prompt.endswith(f'[TOOL_RESULTS]{{"content": {result}, "call_id": "{call_id}"}}[/TOOL_RESULTS]')
    # llama.cpp drops control tokens from the text it returns: the bare list must parse the same
    bare = written.group(0).removeprefix("[TOOL_CALLS]").removesuffix("</s>")
    assert calls_in(bare) == [(CALL.name, CALL.arguments)]


def test_mistral_nemo_gets_a_text_tool_result_as_a_json_string() -> None:
    turn = [*CONVERSATION[:3], Message.tool(CALL, "No task is overdue.")]
    prompt = NEMO.render(turn, KANBOARD_TOOLS)
    payload = prompt.split("[TOOL_RESULTS]")[1].removesuffix("[/TOOL_RESULTS]")
    assert json.loads(payload)["content"] == "No task is overdue."


def test_mistral_nemo_keeps_the_system_prompt_in_a_follow_up_question() -> None:
    turn = [*CONVERSATION, Message.assistant("Renew TLS certificate."), Message.user("And for alice?")]
    prompt = NEMO.render(turn, KANBOARD_TOOLS)
    assert prompt.count(SYSTEM) == 1 and prompt.endswith(f"[INST]{SYSTEM}\n\nAnd for alice?[/INST]")
    assert prompt.index("[AVAILABLE_TOOLS]") > prompt.index("Renew TLS certificate.</s>")


def test_gemma3_has_no_tool_support_so_tools_calls_and_results_go_in_the_turns_as_text() -> None:
    prompt = GEMMA.render(CONVERSATION, KANBOARD_TOOLS)
    assert prompt.startswith(f"<bos><start_of_turn>user\n{SYSTEM}\n\n# Tools")
    assert '"name": "kanboard__search_tasks"' in prompt.split("<end_of_turn>")[0]
    written = re.search(r"<start_of_turn>model\n(<tool_call>.*?</tool_call>)<end_of_turn>", prompt, re.DOTALL)
    assert written and calls_in(written.group(1)) == [(CALL.name, CALL.arguments)]
    assert (
        '<start_of_turn>user\n<tool_response>\n[{"id":12,"title":"Renew TLS certificate"}]\n</tool_response>'
        in prompt
    )
    assert prompt.endswith("<start_of_turn>model\n")


@pytest.mark.parametrize(
    "chat",
    [template("qwen2.5"), QWEN3, LLAMA, NEMO, GEMMA],
    ids=["qwen2.5", "qwen3", "llama3.1", "mistral-nemo", "gemma3"],
)
def test_every_family_renders_a_whole_agent_run_and_a_follow_up(chat: ChatTemplate) -> None:
    run = [*CONVERSATION, Message.assistant("One task: Renew TLS certificate."), Message.user("Who owns it?")]
    short = chat.render(CONVERSATION[:2], KANBOARD_TOOLS)
    full = chat.render(run, KANBOARD_TOOLS)
    assert "Who owns it?" in full and "Renew TLS certificate" in full and len(full) > len(short)

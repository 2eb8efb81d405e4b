"""What the tool definitions of our MCP servers cost in prompt tokens, with a real tokenizer.

    .venv/bin/python benchmarks/tool_tokens.py                    # the 0.5B's Qwen tokenizer
    .venv/bin/python benchmarks/tool_tokens.py --model PATH.gguf

Both servers run in-process (Kanboard on its demo board, Docker without an engine: listing tools
calls neither) behind one `Toolbox`, tools prefixed `server__tool` as the agent shows them. The
cost of a set of tools is the tokens of the rendered prompt (the default system prompt and one
question, through the model's own chat template) with the tools, minus the same prompt without
tools; per tool, what removing that one tool saves. Also printed: the `homelab-agent tools`
estimate (`agent.tokens.estimate_tokens` of the JSON). Only the tokenizer is used: the weights are
mapped by the llama backend's loader, never run.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import anyio

from agent.messages import Message, ToolSpec
from agent.models.chat_template import ChatTemplate
from agent.models.hardware import read_gguf
from agent.models.llama.loading import load_llama
from agent.models.settings import LlamaSettings
from agent.system_prompt import default_system_prompt
from agent.tokens import estimate_tokens
from agent.toolsets.mcp import list_server_tools
from homelab_common.logs import configure_logging
from tools.docker import DockerSettings
from tools.docker import build_server as docker_server
from tools.kanboard import KanboardSettings
from tools.kanboard import build_server as kanboard_server

DEFAULT_MODEL = Path("~/.cache/homelab-agent/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").expanduser()
QUESTION = "Is Kanboard running, and what is overdue on it?"


async def tool_specs(writes: bool) -> list[ToolSpec]:
    """Every tool of both servers, as the agent lists them."""
    kanboard = kanboard_server(KanboardSettings(enable_writes=writes))
    return await list_server_tools({"kanboard": kanboard, "docker": docker_server(DockerSettings())})


class Counter:
    """Prompt tokens of the question with a given set of tools."""

    def __init__(self, path: Path) -> None:
        info = read_gguf(path)
        # through the llama backend's loader (only it imports llama_cpp): weights mapped, never run
        self._vocab, _ = load_llama(path, LlamaSettings(n_ctx=512, n_gpu_layers=0), name="tokenizer")
        self._template = ChatTemplate(info.chat_template, architecture=info.architecture)
        self._messages = [Message.system(default_system_prompt()), Message.user(QUESTION)]

    def tokens(self, tools: Sequence[ToolSpec]) -> int:
        prompt = self._template.render(self._messages, tools)
        return len(self._vocab.tokenize(prompt.encode(), add_bos=False, special=True))


def _estimate(tools: Sequence[ToolSpec]) -> int:
    return sum(
        estimate_tokens(json.dumps(t.model_dump(include={"name", "description", "parameters"})))
        for t in tools
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="a GGUF whose tokenizer counts")
    parser.add_argument("--writes", action="store_true", help="also Kanboard's write tools")
    args = parser.parse_args()
    configure_logging("error")
    specs = anyio.run(tool_specs, args.writes)
    counter = Counter(args.model)
    base = counter.tokens([])
    total = counter.tokens(specs) - base
    print(f"tokenizer: {args.model.name}; prompt without tools: {base} tokens\n")
    print(f"{'tool':<34} {'read-only':>9} {'tokens':>6} {'estimate':>8}")
    for spec in specs:
        others = [s for s in specs if s.name != spec.name]
        saved = counter.tokens(specs) - counter.tokens(others)
        print(f"{spec.name:<34} {spec.read_only!s:>9} {saved:>6} {_estimate([spec]):>8}")
    print()
    for server in ("kanboard", "docker"):
        mine = [s for s in specs if s.name.startswith(f"{server}__")]
        cost = counter.tokens(mine) - base
        print(f"{server:<10} {len(mine):>2} tools: {cost:>5} tokens (estimate {_estimate(mine)})")
    reads = [s for s in specs if s.read_only]
    cost = counter.tokens(reads) - base
    print(f"both, reads {len(reads):>2} tools: {cost:>5} tokens (estimate {_estimate(reads)})")
    print(f"both, all   {len(specs):>2} tools: {total:>5} tokens (estimate {_estimate(specs)})")


if __name__ == "__main__":
    main()

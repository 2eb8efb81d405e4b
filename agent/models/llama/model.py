"""`LocalModel`: one turn of a GGUF model through llama-cpp-python, from messages to a response.

A turn renders the conversation with the model's own chat template (only the template's own control
tokens are tokenized as such: control-token text inside questions, answers, tool results and tool
definitions is tokenized as text), reuses what the KV cache already holds (`kv_cache`), samples
until the end of the turn (`sampler`), with a grammar in constrained mode (`grammars`), and parses
the output into calls or an answer (`agent.models.toolcalls`). One lock per model: concurrent
requests queue; generation runs in a worker thread that stops at the next token when the caller is
cancelled.

It answers what it is asked; what to ask (tools offered, answer only, repeated calls) is the
loop's business. Not here: loading (`loading`), templates (`chat_template`).
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import llama_cpp
import numpy as np
import structlog

from agent.exceptions import ContextOverflowError, ModelError
from agent.messages import Message, ModelResponse, ToolSpec, Usage
from agent.models.base import TextSink, ToolChoice
from agent.models.chat_template import ChatTemplate
from agent.models.hardware import GgufInfo
from agent.models.llama import shim
from agent.models.llama.grammars import GrammarCache
from agent.models.llama.kv_cache import PrefixCache
from agent.models.llama.loading import load_llama
from agent.models.llama.sampler import Sampler
from agent.models.settings import LlamaSettings
from agent.models.toolcalls import AnswerStream, ParsedOutput, parse_output

__all__ = ["LocalModel"]

log = structlog.get_logger(__name__)

_MIB = 1024**2


@dataclass
class _Generation:
    raw: str
    parsed: ParsedOutput
    usage: Usage
    constrained: bool


class LocalModel:
    """A GGUF model answering through llama-cpp-python. Build it with `LocalModel.load`."""

    def __init__(self, llm: llama_cpp.Llama, info: GgufInfo, settings: LlamaSettings, *, name: str) -> None:
        shim.check(llm)
        self._llm = llm
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._info = info
        self._settings = settings
        self._name = name
        self._template = ChatTemplate(
            info.chat_template,
            architecture=info.architecture,
            bos_token=self._token_text(llm.token_bos()),
            eos_token=self._token_text(llm.token_eos()),
            control_tokens=self._control_tokens(),
        )
        self._add_bos = bool(info.metadata.get("tokenizer.ggml.add_bos_token", False))
        self._cache = PrefixCache(llm, settings.cache_ram_mb * _MIB)
        self._grammars = GrammarCache(self._vocab, self._template.syntax, name)
        self._queue = anyio.Lock()  # FIFO order for waiting requests
        self._lock = threading.Lock()  # one generation at a time, even after a cancelled wait
        self._closed = False

    @classmethod
    def load(
        cls,
        path: Path,
        settings: LlamaSettings,
        *,
        name: str = "local",
        ram_available: int | None = None,
        free_vram: int | None = None,
    ) -> LocalModel:
        """Check and load `path` (see `loading.load_llama`): blocking, seconds for a small model.

        Raises:
            ModelNotFoundError: no file at `path`.
            ModelLoadError: not a GGUF file, corrupt, too large for this machine, or a
                llama-cpp-python this backend was not written for (`shim`).
        """
        llm, info = load_llama(path, settings, name=name, ram_available=ram_available, free_vram=free_vram)
        try:
            return cls(llm, info, settings, name=name)
        except BaseException:
            llm.close()
            raise

    @property
    def name(self) -> str:
        """The model's name in traces."""
        return self._name

    @property
    def info(self) -> GgufInfo:
        """What the GGUF header says about this model."""
        return self._info

    @property
    def n_threads(self) -> int:
        """CPU threads llama.cpp generates with."""
        return int(self._llm.context_params.n_threads)

    @property
    def template(self) -> ChatTemplate:
        """The chat template prompts are rendered with."""
        return self._template

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _control_tokens(self) -> list[str]:
        """The text of every control token in the vocabulary (`<|im_start|>`, `</s>`, ...)."""
        control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        ids = [
            i for i in range(self._llm.n_vocab()) if llama_cpp.llama_vocab_get_attr(self._vocab, i) & control
        ]
        return [self._token_text(i) for i in ids]

    def tokenize(self, prompt: str) -> list[int]:
        """The tokens of a prompt written by us in full (control-token text in it is parsed)."""
        return self._with_bos(self._llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def prompt_tokens(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[int]:
        """The tokens `respond` feeds for a conversation: control tokens only where the template put them."""
        tokens: list[int] = []
        for text, special in self._template.render_parts(messages, tools):
            tokens += self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)
        return self._with_bos(tokens)

    def _with_bos(self, tokens: list[int]) -> list[int]:
        bos = self._llm.token_bos()
        if self._add_bos and bos >= 0 and (not tokens or tokens[0] != bos):
            tokens.insert(0, bos)
        return tokens

    async def respond(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        *,
        on_text: TextSink | None = None,
        tool_choice: ToolChoice = "auto",
        calls: Sequence[ToolSpec] | None = None,
    ) -> ModelResponse:
        """Generate one turn: parsed tool calls, or a final answer streamed through `on_text`.

        In constrained mode the grammar admits only a call with `tool_choice="required"`, and only
        an answer with `"none"`; a call must fit `calls` when given (the prompt shows `tools`).
        """
        if self._closed:
            raise ModelError(f"model {self._name!r} is closed")
        cancel = threading.Event()
        async with self._queue:
            try:
                gen = await anyio.to_thread.run_sync(
                    self._generate,
                    list(messages),
                    list(tools),
                    on_text,
                    cancel,
                    tool_choice,
                    None if calls is None else list(calls),
                    abandon_on_cancel=True,
                )
            except anyio.get_cancelled_exc_class():
                cancel.set()
                raise
        usage = gen.usage
        log.info(
            "model.respond",
            model=self._name,
            input_tokens=usage.input_tokens,
            cached_tokens=usage.cached_tokens,
            output_tokens=usage.output_tokens,
            prefill_s=round(usage.prefill_s, 3),
            decode_s=round(usage.decode_s, 3),
            tool_calls=len(gen.parsed.tool_calls),
            parse_error=gen.parsed.error is not None,
            constrained=gen.constrained,
        )
        log.debug("model.output", model=self._name, raw=gen.raw)
        return ModelResponse(
            text=gen.parsed.text,
            tool_calls=gen.parsed.tool_calls,
            usage=usage,
            model=self._name,
            raw=gen.raw,
            parse_error=gen.parsed.error,
        )

    def _generate(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        on_text: TextSink | None,
        cancel: threading.Event,
        tool_choice: ToolChoice = "auto",
        calls: list[ToolSpec] | None = None,
    ) -> _Generation:
        """Run in a worker thread: wait for the model, then generate and parse one turn."""

        def emit(piece: str) -> None:
            if on_text is not None and not cancel.is_set():
                try:
                    anyio.from_thread.run_sync(on_text, piece)
                except RuntimeError:
                    cancel.set()  # the event loop is gone

        with self._lock:
            if cancel.is_set():
                return _Generation("", ParsedOutput(""), Usage(), constrained=False)
            settings = self._settings
            tokens = self.prompt_tokens(messages, tools)
            if len(tokens) >= settings.n_ctx - 8:
                raise ContextOverflowError(
                    f"the prompt is {len(tokens)} tokens but model {self._name!r} has "
                    f"n_ctx={settings.n_ctx}; raise models.{self._name}.n_ctx, lower "
                    "agent.tool_result_tokens, or start a new conversation"
                )
            grammar = None
            if settings.constrained and (tools or tool_choice == "none"):  # "none": an answer, always
                offered = [] if tool_choice == "none" else tools if calls is None else calls
                grammar = self._grammars.get(
                    offered, require_call=tool_choice == "required" and bool(offered)
                )
            names = [t.name for t in tools]
            stream = AnswerStream(emit)
            raw, usage = self._sample(tokens, grammar, stream, cancel)
            parsed = parse_output(raw, names, hint=self._template.syntax.hint)
            if not cancel.is_set():
                stream.finish(parsed)
        return _Generation(raw, parsed, usage, constrained=grammar is not None)

    def _sample(
        self, tokens: list[int], grammar: Any | None, stream: AnswerStream, cancel: threading.Event
    ) -> tuple[str, Usage]:
        """Evaluate what the KV cache lacks of `tokens`, then sample until end of turn or budget."""
        llm, settings = self._llm, self._settings
        ctx, n_vocab = llm.ctx, llm.n_vocab()
        sampler = Sampler(n_vocab, settings.temperature, grammar)
        budget = min(settings.max_tokens, settings.n_ctx - len(tokens))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        raw, produced = "", 0
        started = time.perf_counter()
        cached = self._cache.reuse(tokens)
        try:
            for i in range(cached, len(tokens), llm.n_batch):
                if cancel.is_set():
                    break
                llm.eval(tokens[i : i + llm.n_batch])
            first = time.perf_counter()
            while not cancel.is_set() and produced < budget:
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
                token = sampler.sample(logits)
                if token < 0 or llama_cpp.llama_vocab_is_eog(self._vocab, token):
                    break
                sampler.accept(token)
                produced += 1
                piece = decoder.decode(llm.detokenize([token]))
                raw += piece
                stream.feed(piece)
                if produced < budget:
                    llm.eval([token])
        except RuntimeError as exc:
            self._cache.forget()  # the KV cache may be inconsistent: start over next time
            raise ModelError(f"llama.cpp failed while generating: {exc}") from exc
        ended = time.perf_counter()
        raw += decoder.decode(b"", final=True)
        usage = Usage(
            input_tokens=len(tokens),
            cached_tokens=cached,
            output_tokens=produced,
            prefill_s=first - started,
            decode_s=ended - first,
        )
        return raw, usage

    async def aclose(self) -> None:
        """Free the weights once no generation is running."""
        if self._closed:
            return
        self._closed = True
        async with self._queue:
            await anyio.to_thread.run_sync(self._close_now)

    def _close_now(self) -> None:
        with self._lock:
            self._grammars.close()
            self._llm.close()

"""`LocalModel`: one turn of a GGUF model through llama-cpp-python, from messages to a response.

A turn renders the conversation with the model's own chat template (only the template's own control
tokens are tokenized as such: control-token text inside questions, answers, tool results and tool
definitions is tokenized as text), reuses what the KV cache already holds or a file saved of the
prompt's stable prefix (`kv_cache`; the stable prefix is what the prompt shares with any other
question after the same system message and tools), generates until the end of the turn
(`decoding`: speculatively, with guesses looked up in the prompt, unless `speculative = "off"`),
picking tokens with a grammar in constrained mode (`sampler`, `grammars`), and parses the output
into calls or an answer (`agent.models.toolcalls`). One lock per model: concurrent
requests queue; generation runs in a worker thread that stops at the next token when the caller is
cancelled.

It answers what it is asked; what to ask (tools offered, answer only, repeated calls) is the
loop's business. Not here: loading (`loading`), templates (`chat_template`).
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import llama_cpp
import structlog

from agent.exceptions import ContextOverflowError, ModelError
from agent.messages import Message, ModelResponse, ToolSpec, Usage
from agent.models.base import TextSink, ToolChoice, Turn
from agent.models.chat_template import ChatTemplate
from agent.models.hardware import GgufInfo
from agent.models.llama import shim
from agent.models.llama.decoding import decode
from agent.models.llama.grammars import GrammarCache
from agent.models.llama.kv_cache import PrefixCache, common_prefix
from agent.models.llama.loading import load_llama
from agent.models.llama.lookup import PromptLookup
from agent.models.llama.sampler import Sampler
from agent.models.prefix_states import PrefixStates, file_identity
from agent.models.settings import LlamaSettings
from agent.models.stops import StopText
from agent.models.toolcalls import AnswerStream, ParsedOutput, parse_output

__all__ = ["LocalModel"]

log = structlog.get_logger(__name__)

_MIB = 1024**2
_PROBES = ("A", "B")  # two questions that share no token: the stable prefix is what their prompts share
_STABLE_KEPT = 8  # stable-prefix lengths remembered per model (one per system prompt and tool list)


@dataclass
class _Generation:
    raw: str
    parsed: ParsedOutput
    usage: Usage
    constrained: bool
    stop: str | None = None  # the stop sequence the answer ended at


class LocalModel:
    """A GGUF model answering through llama-cpp-python. Build it with `LocalModel.load`."""

    def __init__(
        self,
        llm: llama_cpp.Llama,
        info: GgufInfo,
        settings: LlamaSettings,
        *,
        name: str,
        states: PrefixStates | None = None,
        identity: str = "",
    ) -> None:
        """Wrap a loaded `llm`; `states` (with the model file's `identity`) keeps stable prefixes on disk."""
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
        self._cache = PrefixCache(
            llm, settings.cache_ram_mb * _MIB, states if identity else None, self._state_key(identity)
        )
        self._stable: OrderedDict[str, list[int]] = OrderedDict()  # probe prompt tokens, by system + tools
        self._batch = (
            shim.Batch(settings.draft_tokens + 1) if settings.speculative == "prompt_lookup" else None
        )
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
        states: PrefixStates | None = None,
    ) -> LocalModel:
        """Check and load `path` (see `loading.load_llama`): blocking, seconds for a small model.

        `states`: where to keep the KV state of stable prompt prefixes across processes (None: not kept).

        Raises:
            ModelNotFoundError: no file at `path`.
            ModelLoadError: not a GGUF file, corrupt, too large for this machine, or a
                llama-cpp-python this backend was not written for (`shim`).
        """
        llm, info = load_llama(path, settings, name=name, ram_available=ram_available, free_vram=free_vram)
        try:
            identity = file_identity(path) if states is not None else ""
            return cls(llm, info, settings, name=name, states=states, identity=identity)
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

    def _state_key(self, identity: str) -> dict[str, str]:
        """What a saved KV state is valid for besides its tokens: model file, template, runtime, layout."""
        params, layers = self._llm.context_params, self._llm.model_params.n_gpu_layers
        return {
            "model": identity,
            "template": hashlib.blake2b(self._template.source.encode(), digest_size=16).hexdigest(),
            "runtime": f"llama-cpp-python {shim.installed()}",
            "kv": f"k{params.type_k} v{params.type_v} fa{params.flash_attn_type} gpu{layers}",
        }

    def stable_prefix(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], tokens: Sequence[int]
    ) -> int:
        """How many leading `tokens` (the prompt of `messages`) any question after the same system
        message and tools would share: the part worth keeping on disk."""
        head = [messages[0]] if messages and messages[0].role == "system" else []
        key = "\0".join([head[0].content if head else "", *(t.model_dump_json() for t in tools)])
        probe = self._stable.get(key)
        if probe is None:
            a, b = (self.prompt_tokens([*head, Message.user(q)], tools) for q in _PROBES)
            probe = a[: common_prefix(a, b)]
            self._stable[key] = probe
            while len(self._stable) > _STABLE_KEPT:
                self._stable.popitem(last=False)
        self._stable.move_to_end(key)
        return common_prefix(probe, tokens)

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
        stop: Sequence[str] = (),
    ) -> ModelResponse:
        """Generate one turn: parsed tool calls, or a final answer streamed through `on_text`.

        In constrained mode the grammar admits only a call with `tool_choice="required"`, and only
        an answer with `"none"`; a call must fit `calls` when given (the prompt shows `tools`).
        An answer ends at the first of `stop` (not included; `ModelResponse.stop` says which).
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
                    tuple(stop),
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
            drafted_tokens=usage.drafted_tokens,
            accepted_tokens=usage.accepted_tokens,
            restored_tokens=usage.restored_tokens,
            tool_calls=len(gen.parsed.tool_calls),
            parse_error=gen.parsed.error is not None,
            constrained=gen.constrained,
            stopped_at=gen.stop,
        )
        log.debug("model.output", model=self._name, raw=gen.raw)
        return ModelResponse(
            text=gen.parsed.text,
            tool_calls=gen.parsed.tool_calls,
            usage=usage,
            model=self._name,
            raw=gen.raw,
            parse_error=gen.parsed.error,
            stop=gen.stop,
        )

    def _generate(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        on_text: TextSink | None,
        cancel: threading.Event,
        tool_choice: ToolChoice = "auto",
        calls: list[ToolSpec] | None = None,
        stop: tuple[str, ...] = (),
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
                turn = Turn.of(tools, tool_choice, calls)
                grammar = self._grammars.get(turn.offered, require_call=turn.require_call)
            names = [t.name for t in tools]
            stops = StopText(emit, stop)

            def answer_text(piece: str) -> None:
                stops.feed(piece)
                if stops.hit is not None:
                    cancel.set()  # ends generation at the next token; the answer is complete

            stream = AnswerStream(answer_text)
            stable = self.stable_prefix(messages, tools, tokens) if self._cache.keeps_files else 0
            raw, usage = self._sample(tokens, grammar, stream, cancel, stable)
            if stops.hit is not None:
                answer = ParsedOutput(stops.text.strip())
                return _Generation(raw, answer, usage, constrained=grammar is not None, stop=stops.hit)
            parsed = parse_output(raw, names, hint=self._template.syntax.hint)
            if not cancel.is_set():
                stream.finish(parsed)
                stops.flush()
        return _Generation(raw, parsed, usage, constrained=grammar is not None)

    def _sample(
        self,
        tokens: list[int],
        grammar: Any | None,
        stream: AnswerStream,
        cancel: threading.Event,
        stable: int = 0,
    ) -> tuple[str, Usage]:
        """Evaluate what the KV cache lacks of `tokens` (saving the stable prefix's state on the way
        when no file has it), then generate until end of turn or budget."""
        llm, settings = self._llm, self._settings
        sampler = Sampler(llm.n_vocab(), settings.temperature, grammar)
        budget = min(settings.max_tokens, settings.n_ctx - len(tokens))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pieces: list[str] = []

        def emit(token: int) -> None:
            piece = decoder.decode(llm.detokenize([token]))
            pieces.append(piece)
            stream.feed(piece)

        started = time.perf_counter()
        cached = self._cache.reuse(tokens, stable)
        save_at = stable if self._cache.wants_saved(tokens, stable, cached) else None
        lookup = None
        if self._batch is not None and settings.temperature <= 0:
            lookup = PromptLookup(tokens)
        try:
            cuts = {*range(cached, len(tokens), llm.n_batch), len(tokens)}
            if save_at is not None:
                cuts.add(save_at)
            bounds = sorted(cuts)
            for a, b in itertools.pairwise(bounds):
                if cancel.is_set():
                    break
                llm.eval(tokens[a:b])
                if b == save_at:
                    self._cache.save_prefix(tokens[:b])
            first = time.perf_counter()
            done = decode(
                llm,
                sampler,
                budget=budget,
                emit=emit,
                cancel=cancel,
                lookup=lookup,
                batch=self._batch,
                draft_max=settings.draft_tokens,
            )
        except RuntimeError as exc:
            self._cache.forget()  # the KV cache may be inconsistent: start over next time
            raise ModelError(f"llama.cpp failed while generating: {exc}") from exc
        ended = time.perf_counter()
        pieces.append(decoder.decode(b"", final=True))
        usage = Usage(
            input_tokens=len(tokens),
            cached_tokens=cached,
            output_tokens=done.produced,
            prefill_s=first - started,
            decode_s=ended - first,
            drafted_tokens=done.drafted,
            accepted_tokens=done.accepted,
            restored_tokens=self._cache.restored_from_disk,
        )
        return "".join(pieces), usage

    async def reset(self) -> None:
        """Forget the KV cache and the states kept in RAM, as a new process starts; saved prefix
        files stay (what `--warm off` in the benchmarks measures)."""
        async with self._queue:
            with self._lock:
                self._cache.clear()

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
            if self._batch is not None:
                self._batch.close()
            self._llm.close()

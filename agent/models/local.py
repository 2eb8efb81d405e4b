"""A GGUF model run in-process by llama-cpp-python: the only module that imports `llama_cpp`.

`LocalModel.load` checks the file (GGUF magic and metadata, RAM needed) before llama.cpp sees it,
offloads as many layers as free VRAM allows, and keeps one lock per model: concurrent requests
queue; generation runs in a worker thread that stops at the next token when the caller is
cancelled. Prompts are rendered with the model's own chat template, and only the template's own
control tokens are tokenized as such: control-token text inside questions, answers, tool results
and tool definitions is tokenized as text. Outputs are parsed by `toolcalls`; `constrained` adds a
grammar that only admits a valid call or a plain answer.

Speed: generation starts from the longest prefix already in the KV cache (so the system prompt and
tools are processed once), and when a request would overwrite a long prefix (sessions that take
turns), that state is kept in a RAM cache of `cache_ram_mb` and restored when its session returns.

Not here: downloading (`catalog`), hardware sums (`hardware`), templates (`chat_template`).
"""

from __future__ import annotations

import codecs
import ctypes
import json
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
import numpy as np
import numpy.typing as npt
import psutil
import structlog
from llama_cpp.llama_grammar import SchemaConverter as SchemaConverter_

from agent.exceptions import ContextOverflowError, ModelError, ModelLoadError, ModelNotFoundError
from agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from agent.models.base import TextSink, ToolChoice
from agent.models.chat_template import ChatTemplate
from agent.models.grammar import SchemaConverter, tool_grammar
from agent.models.hardware import GgufInfo, check_memory, fit, gpus, read_gguf
from agent.models.settings import LlamaSettings
from agent.models.toolcalls import AnswerStream, ParsedOutput, parse_output

__all__ = ["LocalModel", "new_schema_converter"]

log = structlog.get_logger(__name__)

_MIB = 1024**2
_GRAMMARS_KEPT = 32  # compiled grammars kept per model
_SAVE_WHEN_LOSING = 64  # keep a state in the RAM cache when a request would discard this many tokens


@dataclass
class _Generation:
    raw: str
    parsed: ParsedOutput
    usage: Usage
    constrained: bool


class _StateCache:
    """KV states of sequence 0 keyed by their tokens, least recently used evicted first."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self.states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()

    def save(self, llm: llama_cpp.Llama) -> None:
        ctx = llm._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        if size > self.capacity:
            return
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
        key = tuple(int(t) for t in llm.input_ids[: llm.n_tokens])
        self.states[key] = bytes(buf)[:written]
        self.states.move_to_end(key)
        while sum(len(v) for v in self.states.values()) > self.capacity:
            self.states.popitem(last=False)

    def best(self, tokens: Sequence[int]) -> tuple[tuple[int, ...], int] | None:
        """The saved state sharing the longest prefix with `tokens`, and that length."""
        best: tuple[tuple[int, ...], int] | None = None
        for key in self.states:
            shared = _common_prefix(key, tokens)
            if shared and (best is None or shared > best[1]):
                best = (key, shared)
        return best

    def restore(self, llm: llama_cpp.Llama, key: tuple[int, ...]) -> None:
        data = self.states[key]
        self.states.move_to_end(key)
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_seq_set_data(llm._ctx.ctx, buf, len(data), 0) == 0:
            raise ModelError("could not restore a saved KV state")
        llm.input_ids[: len(key)] = key
        llm.n_tokens = len(key)
        llm._requires_eval = True


_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class _Sampler:
    """Picks the next token in numpy; a grammar is checked lazily, as llama.cpp's own server does.

    The model's preferred token is tried against the grammar first; only when the grammar rejects
    it is the grammar applied to the whole vocabulary (applying it to every token on every step is
    what makes llama-cpp-python's grammar sampling several times slower).
    """

    def __init__(
        self, n_vocab: int, temperature: float, grammar: Any | None, seed: int | None = None
    ) -> None:
        self.temperature = temperature
        self.grammar = grammar
        self.rng = np.random.default_rng(seed)
        self.data = np.zeros((n_vocab,), dtype=_TOKEN_DATA)
        self.ids = np.arange(n_vocab, dtype=np.intc)
        self.array = llama_cpp.llama_token_data_array(
            data=self.data.ctypes.data_as(llama_cpp.llama_token_data_p),
            size=n_vocab,
            selected=-1,
            sorted=False,
        )
        self.one = np.zeros((1,), dtype=_TOKEN_DATA)
        self.one_array = llama_cpp.llama_token_data_array(
            data=self.one.ctypes.data_as(llama_cpp.llama_token_data_p), size=1, selected=-1, sorted=False
        )

    def _pick(self, logits: npt.NDArray[np.single]) -> int:
        if self.temperature <= 0:
            return int(np.argmax(logits))
        k = min(40, logits.shape[0])
        top = np.argpartition(logits, -k)[-k:]
        scaled = logits[top].astype(np.float64) / self.temperature
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        keep = probs >= 0.05 * probs.max()  # min-p
        order = np.argsort(-probs[keep])
        cut = int(np.searchsorted(np.cumsum(probs[keep][order]), 0.95)) + 1  # top-p
        chosen = top[keep][order][:cut]
        weights = probs[keep][order][:cut]
        return int(self.rng.choice(chosen, p=weights / weights.sum()))

    def _allowed(self, token: int) -> bool:
        self.one["id"][0], self.one["logit"][0], self.one["p"][0] = token, 0.0, 0.0
        self.one_array.size, self.one_array.selected, self.one_array.sorted = 1, -1, False
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self.one_array))
        return bool(np.isfinite(self.one["logit"][0]))

    def sample(self, logits: npt.NDArray[np.single]) -> int:
        token = self._pick(logits)
        if self.grammar is None:
            return token
        if not self._allowed(token):
            self.data["id"], self.data["logit"], self.data["p"] = self.ids, logits, 0.0
            self.array.size, self.array.selected, self.array.sorted = self.data.shape[0], -1, False
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self.array))
            masked = self.data["logit"]
            token = self._pick(masked) if np.isfinite(masked).any() else -1
        return token

    def accept(self, token: int) -> None:
        if self.grammar is not None:
            llama_cpp.llama_sampler_accept(self.grammar, token)


def new_schema_converter() -> SchemaConverter:
    """llama.cpp's JSON-schema-to-GBNF converter, fresh for one grammar."""
    converter: SchemaConverter = SchemaConverter_(  # type: ignore[no-untyped-call]
        prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False
    )
    return converter


def _default_threads() -> int:
    """Physical cores not already busy: llama.cpp threads wait on each other, so one that has to
    share its core with another process slows them all (on a loaded 2-core box, two threads
    measured 5-20x slower than one)."""
    physical = psutil.cpu_count(logical=False) or 1
    logical = psutil.cpu_count() or physical
    busy = int(psutil.getloadavg()[0] + 0.5)
    return max(1, min(physical, logical - busy))


def _call_key(call: ToolCall) -> str:
    return json.dumps([call.name, call.arguments], sort_keys=True, default=str)


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LocalModel:
    """A GGUF model answering through llama-cpp-python. Build it with `LocalModel.load`."""

    def __init__(self, llm: llama_cpp.Llama, info: GgufInfo, settings: LlamaSettings, *, name: str) -> None:
        self._llm = llm
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
        self._states = _StateCache(settings.cache_ram_mb * _MIB) if settings.cache_ram_mb else None
        self._queue = anyio.Lock()  # FIFO order for waiting requests
        self._lock = threading.Lock()  # one generation at a time, even after a cancelled wait
        # tool specs -> llama_sampler (or None), least recently used first; narrowed schemas
        # (agent.grounding) make a new grammar per question, so the cache is bounded
        self._grammars: OrderedDict[tuple[str, ...], Any] = OrderedDict()
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
        """Check and load `path`: blocking, seconds for a small model.

        Args:
            ram_available: bytes of RAM to plan with; default what psutil reports (tests inject it).
            free_vram: bytes of free GPU memory; default what nvidia-smi reports (0 without a GPU).

        Raises:
            ModelNotFoundError: no file at `path`.
            ModelLoadError: not a GGUF file, corrupt, or too large for this machine.
        """
        if not path.is_file():
            raise ModelNotFoundError(
                f"no model file at {path}; run `homelab-agent models pull qwen2.5-coder-0.5b` "
                f"or fix models.{name}.source"
            )
        info = read_gguf(path)
        if free_vram is None:
            found = gpus()
            free_vram = found[0].memory_free if found else 0
        layers = settings.n_gpu_layers
        if layers == "auto":
            layers = fit(info, settings.n_ctx, free_vram, ram_available).n_gpu_layers
        ram = psutil.virtual_memory().available if ram_available is None else ram_available
        check_memory(info, settings.n_ctx, layers, ram)
        threads = settings.n_threads or _default_threads()
        flash = layers > 0 if settings.flash_attn == "auto" else settings.flash_attn
        started = time.perf_counter()
        try:
            llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=settings.n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=layers,
                flash_attn=flash,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {path} ({exc}); the file may be corrupt or use an architecture "
                "this llama-cpp-python does not know: pull it again or upgrade llama-cpp-python"
            ) from exc
        log.info(
            "model.load",
            model=name,
            path=str(path),
            n_ctx=settings.n_ctx,
            n_gpu_layers=layers,
            threads=threads,
            flash_attn=flash,
            load_s=round(time.perf_counter() - started, 3),
        )
        return cls(llm, info, settings, name=name)

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
        vocab, control = self._llm._model.vocab, llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        ids = [i for i in range(self._llm.n_vocab()) if llama_cpp.llama_vocab_get_attr(vocab, i) & control]
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

    def _grammar(self, tools: Sequence[ToolSpec], require_call: bool = False) -> Any | None:
        """A compiled grammar sampler for `tools`, reset for a new turn; None if it will not compile."""
        key = (str(require_call), *(t.model_dump_json(include={"name", "parameters"}) for t in tools))
        if key not in self._grammars:
            text = tool_grammar(
                tools, self._template.syntax, new_schema_converter(), require_call=require_call
            )
            sampler = llama_cpp.llama_sampler_init_grammar(self._llm._model.vocab, text.encode(), b"root")
            if not sampler:
                log.warning("model.grammar_failed", model=self._name, tools=[t.name for t in tools])
            self._grammars[key] = sampler or None
            while len(self._grammars) > _GRAMMARS_KEPT:
                _, old = self._grammars.popitem(last=False)
                if old is not None:
                    llama_cpp.llama_sampler_free(old)
        self._grammars.move_to_end(key)
        grammar = self._grammars[key]
        if grammar is not None:
            llama_cpp.llama_sampler_reset(grammar)
        return grammar

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

    def _reuse(self, tokens: list[int]) -> int:
        """Bring the longest known prefix of `tokens` into the KV cache; how many tokens it keeps."""
        llm = self._llm
        current = _common_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        if self._states is not None:
            if llm.n_tokens - current >= _SAVE_WHEN_LOSING:
                self._states.save(llm)
            best = self._states.best(tokens)
            if best is not None and best[1] > current + 1:
                self._states.restore(llm, best[0])
                current = best[1]
        keep = min(current, len(tokens) - 1)  # at least one token is evaluated, for fresh logits
        llm.n_tokens = keep
        return keep

    def _generate(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        on_text: TextSink | None,
        cancel: threading.Event,
        tool_choice: ToolChoice = "auto",
        calls: list[ToolSpec] | None = None,
    ) -> _Generation:
        """Run in a worker thread: wait for the model, then generate and parse one turn.

        In constrained mode a call that repeats one already answered in the conversation (small
        models do this instead of reading the result) is replaced by a plain answer to the same
        conversation shown without tools.
        """

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
            if settings.constrained and tools:
                offered = [] if tool_choice == "none" else tools if calls is None else calls
                grammar = self._grammar(offered, require_call=tool_choice == "required" and bool(offered))
            names = [t.name for t in tools]
            stream = AnswerStream(emit)
            raw, usage = self._sample(tokens, grammar, stream, cancel)
            parsed = parse_output(raw, names, hint=self._template.syntax.hint)
            answered = {_call_key(c) for m in messages for c in m.tool_calls}
            if (
                grammar is not None
                and parsed.tool_calls
                and all(_call_key(c) in answered for c in parsed.tool_calls)
            ):
                log.info("model.repeated_call", model=self._name, tools=[c.name for c in parsed.tool_calls])
                try:
                    retry = self.prompt_tokens(messages, [])
                except ModelLoadError:  # a template that cannot show tool turns without tools
                    retry = []
                if retry:
                    stream = AnswerStream(emit)
                    raw, again = self._sample(retry, self._grammar([]), stream, cancel)
                    usage = usage + again  # both passes, so cached_tokens <= input_tokens
                    parsed = parse_output(raw, names, hint=self._template.syntax.hint)
            if not cancel.is_set():
                stream.finish(parsed)
        return _Generation(raw, parsed, usage, constrained=grammar is not None)

    def _sample(
        self, tokens: list[int], grammar: Any | None, stream: AnswerStream, cancel: threading.Event
    ) -> tuple[str, Usage]:
        """Evaluate what the KV cache lacks of `tokens`, then sample until end of turn or budget."""
        llm, settings = self._llm, self._settings
        sampler = _Sampler(llm.n_vocab(), settings.temperature, grammar)
        budget = min(settings.max_tokens, settings.n_ctx - len(tokens))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab, ctx, n_vocab = llm._model.vocab, llm._ctx.ctx, llm.n_vocab()
        raw, produced = "", 0
        started = time.perf_counter()
        cached = self._reuse(tokens)
        try:
            for i in range(cached, len(tokens), llm.n_batch):
                if cancel.is_set():
                    break
                llm.eval(tokens[i : i + llm.n_batch])
            first = time.perf_counter()
            while not cancel.is_set() and produced < budget:
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
                token = sampler.sample(logits)
                if token < 0 or llama_cpp.llama_vocab_is_eog(vocab, token):
                    break
                sampler.accept(token)
                produced += 1
                piece = decoder.decode(llm.detokenize([token]))
                raw += piece
                stream.feed(piece)
                if produced < budget:
                    llm.eval([token])
        except RuntimeError as exc:
            llm.n_tokens = 0  # the KV cache may be inconsistent: start over next time
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
            for grammar in self._grammars.values():
                if grammar is not None:
                    llama_cpp.llama_sampler_free(grammar)
            self._grammars.clear()
            self._llm.close()

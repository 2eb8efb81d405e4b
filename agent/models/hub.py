"""Download one file from the Hugging Face hub: resumable, checked, and honest about disk space.

`GET {endpoint}/{repo}/resolve/{revision}/{path}`: the hub redirects to its CDN, and the first
answer's headers carry the file's Git LFS sha256 (`X-Linked-Etag`) and size (`X-Linked-Size`).
A file pinned by size and sha256 whose hub copy no longer matches is refused before any byte is
written. Bytes go to `.NAME.part` beside the target, appended to whatever an interrupted earlier
run left there (an HTTP `Range` request); a dropped connection is retried from where it stopped,
a few times. Free space is checked first, and a disk that fills up anyway is reported as such.
The finished file must have the expected size and sha256 (the pin, else the hub's own), and is
then renamed into place in one step; a file with the wrong sha256 is deleted.

Only httpx speaks HTTP here; the hub's token and endpoint are read by the caller (see `Hub`).
This module does not know which files exist (`known`) or keep `.verified` records (`catalog`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import quote, urlsplit

import httpx
from tqdm import tqdm

from agent.exceptions import ModelLoadError, ModelNotFoundError

__all__ = ["DEFAULT_ENDPOINT", "Hub", "download", "file_url", "partial_path"]

DEFAULT_ENDPOINT = "https://huggingface.co"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SPARE = 64 * 1024**2  # free space to leave beyond the file itself
_CHUNK = 1 << 20
GIB = 1024**3


@dataclass(frozen=True)
class Hub:
    """Where the hub is and who asks: read once at the edge (`HF_ENDPOINT`, the hub's token)."""

    endpoint: str = DEFAULT_ENDPOINT
    token: str | None = None
    retries: int = 5  # reconnections after a dropped connection, per download
    retry_wait_s: float = 1.0  # times the attempt number


def file_url(endpoint: str, repo: str, path: str, revision: str = "main") -> str:
    """The hub's download URL for `path` in model repository `repo` at `revision`."""
    return f"{endpoint.rstrip('/')}/{repo}/resolve/{quote(revision, safe='')}/{quote(path)}"


def partial_path(target: Path) -> Path:
    """Where the bytes of an unfinished download of `target` are kept."""
    return target.with_name(f".{target.name}.part")


def _etag(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().removeprefix("W/").strip('"').lower()
    return value if _SHA256.match(value) else None


def _size(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _gib(n: int) -> str:
    return f"{n / GIB:.2f} GiB"


@dataclass
class _State:
    """One download in progress: the open part file, its hash so far, and what is expected."""

    out: BinaryIO
    digest: hashlib._Hash
    have: int
    size: int | None
    sha256: str | None
    bar: tqdm | None = None

    def restart(self) -> None:
        self.out.seek(0)
        self.out.truncate(0)
        self.digest, self.have = hashlib.sha256(), 0
        if self.bar is not None:
            self.bar.reset()


def download(
    url: str,
    target: Path,
    *,
    size: int | None = None,
    sha256: str | None = None,
    hub: Hub | None = None,
    label: str | None = None,
    progress: bool = True,
    client: httpx.Client | None = None,
) -> str:
    """Fetch `url` into `target`, resuming an earlier partial download; return the file's sha256.

    Args:
        size, sha256: the pinned file; None takes what the hub reports.
        label: the name shown on the progress bar and in errors (default: the file name).

    Raises:
        ModelNotFoundError: the hub cannot be reached, does not have the file, or wants a login;
            or the connection kept dropping (what arrived is kept for the next try).
        ModelLoadError: the hub's file is not the pinned one, the download's size or sha256 is
            wrong (the file is deleted), the disk is too small or filled up, or another download
            of the same file is running.
    """
    hub = hub or Hub()
    name = label or target.name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    own_client = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True)
    try:
        with partial.open("ab") as out:
            _lock(out, name)
            state = _State(out, _hash_prefix(partial), _current_size(partial), size, sha256)
            try:
                _check_space(state, name)
                _fetch(http, url, state, hub, name, progress)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise _disk_full(name, partial, state) from exc
                raise
            except BaseException:
                if state.have == 0:  # nothing worth keeping for a resume
                    partial.unlink(missing_ok=True)
                raise
            finally:
                if state.bar is not None:
                    state.bar.close()
            digest = state.digest.hexdigest()
        if (state.size is not None and state.have != state.size) or (
            state.sha256 is not None and digest != state.sha256
        ):
            partial.unlink(missing_ok=True)
            raise ModelLoadError(
                f"{name}: the download is {state.have} bytes with sha256 {digest}, expected "
                f"{state.size} bytes with sha256 {state.sha256}; the corrupt file was deleted: run "
                "the same command again"
            )
        os.replace(partial, target)
        return digest
    finally:
        if own_client:
            http.close()


def _lock(out: BinaryIO, name: str) -> None:
    try:
        fcntl.flock(out.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ModelLoadError(f"another download of {name} is running; wait for it to finish") from None


def _current_size(partial: Path) -> int:
    return partial.stat().st_size if partial.is_file() else 0


def _hash_prefix(partial: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    if partial.is_file():
        with partial.open("rb") as handle:
            while block := handle.read(_CHUNK):
                digest.update(block)
    return digest


def _fetch(http: httpx.Client, url: str, state: _State, hub: Hub, name: str, progress: bool) -> None:
    """Stream the missing bytes into `state`, reconnecting after drops, until the file is whole."""
    drops = 0
    while True:
        before = state.have
        headers = {"Range": f"bytes={state.have}-"} if state.have else {}
        if hub.token and urlsplit(url).netloc == urlsplit(hub.endpoint).netloc:
            headers["Authorization"] = f"Bearer {hub.token}"  # httpx drops it on the CDN redirect
        try:
            with http.stream("GET", url, headers=headers) as response:
                step = _accept(response, state, url, name)
                if step == "done":
                    return
                if step == "again":
                    continue
                _check_space(state, name)
                if state.bar is None:
                    state.bar = tqdm(
                        total=state.size,
                        initial=state.have,
                        unit="B",
                        unit_scale=True,
                        desc=name,
                        disable=not progress,
                    )
                for block in response.iter_bytes(_CHUNK):
                    state.out.write(block)
                    state.digest.update(block)
                    state.have += len(block)
                    state.bar.update(len(block))
                state.out.flush()
            if state.size is None or state.have >= state.size:
                return
            raise httpx.RemoteProtocolError("the server closed the connection before the end of the file")
        except httpx.TransportError as exc:
            drops = 1 if state.have > before else drops + 1  # progress resets the count
            if drops > hub.retries:
                raise ModelNotFoundError(
                    f"could not download {name} from {_host(url)}: {exc or type(exc).__name__}; "
                    f"{_gib(state.have)} arrived and is kept: run the same command again to resume"
                ) from exc
            time.sleep(hub.retry_wait_s * drops)


Step = Literal["go", "again", "done"]


def _accept(response: httpx.Response, state: _State, url: str, name: str) -> Step:
    """Check the hub's answer against the pin and the part file: read it, ask again, or stop."""
    if response.status_code in (401, 403):
        raise ModelNotFoundError(
            f"the hub refused {name} ({response.status_code}): the repository may be gated or "
            f"private; accept its terms at {_repo_page(url)} and log in (`hf auth login`, or set "
            "HF_TOKEN)"
        )
    if response.status_code == 404:
        raise ModelNotFoundError(f"{name} is not on the hub at {url}: check the repository and file name")
    if response.status_code == 416:  # the range starts at or past the end: complete, or stale
        if state.size is not None and state.have == state.size:
            return "done"
        state.restart()
        return "again"
    if response.status_code >= 400:
        raise ModelNotFoundError(f"the hub answered {response.status_code} for {name} ({url})")
    first = response.history[0] if response.history else response
    hub_sha = _etag(first.headers.get("X-Linked-Etag") or first.headers.get("ETag"))
    hub_size = _size(first.headers.get("X-Linked-Size"))
    if hub_size is None and response.status_code == 200:
        hub_size = _size(response.headers.get("Content-Length"))
    for pinned, reported, what in ((state.sha256, hub_sha, "sha256"), (state.size, hub_size, "size")):
        if pinned is not None and reported is not None and pinned != reported:
            raise ModelLoadError(
                f"the hub's {name} is not the pinned file ({what} {reported}, pinned {pinned}); "
                "refusing to download it: the catalog entry needs updating"
            )
    state.sha256 = state.sha256 or hub_sha
    state.size = state.size if state.size is not None else hub_size
    if response.status_code == 206:
        if not response.headers.get("Content-Range", "").startswith(f"bytes {state.have}-"):
            state.restart()
            return "again"
    elif state.have:  # a 200 to a Range request: the server sends the whole file again
        state.restart()
    return "go"


def _check_space(state: _State, name: str) -> None:
    if state.size is None:
        return
    folder = Path(state.out.name).parent
    need, free = state.size - state.have, shutil.disk_usage(folder).free
    if free < need + _SPARE:
        raise ModelLoadError(
            f"not enough disk space for {name}: {_gib(need)} more is needed in {folder} but only "
            f"{_gib(free)} is free; free some space (or choose another --models-dir) and run the "
            "same command again"
        )


def _disk_full(name: str, partial: Path, state: _State) -> ModelLoadError:
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(partial.parent).free
        return ModelLoadError(
            f"the disk filled up while downloading {name} into {partial.parent} ({_gib(state.have)} "
            f"of {_gib(state.size or 0)} written, {_gib(free)} free now): free some space and run the "
            f"same command again to resume, or delete {partial} to get the space back"
        )
    return ModelLoadError(f"the disk filled up while downloading {name} into {partial.parent}")


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _repo_page(url: str) -> str:
    parts = urlsplit(url)
    repo = "/".join(parts.path.split("/resolve/")[0].strip("/").split("/")[:2])
    return f"{parts.scheme}://{parts.netloc}/{repo}"

"""A Hugging Face hub on loopback, answering downloads the way the real one does.

`GET /{owner}/{repo}/resolve/{revision}/{path}` redirects (302) to a CDN-style `/cdn/...` URL
with the headers the hub sends for LFS files: `X-Linked-Etag` (the file's sha256, quoted),
`X-Linked-Size`, `X-Repo-Commit` and `ETag`. The CDN serves the bytes with `Accept-Ranges`,
answering `Range: bytes=N-` with 206 and `Content-Range`, and 416 past the end. Gated files get
401, unknown ones 404 with the hub's `X-Error-Code`. Faults on demand: a body cut off after half
its bytes (once, or every time), corrupted bytes under the right headers, an advertised size or
sha256 that differs from the bytes. Every request is recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubFile:
    """One file the fake hub serves, and how it misbehaves."""

    data: bytes
    gated: bool = False
    cut_off: int = 0  # how many responses to cut off after half their bytes (-1: all)
    corrupt: bool = False  # serve one flipped byte under the right headers
    advertised_sha256: str | None = None  # X-Linked-Etag, when not the real sha256
    advertised_size: int | None = None  # X-Linked-Size, when not the real size

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Seen:
    """A request the fake hub answered."""

    method: str
    path: str
    range: str | None
    authorization: str | None


@dataclass
class FakeHub:
    """The files by (repo, revision, path), and the requests seen."""

    files: dict[tuple[str, str, str], HubFile] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def add(self, repo: str, path: str, data: bytes, revision: str = "main", **faults: object) -> HubFile:
        """Serve `data` as `path` of `repo` at `revision`."""
        file = HubFile(data, **faults)  # type: ignore[arg-type]
        self.files[(repo, revision, path)] = file
        return file

    def ranges(self) -> list[str | None]:
        """The Range header of every CDN request, in order."""
        return [s.range for s in self.seen if s.path.startswith("/cdn/")]

    def app(self) -> Starlette:
        """The ASGI app to serve (see `tests.support.http_servers.serve_app`)."""
        methods = ["GET", "HEAD"]
        return Starlette(
            routes=[
                Route("/{owner}/{repo}/resolve/{revision}/{path:path}", self._resolve, methods=methods),
                Route("/cdn/{owner}/{repo}/{revision}/{path:path}", self._cdn, methods=methods),
            ]
        )

    def _note(self, request: Request) -> None:
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                request.headers.get("range"),
                request.headers.get("authorization"),
            )
        )

    def _find(self, request: Request) -> tuple[str, HubFile | None]:
        p = request.path_params
        repo = f"{p['owner']}/{p['repo']}"
        return repo, self.files.get((repo, p["revision"], p["path"]))

    async def _resolve(self, request: Request) -> Response:
        self._note(request)
        repo, file = self._find(request)
        if file is None:
            return Response("Entry not found", 404, headers={"X-Error-Code": "EntryNotFound"})
        if file.gated and not request.headers.get("authorization"):
            return Response("Access to this model is restricted", 401, headers={"X-Error-Code": "GatedRepo"})
        p = request.path_params
        sha = file.advertised_sha256 or file.sha256
        return Response(
            status_code=302,
            headers={
                "Location": str(request.base_url).rstrip("/") + f"/cdn/{repo}/{p['revision']}/{p['path']}",
                "X-Repo-Commit": COMMIT,
                "X-Linked-Etag": f'"{sha}"',
                "X-Linked-Size": str(file.advertised_size or len(file.data)),
                "ETag": f'"{sha}"',
            },
        )

    async def _cdn(self, request: Request) -> Response:
        self._note(request)
        _, file = self._find(request)
        if file is None:
            return Response("NoSuchKey", 404)
        data = bytearray(file.data)
        if file.corrupt:
            data[len(data) // 2] ^= 0xFF
        total, start = len(data), 0
        spec = request.headers.get("range", "")
        if spec.startswith("bytes=") and spec.endswith("-"):
            start = int(spec[len("bytes=") : -1])
            if start >= total:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{total}"})
        body = bytes(data[start:])
        headers = {"Accept-Ranges": "bytes", "ETag": f'"{file.sha256}"', "Content-Length": str(len(body))}
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{total - 1}/{total}"
        if file.cut_off:
            file.cut_off -= 1 if file.cut_off > 0 else 0
            body = body[: len(body) // 2]  # declared length stays: the connection dies early
        return Response(body, status, headers=headers, media_type="application/octet-stream")

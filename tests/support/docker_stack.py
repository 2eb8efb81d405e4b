"""A small homelab on a scratch Docker Engine, for the Docker tool tests and the Docker benchmark.

Two compose projects and one loose container, built from busybox with nothing downloaded: images
are loaded from a root filesystem made here (Debian's busybox-static) with chosen build dates,
containers are created through the Engine API with compose labels set directly, `--network none`
and published ports recorded as compose would. Each container ends in a known state:

    media/jellyfin    healthy, port 8096            office/kanboard  healthy, port 127.0.0.1:8080
    media/sonarr      restarting (exits 1, always)  office/paperless UNHEALTHY, secrets in env and logs
    office/db         exited with code 3            speedtest        running, outside compose

The engine is the one HOMELAB_AGENT_TEST_DOCKER_HOST names (`scripts/scratch-dockerd.sh` starts
one as root; `scripts/test.sh` does that for the tests). Never point it at a Docker you care
about: the stack's containers, volumes and images are removed afterwards, and so is any container
with the stack label, so one engine holds one stack at a time (a test run and a benchmark run
each need their own scratch engine). This is test support that writes to Docker; the
server under test (`tools.docker`) cannot.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import secrets
import shutil
import tarfile
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx

from tools.docker.settings import DockerSettings

T = TypeVar("T")

__all__ = [
    "ENGINE_ENV",
    "STACK_LABEL",
    "Spec",
    "Stack",
    "build_stack",
    "engine_client",
    "engine_host",
    "remove_stack",
]

ENGINE_ENV = "HOMELAB_AGENT_TEST_DOCKER_HOST"
STACK_LABEL = "org.homelab-agent.test-stack"
_BUSYBOX_APPLETS = ("sh", "echo", "sleep", "cat", "true", "false", "env", "date", "ls", "printf", "seq")
_SECOND_NS = 1_000_000_000


def engine_host() -> str | None:
    """The Docker Engine the tests may build the stack on, or None."""
    return os.environ.get(ENGINE_ENV, "").strip() or None


@dataclass(frozen=True)
class Spec:
    """One container of the stack."""

    project: str  # compose project; "" outside compose
    name: str  # compose service, or the container name outside compose
    image: str
    built: str  # the image's build date, ISO
    script: str  # what `sh -c` runs
    expect: str  # healthy, unhealthy, restarting, exited, running
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, tuple[str, str]] = field(default_factory=dict)  # "80/tcp" -> (host ip, host port)
    health: str = ""  # a CMD-SHELL health check
    restart: str = "no"
    volume: str = ""  # "name:/path": a named volume
    bind: str = ""  # a container path a read-only host directory is bound to

    @property
    def container_name(self) -> str:
        """What compose v2 would call the container."""
        return f"{self.project}-{self.name}-1" if self.project else self.name

    @property
    def key(self) -> str:
        """How the Docker tools name it."""
        return f"{self.project}/{self.name}" if self.project else self.name


@dataclass
class Stack:
    """The stack as built: where, which containers, and the secrets planted in it."""

    host: str
    specs: list[Spec]
    secrets: tuple[str, ...]  # values set in containers' environments; must never be shown
    ids: dict[str, str] = field(default_factory=dict)  # key -> container id
    bind_dir: str = ""

    def spec(self, key: str) -> Spec:
        """The container called `key` (project/service or name)."""
        return next(s for s in self.specs if s.key == key)


def _specs(secret_key: str, db_password: str) -> list[Spec]:
    forever = "sleep 2147483647"
    return [
        Spec(
            "media",
            "jellyfin",
            "jellyfin/jellyfin:10.9.6",
            "2024-06-20T09:00:00Z",
            f"echo 'Jellyfin 10.9.6 starting'; echo 'Startup complete, listening on 8096'; {forever}",
            "healthy",
            env={"JELLYFIN_PublishedServerUrl": "http://media.lan:8096"},
            ports={"8096/tcp": ("", "8096")},
            health="true",
            restart="unless-stopped",
            volume="media_jellyfin_config:/config",
        ),
        Spec(
            "media",
            "sonarr",
            "lscr.io/linuxserver/sonarr:4.0.9",
            "2024-09-01T12:00:00Z",
            "echo 'sonarr: database disk image is malformed'; exit 1",
            "restarting",
            env={"PUID": "1000", "PGID": "1000"},
            restart="always",
        ),
        Spec(
            "office",
            "kanboard",
            "kanboard/kanboard:v1.2.42",
            "2024-11-03T08:00:00Z",
            f"echo 'Kanboard ready on port 80'; {forever}",
            "healthy",
            ports={"80/tcp": ("127.0.0.1", "8080")},
            health="true",
            restart="unless-stopped",
            volume="office_kanboard_data:/var/www/app/data",
        ),
        Spec(
            "office",
            "paperless",
            "ghcr.io/paperless-ngx/paperless-ngx:2.13.5",
            "2024-11-20T10:00:00Z",
            "echo 'paperless starting'; echo \"PAPERLESS_DBPASS=$PAPERLESS_DBPASS\"; "
            'echo "using secret key $PAPERLESS_SECRET_KEY"; '
            'echo "connecting to postgres://paperless:$PAPERLESS_DBPASS@db:5432/paperless"; '
            f"echo 'ERROR: could not connect to server: Connection refused'; {forever}",
            "unhealthy",
            env={
                "PAPERLESS_SECRET_KEY": secret_key,
                "PAPERLESS_DBPASS": db_password,
                "PAPERLESS_DBHOST": "db",
                "TZ": "Europe/Berlin",
            },
            ports={"8000/tcp": ("127.0.0.1", "8000")},
            health='echo "database connection refused for paperless:$PAPERLESS_DBPASS"; exit 1',
            restart="unless-stopped",
            bind="/usr/src/paperless/consume",
        ),
        Spec(
            "office",
            "db",
            "postgres:16.4",
            "2024-08-08T07:00:00Z",
            "echo 'FATAL: data directory \"/var/lib/postgresql/data\" has wrong ownership'; exit 3",
            "exited",
            env={"POSTGRES_PASSWORD": db_password, "POSTGRES_USER": "paperless"},
        ),
        Spec(
            "",
            "speedtest",
            "ghcr.io/librespeed/speedtest:5.4",
            "2025-01-10T15:00:00Z",
            forever,
            "running",
        ),
    ]


def _rootfs() -> bytes:
    """A layer holding /bin/busybox (static) and links to the applets the stack uses."""
    found = [
        p for p in ("/bin/busybox", "/usr/bin/busybox", shutil.which("busybox")) if p and Path(p).is_file()
    ]
    if not found:
        raise RuntimeError("no busybox to build the test images from: install busybox-static")
    data = Path(found[0]).read_bytes()
    if b"ld-linux" in data[:4096] or b"ld-musl" in data[:4096]:
        raise RuntimeError(f"{found[0]} is dynamically linked and cannot run alone: install busybox-static")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for directory in ("bin", "tmp", "etc"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        for applet in _BUSYBOX_APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return out.getvalue()


def _image_archive(layer: bytes, tag: str, built: str) -> bytes:
    """A `docker save` archive of one image: `layer` under the config Docker will report."""
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    layer_digest = hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "created": built,
            "config": {"Env": ["PATH=/bin", "APP_HOME=/srv/app"], "Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
            "history": [{"created": built, "created_by": "homelab-agent test stack"}],
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [f"{layer_digest}/layer.tar"]}]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, content in (
            ("manifest.json", json.dumps(manifest).encode()),
            (config_name, config),
            (f"{layer_digest}/layer.tar", layer),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def engine_client(host: str) -> httpx.AsyncClient:
    """An HTTP client for the engine at `host` that may write (the tools' client cannot)."""
    settings = DockerSettings(host=host)
    transport = httpx.AsyncHTTPTransport(uds=settings.socket_path) if settings.socket_path else None
    return httpx.AsyncClient(base_url=settings.base_url, transport=transport, timeout=60)


async def _check(response: httpx.Response, doing: str) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"Docker refused to {doing}: HTTP {response.status_code} {response.text.strip()}")
    if "error" in response.text and response.headers.get("content-type", "").startswith("application/json"):
        for line in response.text.splitlines():
            if '"error"' in line:
                raise RuntimeError(f"Docker failed to {doing}: {line}")
    return (
        response.json() if response.content and "json" in response.headers.get("content-type", "") else None
    )


def _create_body(spec: Spec, stack_id: str, bind_dir: str, health_interval_s: float) -> dict[str, Any]:
    labels = {STACK_LABEL: stack_id}
    if spec.project:
        labels |= {
            "com.docker.compose.project": spec.project,
            "com.docker.compose.service": spec.name,
            "com.docker.compose.container-number": "1",
            "com.docker.compose.oneoff": "False",
            "com.docker.compose.project.config_files": f"/srv/{spec.project}/docker-compose.yml",
            "com.docker.compose.project.working_dir": f"/srv/{spec.project}",
            "com.docker.compose.version": "2.29.7",
        }
    mounts: list[dict[str, Any]] = []
    if spec.volume:
        source, target = spec.volume.split(":", 1)
        mounts.append({"Type": "volume", "Source": source, "Target": target})
    if spec.bind:
        mounts.append({"Type": "bind", "Source": bind_dir, "Target": spec.bind, "ReadOnly": True})
    body: dict[str, Any] = {
        "Image": spec.image,
        "Cmd": ["sh", "-c", spec.script],
        "Env": [f"{k}={v}" for k, v in spec.env.items()],
        "Labels": labels,
        "ExposedPorts": {port: {} for port in spec.ports},
        "HostConfig": {
            "NetworkMode": "none",
            "RestartPolicy": {"Name": spec.restart},
            "PortBindings": {port: [{"HostIp": ip, "HostPort": hp}] for port, (ip, hp) in spec.ports.items()},
            "Mounts": mounts,
        },
    }
    if spec.health:
        interval = int(health_interval_s * _SECOND_NS)
        body["Healthcheck"] = {
            "Test": ["CMD-SHELL", spec.health],
            "Interval": interval,
            "Timeout": 5 * _SECOND_NS,
            "Retries": 1,
        }
    return body


def _settled(spec: Spec, data: dict[str, Any]) -> bool:
    state = data["State"]
    health = (state.get("Health") or {}).get("Status", "")
    return bool(
        {
            "healthy": state["Status"] == "running" and health == "healthy",
            "unhealthy": state["Status"] == "running" and health == "unhealthy",
            "restarting": state["Status"] == "restarting" and data.get("RestartCount", 0) >= 3,
            "exited": state["Status"] == "exited",
            "running": state["Status"] == "running",
        }[spec.expect]
    )


async def _observe(stack: Stack) -> tuple[bool, dict[str, int]]:
    """Whether every container is in its expected state now, and each one's restart count."""
    settled, restarts = True, {}
    async with engine_client(stack.host) as http:
        for key, container_id in stack.ids.items():
            data = (await http.get(f"/containers/{container_id}/json")).json()
            settled = settled and _settled(stack.spec(key), data)
            restarts[key] = int(data.get("RestartCount", 0))
    return settled, restarts


async def steady(
    stack: Stack, run: Callable[[], Awaitable[T]], *, tries: int = 3, timeout_s: float = 30.0
) -> T:
    """`run()` while the stack holds still: started once every container is in its expected state
    (waiting at most `timeout_s`), and run again (at most `tries` times) when a container restarted
    while it ran, so a restart-looping container is never caught between two of its restarts."""
    for _ in range(tries):
        with anyio.fail_after(timeout_s):
            before = await _observe(stack)
            while not before[0]:
                await anyio.sleep(0.1)
                before = await _observe(stack)
        outcome = await run()
        after = await _observe(stack)
        if after[0] and after[1] == before[1]:
            return outcome
    raise RuntimeError(f"the test stack kept changing state: {tries} tries, each saw a container restart")


async def remove_leftovers(http: httpx.AsyncClient) -> None:
    """Remove every container carrying the stack label (from this run or a crashed earlier one)."""
    filters = json.dumps({"label": [STACK_LABEL]})
    for c in (await http.get("/containers/json", params={"all": "1", "filters": filters})).json():
        await http.delete(f"/containers/{c['Id']}", params={"force": "1", "v": "1"})


async def build_stack(host: str, *, health_interval_s: float = 1.0, timeout_s: float = 60.0) -> Stack:
    """Build the stack on the engine at `host` and wait until every container is in its state."""
    secret_key, db_password = f"sk-planted-{secrets.token_hex(8)}", f"pw-planted-{secrets.token_hex(8)}"
    specs = _specs(secret_key, db_password)
    stack = Stack(host, specs, (secret_key, db_password), bind_dir=tempfile.mkdtemp(prefix="hla-consume-"))
    os.chmod(stack.bind_dir, 0o755)
    stack_id = secrets.token_hex(4)
    layer = _rootfs()
    async with engine_client(host) as http:
        await remove_leftovers(http)
        for spec in specs:
            archive = _image_archive(layer, spec.image, spec.built)
            response = await http.post(
                "/images/load", content=archive, headers={"Content-Type": "application/x-tar"}
            )
            await _check(response, f"load image {spec.image}")
        for spec in specs:
            body = _create_body(spec, stack_id, stack.bind_dir, health_interval_s)
            created = await _check(
                await http.post("/containers/create", params={"name": spec.container_name}, json=body),
                f"create {spec.container_name}",
            )
            stack.ids[spec.key] = created["Id"]
            await _check(
                await http.post(f"/containers/{created['Id']}/start"), f"start {spec.container_name}"
            )
        waiting = dict(stack.ids)
        with anyio.move_on_after(timeout_s):
            while waiting:
                for key, container_id in list(waiting.items()):
                    data = (await http.get(f"/containers/{container_id}/json")).json()
                    if _settled(stack.spec(key), data):
                        del waiting[key]
                await anyio.sleep(0.2)
        if waiting:
            await remove_stack(stack)
            raise RuntimeError(f"the test stack did not settle within {timeout_s:g} s: {sorted(waiting)}")
    return stack


async def remove_stack(stack: Stack) -> None:
    """Remove the stack's containers, volumes and images, and its bind-mounted directory."""
    async with engine_client(stack.host) as http:
        await remove_leftovers(http)
        for spec in stack.specs:
            if spec.volume:
                await http.delete(f"/volumes/{spec.volume.split(':', 1)[0]}")
            await http.delete(f"/images/{spec.image}", params={"force": "1"})
    shutil.rmtree(stack.bind_dir, ignore_errors=True)

"""Record the Engine API's answers about the test stack into data/engine-samples.json.

    HOMELAB_AGENT_TEST_DOCKER_HOST=unix:///tmp/hla-dockerd.X/docker.sock \
        .venv/bin/python -m tests.tools.docker.record_samples

Builds the stack (`tests.support.docker_stack`), plus one container on a bridge network with a
really published port when the engine can make networks, then stores every answer the Docker
tools read: the container list, each container and image, one log stream and one stats sample.
The format tests replay them through `httpx.MockTransport`. The environment values in the file
are the stack's planted test secrets, nothing real.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx

from tests.support.docker_stack import STACK_LABEL, build_stack, engine_client, engine_host, remove_stack

OUT = Path(__file__).parent / "data" / "engine-samples.json"
BRIDGE = "hla-samples-bridge"


async def _bridge_container(http: httpx.AsyncClient) -> None:
    """A container with a port published for real (NetworkSettings.Ports), on a bridge network."""
    created = await http.post("/networks/create", json={"Name": BRIDGE, "Driver": "bridge"})
    if created.status_code >= 300:
        print(f"no bridge network on this engine ({created.text.strip()}): skipping the published port")
        return
    body = {
        "Image": "ghcr.io/librespeed/speedtest:5.4",
        "Cmd": ["sh", "-c", "sleep 2147483647"],
        "Labels": {STACK_LABEL: "samples"},
        "ExposedPorts": {"80/tcp": {}},
        "HostConfig": {
            "NetworkMode": BRIDGE,
            "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "18080"}]},
        },
    }
    container = (await http.post("/containers/create", params={"name": "bridged-web"}, json=body)).json()
    await http.post(f"/containers/{container['Id']}/start")


async def record() -> None:
    host = engine_host()
    if host is None:
        raise SystemExit("set HOMELAB_AGENT_TEST_DOCKER_HOST to a scratch Docker Engine")
    stack = await build_stack(host)
    try:
        async with engine_client(host) as http:
            await _bridge_container(http)
            await anyio.sleep(1)
            responses: dict[str, Any] = {}
            listing = (await http.get("/containers/json", params={"all": "1"})).json()
            responses["/containers/json"] = listing
            for summary in listing:
                inspected = (await http.get(f"/containers/{summary['Id']}/json")).json()
                responses[f"/containers/{summary['Id']}/json"] = inspected
                image = inspected["Image"]
                responses[f"/images/{image}/json"] = (await http.get(f"/images/{image}/json")).json()
            paperless, jellyfin = stack.ids["office/paperless"], stack.ids["media/jellyfin"]
            logs = await http.get(
                f"/containers/{paperless}/logs",
                params={"stdout": "1", "stderr": "1", "timestamps": "1", "tail": "30"},
            )
            stats = await http.get(f"/containers/{jellyfin}/stats", params={"stream": "false"})
            responses[f"/containers/{jellyfin}/stats"] = stats.json()
            version = (await http.get("/version")).json()
            OUT.write_text(
                json.dumps(
                    {
                        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "engine": f"Docker Engine {version['Version']} (API {version['ApiVersion']})",
                        "secrets": list(stack.secrets),
                        "ids": stack.ids,
                        "responses": responses,
                        "logs": {paperless: base64.b64encode(logs.content).decode()},
                    },
                    indent=1,
                )
                + "\n"
            )
            await http.delete("/containers/bridged-web", params={"force": "1"})
            await http.delete(f"/networks/{BRIDGE}")
    finally:
        await remove_stack(stack)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    anyio.run(record)

"""A snapshot of a Docker Engine, read through the tools' read-only client, that questions compute
their ground truth from.

Uptimes, restart counts and health move while the benchmark runs, so no answer is typed in: each
question reads this snapshot right before it is asked. This module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tools.docker.client import DockerClient
from tools.docker.models import Container, Image
from tools.docker.settings import DockerSettings

__all__ = ["Engine", "snapshot"]


@dataclass
class Engine:
    """Every container and image at `now`."""

    now: datetime
    containers: list[Container]
    images: dict[str, Image]

    def container(self, key: str) -> Container:
        """The container named `key` (project/service, or the container name outside compose)."""
        return next(c for c in self.containers if c.key == key)

    def image_of(self, key: str) -> Image:
        """The image the container `key` runs."""
        return self.images[self.container(key).image_id]

    def in_state(self, state: str) -> list[Container]:
        """Containers in `state` ("unhealthy" means running with a failing health check)."""
        if state == "unhealthy":
            return [c for c in self.containers if c.state == "running" and c.health == "unhealthy"]
        return [c for c in self.containers if c.state == state]

    @property
    def projects(self) -> list[str]:
        """The compose projects, sorted."""
        return sorted({c.project for c in self.containers if c.project})


async def snapshot(settings: DockerSettings) -> Engine:
    """Read every container and image of the engine in `settings`."""
    async with DockerClient(settings) as docker:
        containers = await docker.containers()
        images = await docker.images({c.image_id for c in containers})
    return Engine(datetime.now(UTC), containers, images)

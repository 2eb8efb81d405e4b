"""Which environment values the tools must blank wherever text from a container is shown.

Tools never print a variable's value, but values leak into what containers write: log lines,
health check output, the command line. So every value a container sets itself (its image's
defaults are public and are left alone) is blanked, in the text of any container (stacks share
secrets: the app and its database hold the same password), with two exceptions that protect
nothing by hiding: plain numbers and booleans ("1000", "true"), and words the tools show anyway
as names (a project, service, container or image name, such as POSTGRES_USER=paperless).
Variables whose name looks secret (…PASS, …KEY, …TOKEN, …SECRET) get no exception. Values under
4 characters are never blanked (`homelab_common.known_secrets`). This module only chooses values;
`homelab_common.scrub_text` blanks them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from homelab_common import known_secrets

from .models import Container, Image

__all__ = ["hidden_values"]

_SECRET_NAME = re.compile(r"pass|pwd|pw$|token|secret|key|auth|credential|cert|salt|cookie|session", re.I)
_PLAIN = re.compile(r"[+-]?\d+(\.\d+)?|true|false|yes|no|on|off|none|null", re.I)
_WORD = re.compile(r"[^A-Za-z0-9]+")


def _shown_names(containers: Sequence[Container]) -> set[str]:
    names: set[str] = set()
    for c in containers:
        for name in (c.project, c.service, c.name, c.image):
            names.add(name.casefold())
            names.update(part.casefold() for part in _WORD.split(name) if part)
    return names


def hidden_values(containers: Sequence[Container], images: Mapping[str, Image]) -> tuple[str, ...]:
    """The values to blank, longest first, from every container's own environment."""
    shown = _shown_names(containers)
    values: list[str] = []
    for c in containers:
        image = images.get(c.image_id)
        for name, value in c.set_values(image.env if image else {}).items():
            if not _SECRET_NAME.search(name) and (_PLAIN.fullmatch(value) or value.casefold() in shown):
                continue
            values.append(value)
    return known_secrets(values)

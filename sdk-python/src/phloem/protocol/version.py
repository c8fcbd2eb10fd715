"""Protocol version negotiation (PHL-VER-001, PHL-HS-002..004)."""

from __future__ import annotations

from collections.abc import Iterable

# 1.1 is 1.0 plus the jobs feature (spec/1.1/index.md); a 1.1 server still speaks 1.0.
SUPPORTED_VERSIONS: tuple[str, ...] = ("1.1", "1.0")


def pick_version(
    offered: Iterable[str], supported: Iterable[str] = SUPPORTED_VERSIONS
) -> str | None:
    """The first version in the client's list that we speak, or None (PHL-HS-003)."""
    ours = set(supported)
    return next((v for v in offered if v in ours), None)

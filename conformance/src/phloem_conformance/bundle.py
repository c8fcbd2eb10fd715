"""The compiled case bundle: every case as JSON with its id, rev and content hash, for runners
written in other languages (schemas/bundle.schema.json)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from . import ADAPTER_PROTOCOL, PROTOCOL_VERSION, __version__
from .cases import Case

BUNDLE_VERSION = 1


def canonical_json(value: Any) -> str:
    """The canonical JSON the case hash is taken over (Case.hash): sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def bundle(cases: list[Case]) -> dict[str, Any]:
    entries = [
        {"id": c.id, "rev": c.data["rev"], "hash": c.hash, "area": c.area, "case": c.data}
        for c in sorted(cases, key=lambda c: c.id)
    ]
    digest = hashlib.sha256(
        canonical_json([[e["id"], e["hash"]] for e in entries]).encode()
    ).hexdigest()
    return {
        "bundle_version": BUNDLE_VERSION,
        "suite": {"name": "phloem-conformance", "version": __version__},
        "protocol_versions": [PROTOCOL_VERSION],
        "adapter_protocol": ADAPTER_PROTOCOL,
        "hash_algorithm": "sha256 over canonical JSON (sorted keys, separators ',' ':', UTF-8, no ASCII escaping)",
        "hash": "sha256:" + digest,
        "cases": entries,
    }

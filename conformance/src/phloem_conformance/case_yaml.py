"""Writing a case as YAML the way a person would (the minimal failing session of a shrink)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .cases import Case

# libyaml's emitter when PyYAML has it (the same text, three times faster).
_Base: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[valid-type,misc]
    """Block style, but a mapping of scalars (props, a leaf of a projection) on one line."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _leafy(value: Any) -> bool:
    def scalar(v: Any) -> bool:
        return not isinstance(v, (dict, list)) or not v

    return all(
        scalar(v) or (isinstance(v, dict) and all(scalar(x) for x in v.values()))
        for v in value.values()
    )


_Dumper.add_representer(
    dict,
    lambda dumper, data: dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=bool(data) and _leafy(data)
    ),
)


def dump_case(case: Case, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by phloem-conformance generate: the minimal failing session.\n"
        + yaml.dump(case.data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120),
        encoding="utf-8",
    )

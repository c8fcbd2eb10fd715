"""Chaos: drops at random points of a long ledger session lose nothing and double nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from phloem_conformance.chaos import chaos
from phloem_conformance.cli import main

from .conftest import python_command

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast


def test_a_correct_fake_loses_and_doubles_nothing_and_the_json_says_so(fake_sdk: Path, tmp_path: Path) -> None:
    out = tmp_path / "chaos.json"
    assert main(["chaos", "--target", "sdk", "--adapter", python_command(fake_sdk), "--seed", "3",
                 "--runs", "100", "--out", str(out)]) == 0
    stats = json.loads(out.read_text())
    assert stats["runs"] == 100 and stats["drops"] > 100
    assert (stats["seq_gaps"], stats["events_lost"], stats["events_doubled"], stats["mismatches"]) == (0, 0, 0, 0)


def test_the_same_seed_drops_at_the_same_points(fake_sdk: Path) -> None:
    one = asyncio.run(chaos("sdk", python_command(fake_sdk), 9, 10, 20))
    two = asyncio.run(chaos("sdk", python_command(fake_sdk), 9, 10, 20))
    assert one.drops == two.drops > 0


@pytest.mark.parametrize("target", ["sdk", "server"])
def test_a_resume_without_replay_is_counted_as_mismatches(fake_sdk: Path, target: str) -> None:
    role = ["--role", "server"] if target == "server" else []
    stats = asyncio.run(chaos(target, python_command(fake_sdk, *role, "--bug", "no-replay"), 1, 20, 40))
    assert stats.mismatches > 0
    assert stats.failures and "does not apply" in stats.failures[0]["reason"]

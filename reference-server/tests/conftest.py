"""Django configured with the embedded settings over a throwaway SQLite database."""

import os
import tempfile
from pathlib import Path

_DATA = tempfile.mkdtemp(prefix="phloem-server-tests-")
os.environ["PHLOEM_DATA_DIR"] = _DATA
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "phloem_server.settings")

import django  # noqa: E402
import pytest  # noqa: E402
from django.core.management import call_command  # noqa: E402

django.setup()
call_command("migrate", verbosity=0, interactive=False)

REPO = Path(__file__).resolve().parents[2]
FIXTURE_APPS = REPO / "sdk-python" / "fixtures" / "apps.py"
COUNTER_EXAMPLE = REPO / "sdk-python" / "examples" / "counter.py"


@pytest.fixture
def served():
    """The SDK's fixture apps, served under the default key for the duration of a test."""
    from phloem_server import registry

    registry.clear()
    yield registry.load(FIXTURE_APPS)
    registry.clear()

"""The REST API (phloem_server/api.py) and its OpenAPI document: the document is valid
OpenAPI 3.1, names exactly the routes the server has, and schemathesis finds every answer of a
live `phloem run` conforming to it."""

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml
from conftest import FIXTURE_APPS
from django.test import AsyncClient, override_settings
from django.urls import URLPattern
from live import phloem_run
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from phloem.protocol.catalog import CORE
from phloem.protocol.version import SUPPORTED_VERSIONS
from phloem_server import api, registry


def _document() -> dict:
    return yaml.safe_load(api.OPENAPI.read_text(encoding="utf-8"))


def test_openapi_document_is_valid_openapi_3_1():
    document = _document()
    assert document["openapi"].startswith("3.1.")
    validate(document)


def test_openapi_validator_refuses_a_broken_document():
    broken = _document()
    del broken["paths"]["/api/v1/health"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_openapi_document_names_exactly_the_api_routes():
    routes = {
        "/api/" + str(p.pattern)
        for p in api.urlpatterns
        if isinstance(p, URLPattern) and p.callback is not api.not_found
    }
    assert routes == set(_document()["paths"])
    for operations in _document()["paths"].values():
        assert set(operations) == {"get"}  # HEAD is implicit, every other method is a 405


async def test_health_names_the_protocol_versions(served):
    response = await AsyncClient().get("/api/v1/health")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert orjson.loads(response.content) == {"status": "ok", "protocol": list(SUPPORTED_VERSIONS)}


async def test_protocol_states_what_welcome_would(served):
    body = orjson.loads((await AsyncClient().get("/api/v1/protocol")).content)
    assert body["versions"] == list(SUPPORTED_VERSIONS)
    assert body["subprotocol"] == "phloem.v1" and body["websocket"] == "/phloem/ws"
    assert body["limits"] == served.hub.limits.announce()
    assert body["components"] == {kind: info.version for kind, info in CORE.items()}
    assert body["features"] == []


async def test_protocol_limits_follow_the_phloem_limits_setting():
    registry.clear()
    try:
        with override_settings(PHLOEM_LIMITS={"max_frame_bytes": 4096, "replay_messages": 2}):
            registry.load(FIXTURE_APPS)
        body = orjson.loads((await AsyncClient().get("/api/v1/protocol")).content)
    finally:
        registry.clear()
    assert body["limits"]["max_frame_bytes"] == 4096 and body["limits"]["replay_messages"] == 2


async def test_pages_lists_the_served_apps_pages(served):
    body = orjson.loads((await AsyncClient().get("/api/v1/pages")).content)
    assert body["app"] == served.app.name
    assert [p["path"] for p in body["pages"]] == sorted(served.app.pages)
    counter = next(p for p in body["pages"] if p["path"] == "/counter")
    assert counter == {"path": "/counter", "name": "counter", "title": None, "auth": False}


def test_page_title_is_the_first_line_of_the_docstring():
    import phloem as ph

    app = ph.App("Docs")

    @app.page("/", auth=True)
    def home(ui):
        """Home of the app.

        More words."""
        return ph.Text("hi")

    assert api._page(app, "/", home) == {
        "path": "/",
        "name": "home",
        "title": "Home of the app.",
        "auth": True,
    }


async def test_unknown_api_path_is_a_json_404(served):
    response = await AsyncClient().post("/api/v2/anything")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert orjson.loads(response.content)["code"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
async def test_other_methods_get_405_with_allow(served, method):
    response = await getattr(AsyncClient(), method)("/api/v1/pages")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert orjson.loads(response.content)["code"] == "method_not_allowed"


async def test_head_answers_the_get_headers_without_a_body(served):
    get = await AsyncClient().get("/api/v1/health")
    head = await AsyncClient().head("/api/v1/health")
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(get.content))


async def test_no_configured_app_is_a_json_503():
    registry.clear()
    with override_settings(PHLOEM_APP=None):
        response = await AsyncClient().get("/api/v1/pages")
    assert response.status_code == 503
    assert orjson.loads(response.content)["code"] == "no_app"


async def test_served_document_is_the_openapi_yaml(served):
    response = await AsyncClient().get("/api/v1/openapi.json")
    assert orjson.loads(response.content) == _document()


# Against a live server, from the document it serves: schemathesis derives requests from it
# (every operation, declared and undeclared methods, then random fuzzing) and runs every check
# on the answers: status codes, content types, headers, bodies against the schemas, 405s with
# Allow. It skips the operation that serves the document it loaded; the second run, from the
# YAML file, covers that one (test_served_document_is_the_openapi_yaml shows they are equal).
SCHEMATHESIS = [sys.executable, "-m", "schemathesis.cli", "run", "--checks", "all"]
SCHEMATHESIS += ["--max-examples", "25", "--seed", "1", "--generation-database", "none"]
SCHEMATHESIS += ["--no-color", "--request-timeout", "5"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with phloem_run(FIXTURE_APPS, tmp_path_factory.mktemp("data")) as running:
        yield running


def _schemathesis(args: list[str], cwd: Path) -> str:
    done = subprocess.run(
        [*SCHEMATHESIS, *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"schemathesis found problems:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.subprocess
def test_live_server_conforms_to_the_openapi_document_it_serves(live, tmp_path):
    out = _schemathesis([live.url + "/api/v1/openapi.json"], tmp_path)
    assert "Operations:       3 selected / 3 total" in out
    assert "No issues found" in out


@pytest.mark.subprocess
def test_live_openapi_endpoint_conforms_to_the_document(live, tmp_path):
    args = [str(api.OPENAPI), "--url", live.url, "--include-path", "/api/v1/openapi.json"]
    out = _schemathesis(args, tmp_path)
    assert "Operations:       1 selected / 4 total" in out
    assert "No issues found" in out


@pytest.mark.subprocess
def test_schemathesis_catches_an_answer_the_document_does_not_allow(live, tmp_path):
    document = _document()
    document["components"]["schemas"]["Health"]["properties"]["status"]["const"] = "fine"
    del document["components"]["schemas"]["Limits"]["properties"]["resume_seconds"]
    tampered = tmp_path / "openapi.yaml"
    tampered.write_text(yaml.safe_dump(document), encoding="utf-8")
    done = subprocess.run(
        [*SCHEMATHESIS, str(tampered), "--url", live.url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "GET /api/v1/health" in done.stdout and "GET /api/v1/protocol" in done.stdout
    assert "Response violates schema" in done.stdout

import gzip

import pytest
from django.test import AsyncClient, override_settings
from phloem_server import renderer

INDEX = b"<!doctype html><title>Phloem</title><script type=module src=/assets/index-AbCd1234.js></script>"
SCRIPT = b"console.log('phloem');" * 100


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "assets" / "index-AbCd1234.js").write_bytes(SCRIPT)
    (tmp_path / "favicon.svg").write_bytes(b"<svg/>")
    (tmp_path.parent / "settings.py").write_text("SECRET = 1")
    renderer.clear()
    with override_settings(PHLOEM_RENDERER_DIST=str(tmp_path), ALLOWED_HOSTS=["testserver"]):
        yield tmp_path
    renderer.clear()


@pytest.mark.parametrize("path", ["/", "/counter", "/deep/page/path"])
async def test_every_page_path_gets_index_html(dist, path):
    response = await AsyncClient().get(path)
    assert response.status_code == 200 and response.content == INDEX
    assert response["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response["Content-Security-Policy"]


async def test_hashed_asset_is_served_with_a_long_cache_lifetime(dist):
    response = await AsyncClient().get("/assets/index-AbCd1234.js")
    assert response.status_code == 200 and response.content == SCRIPT
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_asset_is_gzipped_when_the_client_accepts_it(dist):
    response = await AsyncClient().get(
        "/assets/index-AbCd1234.js", headers={"Accept-Encoding": "gzip, br"}
    )
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == SCRIPT


async def test_matching_etag_gets_304(dist):
    first = await AsyncClient().get("/")
    again = await AsyncClient().get("/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""


async def test_top_level_file_is_served_as_itself(dist):
    response = await AsyncClient().get("/favicon.svg")
    assert response.content == b"<svg/>" and response["Content-Type"] == "image/svg+xml"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/../settings.py",
        "/assets/../../settings.py",
        "/assets/%2e%2e/settings.py",
        "/../settings.py",
        "/assets/missing.js",
        "/assets/sub\\..\\x.js",
    ],
)
async def test_traversal_and_missing_assets_get_404(dist, path):
    response = await AsyncClient().get(path)
    assert response.status_code == 404
    assert b"SECRET" not in response.content


async def test_post_is_not_allowed(dist):
    assert (await AsyncClient().post("/counter")).status_code == 405


async def test_missing_build_gets_an_explanatory_page(tmp_path):
    renderer.clear()
    with override_settings(
        PHLOEM_RENDERER_DIST=str(tmp_path / "nowhere"), ALLOWED_HOSTS=["testserver"]
    ):
        response = await AsyncClient().get("/counter")
    assert response.status_code == 503
    assert (
        b"renderer is not built" in response.content and b"PHLOEM_RENDERER_DIST" in response.content
    )

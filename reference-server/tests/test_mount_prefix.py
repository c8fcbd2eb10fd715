"""An app mounted under a URL prefix in a Django project (examples/django-project): the page
names the prefix to the renderer and points its assets under it."""

import pytest
from django.test import AsyncClient, override_settings
from django.urls import include, path
from phloem_server import renderer

INDEX = (
    b'<!doctype html><html><head><meta charset="utf-8"><title>Phloem</title>'
    b'<script type="module" crossorigin src="/assets/index-AbCd1234.js"></script>'
    b'<link rel="stylesheet" href="/assets/index-EfGh5678.css"></head></html>'
)
urlpatterns = [path("tools/counter/", include("phloem_server.urls", namespace="counter"))]


@pytest.fixture
def mounted(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "assets" / "index-AbCd1234.js").write_bytes(b"console.log(1);")
    renderer.clear()
    with override_settings(
        PHLOEM_RENDERER_DIST=str(tmp_path), ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__
    ):
        yield tmp_path
    renderer.clear()


@pytest.mark.parametrize("page", ["/tools/counter/", "/tools/counter/settings/deep"])
async def test_a_page_under_a_prefix_names_it_and_its_assets_follow(mounted, page):
    response = await AsyncClient().get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<meta name="phloem-base" content="/tools/counter/" />' in html
    assert 'src="/tools/counter/assets/index-AbCd1234.js"' in html
    assert 'href="/tools/counter/assets/index-EfGh5678.css"' in html
    assert "/assets/" not in html.replace("/tools/counter/assets/", "")


async def test_the_assets_are_served_under_the_prefix(mounted):
    response = await AsyncClient().get("/tools/counter/assets/index-AbCd1234.js")
    assert response.status_code == 200 and response.content == b"console.log(1);"


async def test_an_etag_names_the_mounted_page_not_the_built_one(mounted):
    first = await AsyncClient().get("/tools/counter/")
    again = await AsyncClient().get("/tools/counter/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert first["ETag"] != renderer.read(mounted / "index.html").etag  # type: ignore[union-attr]

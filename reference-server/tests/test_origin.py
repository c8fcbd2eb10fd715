from django.test import override_settings
from phloem_server.security import origin_allowed
from session import communicator

HOST = (b"host", b"127.0.0.1:8000")


def allowed(origin: str | None, host: bytes | None = b"127.0.0.1:8000", extra=()) -> bool:
    headers = [(b"host", host)] if host else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return origin_allowed(headers, extra)


def test_same_origin_is_allowed():
    assert allowed("http://127.0.0.1:8000")
    assert allowed("http://localhost:8000", b"localhost:8000")


def test_default_ports_compare_equal():
    with override_settings(ALLOWED_HOSTS=["example.com"]):
        assert allowed("https://example.com", b"example.com")
        assert allowed("https://example.com:443", b"example.com")


def test_foreign_origins_are_refused():
    assert not allowed("http://evil.example")
    assert not allowed("http://127.0.0.1:9000")  # another local server is another origin
    assert not allowed("null")
    assert not allowed("not a url")


def test_host_outside_allowed_hosts_is_refused_even_when_same_origin():
    # DNS rebinding: evil.example resolved to 127.0.0.1 is "same-origin" with itself.
    assert not allowed("http://evil.example:8000", b"evil.example:8000")


def test_configured_origins_are_allowed():
    assert allowed("http://localhost:5173", extra=["http://localhost:5173"])
    assert not allowed("http://localhost:5174", extra=["http://localhost:5173"])


def test_missing_origin_is_allowed_for_non_browser_clients():
    assert allowed(None)


async def test_foreign_origin_is_refused_before_accept(caplog):
    comm = communicator(headers=[HOST, (b"origin", b"http://evil.example")])
    connected, _ = await comm.connect()
    # Closed before accept: the ASGI server answers the upgrade with HTTP 403 (test_live).
    assert not connected
    assert "evil.example" in caplog.text

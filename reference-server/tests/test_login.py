"""Authentication through Django's session cookie (design §4): a page that requires a user
(PHL-SEC-007), resume only by the same user (PHL-SEC-008), ``ui.user``; over the in-memory
communicator and over a live uvicorn that shares this process's database."""

import orjson
import pytest
from asgiref.sync import sync_to_async
from conftest import FIXTURE_APPS
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from live import phloem_run
from session import ORIGIN, Session, communicator, find
from websockets.asyncio.client import connect

pytestmark = pytest.mark.usefixtures("served")
HELLO = {"type": "hello", "versions": ["1.0"], "path": "/private"}


@sync_to_async
def login(username: str) -> tuple[bytes, bytes]:
    """The Cookie header of a browser signed in as `username` (what django.contrib.auth's
    login() stores in the session)."""
    user, _ = User.objects.get_or_create(username=username)
    session = SessionStore()
    session[auth.SESSION_KEY] = str(user.pk)
    session[auth.BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return b"cookie", f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


async def open_as(
    cookie: tuple[bytes, bytes] | None, hello: dict, frames: int = 2
) -> tuple[Session, list[dict]]:
    comm = communicator(headers=[*ORIGIN, cookie] if cookie else ORIGIN)
    assert (await comm.connect())[0]
    session = Session(comm)
    await session.send(hello)
    first = await session.recv()
    if first["type"] == "error":
        return session, [first]
    return session, [first, *[await session.recv() for _ in range(frames - 1)]]


async def test_an_anonymous_connection_to_a_private_page_is_refused_with_4401():
    session, (error,) = await open_as(None, HELLO)
    assert error == {
        "type": "error", "code": "unauthorized", "message": error["message"], "fatal": True,
    }  # fmt: skip
    assert (await session.comm.receive_output(timeout=2)) == {
        "type": "websocket.close",
        "code": 4401,
    }


async def test_a_signed_in_user_gets_the_private_page_and_a_bad_cookie_does_not():
    session, (welcome, snapshot) = await open_as(await login("ada"), HELLO)
    assert welcome["type"] == "welcome" and snapshot["type"] == "ui.snapshot"
    patch = await session.click(find(snapshot["root"], "Button")["id"])
    assert patch["type"] == "ui.patch"
    await session.close()
    _, (error,) = await open_as((b"cookie", b"sessionid=forged"), HELLO)
    assert error["code"] == "unauthorized"


async def test_a_resume_is_honoured_only_for_the_same_user():
    ada, grace = await login("ada"), await login("grace")
    session, (welcome, _) = await open_as(ada, HELLO)
    await session.close()
    resume = {**HELLO, "resume": {"token": welcome["token"], "seq": 2}}
    other, (theirs, _) = await open_as(grace, resume)  # a stolen token is an unknown one
    assert "resumed" not in theirs and theirs["session"] != welcome["session"]
    await other.close()
    _anonymous, (refused,) = await open_as(None, resume)
    assert refused["code"] == "unauthorized"
    back, (again,) = await open_as(ada, resume, frames=1)  # nothing missed: the welcome only
    assert again["resumed"] is True and again["session"] == welcome["session"]
    await back.close()


async def test_the_app_sees_the_user_name(tmp_path):
    from phloem_server import registry

    app_file = tmp_path / "whoami.py"
    app_file.write_text(
        "import phloem as ph\napp = ph.App('Who')\n"
        "@app.page('/')\ndef home(ui):\n    return ph.Text(f'user={ui.user}', id='who')\n"
    )
    registry.install(__import__("phloem").load_app(app_file), str(app_file), "who")
    from channels.testing import WebsocketCommunicator
    from phloem_server.consumers import PhloemConsumer
    from phloem_server.routing import AuthMiddlewareStack

    app = AuthMiddlewareStack(PhloemConsumer.as_asgi(app_key="who"))
    for cookie, expected in [(await login("lin"), "user=lin"), (None, "user=None")]:
        comm = WebsocketCommunicator(
            app, "/phloem/ws", headers=[*ORIGIN, *([cookie] if cookie else [])],
            subprotocols=["phloem.v1"],
        )  # fmt: skip
        assert (await comm.connect())[0]
        await comm.send_to(text_data=orjson.dumps({"type": "hello", "versions": ["1.0"]}).decode())
        await comm.receive_from()
        snapshot = orjson.loads(await comm.receive_from())
        assert snapshot["root"].get("props", {}).get("text") == expected, snapshot
        await comm.disconnect()


@pytest.mark.subprocess
async def test_a_signed_in_user_over_live_uvicorn(monkeypatch):
    cookie = (await login("live"))[1].decode()
    # The live server shares this process's database and secret key, so the cookie holds.
    env = {"PHLOEM_SECRET_KEY": settings.SECRET_KEY}
    with phloem_run(FIXTURE_APPS, settings.DATA_DIR, env=env) as server:
        hello = orjson.dumps(HELLO).decode()
        async with connect(server.ws_url, subprotocols=["phloem.v1"], origin=server.url) as ws:
            await ws.send(hello)
            assert orjson.loads(await ws.recv())["code"] == "unauthorized"
            await ws.wait_closed()
            assert ws.close_code == 4401
        async with connect(
            server.ws_url, subprotocols=["phloem.v1"], origin=server.url,
            additional_headers={"Cookie": cookie},
        ) as ws:  # fmt: skip
            await ws.send(hello)
            assert orjson.loads(await ws.recv())["type"] == "welcome"
            assert orjson.loads(await ws.recv())["type"] == "ui.snapshot"

"""The adapter against its own callers' bugs and its own internal failures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.frames import Close

from adapters.backends.reference import link as signaling_module
from adapters.backends.reference import protocol
from adapters.backends.reference.causes import close_cause
from fsm.errors import KeepaliveTimeout, LinkError


class Raising:
    """A ``LinkEvents`` whose callbacks record, then raise."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def opened(self) -> None:
        self.calls.append("opened")
        raise RuntimeError("bug in opened")

    def failed(self, error: LinkError) -> None:
        self.calls.append("failed")
        raise RuntimeError("bug in failed")

    def lost(self, error: LinkError) -> None:
        self.calls.append("lost")
        raise RuntimeError("bug in lost")

    def notification(self, method: str, data: Any) -> None:
        self.calls.append(method)
        raise RuntimeError("bug in notification")


async def test_raising_callbacks_do_not_break_the_link(env: Any) -> None:
    sig, events = env.link(), Raising()
    sig.open(env.url, env.token(), events)
    await env.until(lambda: events.calls == ["opened"])
    assert (await sig.call(protocol.JOIN, {"channel": "ops"}))["members"]
    for method in ("a", "b"):
        env.server.send_raw("alice", json.dumps({"notification": True, "method": method}))
    await sig.call(protocol.PING, {})
    assert events.calls == ["opened", "a", "b"]  # the first raise did not stop the reader
    await env.server.kick("alice")
    await env.until(lambda: events.calls[-1] == "lost")
    await env.settle(sig)
    assert events.calls == ["opened", "a", "b", "lost"]


async def test_raising_failed_callback_still_ends_the_attempt_cleanly(env: Any) -> None:
    sig, events = env.link(), Raising()
    env.proxy.refuse()
    sig.open(env.url, env.token(), events)
    await env.until(lambda: events.calls == ["failed"])
    await env.settle(sig, proxy_live=False)
    assert events.calls == ["failed"]


async def test_raising_reply_does_not_break_the_link(env: Any) -> None:
    sig, rec = await env.open(join=True)
    calls: list[Any] = []

    def bad_reply(result: Any) -> None:
        calls.append(result)
        raise RuntimeError("bug in reply")

    sig.request(protocol.PING, {}, bad_reply)
    assert (await sig.call(protocol.PING, {}))["t"] > 0
    assert len(calls) == 1
    assert rec.kinds() == ["opened"]
    assert sig.is_open


async def test_internal_reader_failure_ends_the_link_once_and_frees_the_socket(
    env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sig, rec = await env.open(join=True)

    def broken(frame: str | bytes) -> Any:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(signaling_module, "_parse", broken)
    env.server.send_raw("alice", "{}")
    kind, error = await rec.ended()
    assert kind == "lost"
    assert error.code == 1006
    assert not sig.is_open
    await env.until(lambda: env.client_sockets() == 0)  # not left open behind a dead reader
    await env.until(lambda: env.server.links() == 0)
    await rec.quiet(0.1)
    assert rec.kinds() == ["opened", "lost"]
    await env.settle(sig)


@pytest.mark.parametrize(
    ("rcvd", "sent", "code", "kind"),
    [
        pytest.param(Close(4000, "kicked"), None, 4000, LinkError, id="server-close"),
        pytest.param(
            Close(1009, "too big"), Close(1009, "too big"), 1009, LinkError, id="our-close-echoed"
        ),
        pytest.param(None, Close(1009, "frame too big"), 1009, LinkError, id="we-failed-1009"),
        pytest.param(None, Close(1002, "protocol error"), 1002, LinkError, id="we-failed-1002"),
        pytest.param(
            None,
            Close(1011, "keepalive ping timeout"),
            1006,
            KeepaliveTimeout,
            id="websockets-keepalive",
        ),
        pytest.param(None, Close(1000, ""), 1006, LinkError, id="we-closed-peer-vanished"),
        pytest.param(None, None, 1006, LinkError, id="nothing"),
    ],
)
def test_close_frames_to_link_error(
    rcvd: Close | None, sent: Close | None, code: int, kind: type[LinkError]
) -> None:
    both = rcvd is not None and sent is not None
    closed = ConnectionClosedError(rcvd, sent, False if both else None)
    error = signaling_module._closed_error(closed)
    assert type(error) is kind
    assert error.code == code
    assert error.cause is close_cause(code)

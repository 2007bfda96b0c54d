"""Issue 10 (defects 6, 14, 15) on real sockets: what the reference link reports for a
self-signed TLS server, HTTP 400/404 and an absurd Retry-After at the handshake, the
registered and protocol close codes, and that the token never reaches a DEBUG log. Each
case also runs through a real ``ConnectionManager``: the attempts it makes and where it
ends."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

import fsm
from adapters.backends.reference import ReferenceBackend, SignalingOptions, protocol
from adapters.manager import ConnectionManager
from fsm.classify import DEFAULT_TABLE, Verdict
from fsm.errors import Cause, LinkError, ProtocolViolation
from fsm.events import ErrorRaised, PttEvent
from fsm.observe import Recorder

QUICK = {"open_timeout": 2.0, "request_timeout": 2.0, "close_timeout": 0.3}
TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXNlY3JldA"


# --- helpers ------------------------------------------------------------------------------
async def fail_once(env: Any, url: str, token: str) -> LinkError:
    sig, rec = env.link(), env.Recorder()
    sig.open(url, token, rec)
    kind, error = await rec.ended()
    assert kind == "failed", error
    await env.settle(sig, proxy_live=False)
    assert isinstance(error, LinkError)
    return error


class Trace(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def on_event(self, event: PttEvent) -> None:
        super().on_event(event)
        self.changed.set()

    async def ends(self, within: float = 8.0) -> str:
        """Wait for ``error`` or ``disconnected``; return it."""
        async with asyncio.timeout(within):
            while True:
                for e in self.events:
                    state = getattr(e, "state", None)
                    if state in ("error", "disconnected"):
                        return str(state)
                self.changed.clear()
                await self.changed.wait()

    def raised(self) -> ErrorRaised:
        [error] = [e for e in self.events if isinstance(e, ErrorRaised)]
        return error


def manager(url: str, token: str = TOKEN, **options: Any) -> tuple[ConnectionManager, Trace]:
    conn = ConnectionManager(
        url,
        channel="ops",
        token=token,
        backoff=fsm.FixedSchedule((0.05,)),
        media=False,
        backend=ReferenceBackend(SignalingOptions(**{**QUICK, **options})),
        log_transitions=False,
    )
    trace = Trace()
    conn.add_listener(trace)
    return conn, trace


# --- a scripted WebSocket server: TLS or not, closes with a given code ----------------------
@dataclass
class Scripted:
    port: int = 0
    close_code: int = 1000
    handshakes: int = 0
    server: Any = None
    seen: list[str] = field(default_factory=list)

    async def handler(self, ws: ServerConnection) -> None:
        self.handshakes += 1
        try:
            first = await asyncio.wait_for(ws.recv(), 2.0)
            self.seen.append(str(first))
        except Exception:
            return
        await ws.close(self.close_code, "scripted")


@pytest.fixture
async def scripted() -> AsyncIterator[Scripted]:
    script = Scripted()
    async with serve(
        script.handler, "127.0.0.1", 0, subprotocols=[Subprotocol(protocol.SUBPROTOCOL)]
    ) as server:
        script.server = server
        script.port = server.sockets[0].getsockname()[1]
        yield script


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[Scripted]:
    script = Scripted()
    async with serve(
        script.handler,
        "127.0.0.1",
        0,
        ssl=self_signed(tmp_path),
        subprotocols=[Subprotocol(protocol.SUBPROTOCOL)],
    ) as server:
        script.port = server.sockets[0].getsockname()[1]
        yield script


# --- defect 14: TLS -------------------------------------------------------------------------
async def test_self_signed_certificate_is_a_tls_failure(tls_server: Scripted, env: Any) -> None:
    error = await fail_once(env, f"wss://127.0.0.1:{tls_server.port}/ptt", TOKEN)
    assert error.cause is Cause.TLS
    assert "certificate" in str(error)
    assert DEFAULT_TABLE.verdict(error) is Verdict.FATAL


async def test_self_signed_server_ends_in_error_after_one_attempt(tls_server: Scripted) -> None:
    conn, trace = manager(f"wss://127.0.0.1:{tls_server.port}/ptt")
    await conn.connect()
    try:
        assert await trace.ends() == "error"
        await asyncio.sleep(0.3)  # nothing more is tried
        assert conn.metrics.attempts == 0  # no reconnect attempt after the first dial
        raised = trace.raised()
        assert "TLS" in raised.reason
        assert "certificate" in raised.guidance
    finally:
        await conn.disconnect()


# --- defect 6/14: HTTP 400 / 404 and Retry-After ---------------------------------------------
async def test_404_wrong_path_is_not_found_and_fatal(env: Any) -> None:
    error = await fail_once(env, env.proxy.url_for("/no-such-path"), env.token())
    assert (error.status, error.cause) == (404, Cause.NOT_FOUND)
    assert DEFAULT_TABLE.verdict(error) is Verdict.FATAL


async def test_400_is_bad_request_and_fatal(env: Any) -> None:
    env.server.reject_next(status=400, retry_after=None)
    error = await fail_once(env, env.url, env.token())
    assert (error.status, error.cause) == (400, Cause.BAD_REQUEST)
    assert DEFAULT_TABLE.verdict(error) is Verdict.FATAL


async def test_retry_after_above_an_hour_is_capped(env: Any) -> None:
    env.server.reject_next(status=503, retry_after=86_400)
    error = await fail_once(env, env.url, env.token())
    assert error.retry_after == 3600.0


@pytest.mark.parametrize("case", ["404", "400"])
async def test_manager_stops_at_once_on_400_and_404(case: str, env: Any) -> None:
    url = env.proxy.url_for("/no-such-path") if case == "404" else env.url
    if case == "400":
        env.server.reject_next(n=5, status=400, retry_after=None)
    conn, trace = manager(url, env.token())
    await conn.connect()
    try:
        assert await trace.ends() == "error"
        await asyncio.sleep(0.3)
        assert sum(env.server.stats.handshakes.values()) == 1
        assert "URL" in trace.raised().guidance
    finally:
        await conn.disconnect()


# --- defect 14: close codes ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (1008, Cause.POLICY),
        (3000, Cause.AUTH_INVALID),
        (3003, Cause.FORBIDDEN),
        (1002, Cause.PROTOCOL),
        (1003, Cause.PROTOCOL),
        (1007, Cause.PROTOCOL),
        (1010, Cause.PROTOCOL),
    ],
)
async def test_close_codes_map_to_causes(code: int, cause: Cause, scripted: Scripted) -> None:
    scripted.close_code = code
    conn, trace = manager(f"ws://127.0.0.1:{scripted.port}/ptt")
    await conn.connect()
    try:
        assert await trace.ends() == "error"
        error = conn.machine.last_error
        if cause is Cause.PROTOCOL:
            # retried max_protocol_retries (3) times, then error
            assert isinstance(error, ProtocolViolation)
            assert isinstance(error.__cause__, LinkError)
            assert error.__cause__.cause is cause
            assert scripted.handshakes == 4
            assert "protocol" in trace.raised().guidance
        else:
            assert isinstance(error, LinkError)
            assert (error.cause, error.code) == (cause, code)
            await asyncio.sleep(0.3)
            assert scripted.handshakes == 1
            assert trace.raised().guidance
    finally:
        await conn.disconnect()


async def test_forbidden_4003_guidance_is_not_log_in_again(scripted: Scripted) -> None:
    scripted.close_code = protocol.CLOSE_FORBIDDEN
    conn, trace = manager(f"ws://127.0.0.1:{scripted.port}/ptt")
    await conn.connect()
    try:
        assert await trace.ends() == "error"
        guidance = trace.raised().guidance
        assert "does not grant access" in guidance
        assert "log in again" not in guidance
    finally:
        await conn.disconnect()


# --- defect 15: the token never reaches a DEBUG log ------------------------------------------
class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_token_never_reaches_debug_logs(env: Any) -> None:
    capture = Capture()
    root = logging.getLogger()
    before = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    token = env.token()
    try:
        sig, rec = env.link(), env.Recorder()
        sig.open(env.url, token, rec)
        await rec.first("opened")
        await sig.call("join", {"channel": "ops"})
        await env.settle(sig)
        # and a rejected handshake, which websockets logs too
        env.server.reject_next(status=503, retry_after=1)
        await fail_once(env, env.url, token)
    finally:
        root.removeHandler(capture)
        root.setLevel(before)
    # The reference server runs in this process for the test; its own websockets logger
    # (``websockets.server``) is the server's business, not the client's.
    client = [r for r in capture.records if r.name != "websockets.server"]
    texts = [r.getMessage() for r in client]
    texts += [repr(r.args) + repr(r.__dict__.get("msg")) for r in client]
    ws_lines = [r.getMessage() for r in client if r.name.startswith("websockets")]
    assert any("Authorization" in line for line in ws_lines), ws_lines[:20]  # it was logged
    for text in texts:
        assert token not in text
        assert token.split(".")[2] not in text  # not even the signature
    assert any("Authorization: [redacted]" in line for line in ws_lines)


# --- defect 16: hostile answers, through a real ConnectionManager --------------------------
async def test_join_answered_with_a_number_ends_as_a_protocol_violation(
    make_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ok: true, data: 42`` to every join: never ``connected`` with no session; retried
    ``max_protocol_retries`` times, then ``error`` with a ProtocolViolation."""
    from adapters.server.dispatch import Dispatcher

    monkeypatch.setattr(Dispatcher, "_join", lambda self, link, data: 42)
    env = await make_env()
    conn, trace = manager(env.url, env.token())
    await conn.connect()
    try:
        assert await trace.ends() == "error"
        assert "connected" not in [getattr(e, "state", None) for e in trace.events]
        assert isinstance(conn.machine.last_error, ProtocolViolation)
        assert "join answer must be a JSON object" in trace.raised().reason
        assert env.server.stats.methods("alice").count("join") == 4
    finally:
        await conn.disconnect()


async def test_unsolicited_floor_granted_flood_sends_nothing(env: Any) -> None:
    """2,000 ``floorGranted`` without a transmission id: dropped, the client sends nothing,
    does not think it holds the floor, and stays connected."""
    conn, _ = manager(env.url, env.token(), ping_interval=30.0, ping_timeout=30.0)
    await conn.connect(wait=True, timeout=5)
    try:
        sent_before = list(env.server.stats.methods("alice"))
        frame = json.dumps({"notification": True, "method": "floorGranted", "data": {}})
        signaling = conn.machine.ports.signaling
        for batch in range(1, 21):  # in batches: the server drops a client 1,024 frames behind
            for _ in range(100):
                env.server.send_raw("alice", frame)
            await env.until(lambda b=batch: sum(signaling.dropped.values()) >= 100 * b)  # type: ignore[attr-defined]
        witness = {"notification": True, "method": protocol.PEER_JOINED, "data": {"peer_id": "w"}}
        env.server.send_raw("alice", json.dumps(witness))
        await env.until(lambda: "w" in conn.channel.members, within=10)
        await asyncio.sleep(0.2)
        assert env.server.stats.methods("alice") == sent_before
        assert conn.state == "connected"
        assert not conn.transmitting
        assert not conn.machine.floor.active
        assert sum(signaling.dropped.values()) == 2000  # type: ignore[attr-defined]
    finally:
        await conn.disconnect()

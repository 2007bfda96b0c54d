"""The fault proxy's modes against a real TCP echo server and the real PTT server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest
from websockets.exceptions import ConnectionClosedError

from adapters.server import PttServer
from adapters.server.testing import RawClient, bearer
from adapters.testing.faultproxy import FaultProxy, Mode

QUIET = 0.2  # how long "nothing arrives" is watched for


class Echo:
    """A TCP echo server that remembers what it saw; it closes once the client half-closes."""

    def __init__(self) -> None:
        self.accepted = 0
        self.received = b""
        self.ended: list[str] = []  # "eof" or "reset", per connection
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            while data := await reader.read(65536):
                self.received += data
                writer.write(data)
                await writer.drain()
            self.ended.append("eof")
        except ConnectionResetError:
            self.ended.append("reset")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    server = Echo()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def proxy(echo: Echo) -> AsyncIterator[FaultProxy]:
    assert echo._server is not None
    port = echo._server.sockets[0].getsockname()[1]
    async with FaultProxy("127.0.0.1", port) as proxy:
        yield proxy


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _open(proxy: FaultProxy) -> Stream:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", proxy.port), 1.0)


async def _roundtrip(stream: Stream, data: bytes = b"ping") -> bytes:
    reader, writer = stream
    writer.write(data)
    return await asyncio.wait_for(reader.readexactly(len(data)), 1.0)


async def _until(predicate: Callable[[], bool], within: float = 1.0) -> None:
    async with asyncio.timeout(within):
        # Polls: socket counts change inside the proxy, which has no event to wait on.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def _exchange(proxy: FaultProxy) -> bytes:
    """Open, send, read: a reset may surface at connect or at the read, depending on timing."""
    reader, writer = await _open(proxy)
    writer.write(b"x")
    return await asyncio.wait_for(reader.read(10), 1.0)


async def _silent(reader: asyncio.StreamReader) -> bool:
    """True when nothing (not even EOF) arrives for QUIET seconds."""
    try:
        await asyncio.wait_for(reader.read(1), QUIET)
    except TimeoutError:
        return True
    return False


async def test_pass_through_counts_connections(proxy: FaultProxy, echo: Echo) -> None:
    """Bytes flow both ways; connections and live sockets are counted until closed."""
    stream = await _open(proxy)
    assert await _roundtrip(stream, b"hello") == b"hello"
    assert (proxy.connections, proxy.live, echo.accepted) == (1, 1, 1)
    stream[1].close()
    await _until(lambda: proxy.live == 0)
    await _until(lambda: echo.ended in (["reset"], ["eof"]))


async def test_half_close_is_forwarded(proxy: FaultProxy, echo: Echo) -> None:
    """A client's FIN reaches the server and the server's answer and FIN come back."""
    reader, writer = await _open(proxy)
    writer.write(b"last words")
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 1.0) == b"last words"
    assert echo.ended == ["eof"]
    writer.close()
    await _until(lambda: proxy.live == 0)


async def test_latency_delays_each_way_in_order(proxy: FaultProxy) -> None:
    """With latency, each direction is delayed and chunks keep their order."""
    stream = await _open(proxy)
    proxy.latency(0.1)
    started = time.monotonic()
    reader, writer = stream
    for chunk in (b"a", b"b", b"c"):
        writer.write(chunk)
        await asyncio.sleep(0.01)
    assert await asyncio.wait_for(reader.readexactly(3), 1.0) == b"abc"
    assert 0.2 <= time.monotonic() - started < 1.0  # upper bound generous: a loaded CI box
    proxy.pass_through()
    started = time.monotonic()
    await _roundtrip(stream)
    assert time.monotonic() - started < 0.2  # no latency left (0.1 s each way would be 0.2+)


async def test_blackhole_forwards_nothing_and_closes_nothing(proxy: FaultProxy, echo: Echo) -> None:
    """A blackhole drops bytes both ways without FIN; the hit link stays dead afterwards."""
    stream = await _open(proxy)
    await _roundtrip(stream)
    proxy.blackhole()
    stream[1].write(b"lost")
    assert await _silent(stream[0])
    assert echo.received == b"ping"
    newcomer = await _open(proxy)  # accepted, but nothing reaches the server
    newcomer[1].write(b"hello?")
    assert await _silent(newcomer[0])
    assert echo.accepted == 1
    proxy.pass_through()
    with pytest.raises(ConnectionResetError):  # its server never heard of it
        await asyncio.wait_for(newcomer[0].read(10), 1.0)
    stream[1].write(b"again")
    assert await _silent(stream[0])  # bytes were lost: the stream can never be trusted
    assert await _roundtrip(await _open(proxy)) == b"ping"
    assert proxy.live == 2


async def test_blackhole_swallows_close_until_it_ends(proxy: FaultProxy, echo: Echo) -> None:
    """A client closing during a blackhole is not seen upstream; leaving it resets upstream."""
    stream = await _open(proxy)
    await _roundtrip(stream)
    proxy.blackhole()
    stream[1].close()
    await asyncio.sleep(QUIET)
    assert echo.ended == []
    assert proxy.live == 1
    proxy.pass_through()
    await _until(lambda: echo.ended == ["reset"])
    await _until(lambda: proxy.live == 0)


async def test_reset_now_resets_live_links_once(proxy: FaultProxy, echo: Echo) -> None:
    """reset_now RSTs both ends of every live link, then traffic passes again."""
    first, second = await _open(proxy), await _open(proxy)
    await _roundtrip(first)
    await _roundtrip(second)
    proxy.reset_now()
    assert proxy.mode is Mode.PASS
    for reader, _ in (first, second):
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(10), 1.0)
    await _until(lambda: echo.ended == ["reset", "reset"])
    await _until(lambda: proxy.live == 0)
    assert await _roundtrip(await _open(proxy)) == b"ping"


async def test_reset_all_resets_new_connections_too(proxy: FaultProxy, echo: Echo) -> None:
    """While reset_all is on, a new connection is reset at once and never reaches upstream."""
    live = await _open(proxy)
    await _roundtrip(live)
    proxy.reset_all()
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(live[0].read(10), 1.0)
    with pytest.raises(ConnectionResetError):
        await _exchange(proxy)
    assert echo.accepted == 1
    proxy.pass_through()
    assert await _roundtrip(await _open(proxy)) == b"ping"


async def test_refuse_stops_listening_on_the_same_port(proxy: FaultProxy) -> None:
    """refuse makes connects fail with ECONNREFUSED, leaves live links, and is undone."""
    live = await _open(proxy)
    port = proxy.port
    proxy.refuse()
    with pytest.raises(ConnectionRefusedError):
        await _open(proxy)
    assert await _roundtrip(live) == b"ping"
    proxy.pass_through()
    assert proxy.port == port
    assert await _roundtrip(await _open(proxy)) == b"ping"


async def test_flap_accepts_then_closes(proxy: FaultProxy, echo: Echo) -> None:
    """In flap mode a connect succeeds and the connection ends at once, upstream untouched."""
    proxy.flap()
    reader, _ = await _open(proxy)
    with contextlib.suppress(ConnectionResetError):
        assert await asyncio.wait_for(reader.read(10), 1.0) == b""
    assert (proxy.connections, proxy.live, echo.accepted) == (1, 0, 0)


async def test_dead_backend_resets_the_client() -> None:
    """When the target refuses, the proxied client sees a reset, and nothing stays live."""
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    async with FaultProxy("127.0.0.1", port) as proxy:
        reader, _ = await _open(proxy)
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(10), 1.0)
        await _until(lambda: proxy.live == 0)


async def test_close_leaves_no_task_and_no_socket(echo: Echo) -> None:
    """close() drops every link and cancels the proxy's own work."""
    assert echo._server is not None
    before = asyncio.all_tasks()
    proxy = FaultProxy("127.0.0.1", echo._server.sockets[0].getsockname()[1])
    await proxy.start()
    streams = [await _open(proxy) for _ in range(3)]
    await _roundtrip(streams[0])
    proxy.latency(5.0)
    streams[1][1].write(b"held back")
    await asyncio.sleep(0.05)
    await proxy.close()
    assert proxy.live == 0
    left = asyncio.all_tasks() - before
    assert [t for t in left if "Echo" not in repr(t.get_coro())] == []  # echo's own may linger
    for reader, writer in streams:
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(reader.read(), 1.0) == b""
        writer.close()
    with pytest.raises(ConnectionRefusedError):
        await _open(proxy)


async def test_ptt_server_through_proxy() -> None:
    """A WebSocket session through the proxy works, and a reset drops it on both ends."""
    secret = "s" * 32
    async with (
        PttServer(secret, grace=5, close_timeout=0.5) as server,
        FaultProxy("127.0.0.1", server.port) as proxy,
    ):
        client = await RawClient.open(proxy.url_for("/ptt"), bearer(secret, "alice", "ops"))
        joined = await client.join("ops")
        await client.ok("pttStart", {"tx_id": "a1"})
        proxy.reset_now()
        assert await client.closed() == 1006
        with pytest.raises(ConnectionClosedError):
            await client.ws.recv()
        await _until(lambda: server.links() == 0)
        again = await RawClient.open(proxy.url_for("/ptt"), bearer(secret, "alice", "ops"))
        resumed = await again.join("ops", joined["session_id"])
        assert resumed["resumed"] is True
        assert resumed["speaker"] is None  # the floor went with the dropped socket
        await again.aclose()
        await client.aclose()

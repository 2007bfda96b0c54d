"""SIGPIPE: long-running commands survive a dead peer; one-shot printers exit quietly."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from adapters.backends.reference import protocol
from adapters.server.testing import RawClient, bearer

SECRET = "cli-signal-secret-0123456789abcdef0123"
PTT = [sys.executable, "-m", "adapters.app.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
PAYLOAD = "x" * 60_000  # under the default 64 KiB frame limit; fills buffers fast


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """A real ``ptt serve`` (signaling only); stderr goes to a file so it never blocks."""
    with (tmp_path / "serve.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *PTT, "serve", "--secret", SECRET, "--port", "0", "--no-media",
            "--max-rps", "1000", "--log-level", "warning",
            stdout=subprocess.PIPE, stderr=log, env=ENV,
        )  # fmt: skip
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), 15.0)).decode().strip()
        assert url.startswith("ws://"), url
        yield proc, url
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15.0)


def _stalled_member(port: int) -> socket.socket:
    """A member that joins over a raw socket and then never reads (tiny receive buffer),
    so the server's writes to it pile up in its send buffers."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    auth = bearer(SECRET, "victim", "ops")["Authorization"]
    handshake = (
        f"GET {protocol.DEFAULT_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {protocol.SUBPROTOCOL}\r\nAuthorization: {auth}\r\n\r\n"
    )
    sock.sendall(handshake.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    join = json.dumps({"id": 1, "method": "join", "data": {"channel": "ops"}}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(join))
    sock.sendall(bytes([0x81, 0x80 | len(join)]) + mask + masked)  # len(join) < 126
    return sock


def _reset_after_fin(sock: socket.socket) -> None:
    """Half-close, then reset: the server's socket is in CLOSE_WAIT when the RST lands,
    which is what makes its next write fail with EPIPE (and raise SIGPIPE if not ignored)."""
    sock.shutdown(socket.SHUT_WR)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def _talk(talker: RawClient, proc: asyncio.subprocess.Process, count: int) -> None:
    """Send ``count`` big messages; if the server is gone, fail with how it ended."""
    try:
        for _ in range(count):
            await talker.ok(protocol.MESSAGE, {"blob": PAYLOAD})
    except (asyncio.CancelledError, TimeoutError, ConnectionClosed):
        code = await asyncio.wait_for(proc.wait(), 15.0)
        pytest.fail(f"ptt serve died while relaying: exit {code}")


async def test_serve_survives_a_peer_reset_while_writing_to_it(
    serve: tuple[asyncio.subprocess.Process, str],
) -> None:
    """A member reset under the server's pending writes costs that member, not the server."""
    proc, url = serve
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    talker = await RawClient.open(url, bearer(SECRET, "talker", "ops"))
    await talker.join("ops")
    for _ in range(3):  # each round is one chance for the server to die of SIGPIPE
        victim = _stalled_member(port)
        await talker.note(protocol.PEER_JOINED, user="victim", within=5.0)
        talker.notes.clear()
        await _talk(talker, proc, 120)  # 7 MB: more than the kernel buffers take
        _reset_after_fin(victim)
        await asyncio.sleep(0.05)
        victim.close()
        await _talk(talker, proc, 5)  # keep the server writing while it learns of the reset
        await asyncio.sleep(0.3)
        assert proc.returncode is None, f"ptt serve died: exit {proc.returncode}"
    newcomer = await RawClient.open(url, bearer(SECRET, "newcomer", "ops"))
    assert (await newcomer.join("ops"))["resumed"] is False
    await newcomer.aclose()
    await talker.aclose()
    assert proc.returncode is None


def test_token_into_a_closed_pipe_exits_quietly() -> None:
    """`ptt token | head -c0`: a one-shot printer dies of SIGPIPE without a traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the token is printed
    try:
        done = subprocess.run(
            [*PTT, "token", "--secret", SECRET, "--user", "ann", "--channel", "ops"],
            check=False,
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=ENV,
            timeout=30,
        )
    finally:
        os.close(write_end)
    # Quietly either way: killed by the restored SIGPIPE, or (seen once in a full CI run,
    # not reproduced alone) the BrokenPipeError path, which exits 0. Never a traceback.
    assert done.returncode in (-signal.SIGPIPE, 0)
    assert done.stderr == b""

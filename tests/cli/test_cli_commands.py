"""The ``ptt`` command line as scripts use it: real processes, real server, real outage."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from adapters.devices.audio import dominant_frequency
from adapters.server import verify_token
from adapters.testing.faultproxy import FaultProxy

SECRET = "cli-test-secret-0123456789abcdef0123"
PTT = [sys.executable, "-m", "adapters.app.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def test_console_script_is_declared() -> None:
    """`pip install` gives a `ptt` command that runs adapters.app.cli:main."""
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("ptt") == "adapters.app.cli:main"


def test_token_prints_one_jwt_alone_on_a_line() -> None:
    out = subprocess.run(
        [*PTT, "token", "--secret", SECRET, "--user", "ann", "--channel", "ops", "--ttl", "60"],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    ).stdout
    lines = out.splitlines()
    assert len(lines) == 1
    claims = verify_token(SECRET, lines[0])
    assert (claims.user, claims.channel) == ("ann", "ops")


def _token(user: str) -> str:
    return subprocess.run(
        [*PTT, "token", "--secret", SECRET, "--user", user, "--channel", "ops"],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    ).stdout.strip()


class Proc:
    """A child process whose stdout lines arrive in an asyncio queue."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @classmethod
    async def start(cls, *args: str) -> Proc:
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
        )
        return cls(proc)

    async def line(self, timeout: float = 15.0) -> str:  # noqa: ASYNC109
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not raw:
            err = await self.proc.stderr.read() if self.proc.stderr else b""
            raise AssertionError(f"process ended early: {err.decode()[-2000:]}")
        line = raw.decode().rstrip("\n")
        self.lines.append(line)
        return line

    async def record_until(self, predicate: object, timeout: float = 15.0) -> dict[str, object]:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while True:
            record = json.loads(await self.line(max(0.1, deadline - time.monotonic())))
            if predicate(record):  # type: ignore[operator]
                return record  # type: ignore[no-any-return]

    async def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self.proc.stdout is not None:  # keep what it printed on the way out
            rest = (await self.proc.stdout.read()).decode()
            self.lines.extend(line for line in rest.splitlines() if line)
        return code


@pytest.fixture
async def served() -> AsyncIterator[tuple[Proc, str]]:
    server = await Proc.start(*PTT, "serve", "--secret", SECRET, "--port", "0", "--grace", "10")
    url = await server.line()
    yield server, url
    await server.stop(signal.SIGTERM)


async def test_serve_prints_its_url_first(served: tuple[Proc, str]) -> None:
    """The first stdout line is the ws:// URL clients should use."""
    _, url = served
    assert url.startswith("ws://127.0.0.1:")
    assert url.endswith("/ptt")


async def test_connect_json_through_a_real_outage(served: tuple[Proc, str]) -> None:
    """--json: connected, reconnecting (attempt 1, the injected delay), connected again;
    SIGTERM on the server: 1001, the client reconnects; Ctrl-C: disconnected, exit 0."""
    server, url = served
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    async with FaultProxy("127.0.0.1", port) as proxy:
        client = await Proc.start(
            *PTT, "connect", proxy.url_for("/ptt"), "--token", _token("ann"),
            "--channel", "ops", "--json", "--signaling-only", "--backoff", "0.2,0.4",
            "--ping-interval", "0.5", "--ping-timeout", "0.5",
        )  # fmt: skip
        await client.record_until(lambda r: r["state"] == "connected")
        proxy.reset_now()
        lost = await client.record_until(
            lambda r: r["type"] == "state" and r["state"] != "connected"
        )
        assert (lost["state"], lost["previous"], lost["attempt"], lost["delay"]) == (
            "reconnecting",
            "connected",
            1,
            0.2,
        )
        for key in ("state", "previous", "reason", "attempt", "delay", "speaker"):
            assert key in lost
        back = await client.record_until(lambda r: r["type"] == "reconnected")
        assert back["state"] == "connected"
        assert await server.stop(signal.SIGTERM) == 0  # the server says 1001 to everyone
        going = await client.record_until(lambda r: r["type"] == "state")
        assert going["state"] == "reconnecting"
        assert "1001" in str(going["reason"])
        assert await client.stop() == 0
        records = [json.loads(line) for line in client.lines]
        assert records[-1]["state"] == "disconnected"
        assert records[-1]["reason"] == "disconnect requested"


async def test_kick_ends_the_client_and_error_exits_2(served: tuple[Proc, str]) -> None:
    """A bad token: error with a reason on stderr and exit code 2, no retry."""
    _, url = served
    client = await Proc.start(
        *PTT, "connect", url, "--token", "not-a-jwt", "--channel", "ops", "--json",
        "--signaling-only",
    )  # fmt: skip
    record = await client.record_until(lambda r: r["state"] == "error")
    assert "401" in str(record["reason"])
    code = await asyncio.wait_for(client.proc.wait(), 15)
    assert code == 2


async def test_talker_and_listener_as_two_processes(tmp_path: Path) -> None:
    """`--source tone:440 --talk` in one process, `--sink out.wav` in another: B hears 440 Hz."""
    server = await Proc.start(*PTT, "serve", "--secret", SECRET, "--port", "0")
    url = await server.line()
    wav = tmp_path / "heard.wav"
    common = ["--channel", "ops", "--json", "--no-playback"]
    listener = await Proc.start(
        *PTT, "connect", url, "--token", _token("bob"), *common, "--source", "tone:660",
        "--sink", str(wav),
    )  # fmt: skip
    await listener.record_until(lambda r: r["state"] == "connected")
    talker = await Proc.start(
        *PTT, "connect", url, "--token", _token("ann"), *common, "--source", "tone:440", "--talk"
    )  # fmt: skip
    await talker.record_until(lambda r: r.get("transmitting") is True, timeout=20)
    await listener.record_until(lambda r: r["type"] == "channel" and r["speaker"], timeout=20)
    await asyncio.sleep(2.0)
    assert await talker.stop() == 0
    assert await listener.stop() == 0
    await server.stop(signal.SIGTERM)
    with wave.open(str(wav)) as w:
        assert w.getframerate() == 48000
        samples = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    assert len(samples) > 48000  # at least a second of speech
    assert abs(dominant_frequency(samples, 48000) - 440) < 5

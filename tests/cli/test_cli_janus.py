"""`ptt janus`, `ptt connect --backend janus` and `ptt demo --backend janus` as real
processes against a real Janus."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PTT = [sys.executable, "-m", "adapters.app.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
JANUS_FAULTS = [
    "token revoked",
    "connection reset",
    "silent blackhole",
    "janus restart",
    "kick",
    "bad token after refresh",
]

pytestmark = pytest.mark.skipif(
    shutil.which("janus") is None, reason="needs Debian's janus (apt-get install janus)"
)


async def _line(proc: asyncio.subprocess.Process, within: float = 20.0) -> str:
    assert proc.stdout is not None
    raw = await asyncio.wait_for(proc.stdout.readline(), within)
    if not raw:
        err = await proc.stderr.read() if proc.stderr is not None else b""
        raise AssertionError(f"process ended early: {err.decode()[-2000:]}")
    return raw.decode().rstrip("\n")


async def _until_state(proc: asyncio.subprocess.Process, state: str) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    while not records or records[-1].get("state") != state:
        records.append(json.loads(await _line(proc)))
    return records


def _janus_child(parent: int) -> tuple[int, Path]:
    """The Janus process ``ptt janus`` started, and its configuration folder (``-F``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and argv and argv[0].endswith(b"janus"):
            return int(entry.name), Path(argv[argv.index(b"-F") + 1].decode())
    raise AssertionError(f"no janus child of {parent}")


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


async def _start(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *PTT, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or ENV
    )


async def test_ptt_janus_serves_a_client_then_stops_janus_and_cleans_up() -> None:
    """URL and token lines; a tone client connects; a bad token ends in error; SIGTERM
    stops Janus and removes its folder."""
    server = await _start("janus", "--port", "0", "--token-auth", "--room", "1234", "77")
    client = None
    try:
        url = await _line(server)
        assert url.startswith("ws://127.0.0.1:")
        name, _, token = (await _line(server)).partition("=")
        assert name == "PTT_TOKEN"
        assert len(token) >= 16
        janus_pid, folder = _janus_child(server.pid)
        assert (folder / "janus.jcfg").exists()

        client = await _start(
            *("connect", "--backend", "janus", url, "--channel", "1234", "--json"),
            *("--source", "tone:440", "--no-playback", "--talk", "--ping-interval", "1"),
            env={**ENV, "PTT_TOKEN": token},
        )
        records = await _until_state(client, "connected")
        assert next(r["state"] for r in records if r["type"] == "state") == "connecting"
        while not any(r.get("kind") == "floor_granted" for r in records):
            records.append(json.loads(await _line(client)))
        client.send_signal(signal.SIGTERM)
        await _until_state(client, "disconnected")
        assert await asyncio.wait_for(client.wait(), 15) == 0

        # The token matters: a wrong one is refused (403) and the client ends in error.
        refused = await _start(
            *("connect", "--backend", "janus", url, "--channel", "77", "--json"),
            "--signaling-only",
            env={**ENV, "PTT_TOKEN": "not-a-token"},
        )
        records = await _until_state(refused, "error")
        assert "403" in str(records[-1]["reason"])
        assert await asyncio.wait_for(refused.wait(), 15) == 2

        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 15) == 0
        assert _gone(janus_pid)
        assert not folder.exists()
        assert server.stderr is not None
        assert token not in (await server.stderr.read()).decode()  # logs never hold it
    finally:
        for proc in (client, server):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()


def _table(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0] in JANUS_FAULTS:
            rows[cells[0]] = cells
    return rows


def test_demo_on_janus_runs_the_story_and_every_fault_passes() -> None:
    """`ptt demo --backend janus`: every row measured and PASS, exit 0."""
    started = time.monotonic()
    proc = subprocess.run(
        [*PTT, "demo", "--backend", "janus", "--quick", "--plain"],
        capture_output=True,
        text=True,
        timeout=180,
        env=ENV,
        check=False,
    )
    print(proc.stdout[-3000:])
    print(f"janus demo took {time.monotonic() - started:.1f} s")
    rows = _table(proc.stdout)
    assert list(rows) == JANUS_FAULTS, proc.stdout + proc.stderr[-3000:]
    assert all(row[5] == "PASS" for row in rows.values()), proc.stdout
    assert proc.returncode == 0
    for fault in ("connection reset", "silent blackhole", "janus restart"):
        detection, recovery, gap = (rows[fault][i] for i in (1, 2, 3))
        assert detection.endswith(" s")
        assert recovery.endswith(" s")
        assert gap.endswith(" s")
        assert float(gap.split()[0]) > 0  # Alice's audio at Bob really was interrupted
    assert float(rows["silent blackhole"][1].split()[0]) >= 0.5  # our pings, not a FIN

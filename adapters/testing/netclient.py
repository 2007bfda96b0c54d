"""A signaling-only client in its own process (inside a :class:`.netns.ClientNamespace`),
both ends of the pipe: the child (``python -m adapters.testing.netclient``) and
:class:`NetClient`, the parent's handle on it.

The child is a real :class:`~adapters.manager.ConnectionManager` (reference backend, no
media) with the given backoff, keepalive and network watch. It writes one JSON object per
line to stdout: the records of ``ptt connect --json`` plus ``mono``, its
``time.monotonic()`` when the record was made (the same clock as the parent's, so a test
can subtract the moment it ran ``ip link set up``), then ``ready``, ``metrics`` and
``bye``. Commands on stdin, one per line: ``metrics``, ``quit`` (EOF is ``quit`` too).
The token comes in ``PTT_TOKEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Record = dict[str, Any]
REPO = Path(__file__).resolve().parents[2]
STARTUP = 30.0  # a cold interpreter importing the stack on a loaded 2-core machine


def is_state(state: str) -> Callable[[Record], bool]:
    return lambda r: r["type"] == "state" and r["state"] == state


def is_network_attempt(record: Record) -> bool:
    from fsm.network import NETWORK_CAME_BACK

    return record["type"] == "reconnecting" and record.get("cause") == NETWORK_CAME_BACK


def is_backoff(record: Record) -> bool:
    """A ``reconnecting`` record that starts a wait (the watcher's own say ``delay=0``)."""
    return record["type"] == "reconnecting" and (record.get("delay") or 0) > 0


class NetClient:
    """The parent's handle: ``records`` in arrival order, waits with bounds, ``close``."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: Path) -> None:
        self.proc = proc
        self.stderr = stderr
        self.records: list[Record] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls,
        exec_argv: Callable[..., list[str]],
        url: str,
        token: str,
        channel: str,
        *,
        backoff: Sequence[float],
        ping_interval: float,
        ping_timeout: float,
        close_timeout: float = 0.5,
        network_watch: bool = True,
        stderr: Path,
    ) -> NetClient:
        """Start the child through ``exec_argv`` (e.g. ``ClientNamespace.exec_argv``)."""
        argv = [
            sys.executable, "-m", "adapters.testing.netclient", url, "--channel", channel,
            "--backoff", ",".join(f"{d:g}" for d in backoff),
            "--ping-interval", str(ping_interval), "--ping-timeout", str(ping_timeout),
            "--close-timeout", str(close_timeout),
            *([] if network_watch else ["--no-network-watch"]),
        ]  # fmt: skip
        path = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PTT_TOKEN": token, "PYTHONPATH": os.pathsep.join(path)}
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                *exec_argv(*argv),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env=env,
            )
        client = cls(proc, stderr)
        await client.wait(lambda r: r["type"] == "ready", within=STARTUP)
        return client

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            with contextlib.suppress(ValueError):
                self.records.append(json.loads(line))

    def mark(self) -> int:
        return len(self.records)

    def find(self, predicate: Callable[[Record], bool], since: int = 0) -> list[Record]:
        return [r for r in self.records[since:] if predicate(r)]

    async def wait(
        self, predicate: Callable[[Record], bool], since: int = 0, within: float = 10.0
    ) -> Record:
        """The first record from ``since`` on that matches; raises ``TimeoutError`` (with
        what was seen and the child's stderr) after ``within`` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = self.find(predicate, since)
            if found:
                return found[0]
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.005)
        tail = self.stderr.read_text(errors="replace")[-2000:]
        brief = [(r["type"], r.get("state"), r.get("reason")) for r in self.records[since:]]
        raise TimeoutError(f"nothing matched within {within} s; saw {brief}\n{tail}")

    async def metrics(self) -> dict[str, float]:
        """The machine's counters now (``attempts``, ``network_attempts``, ...)."""
        since = self.mark()
        await self._send("metrics")
        record = await self.wait(lambda r: r["type"] == "metrics", since)
        return dict(record["metrics"])

    async def _send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()

    async def close(self) -> None:
        """Disconnect and exit (killed if it does not within a few seconds)."""
        if self.proc.returncode is None:
            with contextlib.suppress(ConnectionError):
                await self._send("quit")
            try:
                async with asyncio.timeout(10):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await self._reader


# --- the child ---------------------------------------------------------------------------------
def _emit(record: Record) -> None:
    record["mono"] = time.monotonic()
    sys.stdout.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()


class _Printer:
    def __init__(self, started: float) -> None:
        self.started = started

    def after_transition(self, machine: Any) -> None:
        from adapters.app.jsonlines import event_record

        for event in machine.transition_events:
            _emit(event_record(event, machine, self.started))


async def _child(args: argparse.Namespace) -> int:
    from adapters.backends.reference import ReferenceBackend, SignalingOptions
    from adapters.manager import ConnectionManager
    from fsm import FixedSchedule

    loop = asyncio.get_running_loop()
    manager = ConnectionManager(
        args.url,
        channel=args.channel,
        token=os.environ["PTT_TOKEN"],
        media=False,
        backoff=FixedSchedule(tuple(float(d) for d in args.backoff.split(","))),
        backend=ReferenceBackend(
            SignalingOptions(
                ping_interval=args.ping_interval,
                ping_timeout=args.ping_timeout,
                close_timeout=args.close_timeout,
            )
        ),
        network=not args.no_network_watch,
        log_transitions=False,
    )
    manager.add_listener(_Printer(loop.time()))
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    _emit({"type": "ready", "pid": os.getpid()})
    await manager.connect()
    while line := (await stdin.readline()).decode().strip():
        if line == "metrics":
            _emit({"type": "metrics", "metrics": dict(manager.machine.metrics)})
        elif line == "quit":
            break
    await manager.disconnect()
    _emit({"type": "bye", "metrics": dict(manager.machine.metrics)})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    import structlog

    parser = argparse.ArgumentParser(prog="python -m adapters.testing.netclient")
    parser.add_argument("url")
    parser.add_argument("--channel", required=True)
    parser.add_argument("--backoff", required=True, help="fixed delays, e.g. 0.5,1,8")
    parser.add_argument("--ping-interval", type=float, required=True)
    parser.add_argument("--ping-timeout", type=float, required=True)
    parser.add_argument("--close-timeout", type=float, default=0.5)
    parser.add_argument("--no-network-watch", action="store_true")
    args = parser.parse_args(argv)
    # An application: it decides where logs go (stderr, so stdout stays JSON lines).
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    return asyncio.run(_child(args))


if __name__ == "__main__":
    sys.exit(main())

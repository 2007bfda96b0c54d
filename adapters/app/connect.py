"""``ptt connect``: one client process, interactive (status line) or ``--json``.

Exit codes: 0 after a clean disconnect (Ctrl-C, SIGTERM, or the server's final goodbye),
2 when the machine ends in ``error`` (the reason is on stderr).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from typing import Any

from adapters.backends.base import Backend
from adapters.backends.reference import ReferenceBackend, SignalingOptions
from adapters.manager import AudioOptions, ConnectionManager
from adapters.ptt import PttMode
from fsm import ExponentialBackoff, FixedSchedule
from fsm.backoff import BackoffPolicy
from fsm.errors import ConfigError
from fsm.events import ChannelChanged, PttEvent

from .console import StatusLine, keys
from .jsonlines import event_record, write_record


@dataclass(frozen=True)
class ConnectOptions:
    url: str
    token: str
    channel: str
    json: bool = False
    source: str = "device"
    sink: str | None = None
    talk: bool = False
    playback: bool = True
    output_device: str | None = None
    media: bool = True
    mode: PttMode = "toggle"
    backoff: str | None = None
    max_attempts: int | None = None
    ping_interval: float = 5.0
    ping_timeout: float = 5.0
    liveness: float = 3.0
    stable_after: float = 10.0
    network_watch: bool = True
    backend: str = "reference"


#: The token a Janus client sends when none is given: Janus without ``token_auth``
#: ignores it, and the manager wants a non-empty one.
ANONYMOUS = "anonymous"


def build_backend(options: ConnectOptions) -> Backend:
    """The backend named by ``--backend``, with the tuning flags mapped onto its options:
    ``--ping-interval``/``--ping-timeout`` are WebSocket pings and ``--liveness`` the media
    liveness window on either backend."""
    if options.backend == "janus":
        from adapters.backends.janus import ClientOptions, JanusBackend, MediaOptions

        return JanusBackend(
            client=ClientOptions(
                ping_interval=options.ping_interval, ping_timeout=options.ping_timeout
            ),
            media_options=MediaOptions(liveness_timeout=options.liveness),
        )
    if options.backend != "reference":
        raise ConfigError(f"unknown backend {options.backend!r}: reference or janus")
    return ReferenceBackend(
        SignalingOptions(ping_interval=options.ping_interval, ping_timeout=options.ping_timeout),
        liveness_timeout=options.liveness,
    )


def parse_backoff(spec: str | None, max_attempts: int | None) -> BackoffPolicy:
    if not spec:
        return ExponentialBackoff(max_attempts=max_attempts)
    try:
        delays = tuple(float(part) for part in spec.split(","))
    except ValueError as exc:
        raise ConfigError(f"--backoff wants comma-separated seconds, got {spec!r}") from exc
    return FixedSchedule(delays, max_attempts=max_attempts)


class _Printer:
    """Listener: JSON lines or status-line redraws, after every transition."""

    def __init__(self, options: ConnectOptions, started: float) -> None:
        self.options = options
        self.started = started
        self.status = StatusLine(sys.stdout, colour=sys.stdout.isatty())
        self.ended: asyncio.Event = asyncio.Event()
        self.floor_denied = False
        self.error_reason: str | None = None

    def after_transition(self, machine: Any) -> None:
        now = machine.ports.clock.now()
        for event in machine.transition_events:
            self._one(machine, event, now)
        if machine.state == "error" and self.error_reason is None:
            self.error_reason = machine.reason or "error"
        if machine.state in ("error", "disconnected"):
            self.ended.set()
        if not self.options.json:
            self.status.draw(machine, now)

    def _one(self, machine: Any, event: PttEvent, now: float) -> None:
        if isinstance(event, ChannelChanged) and event.kind == "floor_denied":
            self.floor_denied = True
        if self.options.json:
            write_record(sys.stdout, event_record(event, machine, self.started))
        else:
            self.status.note(event, now)


async def run_client(options: ConnectOptions) -> int:
    loop = asyncio.get_running_loop()
    manager = ConnectionManager(
        options.url,
        channel=options.channel,
        token=options.token,
        mode="hold" if options.talk else options.mode,
        backoff=parse_backoff(options.backoff, options.max_attempts),
        media=options.media,
        audio_options=AudioOptions(
            source=options.source,
            output=options.playback,
            output_device=options.output_device,
            sink=options.sink,
        ),
        backend=build_backend(options),
        stable_after=options.stable_after,
        network=options.network_watch,
        log_transitions=False,
    )
    printer = _Printer(options, loop.time())
    manager.add_listener(printer)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def on_key(key: str) -> None:
        if key in (" ", "t") and manager.state in ("connecting", "connected", "reconnecting"):
            manager.ptt.toggle()
        elif key in ("q", "\x03"):
            stop.set()

    talker = loop.create_task(_keep_talking(manager, printer)) if options.talk else None
    try:
        with keys(loop, on_key):
            await manager.connect()
            stopped = loop.create_task(stop.wait())
            ended = loop.create_task(printer.ended.wait())
            await asyncio.wait({stopped, ended}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            ended.cancel()
    finally:
        if talker is not None:
            talker.cancel()
        await manager.disconnect()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if not options.json:
            sys.stdout.write("\n")
    if printer.error_reason is not None:
        print(f"ptt connect: {printer.error_reason}", file=sys.stderr)
        return 2
    return 0


async def _keep_talking(manager: ConnectionManager, printer: _Printer) -> None:
    """``--talk``: hold the floor from the start; ask again if someone else had it."""
    while True:
        await manager.wait_for("connected", timeout=3600)
        if not manager.ptt.held:
            manager.ptt.press()
        elif printer.floor_denied and manager.state == "connected":
            printer.floor_denied = False
            manager.ptt.release()
            manager.ptt.press()
        await asyncio.sleep(1.0)

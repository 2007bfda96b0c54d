"""Client A of the network-namespace scenario in ``test_e2e_media.py``, as its own process.

A network namespace holds processes, not coroutines: to cut *only* A's UDP the test runs
this script under ``ip netns exec`` and drives it over pipes. It is a real
``ConnectionManager`` (WebSocket signaling, aiortc transports, ``tone:HZ`` microphone, no
speaker) with the test's short timings.

Run: ``python media_helpers.py URL CHANNEL SOURCE LIVENESS`` with the token in
``PTT_TOKEN``. Commands on stdin, one per line: ``press``, ``release``, ``status``,
``quit``. Reports on stdout, one JSON object per line, each with ``t`` (``time.monotonic()``,
the same clock as the test process) and ``type``: the typed events of the machine
(``StateChanged``, ``Reconnecting``, ``Reconnected``, ``ChannelChanged``...), ``status``
(state, floor, ids of the peer connections) and finally ``bye`` (what was left running).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import sys
import time
from typing import Any

import structlog

from adapters.backends.reference import ReferenceBackend, SfuMedia, SignalingOptions
from adapters.manager import ConnectionManager
from fsm import FixedSchedule
from fsm.events import PttEvent
from fsm.observe import Listener

SCHEDULE = (0.1, 0.2, 0.4)
SIGNALING: dict[str, Any] = {
    "ping_interval": 0.5,
    "ping_timeout": 0.5,
    "open_timeout": 2.0,
    "request_timeout": 2.0,
    "close_timeout": 0.3,
}


def report(kind: str, /, **data: Any) -> None:
    line = json.dumps({"t": time.monotonic(), "type": kind, **data}, default=str)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Reporter(Listener):
    def on_event(self, event: PttEvent) -> None:
        report(type(event).__name__, **dataclasses.asdict(event))


def status(manager: ConnectionManager) -> dict[str, Any]:
    media = manager.machine.ports.media
    pcs = media.peer_connections() if isinstance(media, SfuMedia) else ()
    return {
        "state": manager.state,
        "detail": manager.detail,
        "transmitting": manager.transmitting,
        "pcs": [id(pc) for pc in pcs],
        "pc_states": [pc.connectionState for pc in pcs],
    }


def _other_tasks() -> list[str]:
    return [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def main(url: str, channel: str, source: str, liveness: float) -> None:
    from adapters.devices.audio import SoundDeviceAudio

    manager = ConnectionManager(
        url,
        channel=channel,
        token=os.environ["PTT_TOKEN"],
        audio=SoundDeviceAudio(source, output=False),
        backoff=FixedSchedule(SCHEDULE),
        backend=ReferenceBackend(SignalingOptions(**SIGNALING), liveness_timeout=liveness),
        log_transitions=False,
    )
    manager.add_listener(Reporter())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await manager.connect()
    report("hello", pid=os.getpid())
    seen: list[Any] = []
    while line := (await reader.readline()).decode().strip():
        media = manager.machine.ports.media
        if isinstance(media, SfuMedia):
            seen.extend(pc for pc in media.peer_connections() if pc not in seen)
        if line == "press":
            manager.ptt.press()
        elif line == "release":
            manager.ptt.release()
        elif line == "status":
            report("status", **status(manager))
        elif line == "quit":
            break
    await manager.disconnect()
    deadline = loop.time() + 3.0  # aiortc's closing callbacks may need a few loop turns
    while (left := _other_tasks()) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    report("bye", tasks=left, open_pcs=[id(pc) for pc in seen if pc.connectionState != "closed"])


if __name__ == "__main__":
    # stdout carries the reports: logs go to stderr (the test keeps it in a file).
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    url_arg, channel_arg, source_arg, liveness_arg = sys.argv[1:5]
    asyncio.run(main(url_arg, channel_arg, source_arg, float(liveness_arg)))

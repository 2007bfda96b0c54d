"""``ptt janus``: a private Janus AudioBridge for trying the Janus backend by hand.

It starts :class:`~adapters.backends.janus.LocalJanus` (a generated configuration in a
temporary folder, loopback only), prints the WebSocket URL as the first stdout line and,
with ``--token-auth``, a second line ``PTT_TOKEN=<token>``: a token it registered through
the admin API (``ptt connect`` reads ``PTT_TOKEN``). The admin secret is never shown. It
runs until SIGINT/SIGTERM (or until Janus dies: exit 2), then stops Janus and removes the
folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import sys
from dataclasses import dataclass, replace

from adapters.backends.janus import LocalJanus, Room
from fsm.errors import ConfigError
from fsm.logs import get_logger

log = get_logger("ptt.janus")

POLL = 0.5  # how often to check that Janus is still running (s)


@dataclass(frozen=True)
class JanusServeOptions:
    port: int = 8188  # the WebSocket port; 0 picks a free one
    rooms: tuple[int, ...] = (1234,)
    token_auth: bool = False
    session_timeout: int = 60


async def serve_janus(options: JanusServeOptions) -> int:
    try:
        janus = LocalJanus(
            rooms=tuple(Room(room) for room in options.rooms),
            session_timeout=options.session_timeout,
            token_auth=options.token_auth,
        )
    except ConfigError as exc:
        print(f"ptt janus: {exc} ({exc.guidance})", file=sys.stderr)
        return 2
    if options.port:
        janus.config = replace(janus.config, ws_port=options.port)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await janus.start()
        print(janus.url, flush=True)
        if options.token_auth:
            token = secrets.token_hex(16)
            await janus.add_token(token)
            print(f"PTT_TOKEN={token}", flush=True)
        rooms = ",".join(str(room) for room in options.rooms)
        log.info("ptt.janus.serving", rooms=rooms, token_auth=options.token_auth)
        while not stop.is_set() and janus.running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL)
        if not stop.is_set():
            print(f"ptt janus: Janus exited\n{_tail(janus)}", file=sys.stderr)
            return 2
        return 0
    except ConfigError as exc:
        print(f"ptt janus: {exc}", file=sys.stderr)
        return 2
    finally:
        await janus.aclose()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _tail(janus: LocalJanus, lines: int = 20) -> str:
    """The end of Janus's own log (its folder is removed at exit)."""
    log_file = janus.folder / "janus.log"
    with contextlib.suppress(OSError):
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    return ""

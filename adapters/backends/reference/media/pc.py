"""Closing an ``RTCPeerConnection`` without leaving aiortc/aioice tasks behind.

Two aiortc 1.16 / aioice traps, both seen in this project's tests:

- closing while ICE is still connecting: aioice's ``Connection.connect()`` can be between a
  successful check and starting its consent-freshness task; ``close()`` has already
  looked for that task, so it starts afterwards and runs on (about 30 s) with the
  connection closed. We let a ``connecting`` pc settle first (~35 ms on loopback,
  bounded by ``settle``);
- a second ``close()`` awaits the first one's future; cancelling that waiter cancels the
  future and the first ``close()`` then fails with ``InvalidStateError``. We shield it.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiortc import RTCPeerConnection

SETTLE = 2.0


async def close_pc(pc: RTCPeerConnection, settle: float = SETTLE) -> None:
    """Close ``pc`` once it is not mid-connect (or after ``settle`` seconds)."""
    if pc.connectionState == "connecting":
        changed = asyncio.Event()
        pc.on("connectionstatechange", changed.set)
        try:
            async with asyncio.timeout(settle):
                while pc.connectionState == "connecting":
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            pass
        finally:
            with contextlib.suppress(KeyError):
                pc.remove_listener("connectionstatechange", changed.set)
    await asyncio.shield(pc.close())

"""The interactive status line of ``ptt connect``: state in colour, who talks, the floor.

Terminals report key presses but not releases, so one key toggles talk (space or t);
Ctrl-C (or q) disconnects cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from fsm.events import ErrorRaised, PttEvent, Reconnecting

GREEN, YELLOW, RED, BLUE, DIM, RESET = (
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[31m",
    "\x1b[34m",
    "\x1b[2m",
    "\x1b[0m",
)
COLOURS = {
    "connected": GREEN,
    "reconnecting": YELLOW,
    "connecting": BLUE,
    "error": RED,
    "disconnected": DIM,
    "idle": DIM,
}


class StatusLine:
    """Renders one line from the machine's picture; ``render(now)`` is pure string work."""

    def __init__(self, out: TextIO, colour: bool = True, keys: bool = True) -> None:
        self.out = out
        self.colour = colour
        self.keys = keys
        self.retry_at: float | None = None
        self.guidance = ""

    def note(self, event: PttEvent, now: float) -> None:
        if isinstance(event, Reconnecting):
            self.retry_at = now + event.delay
        elif isinstance(event, ErrorRaised):
            self.guidance = event.guidance

    def render(self, machine: Any, now: float) -> str:
        state = machine.state
        text = state
        if state == "reconnecting":
            if machine.detail == "backing_off" and self.retry_at is not None:
                left = max(0.0, self.retry_at - now)
                text += f": attempt {machine.attempt}, retry in {left:.1f} s"
            else:
                text += f": attempt {machine.attempt}, {machine.detail}"
            if machine.reason:
                text += f" ({machine.reason})"
        elif state == "connected" and machine.detail == "degraded":
            text += f" (degraded: {machine.reason})"
        elif state == "error":
            text += f": {machine.reason}" + (f" - {self.guidance}" if self.guidance else "")
        line = f"[{machine.channel.name}] {text} | {_talk(machine, state)}"
        if self.keys:
            line += " | space: talk, q: quit"
        if self.colour:
            line = f"{COLOURS.get(state, '')}{line}{RESET}"
        return line

    def draw(self, machine: Any, now: float) -> None:
        self.out.write("\r\x1b[2K" + self.render(machine, now))
        self.out.flush()


def _talk(machine: Any, state: str) -> str:
    """Who talks, from our side of the floor."""
    speaker = machine.channel.name_of(machine.channel.speaker)
    if machine.floor.granted:
        return "YOU ARE TALKING"
    if machine.floor.held:
        return "waiting for the floor"
    if state != "connected":
        return "not in the channel"  # the last picture is stale: do not show it
    return f"{speaker} is talking" if speaker else "channel quiet"


@contextlib.contextmanager
def keys(loop: asyncio.AbstractEventLoop, on_key: Callable[[str], None]) -> Iterator[None]:
    """Deliver single key presses from a terminal (no-op when stdin is not a TTY)."""
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    loop.add_reader(fd, lambda: on_key(sys.stdin.read(1)))
    try:
        yield
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)

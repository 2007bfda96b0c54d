"""What ``ptt demo`` shows: a live block of status lines, then the results table."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from fsm.events import StateChanged

from .console import COLOURS, RESET, StatusLine

PASS, FAIL = "\x1b[32mPASS\x1b[0m", "\x1b[31mFAIL\x1b[0m"


class _Transitions:
    """Listener for the plain view: one line per state change."""

    def __init__(self, name: str) -> None:
        self.name = name

    def after_transition(self, machine: Any) -> None:
        for event in machine.transition_events:
            if isinstance(event, StateChanged):
                reason = f" ({event.reason})" if event.reason and event.state != "connected" else ""
                print(f"  {self.name:>6}: {event.previous} -> {event.state}/{event.detail}{reason}")


class LiveView:
    """Redraws every client's status line 5 times a second (or prints transitions)."""

    def __init__(self, clients: Mapping[str, Any], *, plain: bool) -> None:
        self.clients = clients
        self.plain = plain
        self._task: asyncio.Task[None] | None = None
        self._lines = {name: StatusLine(sys.stdout, colour=False, keys=False) for name in clients}
        self.act = "connecting"
        if plain:
            for name, client in clients.items():
                client.add_listener(_Transitions(name))

    def announce(self, act: str) -> None:
        """Name the scene being played (a header line, or a line of its own when plain)."""
        self.act = act
        if self.plain:
            print(f"== {act}")

    def start(self) -> None:
        if not self.plain:
            self._task = asyncio.get_running_loop().create_task(self._redraw())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            sys.stdout.write("\n")

    async def _redraw(self) -> None:
        loop = asyncio.get_running_loop()
        first = True
        while True:
            if not first:
                sys.stdout.write(f"\x1b[{len(self.clients) + 1}F")  # back to the block's start
            first = False
            sys.stdout.write(
                f"\x1b[2K   now: {self.act}"[: shutil.get_terminal_size().columns] + "\n"
            )
            width = shutil.get_terminal_size().columns - 8
            for name, client in self.clients.items():
                # One terminal row per client, or the cursor arithmetic above breaks.
                line = self._lines[name].render(client.machine, loop.time())[:width]
                colour = COLOURS.get(client.state, "")
                sys.stdout.write(f"\x1b[2K{name:>6} {colour}{line}{RESET}\n")
            sys.stdout.flush()
            await asyncio.sleep(0.2)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def render_table(results: Sequence[Any], colour: bool | None = None) -> str:
    """The final table: fault, detection, recovery, audio gap, dropped, verdict."""
    colour = sys.stdout.isatty() if colour is None else colour
    head = ("fault", "detection", "recovery", "audio gap", "dropped", "result", "note")
    rows = [
        (
            r.fault,
            _seconds(r.detection),
            _seconds(r.recovery),
            _seconds(r.audio_gap),
            str(r.dropped),
            (PASS if r.passed else FAIL) if colour else ("PASS" if r.passed else "FAIL"),
            r.note,
        )
        for r in results
    ]
    widths = [max(len(h), *(len(_plain(row[i])) for row in rows)) for i, h in enumerate(head)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
        "| " + " | ".join("-" * w for w in widths) + " |",
    ]
    for row in rows:
        cells = [c + " " * (w - len(_plain(c))) for c, w in zip(row, widths, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plain(text: str) -> str:
    return text.replace("\x1b[32m", "").replace("\x1b[31m", "").replace("\x1b[0m", "")

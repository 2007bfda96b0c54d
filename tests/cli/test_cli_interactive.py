"""`ptt connect` in a real terminal (a pty): the status line, a key toggles talk, Ctrl-C."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time

import pytest

from adapters.server import mint_token

SECRET = "tty-test-secret-0123456789abcdef012345"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _controlling_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            # Ctrl-C must become SIGINT, as in a shell; pytest runs no threads that could
            # hold a lock across this fork.
            preexec_fn=_controlling_terminal,  # noqa: PLW1509
        )
        os.close(slave)
        self.screen = ""

    def read_until(self, text: str, timeout: float = 20.0, since: int = 0) -> str:
        """Read until ``text`` appears on the screen after position ``since``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
                self.screen += ANSI.sub("", chunk)
                if text in self.screen[since:]:
                    return self.screen
        raise AssertionError(f"{text!r} never shown; screen: {self.screen[-800:]!r}")

    def drain(self) -> str:
        """Everything the (exited) process still had on its way to the screen."""
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.master, 65536).decode(errors="replace")
            except OSError:
                break
            if not chunk:
                break
            self.screen += ANSI.sub("", chunk)
        return self.screen

    def press(self, key: str) -> None:
        os.write(self.master, key.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        os.close(self.master)


@pytest.fixture
def server_url() -> object:
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters.app.cli", "serve", "--secret", SECRET, "--port", "0",
         "--no-media"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    yield proc.stdout.readline().strip()
    proc.terminate()
    proc.wait(10)


def test_status_line_key_toggles_talk_and_ctrl_c_disconnects(server_url: str) -> None:
    term = Terminal(
        sys.executable, "-m", "adapters.app.cli", "connect", server_url, "--channel", "ops",
        "--token", mint_token(SECRET, "ann", "ops", 60), "--signaling-only",
    )  # fmt: skip
    try:
        term.read_until("[ops] connected")
        term.read_until("channel quiet")
        term.press(" ")  # terminals report no key release: one key toggles
        term.read_until("YOU ARE TALKING")
        mark = len(term.screen)
        term.press(" ")
        term.read_until("channel quiet", since=mark)  # released: nobody talks, not even us
        assert "is talking" not in term.screen[mark:]
        term.press("\x03")  # Ctrl-C: SIGINT, a clean disconnect
        assert term.proc.wait(15) == 0
        assert "[ops] disconnected" in term.drain()
    finally:
        term.close()

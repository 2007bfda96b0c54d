"""``LocalJanus``: a private Janus process on loopback, for tests, demos and ``ptt janus``.

It writes a :class:`~.config.JanusConfig` folder, runs ``janus -F DIR -C DIR/janus.jcfg``
and waits until both the HTTP info endpoint and the WebSocket port answer. ``stop()`` sends
SIGTERM (Janus stops at once, STACK.md) and SIGKILLs it if it lingers; ``kill()`` and
``restart()`` exist so tests can make Janus lose every session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import signal
import socket
import tempfile
import urllib.request
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from fsm.errors import ConfigError
from fsm.logs import get_logger

from .config import JanusConfig, Room
from .handle import PLUGIN

log = get_logger("ptt.janus")

READY_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalJanus:
    """A Janus process with its own configuration folder (``async with LocalJanus():``).

    ``folder``: where to write the configuration (a temporary folder, removed at stop, if
    ``None``). Rooms, timeouts and ``token_auth`` come from the keyword arguments.
    """

    def __init__(
        self,
        folder: Path | None = None,
        *,
        rooms: tuple[Room, ...] = (Room(1234),),
        session_timeout: int = 60,
        reclaim_session_timeout: int = 20,
        token_auth: bool = False,
        rtp_ports: tuple[int, int] | None = None,
        executable: str = "janus",
    ) -> None:
        if shutil.which(executable) is None:
            raise ConfigError(
                f"{executable!r} not found",
                guidance="install Janus: apt-get install -y --no-install-recommends janus",
            )
        self._own_folder = folder is None
        self.folder = folder or Path(tempfile.mkdtemp(prefix="ptt-janus-"))
        if rtp_ports is None:
            base = 20000 + 200 * secrets.randbelow(50)  # parallel instances rarely overlap
            rtp_ports = (base, base + 199)
        self.config = JanusConfig(
            ws_port=free_port(),
            http_port=free_port(),
            admin_port=free_port(),
            rtp_ports=rtp_ports,
            session_timeout=session_timeout,
            reclaim_session_timeout=reclaim_session_timeout,
            token_auth=token_auth,
            admin_secret=secrets.token_hex(12),
            rooms=rooms,
        )
        self._executable = executable
        self._process: asyncio.subprocess.Process | None = None

    # --- addresses --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The WebSocket API address (subprotocol ``janus-protocol``)."""
        return f"ws://127.0.0.1:{self.config.ws_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Write the configuration, start Janus and wait until it serves requests."""
        if self.running:
            return
        jcfg = self.config.write(self.folder)
        # stdout/stderr go to a file: a pipe nobody reads would block Janus once full.
        with (self.folder / "janus.out").open("ab") as out:
            self._process = await asyncio.create_subprocess_exec(
                self._executable,
                "-F",
                str(self.folder),
                "-C",
                str(jcfg),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,  # a Ctrl-C of the test run is ours to forward
            )
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        log.info("ptt.janus.started", pid=self.pid, url=self.url)

    async def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; idempotent."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        log.info("ptt.janus.stopped", returncode=process.returncode)

    async def kill(self) -> None:
        """SIGKILL: every session and PeerConnection is lost, no goodbye on any socket."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def restart(self) -> None:
        """Kill and start again on the same ports (clients see 458 on ``claim``)."""
        await self.kill()
        await self.start()

    async def aclose(self) -> None:
        await self.stop()
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def __aenter__(self) -> LocalJanus:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- admin API --------------------------------------------------------------------------
    async def add_token(self, token: str) -> None:
        """Allow ``token`` (with ``token_auth``) for every plugin."""
        await self.admin({"janus": "add_token", "token": token})

    async def remove_token(self, token: str) -> None:
        await self.admin({"janus": "remove_token", "token": token})

    async def admin(self, request: dict[str, Any]) -> dict[str, Any]:
        """One admin API request (secret and transaction added); raises on an error."""
        body = {**request, "transaction": secrets.token_hex(6)}
        body["admin_secret"] = self.config.admin_secret
        url = f"http://127.0.0.1:{self.config.admin_port}/admin"
        answer = await asyncio.to_thread(_post, url, body)
        if answer.get("janus") != "success":
            error = answer.get("error", {})
            raise ConfigError(f"janus admin {request.get('janus')} failed: {error}")
        return answer

    async def create_room(self, room: Room) -> None:
        """Create a non-permanent AudioBridge room on the running Janus (gone at restart)."""
        request = {"request": "create", "room": room.room_id, "permanent": False}
        await self.plugin({**request, **room.settings()})

    async def destroy_room(self, room_id: int) -> None:
        await self.plugin({"request": "destroy", "room": room_id, "permanent": False})

    async def plugin(self, request: dict[str, Any]) -> dict[str, Any]:
        """One AudioBridge request through the admin API (``message_plugin``); raises on
        an error answer."""
        answer = await self.admin({"janus": "message_plugin", "plugin": PLUGIN, "request": request})
        response = answer.get("response")
        if not isinstance(response, dict) or "error_code" in response:
            raise ConfigError(f"audiobridge {request.get('request')} failed: {response}")
        return response

    def with_rooms(self, *rooms: Room) -> None:
        """Replace the configured rooms (applied at the next start)."""
        self.config = replace(self.config, rooms=rooms)

    # --- internals --------------------------------------------------------------------------
    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        info = f"http://127.0.0.1:{self.config.http_port}/janus/info"
        while True:
            process = self._process
            if process is None or process.returncode is not None:
                raise ConfigError(f"janus exited at start; see {self.folder / 'janus.out'}")
            with contextlib.suppress(OSError):
                await asyncio.to_thread(_get, info)
                _, writer = await asyncio.open_connection("127.0.0.1", self.config.ws_port)
                writer.close()
                await writer.wait_closed()
                return
            if loop.time() > deadline:
                raise ConfigError(f"janus not ready after {READY_TIMEOUT:g} s")
            await asyncio.sleep(0.05)


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=2.0) as response:
        response.read()


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5.0) as response:
        answer = json.loads(response.read())
    return answer if isinstance(answer, dict) else {}

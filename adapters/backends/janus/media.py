"""``JanusMedia``: :class:`fsm.ports.Media` as one send-receive PeerConnection to the
AudioBridge mixer, negotiated on the handle the signaling joined with.

- ``connect``: a new ``RTCPeerConnection`` (no ICE servers: Janus is reached through
  peer-reflexive candidates, STACK.md) with one ``sendrecv`` audio transceiver carrying a
  closed :class:`MicGate`; the offer goes in an AudioBridge ``configure`` (or a ``join``
  with our old participant id when a hangup made us leave the room), the answer comes in
  its event. Done once the pc is ``connected``.
- the downlink is the room's mix: one track, played once by ``follow``.
- liveness (the mix never stops, so a remote talker's silence tells nothing): Janus's
  ``hangup`` of our handle and the pc's ``failed``/``closed`` are fatal at once; the mix
  itself must keep arriving (a stalled downlink is a dead path); while we transmit, RTCP
  receiver reports from Janus about our uplink must keep arriving. ``webrtcup`` and
  ``slowlink`` are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from adapters.backends.base import AudioIO
from adapters.backends.reference.media.gate import MicGate
from adapters.backends.reference.media.liveness import LivenessWatch
from adapters.backends.reference.media.pc import close_pc
from fsm.domain import AudioSource
from fsm.errors import PttError, TransportError
from fsm.logs import get_logger
from fsm.ports import MediaEvents, Reply, Result

from .client import Message
from .codes import JanusError
from .handle import Attachment

log = get_logger("ptt.janus")

#: aiortc sends RTCP receiver reports every 0.5-1.5 s; Janus about every second.
MIN_WINDOW = 2.0


@dataclass(frozen=True)
class MediaOptions:
    connect_timeout: float = 10.0
    liveness_timeout: float = 5.0


class JanusMedia:
    def __init__(
        self, attachment: Attachment, audio: AudioIO | None, options: MediaOptions | None = None
    ) -> None:
        self.options = options or MediaOptions()
        self._a = attachment
        self._audio = audio
        self._events: MediaEvents | None = None
        self.pc: RTCPeerConnection | None = None
        self._gate = MicGate()
        self._mic: MediaStreamTrack | None = None  # owned by the audio adapter, never stopped
        self._transmitting = False
        self._sender: RTCRtpSender | None = None
        self._mix: MediaStreamTrack | None = None
        self._playing = False
        self._generation = -1
        self._ready = False
        self._failed = False
        self._watch: LivenessWatch | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing: asyncio.Task[None] | None = None
        self.slowlinks = 0

    # --- fsm.ports.Media -------------------------------------------------------------------
    def connect(self, events: MediaEvents, reply: Reply) -> None:
        self.close()
        self._events = events
        self._spawn(self._answer(reply, self._connect(events)))

    def attach_microphone(self, reply: Reply) -> None:
        async def attach() -> None:
            if self._audio is not None and self._mic is None:
                self._mic = self._audio.microphone_track()
                self._gate.attach(self._mic)

        self._spawn(self._answer(reply, attach()))

    def follow(self, sources: Sequence[AudioSource], reply: Reply) -> None:
        async def follow() -> None:
            wanted = bool(sources)  # the mix is the only source there is
            if self._audio is None or self._mix is None or wanted == self._playing:
                return
            if wanted:
                self._audio.play(self._mix)
            else:
                self._audio.stop_playing(self._mix)
            self._playing = wanted

        self._spawn(self._answer(reply, follow()))

    def set_transmitting(self, on: bool) -> None:
        self._transmitting = on
        self._gate.set_open(on)
        if self._watch is None or not self._ready:
            return
        if on:
            window = max(self.options.liveness_timeout, MIN_WINDOW)
            self._watch.arm("send", self._reports, window, "no receiver reports while talking")
        else:
            self._watch.disarm("send")

    def expect_audio(self, on: bool) -> None:
        """Nothing to arm: the mix is watched all the time (it never stops)."""

    def is_alive(self) -> bool:
        pc = self.pc
        return (
            self._ready
            and not self._failed
            and pc is not None
            and pc.connectionState == "connected"
            and self._generation == self._a.generation
        )

    def close(self) -> None:
        self._events = None
        self._ready = False
        if self._a.media_listener == self._on_core_event:
            self._a.media_listener = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        pc, self.pc = self.pc, None
        watch, self._watch = self._watch, None
        mix, self._mix = self._mix, None
        if mix is not None and self._playing and self._audio is not None:
            self._audio.stop_playing(mix)
        self._playing = False
        if pc is not None or watch is not None:
            previous = self._closing
            self._closing = asyncio.get_running_loop().create_task(
                self._teardown(pc, watch, tasks, previous)
            )

    async def aclose(self) -> None:
        """Close and wait until the pc and every task of ours are gone."""
        self.close()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._closing is not None:
            await self._closing

    # --- connect ----------------------------------------------------------------------------
    async def _connect(self, events: MediaEvents) -> None:
        if self._closing is not None:
            await self._closing  # the previous pc hung up first: Janus allows one per handle
        a = self._a
        a.require_link()
        pc = self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        connected = asyncio.Event()
        # A gate per pc: closing a pc stops its track, and a stopped track cannot be reused.
        self._gate = MicGate(self._mic)
        self._gate.set_open(self._transmitting)
        self._sender = pc.addTransceiver(self._gate, direction="sendrecv").sender
        pc.on("track", self._on_track)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            state = pc.connectionState
            log.debug("ptt.janus.pc_state", state=state)
            connected.set()
            if state in ("failed", "closed") and self.pc is pc and self._ready:
                self._fail(TransportError(f"janus peer connection {state}"))

        await pc.setLocalDescription(await pc.createOffer())
        offer = {"type": "offer", "sdp": pc.localDescription.sdp}
        a.media_listener = self._on_core_event
        if a.in_room:
            body: Message = {"request": "configure", "muted": a.muted}
        else:  # our hangup made us leave: come back as the same participant
            body = {"request": "join", "room": a.room, "id": a.participant, "muted": a.muted}
        _, answer = await a.message(body, offer)
        a.in_room = True
        if (
            answer is None
            or answer.get("type") != "answer"
            or not isinstance(answer.get("sdp"), str)
        ):
            raise TransportError("janus answered the offer without an SDP answer")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        async with asyncio.timeout(self.options.connect_timeout):
            while pc.connectionState != "connected":
                if pc.connectionState in ("failed", "closed"):
                    raise TransportError(f"janus peer connection {pc.connectionState}")
                connected.clear()
                await connected.wait()
        self._generation = a.generation
        self._ready, self._failed = True, False
        self._watch = LivenessWatch(self._fail)
        self._watch.arm("mix", self._packets, self.options.liveness_timeout, "the mix stopped")
        if self._transmitting:
            self.set_transmitting(True)
        log.info("ptt.janus.media_connected")

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._mix = track

    # --- liveness ---------------------------------------------------------------------------
    def _on_core_event(self, message: Message) -> None:
        kind = message.get("janus")
        if kind == "hangup":
            self._fail(TransportError(f"janus hung up: {str(message.get('reason'))[:80]}"))
        elif kind == "slowlink":
            self.slowlinks += 1
            log.info("ptt.janus.slowlink", uplink=message.get("uplink"), lost=message.get("lost"))
        else:
            log.debug(f"ptt.janus.{str(kind)[:16]}", receiving=message.get("receiving"))

    async def _packets(self) -> Hashable:
        """Changes with every packet of the mix we receive."""
        pc = self.pc
        if pc is None:
            return None
        stats = await pc.getStats()
        return sum(
            getattr(s, "packetsReceived", 0) for s in stats.values() if s.type == "inbound-rtp"
        )

    async def _reports(self) -> Hashable:
        """Changes with every RTCP receiver report Janus sends about our uplink."""
        sender = self._sender
        if sender is None:
            return None
        stats = await sender.getStats()
        reports = (s for s in stats.values() if s.type == "remote-inbound-rtp")
        return next((getattr(s, "timestamp", None) for s in reports), None)

    def _fail(self, error: TransportError) -> None:
        if self._failed or not self._ready:
            return
        self._failed = True
        log.warning("ptt.janus.media_failed", error=str(error))
        if self._events is not None:
            self._events.failed(error)

    # --- teardown and tasks ------------------------------------------------------------------
    async def _teardown(
        self,
        pc: RTCPeerConnection | None,
        watch: LivenessWatch | None,
        tasks: list[asyncio.Task[Any]],
        previous: asyncio.Task[None] | None,
    ) -> None:
        await asyncio.gather(*tasks, return_exceptions=True)
        if previous is not None:
            await previous
        if watch is not None:
            await watch.stop()
        a = self._a
        if pc is not None and a.in_room and self._generation == a.generation:
            # Hang up on the server first: a closed pc alone leaves Janus to notice it
            # (and Janus allows a new offer on this handle only once the old one is gone).
            with contextlib.suppress(PttError, JanusError):
                link = a.require_link()
                fields: Message = {"session_id": a.session, "handle_id": a.handle}
                if a.token:
                    fields["token"] = a.token
                await link.request("hangup", fields, timeout=2.0)
                a.in_room = False  # a hangup makes the participant leave the room
        if pc is not None:
            try:
                await close_pc(pc)
            except Exception as exc:
                log.warning("ptt.janus.pc_close_failed", error=repr(exc))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, reply: Reply, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
            result: Result[Any] = Result()
        except TimeoutError:
            result = Result(error=TransportError("janus peer connection did not connect in time"))
        except TransportError as exc:
            result = Result(error=exc)
        except (PttError, JanusError) as exc:
            error = TransportError(f"janus media: {exc}")
            error.__cause__ = exc
            result = Result(error=error)
        except Exception as exc:  # aiortc failures must still answer the machine once
            log.exception("ptt.janus.media_crashed")
            result = Result(error=TransportError(f"janus media failed: {exc!r}"[:200]))
        try:
            reply(result)
        except Exception:
            log.exception("ptt.janus.reply_failed")

"""The reference server's media plane: a tiny one-speaker SFU on aiortc.

Every client transport is one ``RTCPeerConnection`` here, negotiated by the client:

- send transport: the client offers one sendonly audio m-line (``connect_transport``); the
  track it carries becomes a :class:`_Source`, published as a producer by ``produce``;
- recv transport: the client connects it with a data-channel-only offer, then adds one
  recvonly audio m-line per ``consume`` and renegotiates; the server puts a :class:`_Sink`
  (one consumer's copy of a producer) on exactly that new m-line and answers.

SFU rule: one speaker per channel. A source forwards frames to its sinks only while its
peer holds the channel's floor (``floor_changed``); other consumers get no frames, so their
RTP stops (clients read "no RTP" as "nobody is talking", see ``adapters.backends.reference.media``).

Stall watch: while a peer holds the floor and has a producer, the router expects its audio.
If no frame arrives from that producer for ``stall_timeout`` (counted from the grant, the
producer's creation or its last frame, whichever is latest) the router calls
``on_speaker_stalled(peer_id)`` once; the server then revokes the floor, so listeners stop
expecting audio instead of declaring their own, healthy media dead. A floor holder without
a producer (a signaling-only client) is never reported.

We fan out ourselves instead of using ``aiortc.contrib.media.MediaRelay`` because a relay
reads its source only while someone subscribes (a ``RemoteStreamTrack`` queue is unbounded,
so an unread producer grows without limit), has unbounded per-subscriber queues and
owns tasks we could not cancel on close.

Every failure is raised as ``adapters.server.media.MediaError`` (re-exported here) with a
protocol error ``code``; nothing
from aiortc escapes, and a broken negotiation closes only that transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import SessionDescription
from av.frame import Frame

from adapters.backends.reference.media.pc import close_pc
from adapters.backends.reference.protocol import (
    E_BAD_REQUEST,
    E_FORBIDDEN,
    E_INTERNAL,
    E_NOT_FOUND,
    E_NOT_JOINED,
)
from fsm.logs import get_logger

from .iceaddr import gathering_on, media_addresses
from .media import (  # MediaError: the dispatcher's type, it maps .code
    STALL_TIMEOUT,
    MediaError,
)

log = get_logger("ptt.server.sfu")

#: Frames a slow consumer may lag behind before the oldest are dropped (20 ms each).
SINK_QUEUE_FRAMES = 10
DIRECTIONS = ("send", "recv")
CLOSE_GRACE = 5.0  # seconds close() lets running cleanups finish before cancelling them
_RECEIVING = ("recvonly", "sendrecv")  # offered directions in which the client receives
_SENDING = ("sendonly", "sendrecv")

ProducerClosed = Callable[[str, str], None]  # (peer_id, producer_id)
SpeakerStalled = Callable[[str], None]  # (peer_id)

__all__ = ["AiortcRouter", "MediaError"]


class _Sink(MediaStreamTrack):
    """One consumer's copy of a producer: a bounded queue the consumer's RTP sender reads."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[Frame | None] = asyncio.Queue(SINK_QUEUE_FRAMES)

    def push(self, frame: Frame | None) -> None:
        # Live audio: a late frame is worth less than the next one, so drop the oldest.
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(frame)

    def end(self) -> None:
        self.push(None)

    async def recv(self) -> Frame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        return frame


@dataclass(eq=False)
class _Source:
    """The audio a client sends on its send transport; a producer once ``produce`` names it."""

    peer_id: str
    track: MediaStreamTrack
    producer_id: str | None = None
    sinks: set[_Sink] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    produced_at: float = 0.0  # loop time of ``produce``
    last_frame: float = 0.0  # loop time the last frame arrived (0: none yet)

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        for sink in self.sinks:
            sink.end()
        self.sinks.clear()


@dataclass(eq=False)
class _Consumer:
    consumer_id: str
    peer_id: str
    transport_id: str
    producer_id: str
    transceiver: RTCRtpTransceiver
    sink: _Sink


@dataclass(eq=False)
class _Transport:
    transport_id: str
    peer_id: str
    direction: str
    pc: RTCPeerConnection
    # aiortc has no rollback: two offers on one connection at once would corrupt it.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    negotiated: bool = False
    closing: bool = False
    source: _Source | None = None
    consumers: dict[str, _Consumer] = field(default_factory=dict)


class AiortcRouter:
    """``MediaRouter`` for the reference server (structurally matches ``server.media``).

    ``on_producer_closed(peer_id, producer_id)`` is called when a producer disappears
    *without* a ``close_peer`` from the server: its connection died, or the peer created
    a new send transport. The server should then send ``producerClosed`` to the channel.

    ``on_speaker_stalled(peer_id)`` is called when the floor holder's producer sent no
    audio for ``stall_timeout`` seconds (see the module doc); the server should revoke the
    floor if that peer still holds it. Without the callback, or with ``stall_timeout=0``,
    nothing is watched.

    ``bind``: the address the server listens on; ICE sockets and candidates use only
    that address (None, "0.0.0.0" or "::": every interface, as aioice does by default).
    """

    def __init__(
        self,
        *,
        on_producer_closed: ProducerClosed | None = None,
        on_speaker_stalled: SpeakerStalled | None = None,
        stall_timeout: float = STALL_TIMEOUT,
        bind: str | None = None,
    ) -> None:
        if stall_timeout < 0:
            raise ValueError("stall_timeout must not be negative (0 turns the watch off)")
        self._on_producer_closed = on_producer_closed
        self._on_speaker_stalled = on_speaker_stalled if stall_timeout > 0 else None
        self._stall_timeout = stall_timeout
        self._addresses = media_addresses(bind)  # None: every interface (aioice's default)
        self._granted_at: dict[str, float] = {}  # channel -> loop time of the floor grant
        self._watchdogs: dict[str, asyncio.TimerHandle] = {}  # channel -> next stall check
        self._transports: dict[str, _Transport] = {}
        self._producers: dict[str, _Source] = {}
        self._channels: dict[str, str] = {}  # peer_id -> channel
        self._floor: dict[str, str | None] = {}  # channel -> floor holder
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    # --- channel and floor ----------------------------------------------------------------
    def capabilities(self) -> dict[str, Any]:
        codecs = RTCRtpSender.getCapabilities("audio").codecs
        return {
            "codecs": [
                {
                    "kind": "audio",
                    "mimeType": c.mimeType,
                    "clockRate": c.clockRate,
                    "channels": c.channels,
                }
                for c in codecs
                if not c.mimeType.lower().endswith("/rtx")
            ]
        }

    def join_channel(self, peer_id: str, channel: str | None) -> None:
        """Record the channel a peer is in (``None`` = left); consumers stay within it."""
        if channel is None:
            self._channels.pop(peer_id, None)
        else:
            self._channels[peer_id] = channel

    def floor_changed(self, channel: str, peer_id: str | None) -> None:
        self._floor[channel] = peer_id
        log.debug("floor_changed", channel=channel, speaker=peer_id)
        self._stop_watch(channel)
        if peer_id is not None and self._on_speaker_stalled is not None and not self._closed:
            # A new grant (or a new transmission of the same holder) restarts the clock:
            # the client unpauses its producer only now.
            self._granted_at[channel] = asyncio.get_running_loop().time()
            self._arm_watch(channel, self._stall_timeout)

    def _may_forward(self, source: _Source) -> bool:
        channel = self._channels.get(source.peer_id)
        return (
            source.producer_id is not None
            and channel is not None
            and self._floor.get(channel) == source.peer_id
        )

    # --- stall watch ----------------------------------------------------------------------
    def _arm_watch(self, channel: str, delay: float) -> None:
        self._stop_watch(channel)
        loop = asyncio.get_running_loop()
        self._watchdogs[channel] = loop.call_later(delay, self._check_stall, channel)

    def _stop_watch(self, channel: str) -> None:
        handle = self._watchdogs.pop(channel, None)
        if handle is not None:
            handle.cancel()
        if self._floor.get(channel) is None:
            self._granted_at.pop(channel, None)

    def _check_stall(self, channel: str) -> None:
        self._watchdogs.pop(channel, None)
        holder = self._floor.get(channel)
        notify = self._on_speaker_stalled
        if holder is None or notify is None or self._closed:
            return
        source = self._producer_of(holder, channel)
        if source is None:
            return  # media-less floor use is legitimate; a later ``produce`` re-arms
        now = asyncio.get_running_loop().time()
        since = max(self._granted_at.get(channel, now), source.produced_at, source.last_frame)
        left = since + self._stall_timeout - now
        if left > 0:
            self._arm_watch(channel, left)
            return
        log.info("speaker_stalled", channel=channel, peer=holder, silent=round(now - since, 3))
        try:
            notify(holder)
        except Exception:
            log.exception("speaker_stalled_callback_failed", channel=channel, peer=holder)

    def _producer_of(self, peer_id: str, channel: str) -> _Source | None:
        if self._channels.get(peer_id) != channel:
            return None
        for source in self._producers.values():
            if source.peer_id == peer_id:
                return source
        return None

    # --- transports -----------------------------------------------------------------------
    async def create_transport(self, peer_id: str, direction: str) -> dict[str, Any]:
        self._check_open()
        if direction not in DIRECTIONS:
            raise MediaError(E_BAD_REQUEST, f"direction must be send or recv, not {direction!r}")
        # One transport per direction and peer: a client that rebuilds its media replaces
        # the old one, which would otherwise linger with its producer and consumers.
        for old in [t for t in self._transports.values() if t.peer_id == peer_id]:
            if old.direction == direction:
                await self._close_transport(old, notify=True)
        with _errors("create_transport"):
            # iceServers=[]: host candidates only (None would mean Google's STUN server)
            config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
            transport = _Transport(uuid.uuid4().hex, peer_id, direction, RTCPeerConnection(config))
        self._transports[transport.transport_id] = transport
        self._watch(transport)
        log.info(
            "transport_created", peer=peer_id, transport=transport.transport_id, direction=direction
        )
        return {"transport_id": transport.transport_id}

    async def connect_transport(
        self, peer_id: str, transport_id: str, sdp: str, type: str
    ) -> dict[str, Any]:
        transport = self._transport(peer_id, transport_id)
        offer = _parse_offer(sdp, type)
        if transport.negotiated:
            raise MediaError(E_BAD_REQUEST, "transport already connected")
        media = [m for m in offer.media if m.kind in ("audio", "video")]
        if transport.direction == "send":
            if len(media) != 1 or media[0].kind != "audio" or media[0].direction not in _SENDING:
                raise MediaError(E_BAD_REQUEST, "a send transport offers exactly one sending audio")
        elif media:
            raise MediaError(E_BAD_REQUEST, "a recv transport connects without media; use consume")
        async with transport.lock:
            answer = await self._negotiate(transport, sdp)
        transport.negotiated = True
        return answer

    async def _negotiate(
        self, transport: _Transport, sdp: str, between: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """Apply the client's offer, run ``between``, answer. A half-done one closes the pc."""
        pc = transport.pc
        step, code = "offer rejected", E_BAD_REQUEST
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            step, code = "answer failed", E_INTERNAL
            if between is not None:
                between()
            with gathering_on(self._addresses):  # candidates are gathered in here
                await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            # aiortc cannot roll back: a half-applied offer leaves the pc unusable.
            await self._close_transport(transport, notify=True)
            log.warning("negotiation_failed", transport=transport.transport_id, error=repr(exc))
            raise MediaError(code, f"{step}: {exc}") from exc
        return {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}

    def _watch(self, transport: _Transport) -> None:
        pc = transport.pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            wanted = transport.direction == "send" and track.kind == "audio"
            if not wanted or transport.source is not None:
                return
            source = _Source(transport.peer_id, track)
            source.task = self._spawn(self._pump(source))
            transport.source = source

        @pc.on("connectionstatechange")
        def on_state() -> None:
            state = pc.connectionState
            log.debug("transport_state", transport=transport.transport_id, state=state)
            if state in ("failed", "closed") and not transport.closing:
                # The client went away (or its path died): nothing will use this again.
                self._spawn(self._close_transport(transport, notify=True))

    async def _pump(self, source: _Source) -> None:
        """Read the producer's audio for as long as it lives; forward it while it may speak."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await source.track.recv()
                source.last_frame = loop.time()
                if isinstance(frame, Frame) and source.sinks and self._may_forward(source):
                    for sink in source.sinks:
                        sink.push(frame)
        except MediaStreamError:
            pass
        finally:
            source.close()

    # --- producers and consumers ----------------------------------------------------------
    async def produce(self, peer_id: str, transport_id: str, kind: str) -> dict[str, Any]:
        transport = self._transport(peer_id, transport_id)
        if kind != "audio":
            raise MediaError(E_BAD_REQUEST, f"only audio can be produced, not {kind!r}")
        if transport.direction != "send":
            raise MediaError(E_BAD_REQUEST, "produce needs a send transport")
        source = transport.source
        if source is None:
            raise MediaError(E_BAD_REQUEST, "connect the send transport with its audio first")
        if source.producer_id is None:  # idempotent: one producer per send transport
            source.producer_id = uuid.uuid4().hex
            source.produced_at = asyncio.get_running_loop().time()
            self._producers[source.producer_id] = source
            log.info("producer_created", peer=peer_id, producer=source.producer_id)
            # A floor holder that produces (again, after a rebuild) is expected to send.
            channel = self._channels.get(peer_id)
            holder = self._floor.get(channel) if channel is not None else None
            if channel is not None and holder == peer_id and self._on_speaker_stalled:
                self._arm_watch(channel, self._stall_timeout)
        return {"producer_id": source.producer_id}

    async def consume(
        self, peer_id: str, transport_id: str, producer_id: str, sdp: str, type: str
    ) -> dict[str, Any]:
        transport = self._transport(peer_id, transport_id)
        if transport.direction != "recv":
            raise MediaError(E_BAD_REQUEST, "consume needs a recv transport")
        source = self._producers.get(producer_id)
        if source is None:
            raise MediaError(E_NOT_FOUND, f"no producer {producer_id}")
        if source.peer_id == peer_id:
            raise MediaError(E_BAD_REQUEST, "a peer does not consume its own producer")
        channel = self._channels.get(peer_id)
        if channel is None:
            raise MediaError(E_NOT_JOINED, "join a channel before consuming")
        if self._channels.get(source.peer_id) != channel:
            raise MediaError(E_FORBIDDEN, "that producer is in another channel")
        offer = _parse_offer(sdp, type)
        async with transport.lock:
            mid = self._new_receiving_mid(transport, offer)
            await self._drop_abandoned(transport, offer)
            sink = _Sink()

            def attach() -> None:
                transceiver = _by_mid(transport.pc, mid)
                transceiver.sender.replaceTrack(sink)
                transceiver.direction = "sendonly"

            answer = await self._negotiate(transport, sdp, attach)
            transport.negotiated = True
            transceiver = _by_mid(transport.pc, mid)
            consumer_id = uuid.uuid4().hex
            consumer = _Consumer(consumer_id, peer_id, transport_id, producer_id, transceiver, sink)
        transport.consumers[consumer.consumer_id] = consumer
        if self._producers.get(producer_id) is source:  # it may have closed meanwhile
            source.sinks.add(sink)
        else:
            sink.end()
        log.info(
            "consumer_created", peer=peer_id, consumer=consumer.consumer_id, producer=producer_id
        )
        return {"consumer_id": consumer.consumer_id, **answer}

    def _new_receiving_mid(self, transport: _Transport, offer: SessionDescription) -> str:
        pc = transport.pc
        known = {t.mid for t in pc.getTransceivers() if t.mid is not None}
        if pc.sctp is not None and pc.sctp.mid is not None:
            known.add(pc.sctp.mid)
        new = [m for m in offer.media if m.rtp.muxId not in known and m.kind != "application"]
        # New inactive m-lines are offers we never answered (the client retired them).
        receiving = [m for m in new if m.direction != "inactive"]
        wanted = len(receiving) == 1 and receiving[0].kind == "audio"
        if not wanted or receiving[0].direction not in _RECEIVING:
            raise MediaError(E_BAD_REQUEST, "a consume offer adds exactly one recvonly audio")
        return str(receiving[0].rtp.muxId)

    async def _drop_abandoned(self, transport: _Transport, offer: SessionDescription) -> None:
        """Consumers whose m-line the client now offers inactive were dropped by it (its
        ``closeConsumer`` may have been lost): free them."""
        inactive = {m.rtp.muxId for m in offer.media if m.direction == "inactive"}
        for consumer in list(transport.consumers.values()):
            if consumer.transceiver.mid in inactive:
                await self._close_consumer(transport, consumer)

    async def close_consumer(self, peer_id: str, consumer_id: str) -> None:
        for transport in self._transports.values():
            consumer = transport.consumers.get(consumer_id)
            if consumer is not None and consumer.peer_id == peer_id:
                await self._close_consumer(transport, consumer)
                return
        raise MediaError(E_NOT_FOUND, f"no consumer {consumer_id}")

    async def _close_consumer(self, transport: _Transport, consumer: _Consumer) -> None:
        transport.consumers.pop(consumer.consumer_id, None)
        source = self._producers.get(consumer.producer_id)
        if source is not None:
            source.sinks.discard(consumer.sink)
        consumer.sink.end()
        # Inactive in the next answer; stopping the sender ends its RTCP too (sends BYE).
        consumer.transceiver.direction = "inactive"
        with contextlib.suppress(Exception):
            await consumer.transceiver.stop()
        log.info("consumer_closed", peer=consumer.peer_id, consumer=consumer.consumer_id)

    # --- teardown -------------------------------------------------------------------------
    async def close_peer(self, peer_id: str) -> None:
        """Close the peer's connections, producer and consumers (the server announces)."""
        for channel, holder in self._floor.items():
            if holder == peer_id:
                self._stop_watch(channel)
        for transport in [t for t in self._transports.values() if t.peer_id == peer_id]:
            await self._close_transport(transport, notify=False)
        self._channels.pop(peer_id, None)

    async def close(self) -> None:
        """Close every connection and stop every task; the router is unusable afterwards."""
        self._closed = True
        for channel in list(self._watchdogs):
            self._stop_watch(channel)
        for transport in list(self._transports.values()):
            await self._close_transport(transport, notify=False)
        # Pumps end with their sources; cleanups only close pcs: let them finish rather
        # than cancel them halfway through aiortc's close().
        if self._tasks:
            _, stuck = await asyncio.wait(set(self._tasks), timeout=CLOSE_GRACE)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)

    async def _close_transport(self, transport: _Transport, *, notify: bool) -> None:
        if transport.closing:
            return
        transport.closing = True
        self._transports.pop(transport.transport_id, None)
        for consumer in list(transport.consumers.values()):
            await self._close_consumer(transport, consumer)
        source = transport.source
        if source is not None:
            source.close()
            if source.producer_id is not None:
                self._producers.pop(source.producer_id, None)
                log.info("producer_closed", peer=source.peer_id, producer=source.producer_id)
                if notify and self._on_producer_closed is not None:
                    self._on_producer_closed(source.peer_id, source.producer_id)
        try:
            await close_pc(transport.pc)  # not mid-connect, shielded (see transports.pc)
        except Exception as exc:  # a half-broken pc must not stop the rest of the cleanup
            log.warning("pc_close_failed", transport=transport.transport_id, error=repr(exc))

    # --- helpers --------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise MediaError(E_INTERNAL, "media router is closed")

    def _transport(self, peer_id: str, transport_id: str) -> _Transport:
        self._check_open()
        transport = self._transports.get(transport_id)
        if transport is None or transport.peer_id != peer_id:
            raise MediaError(E_NOT_FOUND, f"no transport {transport_id}")
        return transport

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _parse_offer(sdp: str, type: str) -> SessionDescription:
    if type != "offer":
        raise MediaError(E_BAD_REQUEST, f"expected an SDP offer, got {type!r}")
    try:
        return SessionDescription.parse(sdp)
    except Exception as exc:
        raise MediaError(E_BAD_REQUEST, f"unreadable SDP offer: {exc}") from exc


def _by_mid(pc: RTCPeerConnection, mid: str) -> RTCRtpTransceiver:
    for transceiver in pc.getTransceivers():
        if transceiver.mid == mid:
            return transceiver
    raise MediaError(E_INTERNAL, f"no transceiver for mid {mid}")


@contextlib.contextmanager
def _errors(what: str, code: str = E_INTERNAL) -> Iterator[None]:
    """Turn anything aiortc or the SDP parser raises into a :class:`MediaError`."""
    try:
        yield
    except MediaError:
        raise
    except Exception as exc:
        raise MediaError(code, f"{what}: {exc}") from exc

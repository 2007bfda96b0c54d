"""One media session: a send and a recv ``RTCPeerConnection`` negotiated through signaling.

``open`` asks the router for its RTP capabilities (the codecs we may offer), then builds
both transports. Negotiation is always offered by the client (the server only answers):

- send pc: one sendonly audio transceiver carrying the :class:`MicGate`;
  ``createWebRtcTransport {direction: "send"}``, then ``connectWebRtcTransport`` with the
  offer;
- recv pc: aiortc cannot negotiate a pc with no m-line (nothing gathers, nothing connects),
  so it is created with ``alwaysNegotiateDataChannels``: its first offer holds only an
  unused data-channel section, which connects ICE/DTLS at ``create`` time (a broken path
  fails ``open``, not the first consume) and becomes the BUNDLE transport that the
  consumers' audio m-lines join (:mod:`.consumers`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpSender,
)

from adapters.backends.base import AudioIO
from adapters.backends.reference.protocol import (
    CONNECT_TRANSPORT,
    CREATE_TRANSPORT,
    GET_CAPABILITIES,
    PRODUCE,
)
from fsm.errors import TransportError
from fsm.logs import get_logger

from .consumers import ConsumerSet
from .errors import as_transport_error, field
from .gate import MicGate
from .liveness import LivenessWatch
from .negotiation import answer_from, common_codecs, offer_of
from .pc import close_pc
from .seams import Requester

log = get_logger("ptt.transports")

#: aiortc's receivers send an RTCP receiver report every 0.5-1.5 s (random), so a shorter
#: send-side window would raise false alarms.
MIN_SEND_WINDOW = 2.0


class MediaSession:
    """Both transports of one ``connect``; :class:`~.sfu_media.SfuMedia` runs its async
    methods one at a time."""

    def __init__(
        self,
        requester: Requester,
        audio: AudioIO,
        on_failed: Callable[[TransportError], None],
        *,
        liveness_timeout: float,
        ice_servers: Sequence[RTCIceServer],
    ) -> None:
        self._requester = requester
        self._audio = audio
        self._on_failed = on_failed
        self._ice_servers = list(ice_servers)
        self._liveness_timeout = liveness_timeout
        self.lock = asyncio.Lock()  # one negotiation at a time: aiortc cannot interleave them
        self.send_pc: RTCPeerConnection | None = None
        self.recv_pc: RTCPeerConnection | None = None
        self.send_id: str | None = None
        self.recv_id: str | None = None
        self.producer_id: str | None = None
        self.consumers: ConsumerSet | None = None
        self._gate: MicGate | None = None
        self._mic_sender: RTCRtpSender | None = None
        self._codecs: list[RTCRtpCodecCapability] = []
        self._changed: dict[str, asyncio.Event] = {}
        self._liveness = LivenessWatch(self._report)
        self._transmitting = False
        self._expecting = False
        self.ready = False  # both pcs connected; failures are reported from now on
        self.failed = False
        self.closed = False

    # --- connect --------------------------------------------------------------------------
    async def open(self) -> None:
        try:
            self._codecs = common_codecs(await self._call(GET_CAPABILITIES, {}))
            try:
                # Both transports at once: two round trips instead of four.
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._open_send())
                    group.create_task(self._open_recv())
            except BaseExceptionGroup as group_error:  # the sibling is cancelled by now
                raise group_error.exceptions[0]  # noqa: B904 (keep its own cause)
            for name in ("send", "recv"):
                await self._connected(name)
        except BaseException:
            await self._teardown_pcs()  # no half-built pc may survive a failed connect
            raise
        assert self.send_id is not None
        assert self.recv_id is not None
        assert self.recv_pc is not None
        call = self._call
        self.consumers = ConsumerSet(self.recv_pc, self.recv_id, self._codecs, call, self._audio)
        self.ready = True
        self._apply_watch()
        log.info("transports_ready", send=self.send_id, recv=self.recv_id)

    async def _open_send(self) -> None:
        created = await self._call(CREATE_TRANSPORT, {"direction": "send"})
        self.send_id = field(created, "transport_id")
        pc = self.send_pc = self._new_pc("send", data_channel=False)
        self._gate = MicGate()  # the microphone is attached later (see .gate)
        self._gate.set_open(self._transmitting)
        transceiver = pc.addTransceiver(self._gate, direction="sendonly")
        transceiver.setCodecPreferences(self._codecs)
        self._mic_sender = transceiver.sender
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self._call(CONNECT_TRANSPORT, offer_of(self.send_id, pc))
        await pc.setRemoteDescription(answer_from(answer))

    async def _open_recv(self) -> None:
        created = await self._call(CREATE_TRANSPORT, {"direction": "recv"})
        self.recv_id = field(created, "transport_id")
        pc = self.recv_pc = self._new_pc("recv", data_channel=True)
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self._call(CONNECT_TRANSPORT, offer_of(self.recv_id, pc))
        await pc.setRemoteDescription(answer_from(answer))

    def _new_pc(self, name: str, *, data_channel: bool) -> RTCPeerConnection:
        pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=self._ice_servers,  # [] = none; None would mean Google's STUN
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,  # consumers share one transport
                alwaysNegotiateDataChannels=data_channel,
            )
        )
        changed = self._changed[name] = asyncio.Event()

        @pc.on("connectionstatechange")
        def on_state() -> None:
            state = pc.connectionState
            log.debug("transport_state", transport=name, state=state)
            changed.set()
            if state in ("failed", "closed") and self.ready and not self.closed:
                self._report(TransportError(f"{name} transport {state}"))

        return pc

    async def _connected(self, name: str) -> None:
        pc = self.send_pc if name == "send" else self.recv_pc
        assert pc is not None
        changed = self._changed[name]
        while pc.connectionState != "connected":
            if pc.connectionState in ("failed", "closed"):
                raise TransportError(f"{name} transport {pc.connectionState} while connecting")
            changed.clear()
            await changed.wait()

    # --- produce and consume --------------------------------------------------------------
    async def produce(self) -> None:
        self._require_ready()
        assert self._gate is not None
        if not self._gate.attached:  # the audio adapter is started by now
            self._gate.attach(self._audio.microphone_track())
        if self.producer_id is None:  # idempotent: one producer per session
            assert self.send_id is not None
            produced = await self._call(PRODUCE, {"transport_id": self.send_id, "kind": "audio"})
            self.producer_id = field(produced, "producer_id")
            log.info("producing", producer=self.producer_id)

    async def consume(self, producers: Sequence[str]) -> None:
        """Exactly one consumer per listed producer; our own producer is never consumed."""
        self._require_ready()
        assert self.consumers is not None
        await self.consumers.reconcile([p for p in producers if p != self.producer_id])

    def set_transmitting(self, on: bool) -> None:
        self._transmitting = on
        if self._gate is not None:
            self._gate.set_open(on)
        self._apply_watch()

    def expect_audio(self, on: bool) -> None:
        self._expecting = on
        self._apply_watch()

    # --- liveness and failures ------------------------------------------------------------
    def _apply_watch(self) -> None:
        if not self.ready or self.failed or self.closed or self.consumers is None:
            return
        watch = self._liveness
        if self._transmitting:
            window = max(self._liveness_timeout, MIN_SEND_WINDOW)
            watch.arm("send", self._reports_probe, window, "no receiver reports while talking")
        else:
            watch.disarm("send")
        if self._expecting:
            probe, window = self.consumers.packets_received, self._liveness_timeout
            watch.arm("recv", probe, window, "no audio while a remote speaker talks")
        else:
            watch.disarm("recv")

    async def _reports_probe(self) -> object:
        """Changes with every RTCP receiver report the server sends about our stream."""
        sender = self._mic_sender
        if sender is None:
            return None
        stats = await sender.getStats()
        reports = (s for s in stats.values() if s.type == "remote-inbound-rtp")
        return next((getattr(s, "timestamp", None) for s in reports), None)

    def _report(self, error: TransportError) -> None:
        if self.failed or self.closed:
            return
        self.failed = True
        log.warning("media_failed", error=str(error))
        self._on_failed(error)

    def is_alive(self) -> bool:
        pcs = (self.send_pc, self.recv_pc)
        connected = all(pc is not None and pc.connectionState == "connected" for pc in pcs)
        return self.ready and connected and not self.failed and not self.closed

    # --- close ----------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop the watch, release the playing tracks and close both pcs (idempotent)."""
        self.closed = True
        await self._liveness.stop()
        if self.consumers is not None:
            self.consumers.release()
        await self._teardown_pcs()

    async def _teardown_pcs(self) -> None:
        for pc in (self.send_pc, self.recv_pc):
            if pc is not None:
                try:
                    await close_pc(pc)  # not mid-connect, shielded (see .pc)
                except Exception as exc:  # keep closing the other one
                    log.warning("pc_close_failed", error=repr(exc))

    # --- helpers --------------------------------------------------------------------------
    def _require_ready(self) -> None:
        if not self.ready:
            raise TransportError("media is not connected")
        if self.failed:
            raise TransportError("media has failed; connect it again")

    async def _call(self, method: str, data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return await self._requester.call(method, data)
        except TransportError:
            raise
        except Exception as exc:
            raise as_transport_error(exc, method) from exc

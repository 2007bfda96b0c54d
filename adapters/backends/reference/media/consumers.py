"""The consumers on the recv pc: one recvonly audio m-line each, added by renegotiation.

For each new consumer: add a recvonly transceiver, offer, ``consume {transport_id,
producer_id, sdp, type}``, apply the answer (~5 ms on loopback), hand the track to
``audio.play``. Closing one: ``audio.stop_playing``, stop the transceiver (ends its track
and decoder thread), ``closeConsumer {consumer_id}``. m-lines are never reused (a reused
sender would restart with another producer's timestamps); a long session with much churn
grows its SDP by one inactive m-line per closed consumer.

aiortc has no rollback: once our offer is applied, a rejected ``consume`` leaves the pc in
``have-local-offer``. That is harmless (aiortc accepts a new local offer there); we retire
the transceiver (inactive + stopped), so the next offer carries its m-line as inactive,
which also tells the server to free anything it made for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from aiortc import RTCPeerConnection, RTCRtpCodecCapability, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamTrack

from adapters.backends.base import AudioIO
from adapters.backends.reference.protocol import CLOSE_CONSUMER, CONSUME
from fsm.logs import get_logger

from .errors import field
from .negotiation import Call, answer_from, offer_of

log = get_logger("ptt.transports")


@dataclass(eq=False)
class Consumer:
    producer_id: str
    consumer_id: str
    transceiver: RTCRtpTransceiver
    track: MediaStreamTrack


class ConsumerSet:
    """Holds exactly one consumer per wanted producer; callers serialize the calls."""

    def __init__(
        self,
        pc: RTCPeerConnection,
        transport_id: str,
        codecs: list[RTCRtpCodecCapability],
        call: Call,
        audio: AudioIO,
    ) -> None:
        self._pc = pc
        self._transport_id = transport_id
        self._codecs = codecs
        self._call = call
        self._audio = audio
        self.by_producer: dict[str, Consumer] = {}

    async def reconcile(self, wanted: Sequence[str]) -> None:
        """Close the unwanted, open the missing; report the first failure after trying all."""
        wanted = list(dict.fromkeys(wanted))
        for producer_id in [p for p in self.by_producer if p not in wanted]:
            await self._close(producer_id)
        errors: list[Exception] = []
        for producer_id in wanted:
            if producer_id not in self.by_producer:
                try:
                    await self._open(producer_id)
                except Exception as exc:  # the others may still work
                    log.warning("consume_failed", producer=producer_id, error=str(exc))
                    errors.append(exc)
        if errors:
            raise errors[0]

    async def _open(self, producer_id: str) -> None:
        pc = self._pc
        transceiver = pc.addTransceiver("audio", direction="recvonly")
        transceiver.setCodecPreferences(self._codecs)
        try:
            await pc.setLocalDescription(await pc.createOffer())
            data = {"producer_id": producer_id, **offer_of(self._transport_id, pc)}
            answer = await self._call(CONSUME, data)
            consumer_id = field(answer, "consumer_id")
            await pc.setRemoteDescription(answer_from(answer))
        except Exception:
            transceiver.direction = "inactive"
            with contextlib.suppress(Exception):
                await transceiver.stop()
            raise
        consumer = Consumer(producer_id, consumer_id, transceiver, transceiver.receiver.track)
        self.by_producer[producer_id] = consumer
        log.info("consuming", producer=producer_id, consumer=consumer_id)
        self._audio.play(consumer.track)

    async def _close(self, producer_id: str) -> None:
        consumer = self.by_producer.pop(producer_id)
        self._stop_playing(consumer)
        consumer.transceiver.direction = "inactive"
        with contextlib.suppress(Exception):
            await consumer.transceiver.stop()  # ends its track and decoder thread
        try:
            await self._call(CLOSE_CONSUMER, {"consumer_id": consumer.consumer_id})
        except Exception as exc:
            # Nothing to undo locally; the next offer marks the m-line inactive, and the
            # server frees it then or when the peer goes.
            log.warning("close_consumer_failed", consumer=consumer.consumer_id, error=str(exc))
        log.info("consumer_closed", producer=producer_id, consumer=consumer.consumer_id)

    async def packets_received(self) -> int:
        """RTP packets received on all consumers so far (the receive-side liveness probe)."""
        total = 0
        for consumer in list(self.by_producer.values()):
            stats = await consumer.transceiver.receiver.getStats()
            inbound = (s for s in stats.values() if s.type == "inbound-rtp")
            total += sum(int(getattr(s, "packetsReceived", 0)) for s in inbound)
        return total

    def release(self) -> None:
        """Take every track off the speaker (the pc's close ends them)."""
        for consumer in self.by_producer.values():
            self._stop_playing(consumer)
        self.by_producer.clear()

    def _stop_playing(self, consumer: Consumer) -> None:
        try:
            self._audio.stop_playing(consumer.track)
        except Exception as exc:  # the audio adapter's problem; never stop our cleanup
            log.warning("stop_playing_failed", error=repr(exc))

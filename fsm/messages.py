"""User messages: sent at once when connected, queued otherwise, released in paced
batches after a restore, and sent again when the link died before the server confirmed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import Cause, LinkError, OperationTimeout, RequestFailed
from .floor import FloorStatus
from .outbox import Intent, Outgoing
from .ports import Result
from .talk import TalkActions


class MessageActions(TalkActions):
    def backend_has_messages(self) -> bool:
        return self.features.messages

    def _new_message(self, data: Mapping[str, Any] | None) -> Outgoing:
        msg_id = f"{self._client_id}-{next(self._msg_counter)}"
        body = dict(data or {})
        return Outgoing(Intent.MESSAGE, self.ports.clock.now(), msg_id=msg_id, data=body)

    def transmit_message(self, data: Mapping[str, Any] | None = None) -> None:
        item = self._new_message(data)
        if len(self.outbox):
            self.outbox.put(item)  # behind what is still being released: order is kept
        else:
            self._send_message(item)

    def queue_message(self, data: Mapping[str, Any] | None = None) -> None:
        self.outbox.put(self._new_message(data))

    def _send_message(self, item: Outgoing) -> None:
        """Send a user message; if the link dies before the server confirms it, queue it
        again (the server drops the duplicate by ``msg_id`` if the first copy arrived)."""

        def reply(result: Result[Any]) -> None:
            error = result.error
            if isinstance(error, (LinkError, OperationTimeout)):
                self.send("message_unconfirmed", item=item)
            elif isinstance(error, RequestFailed) and error.cause is Cause.RATE_LIMITED:
                self.send("message_unconfirmed", item=item, throttled=True)

        assert item.msg_id is not None
        self.ports.signaling.send_message(item.msg_id, item.data, reply)

    def requeue_message(self, item: Any = None) -> None:
        if isinstance(item, Outgoing):
            self.outbox.put(item)

    def resend_message(self, item: Any = None, throttled: bool = False) -> None:
        # Still connected (a slow answer, or the loss is not reported yet): try again now;
        # if the link is gone this fails fast and lands in the outbox after link_lost.
        # The server said "too fast": queue it and release it with the next batch.
        if not isinstance(item, Outgoing):
            return
        if throttled:
            self.outbox.put(item)
            self._schedule_flush()
        else:
            self._send_message(item)

    def _schedule_flush(self) -> None:
        if len(self.outbox) and "flush" not in self._timers:
            self._arm("flush", self.settings.flush_interval, "outbox_due")

    def flush_more(self) -> None:
        self._flush_outbox()
        self._schedule_flush()

    def _flush_outbox(self) -> None:
        """Release one batch; the rest follows every ``flush_interval`` while connected."""
        batch = self.outbox.drain(self.ports.clock.now(), limit=self.settings.flush_batch)
        signaling = self.ports.signaling
        for item in batch:
            if item.intent is Intent.TALK and item.tx_id is not None:
                if self.floor.held and item.tx_id == self.floor.tx_id:
                    self.floor.status = FloorStatus.REQUESTED
                    signaling.request_floor(item.tx_id, self._floor_reply(item.tx_id))
                else:  # released meanwhile: its stop follows in this or a later batch
                    signaling.request_floor(item.tx_id, _ignore)
            elif item.intent is Intent.STOP_TALKING and item.tx_id is not None:
                signaling.release_floor(item.tx_id)
            elif item.intent is Intent.MESSAGE:
                self._send_message(item)


def _ignore(result: Result[Any]) -> None:
    """Reply sink for a replayed start whose stop follows: the server pairs them."""

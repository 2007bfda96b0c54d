"""User messages: sent at once when connected, queued otherwise, released in paced
batches after a restore, and sent again when the link died before the server confirmed."""

from __future__ import annotations

from typing import Any

from .core import ignore_reply
from .errors import LinkError, OperationTimeout, RequestFailed
from .outbox import PTT_START, Outgoing
from .ports import Result
from .talk import TalkActions


class MessageActions(TalkActions):
    def _new_message(self, method: str, data: Any) -> Outgoing:
        body = dict(data or {})
        body.setdefault("msg_id", f"{self._client_id}-{next(self._msg_counter)}")
        return Outgoing(method, body, self.ports.clock.now())

    def transmit_message(self, method: str = "message", data: Any = None) -> None:
        item = self._new_message(method, data)
        if len(self.outbox):
            self.outbox.put(item)  # behind what is still being released: order is kept
        else:
            self._send_message(item)

    def queue_message(self, method: str = "message", data: Any = None) -> None:
        self.outbox.put(self._new_message(method, data))

    def _send_message(self, item: Outgoing) -> None:
        """Send a user message; if the link dies before the server confirms it, queue it
        again (the server drops the duplicate by ``msg_id`` if the first copy arrived)."""

        def reply(result: Result) -> None:
            error = result.error
            if isinstance(error, (LinkError, OperationTimeout)):
                self.send("message_unconfirmed", item=item)
            elif isinstance(error, RequestFailed) and error.code == "rate_limited":
                self.send("message_unconfirmed", item=item, throttled=True)

        self.ports.signaling.request(item.method, item.data, reply)

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
        for item in batch:
            if item.method == PTT_START and self.talk.held and item.tx_id == self.talk.tx_id:
                self.talk.floor = "requested"
                reply = self._floor_reply(item.tx_id)
                self.ports.signaling.request(item.method, item.data, reply)
            elif item.is_ptt:
                self.ports.signaling.request(item.method, item.data, ignore_reply)
            else:
                self._send_message(item)

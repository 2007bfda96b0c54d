"""User messages: sent at once when connected, queued otherwise, released in paced
batches after a restore, sent again when the link died before the server confirmed, and
always ending in one outcome (:mod:`fsm.delivery`): delivered, or dropped and counted.

* Checked before they are accepted (:meth:`MessageActions.new_message`): a JSON object
  within the size limit, or ``InvalidMessage``/``MessageTooLarge``.
* Rejected by the server (any refusal but ``rate_limited``): dropped, never resent.
* In flight when the server closed the link for a protocol fault (a too-big or malformed
  frame): the culprit is dropped as poison, so the queue never blocks behind it.
* Unanswered on an open link: resent at most ``max_resends`` times; in flight at a link
  loss: requeued at most ``max_outages`` times; then dropped as undeliverable.
* ``rate_limited``: queued again and released with the next batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from .delivery import (
    DeliveryPolicy,
    DropCause,
    InvalidMessage,
    Notify,
    checked,
    effective_limit,
)
from .errors import Cause, LinkError, PttError, RequestFailed
from .floor import FloorStatus
from .logs import get_logger
from .outbox import Intent, Outgoing
from .ports import Result
from .talk import TalkActions

log = get_logger("ptt.messages")

_LIVE = ("connecting", "connected", "reconnecting")


class MessageActions(TalkActions):
    #: Size limit and retry bounds; replace per machine (``machine.delivery = ...``).
    delivery = DeliveryPolicy()

    def backend_has_messages(self) -> bool:
        return self.features.messages

    @property
    def message_limit(self) -> int:
        """The encoded size limit: the policy's, or the backend's if smaller."""
        return effective_limit(self.delivery, self.features.max_message_bytes)

    def new_message(self, data: Mapping[str, Any] | None, notify: Notify | None = None) -> Outgoing:
        """A checked outbox entry for ``data`` with a fresh ``msg_id``; changes nothing else.

        Raises :class:`~fsm.delivery.InvalidMessage` (or ``MessageTooLarge``). Hand the
        entries to the machine with ``send("send_message", batch=(entry, ...))``; ``notify``
        hears the outcome."""
        body, size = checked({} if data is None else data, self.message_limit)
        msg_id = f"{self._client_id}-{next(self._msg_counter)}"
        now = self.ports.clock.now()
        return Outgoing(Intent.MESSAGE, now, msg_id=msg_id, data=body, size=size, notify=notify)

    def _accepted(self, data: Any, batch: Iterable[Outgoing]) -> list[Outgoing]:
        """The batch the manager checked, or one entry made from ``data`` here."""
        if batch:
            return [i for i in batch if isinstance(i, Outgoing) and i.intent is Intent.MESSAGE]
        try:
            return [self.new_message(data)]
        except InvalidMessage as exc:  # raising here would send the machine to error
            self.outbox.dropped[exc.cause.value] += 1
            log.warning("ptt.message_refused", cause=exc.cause.value, error=str(exc))
            return []

    def transmit_message(self, data: Any = None, batch: tuple[Outgoing, ...] = ()) -> None:
        for item in self._accepted(data, batch):
            if len(self.outbox):
                self.outbox.put(item)  # behind what is still being released: order is kept
            else:
                self._send_message(item)

    def queue_message(self, data: Any = None, batch: tuple[Outgoing, ...] = ()) -> None:
        for item in self._accepted(data, batch):
            self.outbox.put(item)

    def _send_message(self, item: Outgoing) -> None:
        """Send a user message; its answer settles it, or comes back as
        ``message_unconfirmed`` (the server drops a duplicate by ``msg_id``)."""
        link = self._generations["link"]
        self.outbox.sending(item, link)

        def reply(result: Result[Any]) -> None:
            self._message_answered(item, link, result)

        assert item.msg_id is not None
        self.ports.signaling.send_message(item.msg_id, item.data, reply)

    def _message_answered(self, item: Outgoing, link: int, result: Result[Any]) -> None:
        """The port's answer (outside any transition): a final answer settles the message at
        once (no port call needed, and a burst's answers cost no transition each)."""
        if not self.outbox.answered(item):
            return  # discarded by disconnect() meanwhile: already settled
        error = result.error
        if error is None:
            self.outbox.delivered(item)
        elif isinstance(error, RequestFailed) and error.cause is not Cause.RATE_LIMITED:
            self.outbox.drop(item, DropCause.REJECTED, error)
        elif self.state in _LIVE:
            throttled = isinstance(error, RequestFailed)
            self.send("message_unconfirmed", item=item, error=error, link=link, throttled=throttled)
        else:  # ended in error with it unanswered: it goes out after the next connect
            self.outbox.put(item)

    def _verdict(self, item: Any, error: PttError | None, link: int | None) -> Outgoing | None:
        """The entry to send again (with its tally), or None if it was dropped now."""
        if not isinstance(item, Outgoing):
            return None
        entry: Outgoing = item
        policy = self.delivery
        if isinstance(error, RequestFailed):  # rate limited: the server is fine, just busy
            return entry
        if isinstance(error, LinkError):
            protocol_close = error.cause is Cause.PROTOCOL and link is not None
            if protocol_close and self.outbox.guilty(entry, link or 0):
                self.outbox.drop(entry, DropCause.POISON, error)
                return None
            entry = replace(entry, outages=entry.outages + 1)
            if entry.outages > policy.max_outages:
                self.outbox.drop(entry, DropCause.UNDELIVERABLE, error)
                return None
            return entry
        entry = replace(entry, timeouts=entry.timeouts + 1)  # no answer on an open link
        if entry.timeouts > policy.max_resends:
            self.outbox.drop(entry, DropCause.UNDELIVERABLE, error)
            return None
        return entry

    def requeue_message(
        self, item: Any = None, error: PttError | None = None, link: int | None = None
    ) -> None:
        kept = self._verdict(item, error, link)
        if kept is not None:
            self.outbox.put(kept)

    def resend_message(
        self,
        item: Any = None,
        error: PttError | None = None,
        link: int | None = None,
        throttled: bool = False,
    ) -> None:
        # The server said "too fast", or the link is going (its loss follows): queue it;
        # the next batch, or the restore, releases it. No answer in time: try again now.
        kept = self._verdict(item, error, link)
        if kept is None:
            return
        if throttled or isinstance(error, LinkError):
            self.outbox.put(kept)
            self._schedule_flush()
        else:
            self._send_message(kept)

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

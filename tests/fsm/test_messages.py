"""Per-message outcomes on fakes: every message ends delivered or dropped with its cause,
counted; none is resent forever and none blocks the queue."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest

from fsm import Cause, Features, LinkError, RequestFailed
from fsm.delivery import (
    DeliveryPolicy,
    DropCause,
    InvalidMessage,
    MessageOutcome,
    MessageTooLarge,
)
from fsm.errors import OperationTimeout
from fsm.outbox import Outgoing
from fsm.testing import Driver

from .drive import Rig, rig_in


class Outcomes(dict[str, MessageOutcome]):
    """The outcome each message's ``notify`` heard, by ``msg_id``; fails on a second one."""

    def notify(self, outcome: MessageOutcome) -> None:
        assert outcome.msg_id not in self, f"{outcome.msg_id} settled twice"
        self[outcome.msg_id] = outcome


def send(rig: Rig, outcomes: Outcomes, *bodies: dict[str, Any]) -> list[Outgoing]:
    """Hand the machine one batch, the way ConnectionManager.send_message does."""
    items = [rig.machine.new_message(body, outcomes.notify) for body in bodies]
    rig.send("send_message", batch=tuple(items))
    return items


def in_flight(rig: Rig) -> list[Any]:
    return [args[1]["n"] for _, args, _ in rig.fakes.signaling.pending("send_message")]


def fail_all_then_lose(rig: Rig, error: LinkError) -> None:
    """What the link does when it ends: fail every pending request, then report the loss."""
    while rig.fakes.signaling.pending("send_message"):
        rig.fakes.signaling.answer("send_message", error=error)
    rig.fakes.signaling.lose(error)


def restore(rig: Rig) -> None:
    Driver(rig.machine, rig.fakes).restore(resumed=True)
    rig.fakes.clock.advance(rig.machine.settings.flush_interval * 5)


@pytest.mark.parametrize(
    "data",
    [
        {"at": datetime.datetime(2026, 1, 1)},
        {"tags": {"a", "b"}},
        {"raw": b"\x00"},
        {"x": math.nan},
        {"nested": [{"inf": math.inf}]},
        ["not", "an", "object"],
        "text",
    ],
    ids=["datetime", "set", "bytes", "nan", "inf", "list", "str"],
)
def test_data_that_is_not_a_json_object_is_refused_at_once(data: Any) -> None:
    """new_message raises InvalidMessage and nothing reaches a port."""
    rig = rig_in("connected.ready")
    with pytest.raises(InvalidMessage) as refused:
        rig.machine.new_message(data)
    assert refused.value.cause is DropCause.INVALID
    assert rig.calls() == []


def test_a_message_above_the_limit_is_refused_at_once() -> None:
    """60 KiB encoded by default: a 100 kB blob raises MessageTooLarge with the figures."""
    rig = rig_in("connected.ready")
    with pytest.raises(MessageTooLarge) as refused:
        rig.machine.new_message({"blob": "x" * 100_000})
    assert (refused.value.limit, refused.value.cause) == (60 * 1024, DropCause.TOO_LARGE)
    assert refused.value.size > 100_000
    assert rig.machine.new_message({"blob": "x" * 60_000}).size <= 60 * 1024


def test_a_backend_may_declare_a_smaller_limit() -> None:
    """The backend's Features.max_message_bytes wins when below the policy's."""
    rig = rig_in("connected.ready", features=Features(max_message_bytes=100))
    assert rig.machine.message_limit == 100
    with pytest.raises(MessageTooLarge):
        rig.machine.new_message({"pad": "x" * 100})


def test_what_is_sent_is_the_data_as_checked() -> None:
    """The entry is a snapshot: changing the caller's dict afterwards changes nothing."""
    rig = rig_in("connected.ready")
    body: dict[str, Any] = {"n": 1, "list": [1]}
    item = rig.machine.new_message(body)
    body["list"].append(2)
    assert item.data == {"n": 1, "list": [1]}


def test_invalid_data_sent_straight_to_the_machine_is_dropped_and_counted() -> None:
    """machine.send("send_message", data=...) cannot raise: the drop is counted instead."""
    rig = rig_in("connected.ready")
    rig.send("send_message", data={"x": math.nan})
    assert rig.where == "connected.ready"
    assert rig.machine.outbox.dropped == {"invalid": 1}
    assert rig.fakes.signaling.pending("send_message") == []


def test_a_confirmed_message_is_delivered() -> None:
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    [item] = send(rig, outcomes, {"n": 1})
    rig.fakes.signaling.answer("send_message", value=None)
    assert item.msg_id is not None
    assert outcomes[item.msg_id].delivered
    assert rig.machine.outbox.in_flight() == ()


def test_a_burst_is_one_transition() -> None:
    """1,000 messages in one batch: one transition, 1,000 sends in order."""
    rig = rig_in("connected.ready")
    send(rig, Outcomes(), *({"n": n} for n in range(1000)))
    assert rig.counter.count == 1
    assert in_flight(rig) == list(range(1000))


def test_a_message_the_server_rejects_is_dropped_and_never_resent() -> None:
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    [item] = send(rig, outcomes, {"n": 1})
    refusal = RequestFailed("send_message", Cause.TRANSIENT, code="bad_request")
    rig.fakes.signaling.answer("send_message", error=refusal)
    assert item.msg_id is not None
    assert outcomes[item.msg_id] == MessageOutcome(item.msg_id, DropCause.REJECTED, refusal)
    assert rig.machine.outbox.dropped == {"rejected": 1}
    rig.fakes.clock.advance(5.0)
    assert in_flight(rig) == []
    assert len(rig.machine.outbox) == 0


def test_the_message_in_flight_at_a_protocol_close_is_dropped_as_poison() -> None:
    """The server closes the link over one message: that one is dropped, the one sent
    with it is delivered after the restore; one outage, never a loop."""
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    small, big = send(rig, outcomes, {"n": "small"}, {"n": "big", "pad": "x" * 5000})
    fail_all_then_lose(rig, LinkError("closed with 1009", cause=Cause.PROTOCOL, code=1009))
    assert big.msg_id is not None
    assert small.msg_id is not None
    assert outcomes[big.msg_id].cause is DropCause.POISON
    assert rig.machine.outbox.dropped == {"poison": 1}
    restore(rig)
    assert in_flight(rig) == ["small"]
    rig.fakes.signaling.answer("send_message")
    assert outcomes[small.msg_id].delivered
    assert rig.machine.metrics["episodes"] == 1


def test_a_transient_loss_resends_every_message_in_flight() -> None:
    """A plain link loss is nobody's fault: every unconfirmed message goes again."""
    rig = rig_in("connected.ready")
    send(rig, Outcomes(), {"n": 1}, {"n": 2, "pad": "x" * 5000})
    fail_all_then_lose(rig, LinkError("reset", cause=Cause.TRANSIENT))
    restore(rig)
    assert in_flight(rig) == [1, 2]
    assert rig.machine.outbox.dropped == {}


def test_an_unconfirmed_message_is_resent_once_then_undeliverable() -> None:
    """No answer in time, twice: one resend, then dropped as undeliverable; no third copy."""
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    [item] = send(rig, outcomes, {"n": 1})
    timeout = OperationTimeout("no answer to message in time")
    rig.fakes.signaling.answer("send_message", error=timeout)
    assert in_flight(rig) == [1]  # the one resend
    rig.fakes.signaling.answer("send_message", error=timeout)
    assert item.msg_id is not None
    assert outcomes[item.msg_id] == MessageOutcome(item.msg_id, DropCause.UNDELIVERABLE, timeout)
    rig.fakes.clock.advance(30.0)
    assert in_flight(rig) == []
    assert rig.machine.outbox.dropped == {"undeliverable": 1}


def test_the_resend_bound_is_a_policy() -> None:
    rig = rig_in("connected.ready")
    rig.machine.delivery = DeliveryPolicy(max_resends=3)
    outcomes = Outcomes()
    send(rig, outcomes, {"n": 1})
    for _ in range(3):
        rig.fakes.signaling.answer("send_message", error=OperationTimeout("slow"))
        assert in_flight(rig) == [1]
    rig.fakes.signaling.answer("send_message", error=OperationTimeout("slow"))
    assert [o.cause for o in outcomes.values()] == [DropCause.UNDELIVERABLE]


def test_a_message_in_flight_at_every_outage_is_undeliverable_after_max_outages() -> None:
    """A message that keeps dying with the link (the server crashes on it) stops."""
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    send(rig, outcomes, {"n": 1})
    for _ in range(3):
        fail_all_then_lose(rig, LinkError("reset", cause=Cause.TRANSIENT))
        restore(rig)
        assert in_flight(rig) == [1]
    fail_all_then_lose(rig, LinkError("reset", cause=Cause.TRANSIENT))
    assert [o.cause for o in outcomes.values()] == [DropCause.UNDELIVERABLE]
    restore(rig)
    assert in_flight(rig) == []


def test_rate_limited_is_requeued_not_counted_and_delivered() -> None:
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    [item] = send(rig, outcomes, {"n": 1})
    rig.fakes.signaling.answer(
        "send_message", error=RequestFailed("send_message", Cause.RATE_LIMITED)
    )
    rig.fakes.clock.advance(rig.machine.settings.flush_interval)
    assert in_flight(rig) == [1]
    rig.fakes.signaling.answer("send_message")
    assert item.msg_id is not None
    assert outcomes[item.msg_id].delivered
    assert rig.machine.outbox.dropped == {}


def test_overflow_tells_each_dropped_message() -> None:
    rig = rig_in("reconnecting.backing_off")
    outcomes = Outcomes()
    items = send(rig, outcomes, *({"n": n} for n in range(105)))
    assert [outcomes[i.msg_id or ""].cause for i in items[:5]] == [DropCause.OVERFLOW] * 5
    assert len(outcomes) == 5
    assert rig.machine.outbox.dropped == {"overflow": 5}


def test_disconnect_discards_queued_and_unconfirmed_messages() -> None:
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    send(rig, outcomes, {"n": "in flight"})
    fail_all_then_lose(rig, LinkError("reset", cause=Cause.TRANSIENT))
    send(rig, outcomes, {"n": "queued"})
    rig.fakes.clock.run_next()
    rig.fakes.signaling.complete_open()  # restoring, the join not answered yet
    rig.send("disconnect")
    assert [o.cause for o in outcomes.values()] == [DropCause.DISCARDED] * 2
    assert rig.machine.outbox.dropped == {"discarded": 2}


def test_an_answer_after_disconnect_settles_nothing_twice() -> None:
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    send(rig, outcomes, {"n": 1})
    rig.send("disconnect")
    rig.fakes.signaling.answer("send_message", error=LinkError("signaling link closed"))
    assert [o.cause for o in outcomes.values()] == [DropCause.DISCARDED]


def test_a_message_unanswered_when_the_machine_ends_in_error_goes_after_the_next_connect() -> None:
    rig = rig_in("connected.ready")
    outcomes = Outcomes()
    send(rig, outcomes, {"n": 1})
    rig.fakes.signaling.lose(LinkError("forbidden", cause=Cause.FORBIDDEN))
    assert rig.where == "error"
    rig.fakes.signaling.answer("send_message", error=LinkError("signaling link closed"))
    assert len(rig.machine.outbox) == 1
    assert outcomes == {}
    rig.send("connect", token="t2")
    Driver(rig.machine, rig.fakes).finish_open()
    rig.fakes.clock.advance(rig.machine.settings.flush_interval)
    assert in_flight(rig) == [1]

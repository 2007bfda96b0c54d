"""``ptt connect --json``: one JSON object per state change and per channel event.

A contract for scripts and tests: every object has at least ``type``, ``state``,
``previous``, ``reason``, ``attempt``, ``delay`` and ``speaker``; ``t`` is seconds since
the client started.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from fsm.events import (
    ChannelChanged,
    ErrorRaised,
    PttEvent,
    Reconnected,
    ReconnectFailed,
    Reconnecting,
    StateChanged,
)

_TYPES: dict[type[Any], str] = {
    StateChanged: "state",
    Reconnecting: "reconnecting",
    Reconnected: "reconnected",
    ReconnectFailed: "reconnect_failed",
    ErrorRaised: "error",
    ChannelChanged: "channel",
}


def event_record(event: PttEvent, machine: Any, started: float) -> dict[str, Any]:
    """The JSON object for ``event``, with the machine's current picture filled in."""
    record: dict[str, Any] = {
        "type": _TYPES.get(type(event), "event"),
        "state": machine.state,
        "previous": None,
        "detail": machine.detail,
        "reason": machine.reason,
        "attempt": machine.attempt,
        "delay": machine.next_delay if machine.detail == "backing_off" else None,
        "speaker": machine.channel.speaker,
        "transmitting": machine.floor.granted,
        "t": round(machine.ports.clock.now() - started, 3),
    }
    if isinstance(event, StateChanged):
        record.update(
            state=event.state,
            previous=event.previous,
            detail=event.detail,
            reason=event.reason,
            attempt=event.attempt,
            delay=event.delay,
            event=event.event,
        )
    elif isinstance(event, Reconnecting):
        record.update(
            attempt=event.attempt, delay=event.delay, reason=event.cause, cause=event.cause
        )
    elif isinstance(event, Reconnected):
        record.update(
            attempt=event.attempts, downtime=round(event.downtime, 3), resumed=event.resumed
        )
    elif isinstance(event, ReconnectFailed):
        record.update(attempt=event.attempts, reason=event.reason)
    elif isinstance(event, ErrorRaised):
        record.update(reason=event.reason, guidance=event.guidance)
    elif isinstance(event, ChannelChanged):
        kind, data = _contract_kind(event)
        record.update(kind=kind, speaker=event.speaker, data=_jsonable(data))
    return record


#: The ``kind`` names this output has always used (a contract for scripts), where the
#: machine's own domain names differ.
_CONTRACT_KINDS = {
    "speaker_changed": "speakerChanged",
    "member_joined": "peerJoined",
    "member_left": "peerLeft",
    "floor_lost": "floor_revoked",
}


def _contract_kind(event: ChannelChanged) -> tuple[str, Any]:
    data = dict(event.data)
    if event.kind == "member_joined":
        data["user"] = data.pop("name", None)
    return _CONTRACT_KINDS.get(event.kind, event.kind), data


def write_record(out: TextIO, record: dict[str, Any]) -> None:
    out.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
    out.flush()


def _jsonable(data: Any) -> Any:
    try:
        json.dumps(data)
    except (TypeError, ValueError):
        return str(data)
    return data

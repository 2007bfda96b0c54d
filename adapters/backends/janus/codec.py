"""Validation of what Janus sends, and the two values we encode ourselves.

- Channels are AudioBridge room numbers: the channel name *is* the room id as a decimal
  string (``"1234"``). No name-to-number mapping: two clients hashing a name would have to
  agree on the hash forever, and a room that does not exist must say so (485,
  :attr:`~fsm.errors.Cause.CHANNEL_GONE`) rather than land in some other room.
- A resume id is ``"janus:<session>:<handle>:<participant>"``: everything needed to
  ``claim`` the session on a new WebSocket and check we are still in the room.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fsm.errors import ConfigError, ProtocolViolation

_MAX_ID = 2**64 - 1  # Janus ids are unsigned 64-bit integers


def is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID


def room_of(channel: str) -> int:
    """The AudioBridge room number of ``channel``; raises ``ConfigError`` if it is none."""
    if not channel.isdecimal() or not is_id(int(channel)):
        raise ConfigError(
            f"Janus channel {channel!r:.40} is not a room number",
            guidance="name the channel by its AudioBridge room id, e.g. --channel 1234",
        )
    return int(channel)


@dataclass(frozen=True)
class ResumeId:
    session: int
    handle: int
    participant: int

    def encode(self) -> str:
        return f"janus:{self.session}:{self.handle}:{self.participant}"

    @classmethod
    def decode(cls, text: str | None) -> ResumeId | None:
        """The parsed id, or None for None or anything we did not produce."""
        if text is None:
            return None
        parts = text.split(":")
        if len(parts) != 4 or parts[0] != "janus" or not all(p.isdecimal() for p in parts[1:]):
            return None
        session, handle, participant = (int(p) for p in parts[1:])
        if not all(is_id(v) for v in (session, handle, participant)):
            return None
        return cls(session, handle, participant)


def participants(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The validated ``participants`` list of a plugin answer or event ([] if absent)."""
    entries = data.get("participants", [])
    if not isinstance(entries, list):
        raise ProtocolViolation("janus participants is not a list")
    valid: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, dict) or not is_id(entry.get("id")):
            raise ProtocolViolation(f"janus participant entry {entry!r:.80} has no valid id")
        display = entry.get("display")
        valid.append(
            {
                "id": entry["id"],
                # an empty or oversized display is dropped, not a reason to fail
                "display": display
                if isinstance(display, str) and 0 < len(display) <= 256
                else None,
                "muted": entry.get("muted") if isinstance(entry.get("muted"), bool) else None,
                "talking": entry.get("talking") if isinstance(entry.get("talking"), bool) else None,
            }
        )
    return valid


def participant_id(data: Mapping[str, Any], key: str = "id") -> int:
    value = data.get(key)
    if not is_id(value):
        raise ProtocolViolation(f"janus {key} {value!r:.40} is not an id")
    assert isinstance(value, int)
    return value

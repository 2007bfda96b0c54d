"""What the machine knows of the channel and of the user's intent to talk."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Channel:
    """What we know of the channel: members, who holds the floor, remote producers."""

    name: str
    session_id: str | None = None
    peer_id: str | None = None
    members: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # peer id -> user name, if known
    speaker: str | None = None
    producers: dict[str, str] = field(default_factory=dict)  # producer id -> peer id

    def name_of(self, peer_id: str | None) -> str | None:
        """The user name of ``peer_id`` when the server told us, else the peer id."""
        return None if peer_id is None else self.names.get(peer_id, peer_id)


@dataclass
class Talk:
    """Talk intent and floor: the button is held or not; the floor is ours or not."""

    held: bool = False
    held_since_before_outage: bool = False
    tx_id: str | None = None
    floor: str = "none"  # none | requested | granted

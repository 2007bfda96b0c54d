"""The channel picture: who is in the channel, who talks, which audio we can receive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .domain import AudioSource, Joined, Member


@dataclass
class ChannelPicture:
    """What we know of the channel, kept up to date from the backend's facts.

    ``resume_id`` is what the next join passes to resume our session (``None``: join
    afresh); ``names`` maps peer ids to user names where the server told them."""

    name: str
    resume_id: str | None = None
    peer_id: str | None = None
    members: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    speaker: str | None = None
    sources: tuple[AudioSource, ...] = ()

    def apply_joined(self, joined: Joined) -> None:
        """Replace the picture with what the join answered."""
        self.resume_id = joined.resume_id
        self.peer_id = joined.peer_id
        self.members = {m.peer_id for m in joined.members}
        self.names = {m.peer_id: m.name for m in joined.members if m.name}
        self.speaker = joined.speaker
        self.sources = tuple(joined.sources)

    def add_member(self, member: Member) -> None:
        self.members.add(member.peer_id)
        if member.name:
            self.names[member.peer_id] = member.name

    def remove_member(self, peer_id: str) -> None:
        self.members.discard(peer_id)

    def set_sources(self, sources: Sequence[AudioSource]) -> bool:
        """Replace the remote sources; return whether they changed."""
        new = tuple(sources)
        changed = set(new) != set(self.sources)
        self.sources = new
        return changed

    def name_of(self, peer_id: str | None) -> str | None:
        """The user name of ``peer_id`` when the server told us, else the peer id."""
        return None if peer_id is None else self.names.get(peer_id, peer_id)

    def remote_speaking(self) -> bool:
        """A remote speaker holds the floor and we receive a source that carries them (a
        source of their own, or a mix of everyone): only then is audio expected. A
        signaling-only client may hold the floor too, and sends no audio at all."""
        speaker = self.speaker
        if speaker is None or speaker == self.peer_id:
            return False
        return any(s.peer_id in (speaker, None) for s in self.sources)

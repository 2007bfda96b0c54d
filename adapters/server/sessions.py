"""Sessions outlive their sockets: a dropped member is kept for a grace period to resume."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .missed import MissedMessages

if TYPE_CHECKING:
    from .link import Link


@dataclass(eq=False)
class Session:
    session_id: str
    peer_id: str
    user: str
    channel: str
    link: Link | None = None
    producers: set[str] = field(default_factory=set)
    alive: bool = True
    expiry: asyncio.TimerHandle | None = None
    missed: MissedMessages = field(default_factory=MissedMessages)  # numbered, for a resume


class SessionStore:
    """Sessions by id; ``detach`` starts the grace timer that ends in ``on_expire``."""

    def __init__(self, grace: float, on_expire: Callable[[Session], None]) -> None:
        self.grace = grace
        self._on_expire = on_expire
        self._by_id: dict[str, Session] = {}

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def has_user(self, user: str) -> bool:
        return any(session.user == user for session in self._by_id.values())

    def open(self, user: str, channel: str, link: Link) -> Session:
        session = Session(
            session_id=secrets.token_urlsafe(16),
            peer_id=f"p-{secrets.token_hex(4)}",
            user=user,
            channel=channel,
            link=link,
        )
        self._by_id[session.session_id] = session
        return session

    def find(self, session_id: str, user: str, channel: str) -> Session | None:
        """A live session to resume; someone else's id is treated as unknown."""
        session = self._by_id.get(session_id)
        if session is None or session.user != user or session.channel != channel:
            return None
        return session

    def attach(self, session: Session, link: Link) -> None:
        self._cancel_expiry(session)
        session.link = link

    def detach(self, session: Session) -> None:
        session.link = None
        self._cancel_expiry(session)
        session.expiry = asyncio.get_running_loop().call_later(self.grace, self._expire, session)

    def end(self, session: Session) -> None:
        self._cancel_expiry(session)
        session.alive = False
        session.link = None
        self._by_id.pop(session.session_id, None)

    def _expire(self, session: Session) -> None:
        session.expiry = None
        if session.alive and session.link is None:
            self._on_expire(session)

    @staticmethod
    def _cancel_expiry(session: Session) -> None:
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None

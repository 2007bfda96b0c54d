"""What a backend author implements to run the kit: their server, and how to reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from adapters.backends.base import Backend


@dataclass(frozen=True)
class Capabilities:
    """What the harness (not the backend) can do; cases that need more are skipped.

    The backend's own abilities are its :class:`~fsm.domain.Features`; these flags are
    about the test set-up around it."""

    #: ``cut_link`` works: a client's link can be dropped mid-session on command.
    cut_link: bool = False
    #: The server carries media: the kit connects media paths with a silent microphone.
    media: bool = False
    #: The server's talk-time limit in seconds, when short enough to wait for (server-side
    #: floor only); ``None`` skips the server floor-loss case.
    max_talk_time: float | None = None
    #: Upper bound for anything that should happen "soon" (loaded CI machines: be generous).
    patience: float = 5.0
    #: How long to watch for something that must not happen (a late callback, a leak).
    quiet: float = 0.5


@runtime_checkable
class ConformanceHarness(Protocol):
    """A backend under test and the server it talks to.

    The kit names its clients (``"alice"``, ``"bob"``, ``"carol"``) and uses the name as
    the user name too. Every case asks for a :meth:`fresh_channel`, so cases never see
    each other's members even when the server is shared."""

    backend: Backend
    capabilities: Capabilities

    async def start(self) -> None:
        """Start the server (and whatever sits in front of it), if the harness owns one."""

    async def stop(self) -> None:
        """Stop everything :meth:`start` started; no task or socket may outlive it."""

    async def url(self, client: str) -> str:
        """The URL ``client`` opens its link to (may differ per client, e.g. one fault
        proxy each so :meth:`cut_link` can drop one client only)."""

    async def token(self, client: str, channel: str) -> str:
        """A valid token for user ``client`` on ``channel``."""

    async def bad_token(self, client: str, channel: str) -> str:
        """A token the server must reject at open (badly signed, or unknown)."""

    def fresh_channel(self) -> str:
        """A channel name no earlier case used."""

    async def cut_link(self, client: str) -> None:
        """Drop ``client``'s link abruptly (a TCP reset, say), then let new links through
        again. Only called when ``capabilities.cut_link``."""

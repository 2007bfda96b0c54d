"""The Janus session and AudioBridge handle that one connection's signaling and media share.

Janus negotiates the PeerConnection on the same plugin handle that joined the room, so
:class:`~.signaling.JanusSignaling` (which owns the link, the session and the join) and
:class:`~.media.JanusMedia` (which offers on that handle) hold the same ``Attachment``.
``generation`` grows with every new session/handle: media built on an older one knows its
PeerConnection died with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fsm.errors import LinkError

from .client import JanusConnection, Message, plugin_data, with_token

PLUGIN = "janus.plugin.audiobridge"


@dataclass
class Attachment:
    """Where we are on the server: link, session, handle, room and participant."""

    display: str | None = None
    link: JanusConnection | None = None
    token: str = ""
    session: int | None = None
    handle: int | None = None
    room: int | None = None
    participant: int | None = None
    in_room: bool = False  # joined and not left (a hangup of the pc leaves the room)
    muted: bool = True  # what we last told Janus
    generation: int = 0
    #: Core events of the handle (webrtcup, hangup, media, slowlink) for the media side.
    media_listener: Callable[[Message], None] | None = field(default=None, repr=False)

    def require_link(self) -> JanusConnection:
        if self.link is None or self.link.ended.done() or self.handle is None:
            raise LinkError("janus link is not open")
        return self.link

    async def message(
        self,
        body: Message,
        jsep: Message | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request deadline
    ) -> tuple[Message, Message | None]:
        """A request to the AudioBridge; returns its plugin data and the answer's jsep."""
        link = self.require_link()
        fields: Message = {"session_id": self.session, "handle_id": self.handle, "body": body}
        if jsep is not None:
            fields["jsep"] = jsep
        answer = await link.request("message", with_token(self.token, fields), timeout=timeout)
        jsep_answer = answer.get("jsep")
        return plugin_data(answer), jsep_answer if isinstance(jsep_answer, dict) else None

    async def configure(self, **settings: Any) -> None:
        await self.message({"request": "configure", **settings})

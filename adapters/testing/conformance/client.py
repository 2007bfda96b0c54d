"""One connection's ports driven by hand, the way the machine would drive them.

A :class:`Client` builds its ports from the backend, opens, joins, talks and closes, and
records every callback (:class:`~.recorder.RecordingEvents`) and every reply
(:class:`~.replies.ReplyLedger`) so the case can check the contract afterwards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.backends.base import BackendContext, BackendPorts
from fsm.domain import AudioSource, FloorAnswer, Joined
from fsm.errors import LinkError
from fsm.ports import Media, Result, Signaling

from .audio import SilentAudio
from .failures import ConformanceError, expect
from .harness import ConformanceHarness
from .recorder import RecordingEvents, RecordingMediaEvents
from .replies import ReplyLedger, value_of
from .rules import Rules


class Client:
    """User ``name`` on ``channel``, through the ports ``harness.backend`` builds."""

    def __init__(
        self, harness: ConformanceHarness, name: str, channel: str, *, media: bool = False
    ) -> None:
        self.harness = harness
        self.name = name
        self.channel = channel
        self.patience = harness.capabilities.patience
        self.rules = Rules(name)
        self.replies = ReplyLedger(self.rules)
        self.audio = SilentAudio() if media else None
        self.ports: BackendPorts = harness.backend.build(
            BackendContext(channel=channel, media=media, audio=self.audio)
        )
        expect(
            isinstance(self.ports.signaling, Signaling),
            f"build() gave {self.ports.signaling!r} as signaling, not a Signaling",
        )
        expect(
            not media or isinstance(self.ports.media, Media),
            f"build(media=True) gave {self.ports.media!r} as media, not a Media",
        )
        #: One recorder per link opened; the last one is the current link's.
        self.links: list[RecordingEvents] = []
        self.media_events = RecordingMediaEvents(self.rules)
        self.joined: Joined | None = None
        self.closed = False

    # --- the link ----------------------------------------------------------------------
    @property
    def signaling(self) -> Signaling:
        return self.ports.signaling

    @property
    def media(self) -> Media:
        if self.ports.media is None:
            raise ConformanceError(f"{self.name}: the backend built no media port")
        return self.ports.media

    @property
    def events(self) -> RecordingEvents:
        """The current link's recorder."""
        if not self.links:
            raise ConformanceError(f"{self.name}: no link opened yet")
        return self.links[-1]

    def start_open(self, token: str, url: str) -> RecordingEvents:
        """Start opening a link (a new recorder), without waiting."""
        events = RecordingEvents(self.rules, f"link{len(self.links) + 1}")
        self.links.append(events)
        with self.rules.port_call("open"):
            self.signaling.open(url, token, events)
        return events

    async def open(self, token: str | None = None) -> None:
        """Open a link and wait for ``opened``; a ``failed`` is a conformance failure."""
        url = await self.harness.url(self.name)
        token = token or await self.harness.token(self.name, self.channel)
        events = self.start_open(token, url)
        call = await events.wait_for(("opened", "failed"), within=self.patience)
        if call.kind == "failed":
            raise ConformanceError(f"{self.name}: open failed: {call.arg!r}")

    async def open_failure(self, token: str) -> LinkError:
        """Open with ``token`` and return the ``failed`` error (``opened`` is a failure)."""
        events = self.start_open(token, await self.harness.url(self.name))
        call = await events.wait_for(("opened", "failed"), within=self.patience)
        if call.kind == "opened":
            raise ConformanceError(f"{self.name}: the link opened")
        error: LinkError = call.arg
        return error

    async def join(self, resume_id: str | None = None) -> Joined:
        result = await self.replies.call(
            "join",
            lambda reply: self.signaling.join(self.channel, resume_id, reply),
            self.patience,
        )
        joined = value_of(result, Joined, f"{self.name}: join")
        self.joined = joined
        return joined

    @property
    def peer_id(self) -> str:
        if self.joined is None:
            raise ConformanceError(f"{self.name}: not joined")
        return self.joined.peer_id

    # --- the floor ---------------------------------------------------------------------
    async def request_floor(self, tx_id: str) -> FloorAnswer:
        result = await self.replies.call(
            "request_floor",
            lambda reply: self.signaling.request_floor(tx_id, reply),
            self.patience,
        )
        answer = value_of(result, FloorAnswer, f"{self.name}: request_floor")
        expect(
            answer.tx_id == tx_id,
            f"{self.name}: request_floor({tx_id!r}) answered for {answer.tx_id!r}",
        )
        return answer

    async def talk(self, tx_id: str) -> FloorAnswer:
        """Ask for the floor and, when granted, unmute (as the machine does)."""
        answer = await self.request_floor(tx_id)
        if answer.granted and self.ports.media is not None and self.audio is not None:
            with self.rules.port_call("set_transmitting"):
                self.media.set_transmitting(True)
        return answer

    def release(self, tx_id: str) -> None:
        if self.ports.media is not None and self.audio is not None:
            with self.rules.port_call("set_transmitting"):
                self.media.set_transmitting(False)
        with self.rules.port_call("release_floor"):
            self.signaling.release_floor(tx_id)

    # --- messages ----------------------------------------------------------------------
    async def send_message(self, msg_id: str, data: Mapping[str, Any]) -> Result[Any]:
        return await self.replies.call(
            "send_message",
            lambda reply: self.signaling.send_message(msg_id, data, reply),
            self.patience,
        )

    # --- media -------------------------------------------------------------------------
    async def connect_media(self) -> None:
        """Connect the media path and attach the (silent) microphone, muted."""
        media = self.media
        result = await self.replies.call(
            "media.connect", lambda reply: media.connect(self.media_events, reply), self.patience
        )
        if not result.ok:
            raise ConformanceError(f"{self.name}: media.connect failed: {result.error!r}")
        result = await self.replies.call(
            "media.attach_microphone", media.attach_microphone, self.patience
        )
        if not result.ok:
            raise ConformanceError(f"{self.name}: attach_microphone failed: {result.error!r}")

    async def follow(self, sources: Sequence[AudioSource]) -> None:
        media = self.media
        result = await self.replies.call(
            "media.follow", lambda reply: media.follow(sources, reply), self.patience
        )
        if not result.ok:
            raise ConformanceError(f"{self.name}: follow failed: {result.error!r}")

    # --- the end -----------------------------------------------------------------------
    def leave(self) -> None:
        with self.rules.port_call("leave"):
            self.signaling.leave()

    def close(self) -> None:
        """Close media and link; from now on every callback to them is a violation."""
        if self.closed:
            return
        self.closed = True
        for events in self.links:
            events.closed = True
        self.media_events.closed = True
        if self.ports.media is not None:
            with self.rules.port_call("media.close"):
                self.ports.media.close()
        with self.rules.port_call("close"):
            self.signaling.close()
        if self.audio is not None:
            self.audio.close()

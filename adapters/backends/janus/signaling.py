"""``JanusSignaling``: :class:`fsm.ports.Signaling` on the Janus WebSocket API + AudioBridge.

- ``open``: a WebSocket, then ``claim`` of the session this object had (a dropped link
  within ``reclaim_session_timeout``), else ``create`` + ``attach``; a keepalive runs
  for the life of the link.
- ``join``: when the claim worked, the resume id names that session and Janus still lists
  us in the room, the answer is ``Joined(resumed=True)`` and the PeerConnection is kept
  (a signal-only resume). Otherwise a fresh AudioBridge ``join``, muted:
  ``Joined(resumed=False)`` and the machine rebuilds media.
- the floor is client-side (:mod:`.roster` has the rule): ``request_floor`` grants when no
  other member is live and unmuted, and unmutes us; a crossed grant is settled by the
  lowest participant id on every client (``floor_lost(COLLISION)`` for the others).
- members are Janus participants (``Member(str(id), display)``), ourselves included in
  ``Joined.members`` but never announced by ``member_joined``; the one audio source is the
  room's mix (:data:`MIX`).
- AudioBridge has no chat: ``Features.messages`` is False and ``send_message`` answers a
  ``UsageError`` if called anyway.

Peer input is validated in :mod:`.codec`; a malformed event is logged, counted in
``dropped`` and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from fsm.domain import AudioSource, FloorAnswer, FloorLost, Joined
from fsm.errors import (
    Cause,
    LinkError,
    PttError,
    RequestFailed,
    UsageError,
)
from fsm.logs import get_logger
from fsm.ports import Reply, Result, SignalingEvents

from . import codec, codes
from .client import ClientOptions, JanusConnection, Message, plugin_data, with_token
from .codes import JanusError
from .handle import PLUGIN, Attachment
from .roster import Roster

log = get_logger("ptt.janus")

#: The single remote source of an AudioBridge: the mix of everyone but us.
MIX = AudioSource(source_id="mix")

#: Core events of a handle that belong to its PeerConnection (the media side).
MEDIA_EVENTS = frozenset({"webrtcup", "hangup", "media", "slowlink"})


@dataclass(frozen=True)
class SignalingOptions:
    """``stale_after``: how long an unmuted, silent member still holds the floor (the
    server's ``reclaim_session_timeout``); ``max_talk_time``: the machine's limit, which
    also bounds how long an unmuted member can block the channel."""

    client: ClientOptions = field(default_factory=ClientOptions)
    stale_after: float = 20.0
    max_talk_time: float | None = None
    display: str | None = None


class JanusSignaling:
    def __init__(self, attachment: Attachment, options: SignalingOptions | None = None) -> None:
        self.options = options or SignalingOptions()
        self._a = attachment
        self._events: SignalingEvents | None = None
        self._run: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._roster = Roster(self.options.stale_after, self.options.max_talk_time)
        self._claimed = False  # the current link got our previous session back
        self._tx: str | None = None  # the transmission we hold (we are unmuted)
        self._granting = False
        self._speaker: str | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self.dropped: dict[str, int] = {}  # malformed or unexpected events, by reason

    # --- fsm.ports.Signaling ---------------------------------------------------------------
    def open(self, url: str, token: str, events: SignalingEvents) -> None:
        self.close()
        self._events = events
        self._run = self._spawn(self._life(url, token, events))

    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        self._spawn(self._answer(reply, "join", self._join(channel, resume_id)))

    def request_floor(self, tx_id: str, reply: Reply) -> None:
        self._spawn(self._answer(reply, "request_floor", self._request_floor(tx_id)))

    def release_floor(self, tx_id: str) -> None:
        if self._tx not in (tx_id, None):
            return  # an older transmission: the current one is not ours to end
        self._tx = None
        self._mute()

    def send_message(self, msg_id: str, data: Mapping[str, Any], reply: Reply) -> None:
        error = UsageError("the Janus AudioBridge has no channel messages (Features.messages)")
        asyncio.get_running_loop().call_soon(reply, Result(error=error))

    def probe(self, timeout: float) -> None:
        """A ``keepalive`` with its own deadline: no answer in time drops the link (lost)."""
        a = self._a
        link, session = a.link, a.session
        if self._run is not None and link is not None and session is not None:
            link.spawn(link.probe(session, a.token, timeout))  # a no-op on an ended link

    def leave(self) -> None:
        a = self._a
        self._tx = None
        session, a.session = a.session, None  # never claim it again
        a.handle = a.participant = None
        a.in_room = False
        link = a.link
        if link is not None and session is not None and not link.ended.done():
            fields = with_token(a.token, {"session_id": session})
            self._spawn(self._quietly(link.request("destroy", fields, timeout=1.0)))

    def close(self) -> None:
        self._events = None
        if self._expiry is not None:
            self._expiry.cancel()
        run, self._run = self._run, None
        if run is not None:
            # A goodbye (destroy, mute) already queued gets a moment to leave first.
            self._spawn(self._finish(run, [t for t in self._tasks if t is not run]))

    async def aclose(self) -> None:
        """Close and wait until no task or socket of this adapter is left."""
        self.close()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- the link ---------------------------------------------------------------------------
    async def _life(self, url: str, token: str, events: SignalingEvents) -> None:
        a = self._a
        try:
            link = await JanusConnection.open(url, self.options.client, self._on_event)
        except LinkError as refused:
            self._report(events, "failed", refused)
            return
        a.link, a.token = link, token
        try:
            try:
                self._claimed = await self._claim_or_create(link, token)
            except JanusError as exc:
                self._report(events, "failed", codes.link_error("open", exc))
                return
            except LinkError as exc:
                self._report(events, "failed", exc)
                return
            except PttError as exc:  # a timeout or a malformed answer: retryable
                self._report(events, "failed", LinkError(f"janus open failed: {exc}"))
                return
            assert a.session is not None
            link.spawn(link.keep_alive(a.session, token))
            log.info("ptt.janus.opened", claimed=self._claimed)
            if self._events is events:
                events.opened()
            # shield: a cancelled waiter would cancel the shared future itself
            self._report(events, "lost", await asyncio.shield(link.ended))
        finally:
            await link.aclose()

    async def _claim_or_create(self, link: JanusConnection, token: str) -> bool:
        a = self._a
        if a.session is not None:
            try:
                await link.request("claim", with_token(token, {"session_id": a.session}))
                if a.handle is not None:
                    return True
            except JanusError as exc:
                if codes.cause_of(exc.code) is Cause.AUTH_INVALID:
                    raise
                log.info("ptt.janus.claim_refused", code=exc.code)  # 458: restarted/expired
                a.session = None
        if a.session is None:
            created = await link.request("create", with_token(token, {}))
            a.session = codec.participant_id(_data(created))
        attached = await link.request(
            "attach", with_token(token, {"session_id": a.session, "plugin": PLUGIN})
        )
        a.handle = codec.participant_id(_data(attached))
        a.generation += 1
        a.in_room, a.muted, a.participant = False, True, None
        return False

    def _report(self, events: SignalingEvents, kind: str, error: LinkError) -> None:
        if self._events is not events:
            return  # closed meanwhile: nothing more for this link
        self._events = None
        self._tx = None
        log.info(f"ptt.janus.{kind}", error=str(error), cause=str(error.cause))
        (events.failed if kind == "failed" else events.lost)(error)

    # --- join -------------------------------------------------------------------------------
    async def _join(self, channel: str, resume_id: str | None) -> Joined:
        a = self._a
        room = codec.room_of(channel)
        wanted = codec.ResumeId.decode(resume_id)
        claimed, self._claimed = self._claimed, False  # one resume per claim
        now = _now()
        if claimed and a.in_room and a.room == room and wanted == self._resume_id():
            data, _ = await a.message({"request": "listparticipants", "room": room})
            entries = codec.participants(data)
            if any(e["id"] == a.participant for e in entries):
                assert a.participant is not None
                if not a.muted and self._tx is None:
                    await self._configure_muted(True)
                self._roster.reset(a.participant, entries, now)
                log.info("ptt.janus.resumed", room=room)
                return self._joined(resumed=True)
        if a.in_room:  # a session we got back but do not resume: start over in the room
            with contextlib.suppress(JanusError):
                await a.message({"request": "leave"})
            a.in_room = False
        body: Message = {"request": "join", "room": room, "muted": True}
        if self.options.display:
            body["display"] = self.options.display
        data, _ = await a.message(body)
        a.room, a.participant, a.in_room, a.muted = room, codec.participant_id(data), True, True
        self._roster.reset(a.participant, codec.participants(data), now)
        log.info("ptt.janus.joined", room=room, members=len(self._roster.people))
        return self._joined(resumed=False)

    def _resume_id(self) -> codec.ResumeId | None:
        a = self._a
        if a.session is None or a.handle is None or a.participant is None:
            return None
        return codec.ResumeId(a.session, a.handle, a.participant)

    def _joined(self, *, resumed: bool) -> Joined:
        resume = self._resume_id()
        assert resume is not None
        holder = self._roster.holder(_now())
        self._speaker = str(holder) if holder is not None else None
        self._schedule_expiry()
        return Joined(
            peer_id=str(resume.participant),
            resume_id=resume.encode(),
            resumed=resumed,
            members=self._roster.members(),
            speaker=self._speaker,
            sources=(MIX,),
        )

    # --- floor ------------------------------------------------------------------------------
    async def _request_floor(self, tx_id: str) -> FloorAnswer:
        roster, me = self._roster, self._a.participant
        blocker = roster.blocker(_now())
        if blocker is not None or me is None:
            return FloorAnswer(tx_id, False, speaker=_peer(blocker), reason="busy")
        self._tx, self._granting = tx_id, True
        try:
            await self._configure_muted(False)
        except BaseException:
            self._tx = None
            self._mute()
            raise
        finally:
            self._granting = False
        blocker = roster.blocker(_now())
        if self._tx != tx_id or (blocker is not None and blocker < me):
            # Released meanwhile, or a lower id unmuted while our unmute was on its way.
            if self._tx == tx_id:
                self._tx = None
            self._mute()
            return FloorAnswer(tx_id, False, speaker=_peer(blocker), reason="collision")
        self._changed()
        return FloorAnswer(tx_id, True, speaker=str(me))

    def _mute(self) -> None:
        """Mute us now in our own picture, and on the server as soon as it can hear us."""
        a = self._a
        a.muted = True
        self._roster.set_my_mute(True, _now())
        if a.in_room and a.link is not None and not a.link.ended.done():
            self._spawn(self._quietly(a.configure(muted=True)))
        # Not now: _mute runs inside release_floor(), and a port never calls back from
        # inside a port call (the speaker change reaches the machine on the next turn).
        asyncio.get_running_loop().call_soon(self._changed_if_open)

    def _changed_if_open(self) -> None:
        if self._events is not None:
            self._changed()

    async def _configure_muted(self, muted: bool) -> None:
        a = self._a
        a.muted = muted
        self._roster.set_my_mute(muted, _now())
        await a.configure(muted=muted)

    def _check_collision(self) -> None:
        tx, me = self._tx, self._a.participant
        if tx is None or self._granting or me is None:
            return
        blocker = self._roster.blocker(_now())
        if blocker is not None and blocker < me:
            log.info("ptt.janus.floor_collision", kept_by=blocker)
            self._tx = None
            self._mute()
            if self._events is not None:
                self._events.floor_lost(tx, FloorLost.COLLISION)

    def _changed(self) -> None:
        """Re-derive the speaker after any roster change and report it if it moved."""
        self._check_collision()
        holder = self._roster.holder(_now())
        speaker = str(holder) if holder is not None else None
        if speaker != self._speaker:
            self._speaker = speaker
            if self._events is not None:
                self._events.speaker_changed(speaker)
        self._schedule_expiry()

    def _schedule_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        at = self._roster.next_expiry(_now())
        if at is not None:
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_at(at + 0.05, self._changed)

    # --- events -----------------------------------------------------------------------------
    def _on_event(self, message: Message) -> None:
        a = self._a
        kind = message.get("janus")
        if message.get("session_id") not in (None, a.session):
            self._drop("other_session")
            return
        if kind == "timeout":  # the session expired: nothing to claim any more
            a.session = None
            if a.link is not None:
                a.link.abort(LinkError("janus session timed out", code=codes.NO_SUCH_SESSION))
            return
        if message.get("sender") not in (None, a.handle):
            self._drop("other_handle")
            return
        if kind in MEDIA_EVENTS:
            if kind == "hangup":
                a.in_room = False  # a hangup makes the participant leave the room
            if a.media_listener is not None:
                a.media_listener(message)
            return
        if kind == "detached":
            a.handle, a.in_room = None, False
            if a.link is not None:
                a.link.abort(LinkError("janus handle detached", code="detached"))
            return
        if kind != "event":
            self._drop(f"unexpected_{str(kind)[:24]}")
            return
        try:
            self._on_plugin_event(plugin_data(message))
        except PttError as exc:
            log.warning("ptt.janus.bad_event", error=str(exc))
            self._drop("bad_event")

    def _on_plugin_event(self, data: Message) -> None:
        a, roster, events, now = self._a, self._roster, self._events, _now()
        what = data.get("audiobridge")
        if what == "destroyed":
            self._end(LinkError("the room was destroyed", cause=Cause.CHANNEL_GONE, code=what))
            return
        if "kicked" in data and data.get("kicked") == a.participant:
            self._end(LinkError("kicked from the room", cause=Cause.KICKED, code="kicked"))
            return
        if what in ("talking", "stopped-talking"):
            roster.set_talking(codec.participant_id(data), what == "talking", now)
        elif "leaving" in data or "kicked" in data:
            gone = codec.participant_id(data, "leaving" if "leaving" in data else "kicked")
            if roster.remove(gone) and events is not None:
                events.member_left(str(gone))
        elif what in ("joined", "event") and "participants" in data:
            for person in roster.update(codec.participants(data), now):
                if events is not None:
                    events.member_joined(person.member())
        else:
            self._drop(f"plugin_{str(what)[:24]}")
            return
        self._changed()

    def _end(self, error: LinkError) -> None:
        a = self._a
        a.session, a.in_room = None, False  # a final goodbye: do not claim it back
        if a.link is not None:
            a.link.abort(error)

    def _drop(self, why: str) -> None:
        self.dropped[why] = self.dropped.get(why, 0) + 1
        log.debug("ptt.janus.dropped_event", why=why)

    # --- tasks ------------------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _answer(self, reply: Reply, operation: str, work: Coroutine[Any, Any, Any]) -> None:
        try:
            result: Result[Any] = Result(value=await work)
        except JanusError as exc:
            result = Result(error=codes.request_failed(operation, exc))
        except PttError as exc:
            result = Result(error=exc)
        except Exception as exc:  # a bug here must still answer the machine once
            log.exception("ptt.janus.operation_crashed", operation=operation)
            result = Result(error=RequestFailed(operation, Cause.PROTOCOL, repr(exc)[:200]))
        try:
            reply(result)
        except Exception:
            log.exception("ptt.janus.reply_failed", operation=operation)

    async def _quietly(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except (PttError, JanusError) as exc:
            log.debug("ptt.janus.best_effort_failed", error=str(exc))

    async def _finish(self, run: asyncio.Task[None], pending: list[asyncio.Task[Any]]) -> None:
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)


def _data(answer: Message) -> Message:
    data = answer.get("data")
    return data if isinstance(data, dict) else {}


def _peer(pid: int | None) -> str | None:
    return str(pid) if pid is not None else None


def _now() -> float:
    return asyncio.get_running_loop().time()

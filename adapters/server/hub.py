"""The server's state and what each request does to it: membership, floor, relay.

Nothing here touches a socket: links are reached only through ``Link.send``/``close``,
which queue, so every operation runs to completion without awaiting (media calls live in
:mod:`.mediaops`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.backends.reference import protocol
from fsm.logs import get_logger

from .channels import Channel, Channels
from .dedup import RecentIds
from .floor import Grant
from .link import Link
from .media import ChannelAware, MediaRouter
from .missed import MissedLedger, Numbered
from .presence import Presence
from .sessions import Session, SessionStore
from .stats import Stats
from .tasks import Background
from .wire import RequestError, notification

log = get_logger("ptt.server")


class Hub:
    def __init__(
        self,
        media: MediaRouter,
        background: Background,
        stats: Stats,
        *,
        grace: float,
        max_talk_time: float,
        max_members: int,
        forget_after: float,
    ) -> None:
        self.media = media
        self.background = background
        self.channels = Channels()
        self.sessions = SessionStore(grace, self._grace_expired)
        self.max_talk_time = max_talk_time
        self.max_members = max_members
        self.stats = stats
        self._recent_ids = RecentIds()
        self._ledger = MissedLedger()
        self.presence = Presence(forget_after, self._forget)

    # --- lookups ------------------------------------------------------------------------
    def session_of(self, link: Link) -> Session:
        if link.session is None:
            raise RequestError(protocol.E_NOT_JOINED, "join a channel first")
        return link.session

    def channel_of(self, session: Session) -> Channel:
        channel = self.channels.get(session.channel)
        if channel is None:  # a session is removed with its channel; this is a bug
            raise RequestError(protocol.E_INTERNAL, "session without channel")
        return channel

    # --- membership ---------------------------------------------------------------------
    def join(
        self, link: Link, channel_name: str, session_id: str | None, last_seq: int | None = None
    ) -> dict[str, Any]:
        """Join ``channel_name``, or resume ``session_id``; ``last_seq`` is the last message
        seq the resuming client received (``None``: an older client that does not say)."""
        if channel_name != link.claims.channel:
            raise RequestError(
                protocol.E_FORBIDDEN,
                "the token does not allow this channel",
                close_code=protocol.CLOSE_FORBIDDEN,
            )
        if link.session is not None:
            raise RequestError(protocol.E_BAD_REQUEST, "already joined")
        session = self.sessions.find(session_id, link.user, channel_name) if session_id else None
        if session is not None:
            self._take_over(session, link)
            log.info("ptt.server.resumed", user=link.user, peer_id=session.peer_id)
            # What the client lacks is replayed right after this answer (replay_missed);
            # only what overflowed the history is lost for good.
            missed = session.missed.resume(last_seq)
            return self._join_result(self.channel_of(session), session, True, missed)
        missed = self._ledger.take(session_id, link.user, channel_name) if session_id else 0
        channel = self.channels.get(channel_name)
        if channel is not None and len(channel.members) >= self.max_members:
            raise RequestError(protocol.E_CHANNEL_FULL, f"channel has {self.max_members} members")
        channel = self.channels.get_or_create(channel_name)
        session = self.sessions.open(link.user, channel_name, link)
        link.session = session
        channel.members[session.peer_id] = session
        self._tell_channel(session.peer_id, channel.name)
        self._broadcast(
            channel,
            protocol.PEER_JOINED,
            {"peer_id": session.peer_id, "user": session.user},
            exclude=session.peer_id,
        )
        log.info("ptt.server.joined", user=link.user, peer_id=session.peer_id, channel=channel.name)
        return self._join_result(channel, session, False, missed)

    def _take_over(self, session: Session, link: Link) -> None:
        old = session.link
        if old is not None and old is not link:
            # The client reconnected before this server noticed its old socket die.
            old.session = None
            self._owe(session, old.take_unsent())
            self._drop_floor(session)
            old.close(1000, "session resumed on another connection")
        self.sessions.attach(session, link)
        link.session = session

    def _join_result(
        self, channel: Channel, session: Session, resumed: bool, missed: int
    ) -> dict[str, Any]:
        return {
            "session_id": session.session_id,
            "resumed": resumed,
            "peer_id": session.peer_id,
            "members": list(channel.members),
            "names": {peer: member.user for peer, member in channel.members.items()},
            "speaker": channel.speaker,
            "producers": [
                {"producer_id": producer, "peer_id": owner}
                for producer, owner in channel.producers.items()
                if owner != session.peer_id
            ],
            "missed": missed,
        }

    def replay_missed(self, link: Link) -> None:
        """After a join's answer: the messages a resumed client lacks, in order."""
        session = link.session
        if session is None:
            return
        entries = session.missed.replay()
        for entry in entries:
            if not link.send(_numbered(entry), seq=entry.seq):
                session.missed.owe(entry.seq)  # the new link is closing already
                return
        if entries:
            log.info("ptt.server.replayed", user=link.user, messages=len(entries))

    @staticmethod
    def _owe(session: Session, unsent: list[int]) -> None:
        """A dead link never wrote ``unsent`` (the seqs of relayed messages, in order)."""
        if unsent:
            session.missed.owe(unsent[0])

    def leave(self, link: Link, channel_name: str) -> dict[str, Any]:
        session = self.session_of(link)
        if session.channel != channel_name:
            raise RequestError(protocol.E_NOT_JOINED, f"not a member of {channel_name!r}")
        log.info("ptt.server.left", user=link.user, peer_id=session.peer_id)
        self.end(session)
        return {}

    def link_opened(self, link: Link) -> None:
        self.presence.link_opened(link.user)

    def link_lost(self, link: Link) -> None:
        """The socket is gone: free the floor now, keep the session for the grace period."""
        session, link.session = link.session, None
        self.presence.link_closed(link.user)
        if session is not None and session.link is link:
            self._owe(session, link.take_unsent())
            self._drop_floor(session)
            if self.sessions.grace > 0:
                self.sessions.detach(session)
            else:
                self._lapse(session)
        self._check_presence(link.user)

    def _drop_floor(self, session: Session) -> None:
        channel = self.channels.get(session.channel)
        if channel is not None and channel.floor.drop(session.peer_id) is not None:
            self._floor_changed(channel)

    def _grace_expired(self, session: Session) -> None:
        log.info("ptt.server.session_expired", user=session.user, peer_id=session.peer_id)
        self._lapse(session)

    def _lapse(self, session: Session) -> None:
        """End a session its client did not come back for; remember what it was owed."""
        missed = session.missed.count
        self._ledger.note(session.session_id, session.user, session.channel, missed)
        self.end(session)

    def _check_presence(self, user: str) -> None:
        self.presence.check(user, has_session=self.sessions.has_user(user))

    def _forget(self, user: str) -> None:
        """The user left and did not come back: drop all that is still kept about it."""
        self._recent_ids.forget(user)
        self._ledger.forget(user)
        self.stats.forget(user)

    def end(self, session: Session, *, notify: bool = True) -> None:
        """End a session for good: the others see its producers close and the peer leave."""
        link = session.link
        if link is not None and link.session is session:
            link.session = None
        self.sessions.end(session)
        channel = self.channels.get(session.channel)
        if channel is not None and channel.members.pop(session.peer_id, None) is not None:
            if channel.floor.drop(session.peer_id) is not None:
                self._floor_changed(channel, notify=notify)
            peer = {"peer_id": session.peer_id}
            for producer in sorted(session.producers):
                channel.producers.pop(producer, None)
                if notify:
                    closed = {"producer_id": producer, **peer}
                    self._broadcast(channel, protocol.PRODUCER_CLOSED, closed)
            if notify:
                self._broadcast(channel, protocol.PEER_LEFT, {**peer, "user": session.user})
            self.channels.discard_if_empty(channel)
        self._tell_channel(session.peer_id, None)
        self.release_media(session.peer_id)
        self._check_presence(session.user)

    def release_media(self, peer_id: str) -> None:
        self.background.spawn(self._close_media(peer_id), f"ptt-close-peer-{peer_id}")

    async def _close_media(self, peer_id: str) -> None:
        try:
            await self.media.close_peer(peer_id)
        except Exception:
            log.exception("ptt.server.media_failed", call="close_peer", peer_id=peer_id)

    def kick(self, user: str) -> list[Link]:
        """End every session of ``user`` (the speaker is told why); return their links."""
        links = []
        for session in self.sessions:
            if session.user != user:
                continue
            channel = self.channels.get(session.channel)
            if channel is not None and channel.speaker == session.peer_id:
                self._revoke(channel, "kicked")
            if session.link is not None:
                links.append(session.link)
            self.end(session)
        return links

    def delete_channel(self, name: str) -> list[Link]:
        """Remove the channel and end its sessions without notifying anyone; return links."""
        channel = self.channels.remove(name)
        if channel is None:
            return []
        if channel.floor.revoke() is not None:
            self._tell_media(channel.name, None)
        links = [s.link for s in channel.members.values() if s.link is not None]
        for session in list(channel.members.values()):
            self.end(session, notify=False)
        return links

    def close(self) -> None:
        """Shutdown: end every session quietly and stop every timer."""
        for session in self.sessions:
            self.end(session, notify=False)
        for channel in self.channels:
            self.channels.remove(channel.name)
        self.presence.close()

    def footprint(self) -> dict[str, int]:
        """How much per-client state is held (for operators and leak tests)."""
        return {
            "sessions": len(self.sessions),
            "channels": sum(1 for _ in self.channels),
            "users": len(self.presence),
            "message_ids": len(self._recent_ids),
            "missed_buffered": sum(len(s.missed) for s in self.sessions),
            "replay_kept": sum(s.missed.kept for s in self.sessions),
            "missed_ledger": len(self._ledger),
            "stats_entries": self.stats.stored(),
            "background_tasks": len(self.background),
        }

    # --- floor --------------------------------------------------------------------------
    def ptt_start(self, link: Link, tx_id: str) -> dict[str, Any]:
        session = self.session_of(link)
        channel = self.channel_of(session)
        granted, changed = channel.floor.request(session.peer_id, tx_id)
        if changed:
            log.info("ptt.server.floor_granted", peer_id=session.peer_id, tx_id=tx_id)
            self._floor_changed(channel)
        return {"granted": granted, "tx_id": tx_id, "speaker": channel.speaker}

    def ptt_stop(self, link: Link, tx_id: str) -> dict[str, Any]:
        session = self.session_of(link)
        channel = self.channel_of(session)
        released = channel.floor.release(session.peer_id, tx_id)
        if released:
            self._floor_changed(channel)
        return {"released": released}

    def _floor_changed(self, channel: Channel, *, notify: bool = True) -> None:
        holder = channel.floor.holder
        channel.stop_talk_timer()
        if holder is not None and self.max_talk_time > 0:
            channel.talk_timer = asyncio.get_running_loop().call_later(
                self.max_talk_time, self._talk_time_up, channel, holder
            )
        if notify:
            data = {"peer_id": channel.speaker, "tx_id": holder.tx_id if holder else None}
            self._broadcast(channel, protocol.SPEAKER_CHANGED, data)
        self._tell_media(channel.name, channel.speaker)

    def _talk_time_up(self, channel: Channel, grant: Grant) -> None:
        channel.talk_timer = None
        if channel.floor.holder == grant:
            self._revoke(channel, "max_talk_time")

    def speaker_stalled(self, peer_id: str) -> bool:
        """The media router got no audio from the floor holder's producer for a while: take
        the floor away (``floorRevoked`` reason ``stalled``) so the listeners, told the
        floor is free, stop expecting audio instead of rebuilding their healthy media.
        Only if ``peer_id`` still holds a floor; return whether it did."""
        for channel in self.channels:
            holder = channel.floor.holder
            if holder is not None and holder.peer_id == peer_id:
                self._revoke(channel, "stalled")
                return True
        return False

    def _revoke(self, channel: Channel, reason: str) -> None:
        grant = channel.floor.revoke()
        if grant is None:
            return
        log.info(
            "ptt.server.floor_revoked", peer_id=grant.peer_id, tx_id=grant.tx_id, reason=reason
        )
        speaker = channel.members.get(grant.peer_id)
        if speaker is not None and speaker.link is not None:
            data = {"tx_id": grant.tx_id, "reason": reason}
            speaker.link.send(notification(protocol.FLOOR_REVOKED, data))
        self._floor_changed(channel)

    def _tell_media(self, channel: str, peer_id: str | None) -> None:
        try:
            self.media.floor_changed(channel, peer_id)
        except Exception:
            log.exception("ptt.server.media_failed", call="floor_changed", channel=channel)

    def _tell_channel(self, peer_id: str, channel: str | None) -> None:
        if not isinstance(self.media, ChannelAware):
            return
        try:
            self.media.join_channel(peer_id, channel)
        except Exception:
            log.exception("ptt.server.media_failed", call="join_channel", peer_id=peer_id)

    def producer_closed(self, peer_id: str, producer_id: str) -> bool:
        """The router lost a producer on its own (its transport died): tell the channel."""
        for channel in self.channels:
            if channel.producers.get(producer_id) != peer_id:
                continue
            del channel.producers[producer_id]
            session = channel.members.get(peer_id)
            if session is not None:
                session.producers.discard(producer_id)
            closed = {"producer_id": producer_id, "peer_id": peer_id}
            self._broadcast(channel, protocol.PRODUCER_CLOSED, closed, exclude=peer_id)
            return True
        return False

    # --- messages -----------------------------------------------------------------------
    def relay(self, link: Link, data: dict[str, Any]) -> dict[str, Any]:
        session = self.session_of(link)
        channel = self.channel_of(session)
        message_id = data.get("msg_id")
        fresh = not isinstance(message_id, str) or self._recent_ids.first_time(
            session.user, message_id
        )
        if not fresh:
            return {"duplicate": True}
        self.stats.relayed(session.user, data)
        frame = notification(protocol.MESSAGE, {"from": session.peer_id, "data": data})
        for member in list(channel.members.values()):
            if member is session:
                continue
            # Unlike state notifications (a resume's join answer carries the state), a
            # message exists only in the stream: each member numbers and keeps it until
            # a resume shows what its client lacks (even if written, the socket may be
            # silently dead); a member whose link is down is owed it outright.
            entry, dropped = member.missed.number(frame)
            self.stats.dropped["missed_overflow"] += dropped
            if member.link is None or not member.link.send(_numbered(entry), seq=entry.seq):
                member.missed.owe(entry.seq)
        return {}

    def _broadcast(
        self, channel: Channel, method: str, data: dict[str, Any], *, exclude: str | None = None
    ) -> None:
        frame = notification(method, data)
        for member in channel.others(exclude):
            if member.link is not None:
                member.link.send(frame)


def _numbered(entry: Numbered) -> str:
    """A relayed message as one member's MESSAGE notification, with its seq.

    The message is encoded once for every member; its seq is spliced in last inside the
    notification's ``data`` (``notification`` ends with that object: ``...}}``).
    """
    return f'{entry.frame[:-2]}, "{protocol.SEQ}": {entry.seq}}}}}'

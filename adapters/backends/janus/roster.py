"""The room as this client sees it, and the client-side floor rule every client applies.

AudioBridge has no floor: whoever is unmuted is mixed. So each client applies the same
rule to the same facts (the ``participants`` events every client gets):

- the floor is free when no *other* member is unmuted;
- when several are unmuted at once (two grants crossed), the **lowest participant id**
  keeps it and every other one mutes itself (:attr:`~fsm.domain.FloorLost.COLLISION`);
- a dropped talker stays unmuted on the server until ``reclaim_session_timeout`` ends
  (STACK.md). So an unmuted member counts only while it is *live*: not silent for longer
  than ``stale_after`` (the reclaim window), and, when the backend knows the machine's
  ``max_talk_time``, not unmuted for longer than that plus the window either (AudioBridge
  sends no ``stopped-talking`` once a dropped client's packets stop, so "talking" alone
  could block the channel for good).

Pure: no I/O, times are passed in (loop time), so the rule is tested without Janus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fsm.domain import Member


@dataclass
class Participant:
    pid: int
    display: str | None = None
    muted: bool = True
    talking: bool = False
    unmuted_at: float = 0.0  # when it last went from muted to unmuted
    changed_at: float = 0.0  # its last mute or talking change

    def member(self) -> Member:
        return Member(peer_id=str(self.pid), name=self.display or None)


class Roster:
    """Participants by Janus id; ``me`` is our own participant id once joined."""

    def __init__(self, stale_after: float, max_talk_time: float | None = None) -> None:
        self.stale_after = stale_after
        self.max_talk_time = max_talk_time
        self.me: int | None = None
        self.people: dict[int, Participant] = {}

    # --- facts -------------------------------------------------------------------------------
    def reset(self, me: int, entries: Iterable[Mapping[str, Any]], now: float) -> None:
        """A fresh picture (the join answer or ``listparticipants``), ourselves included."""
        self.me = me
        self.people = {me: Participant(me)}
        self.update(entries, now)

    def update(self, entries: Iterable[Mapping[str, Any]], now: float) -> list[Participant]:
        """Apply participant entries; returns the ones that are new."""
        new: list[Participant] = []
        for entry in entries:
            pid = entry["id"]
            person = self.people.get(pid)
            if person is None:
                person = self.people[pid] = Participant(pid, changed_at=now)
                if pid != self.me:
                    new.append(person)
            if isinstance(entry.get("display"), str):
                person.display = entry["display"]
            if isinstance(entry.get("muted"), bool):
                self._set_muted(person, entry["muted"], now)
            if isinstance(entry.get("talking"), bool):
                self.set_talking(pid, entry["talking"], now)
        return new

    def remove(self, pid: int) -> bool:
        return self.people.pop(pid, None) is not None and pid != self.me

    def set_talking(self, pid: int, talking: bool, now: float) -> None:
        person = self.people.get(pid)
        if person is not None and person.talking != talking:
            person.talking = talking
            person.changed_at = now

    def set_my_mute(self, muted: bool, now: float) -> None:
        if self.me is not None and self.me in self.people:
            self._set_muted(self.people[self.me], muted, now)

    def _set_muted(self, person: Participant, muted: bool, now: float) -> None:
        if person.muted != muted:
            person.muted = muted
            person.changed_at = now
            if not muted:
                person.unmuted_at = now

    # --- the rule ------------------------------------------------------------------------------
    def live_talker(self, person: Participant, now: float) -> bool:
        """Unmuted and not presumed dropped (we ourselves are always live)."""
        if person.muted:
            return False
        if person.pid == self.me:
            return True
        if not person.talking and now - person.changed_at > self.stale_after:
            return False
        if self.max_talk_time is not None:
            return now - person.unmuted_at <= self.max_talk_time + self.stale_after
        return True

    def holder(self, now: float) -> int | None:
        """Who holds the floor by the shared rule: the lowest live unmuted id."""
        live = [p.pid for p in self.people.values() if self.live_talker(p, now)]
        return min(live) if live else None

    def blocker(self, now: float) -> int | None:
        """The lowest live unmuted member other than us (None: the floor is free for us)."""
        live = [p.pid for p in self.people.values() if p.pid != self.me]
        live = [pid for pid in live if self.live_talker(self.people[pid], now)]
        return min(live) if live else None

    def next_expiry(self, now: float) -> float | None:
        """When the next unmuted member stops counting (to re-check the speaker then)."""
        times: list[float] = []
        for person in self.people.values():
            if person.pid == self.me or not self.live_talker(person, now):
                continue
            if not person.talking:
                times.append(person.changed_at + self.stale_after)
            if self.max_talk_time is not None:
                times.append(person.unmuted_at + self.max_talk_time + self.stale_after)
        return min(times) if times else None

    def members(self) -> tuple[Member, ...]:
        return tuple(p.member() for p in self.people.values())

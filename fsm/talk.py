"""Talk and floor actions: the button is held or not, the floor is ours or not.

Talk intent is state, never a queued message: a restore requests the floor only if the
user still holds the button, so a stale "stop" can never be sent alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .channel_actions import ChannelActions
from .core import ignore_reply
from .errors import PttError
from .events import ChannelChanged
from .outbox import PTT_START, PTT_STOP, Outgoing
from .ports import Reply, Result, Tone


class TalkActions(ChannelActions):
    def _new_tx_id(self) -> str:
        return f"tx-{next(self._tx_counter)}"

    def request_floor(self) -> None:
        if self.talk.held:
            return  # a repeated press (key repeat) is not a new transmission
        self.talk.held = True
        self.talk.tx_id = self._new_tx_id()
        self.talk.floor = "requested"
        self.ports.signaling.request(
            "pttStart", {"tx_id": self.talk.tx_id}, self._floor_reply(self.talk.tx_id)
        )

    def release_floor(self) -> None:
        was_talking = self.talk.floor != "none" and self.talk.tx_id is not None
        self.talk.held = False
        if was_talking:
            tx_id = self.talk.tx_id
            self.ports.signaling.request("pttStop", {"tx_id": tx_id}, ignore_reply)
        self.talk.floor = "none"
        self.talk.tx_id = None
        if was_talking and self.channel.speaker == self.channel.peer_id:
            self.channel.speaker = None  # we stopped: do not show ourselves talking meanwhile
        if self.ports.transports is not None:
            self.ports.transports.set_transmitting(False)

    def queue_press(self) -> None:
        if self.talk.held:
            return
        self.talk.held = True
        self.talk.tx_id = self._new_tx_id()
        self.outbox.put(Outgoing(PTT_START, {"tx_id": self.talk.tx_id}, self.ports.clock.now()))

    def queue_release(self) -> None:
        if not self.talk.held:
            return
        self.talk.held = False
        self.talk.held_since_before_outage = False
        if self.talk.tx_id is not None:
            stop = Outgoing(PTT_STOP, {"tx_id": self.talk.tx_id}, self.ports.clock.now())
            self.outbox.put(stop)
        self.talk.tx_id = None

    def _floor_reply(self, tx_id: str | None) -> Reply:
        generation = self._bump("floor")

        def reply(result: Result) -> None:
            granted = (
                result.ok and isinstance(result.value, Mapping) and result.value.get("granted")
            )
            event = "floor_granted" if granted else "floor_denied"
            data = result.value if result.ok else {"reason": str(result.error)}
            self._post_if_current("floor", generation, event, data=data, tx_id=tx_id)

        return reply

    def take_floor(self, value: Any = None, data: Any = None, tx_id: str | None = None) -> None:
        answer = value if isinstance(value, Mapping) else data if isinstance(data, Mapping) else {}
        if tx_id is None:
            tx_id = answer.get("tx_id") if isinstance(answer.get("tx_id"), str) else None
        if tx_id is not None and tx_id != self.talk.tx_id:
            return  # the answer to an older transmission
        self._apply_floor_answer(bool(answer.get("granted", True)), answer)

    def _apply_floor_answer(self, granted: bool, answer: Mapping[str, Any]) -> None:
        transports, audio = self.ports.transports, self.ports.audio
        if granted and self.talk.held:
            self.talk.floor = "granted"
            self.channel.speaker = self.channel.peer_id
            if transports is not None:
                transports.set_transmitting(True)
            if audio is not None:
                audio.play_tone(Tone.TALK_PERMITTED)
            self._emit(ChannelChanged("floor_granted", answer, self.channel.speaker))
        elif granted:  # released before the grant arrived: give it back
            self.ports.signaling.request("pttStop", {"tx_id": answer.get("tx_id")}, ignore_reply)
        else:
            self.talk.floor = "none"
            if audio is not None:
                audio.play_tone(Tone.FLOOR_DENIED)
            self._emit(ChannelChanged("floor_denied", answer, self.channel.speaker))

    def lose_floor_request(
        self, error: PttError | None = None, data: Any = None, tx_id: str | None = None
    ) -> None:
        answer = data if isinstance(data, Mapping) else {}
        if tx_id is None and isinstance(answer.get("tx_id"), str):
            tx_id = answer["tx_id"]
        if self.talk.floor != "requested" or (tx_id is not None and tx_id != self.talk.tx_id):
            return  # not waiting for an answer, or the answer to an older transmission
        reason = {"reason": str(error)} if error is not None else answer
        self._apply_floor_answer(False, reason)

    def lose_floor(self, data: Any = None) -> None:
        answer = data if isinstance(data, Mapping) else {}
        if self.talk.floor == "none":
            return
        self.talk.floor = "none"
        if self.ports.transports is not None:
            self.ports.transports.set_transmitting(False)
        if self.ports.audio is not None:
            self.ports.audio.play_tone(Tone.FLOOR_LOST)
        self._emit(ChannelChanged("floor_revoked", answer, self.channel.speaker))

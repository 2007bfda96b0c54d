"""Talk and floor actions: the button is held or not, the floor is ours or not.

Talk intent is state, never a queued message (:mod:`fsm.floor`). With a client-side floor
(``Features.floor``) the machine itself ends a transmission at ``max_talk_time``.
"""

from __future__ import annotations

from typing import Any

from .channel_actions import ChannelActions
from .domain import FloorAnswer, FloorControl, FloorLost
from .events import ChannelChanged
from .floor import FloorStatus
from .outbox import Intent, Outgoing
from .ports import Reply, Result, Tone


class TalkActions(ChannelActions):
    # --- guards (pure) ----------------------------------------------------------------------
    def uplink_stalled(self, why: FloorLost | None = None) -> bool:
        """The server took our floor because it heard nothing from us: our uplink is dead
        (our own check sees that only later, if at all, once we stop transmitting)."""
        return why is FloorLost.STALLED_UPLINK and self.media and self.floor.granted

    def floor_is_local(self) -> bool:
        """The backend has no floor control: the talk-time limit is ours to enforce."""
        return self.features.floor is FloorControl.CLIENT

    # --- actions ----------------------------------------------------------------------------
    def request_floor(self) -> None:
        tx_id = self.floor.press()
        if tx_id is None:
            return
        self.floor.request(tx_id)
        self.ports.signaling.request_floor(tx_id, self._floor_reply(tx_id))

    def release_floor(self) -> None:
        was_talking = self.floor.release()
        self._disarm("talk_time")
        if was_talking is not None:
            self.ports.signaling.release_floor(was_talking)
            if self.channel.speaker == self.channel.peer_id:
                self.channel.speaker = None  # we stopped: do not show ourselves talking
        if self.ports.media is not None:
            self.ports.media.set_transmitting(False)

    def queue_press(self) -> None:
        tx_id = self.floor.press()
        if tx_id is not None:
            self.outbox.put(Outgoing(Intent.TALK, self.ports.clock.now(), tx_id=tx_id))

    def queue_release(self) -> None:
        if not self.floor.held:
            return
        tx_id = self.floor.tx_id
        self.floor.release()
        if tx_id is not None:
            self.outbox.put(Outgoing(Intent.STOP_TALKING, self.ports.clock.now(), tx_id=tx_id))

    def _floor_reply(self, tx_id: str) -> Reply:
        generation = self._bump("floor")

        def reply(result: Result[Any]) -> None:
            answer = result.value
            if result.ok and isinstance(answer, FloorAnswer) and answer.granted:
                self._post_if_current("floor", generation, "floor_granted", answer=answer)
            else:
                reason = str(result.error) if result.error is not None else ""
                if isinstance(answer, FloorAnswer):
                    reason = answer.reason
                speaker = answer.speaker if isinstance(answer, FloorAnswer) else None
                denied = FloorAnswer(tx_id, granted=False, speaker=speaker, reason=reason)
                self._post_if_current("floor", generation, "floor_denied", answer=denied)

        return reply

    def take_floor(self, answer: FloorAnswer | None = None) -> None:
        if not isinstance(answer, FloorAnswer) or answer.tx_id != self.floor.tx_id:
            return  # the answer to an older transmission
        self._apply_floor_answer(answer)

    def _apply_floor_answer(self, answer: FloorAnswer) -> None:
        media, audio = self.ports.media, self.ports.audio
        data = {"tx_id": answer.tx_id, "speaker": answer.speaker, "reason": answer.reason}
        if answer.granted and self.floor.held:
            self.floor.status = FloorStatus.GRANTED
            self.channel.speaker = self.channel.peer_id
            if media is not None:
                media.set_transmitting(True)
            if audio is not None:
                audio.play_tone(Tone.TALK_PERMITTED)
            limit = self.features.max_talk_time
            if limit is not None and self.floor_is_local():
                self._arm("talk_time", limit, "talk_time_up", tx_id=answer.tx_id)
            self._emit(ChannelChanged("floor_granted", data, self.channel.speaker))
        elif answer.granted:  # released before the grant arrived: give it back
            self.ports.signaling.release_floor(answer.tx_id)
        else:
            self.floor.lose()
            if audio is not None:
                audio.play_tone(Tone.FLOOR_DENIED)
            self._emit(ChannelChanged("floor_denied", data, self.channel.speaker))

    def lose_floor_request(self, answer: FloorAnswer | None = None) -> None:
        if (
            self.floor.status is not FloorStatus.REQUESTED
            or not isinstance(answer, FloorAnswer)
            or answer.tx_id != self.floor.tx_id
        ):
            return  # not waiting for an answer, or the answer to an older transmission
        self._apply_floor_answer(answer)

    def lose_floor(self, tx_id: str | None = None, why: FloorLost | None = None) -> None:
        if self.floor.status is FloorStatus.NONE:
            return
        if tx_id is not None and tx_id != self.floor.tx_id:
            return  # about an older transmission
        self.floor.lose()
        self._disarm("talk_time")
        if self.ports.media is not None:
            self.ports.media.set_transmitting(False)
        if self.ports.audio is not None:
            self.ports.audio.play_tone(Tone.FLOOR_LOST)
        reason = why.value if isinstance(why, FloorLost) else FloorLost.RELEASED.value
        data = {"tx_id": tx_id or self.floor.tx_id, "reason": reason}
        self._emit(ChannelChanged("floor_lost", data, self.channel.speaker))

    def end_talk_time(self, tx_id: str | None = None) -> None:
        """Our own talk-time limit (client-side floor): stop as the server would."""
        if tx_id is None or tx_id != self.floor.tx_id or not self.floor.granted:
            return
        self.ports.signaling.release_floor(tx_id)
        if self.channel.speaker == self.channel.peer_id:
            self.channel.speaker = None
        self.lose_floor(tx_id, FloorLost.MAX_TALK_TIME)

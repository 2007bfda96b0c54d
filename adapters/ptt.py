"""The push-to-talk button: hold or toggle, validated, driving the machine's talk events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

from fsm.errors import ConfigError

if TYPE_CHECKING:
    from .manager import ConnectionManager

PttMode = Literal["hold", "toggle"]
MODES: tuple[PttMode, ...] = get_args(PttMode)


def check_mode(mode: object) -> PttMode:
    if mode not in MODES:
        raise ConfigError(f"PTT mode must be 'hold' or 'toggle', got {mode!r}")
    return mode


class PttController:
    """Push-to-talk: ``press``/``release`` in hold mode, ``toggle`` in either mode."""

    def __init__(self, manager: ConnectionManager, mode: PttMode) -> None:
        self._manager = manager
        self.mode: PttMode = check_mode(mode)

    @property
    def held(self) -> bool:
        """Whether the user wants to talk (the button is held, or toggled on)."""
        machine = self._manager._machine
        return machine is not None and machine.floor.held

    def set_mode(self, mode: PttMode) -> None:
        self.mode = check_mode(mode)

    def press(self) -> None:
        if self.mode == "toggle":
            self.toggle()
        else:
            self._manager._user_event("talk_pressed")

    def release(self) -> None:
        if self.mode == "hold":
            self._manager._user_event("talk_released")

    def toggle(self) -> None:
        self._manager._user_event("talk_released" if self.held else "talk_pressed")

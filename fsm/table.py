"""The transition table, exported from the machine class itself (never written by hand)."""

from __future__ import annotations

from dataclasses import dataclass

from statemachine import State

from .machine import ConnectionMachine

#: Engine events that are not part of the lifecycle vocabulary (``error.execution``).
ENGINE_EVENTS = frozenset({"error.execution"})


@dataclass(frozen=True)
class Row:
    """One transition: in ``source`` on ``event`` if ``guard`` holds, go to ``target``."""

    source: str
    event: str
    guard: str
    target: str
    actions: tuple[str, ...]
    internal: bool


def _path(state: State) -> str:
    names = [state.id]
    while state.parent is not None:
        state = state.parent
        names.append(state.id)
    return ".".join(reversed(names))


def transition_table(cls: type[ConnectionMachine] = ConnectionMachine) -> list[Row]:
    """Every (source, event, guard) -> target of the machine, in declaration order."""
    rows: list[Row] = []
    for state in cls.states_map.values():
        for transition in state.transitions:
            for event in transition.events:
                guards = [str(c) for c in transition.cond]
                # Only callbacks the class defines: the engine also lists conventional names.
                actions = tuple(str(a) for a in transition.on if hasattr(cls, str(a)))
                target = transition.targets[0] if transition.targets else state
                rows.append(
                    Row(
                        source=_path(state),
                        event=str(event),
                        guard=" and ".join(guards),
                        target=_path(target),
                        actions=actions,
                        internal=not transition.targets,
                    )
                )
    return rows


def events(cls: type[ConnectionMachine] = ConnectionMachine) -> list[str]:
    """The lifecycle vocabulary: every event except the engine's own."""
    return [str(e) for e in cls.events if str(e) not in ENGINE_EVENTS]


def states(cls: type[ConnectionMachine] = ConnectionMachine) -> list[str]:
    return [_path(s) for s in cls.states_map.values()]


def to_markdown(rows: list[Row]) -> str:
    lines = [
        "| State | Event | Guard | Target | Actions |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        target = "(stays, internal)" if r.internal else r.target
        actions = ", ".join(r.actions)
        lines.append(f"| {r.source} | {r.event} | {r.guard} | {target} | {actions} |")
    return "\n".join(lines) + "\n"

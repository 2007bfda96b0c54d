"""Model-based paths: explore the machine from ``idle`` with every input the world can
produce, and prove that generated event paths cover every row of the transition table.

Inputs are *macros* that act through the fake adapters (so replies go through the same
generation checks as in production). Breadth-first search over abstract states yields
the shortest path to each one; replaying each path on a fresh machine must reproduce the
recorded states exactly (the machine is deterministic given its inputs).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace

from fsm import (
    AudioSource,
    Cause,
    ChannelMessage,
    ConnectRefused,
    Features,
    FixedSchedule,
    FloorControl,
    FloorLost,
    LinkError,
    Member,
    NetworkChange,
    OperationTimeout,
    ProtocolViolation,
    PttError,
    RequestFailed,
    TransportError,
)
from fsm.table import transition_table
from fsm.testing import joined_ok

from .drive import Rig, finish_steps, make

Macro = Callable[[Rig], None]

#: The media steps and the fake media operation that answers each.
MEDIA_OPS = {
    "connect_media": "connect",
    "attach_microphone": "attach_microphone",
    "follow_sources": "follow",
}


def _answer_step(rig: Rig) -> None:
    step = rig.machine.step
    if step is None:
        return
    f = rig.fakes
    if step.value == "join":
        f.signaling.answer_join(joined_ok())
    elif step.value in MEDIA_OPS:
        f.media.complete(MEDIA_OPS[step.value])
    elif step.value == "open_audio":
        f.audio.complete()
    elif step.value == "request_floor":
        f.signaling.answer_floor(granted=True)


def _fail_step(error: PttError) -> Macro:
    def run(rig: Rig) -> None:
        step = rig.machine.step
        if step is None:
            return
        f = rig.fakes
        if step.value in MEDIA_OPS:
            f.media.complete(MEDIA_OPS[step.value], error=error)
        elif step.value == "open_audio":
            f.audio.complete(error=error)
        elif step.value in ("join", "request_floor") and f.signaling.pending(step.value):
            f.signaling.answer(step.value, error=error)

    return run


def _if_link(action: Callable[[Rig], None]) -> Macro:
    """Only once a link was opened (the report may come from a superseded link)."""

    def run(rig: Rig) -> None:
        if rig.fakes.signaling.link is not None:
            action(rig)

    return run


def _if_tokens(action: Callable[[Rig], None]) -> Macro:
    def run(rig: Rig) -> None:
        if rig.fakes.tokens.pending is not None:
            action(rig)

    return run


def _if_pending(operation: str, action: Callable[[Rig], None]) -> Macro:
    def run(rig: Rig) -> None:
        if rig.fakes.signaling.pending(operation):
            action(rig)

    return run


def _run_timer(rig: Rig) -> None:
    if rig.fakes.clock.pending():
        rig.fakes.clock.run_next()


def _media_fail(rig: Rig) -> None:
    if rig.fakes.media.events is not None:
        rig.fakes.media.fail_media()


def _to_connect_media(rig: Rig) -> None:
    while rig.machine.step is not None and rig.machine.step.value != "connect_media":
        _answer_step(rig)


def _outage(rig: Rig) -> None:
    """The link drops and comes back: lost, backoff elapses, a new link opens."""
    if rig.where.startswith("connected") and rig.fakes.signaling.link is not None:
        rig.fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
        if rig.where == "reconnecting.backing_off":
            rig.fakes.clock.run_next()
            rig.fakes.signaling.complete_open()


def _lose(cause: Cause) -> Macro:
    return _if_link(lambda r: r.fakes.signaling.lose(LinkError(cause=cause)))


def _fail_open(error: LinkError) -> Macro:
    return _if_link(lambda r: r.fakes.signaling.fail_open(error))


def _burst(rig: Rig) -> None:
    for n in range(30):
        rig.send("send_message", data={"n": n})


BOB = AudioSource("src-bob", "bob")
XAVIER = AudioSource("src-x", "x")

MACROS: dict[str, Macro] = {
    "to_connect_media": _to_connect_media,
    "outage": _outage,
    "connect": lambda r: r.send("connect", token="t2"),
    "disconnect": lambda r: r.send("disconnect"),
    "reconnect_now": lambda r: r.send("reconnect_now"),
    "press": lambda r: r.send("talk_pressed"),
    "release": lambda r: r.send("talk_released"),
    "message": lambda r: r.send("send_message", data={"n": 1}),
    "burst": _burst,
    "open_ok": _if_link(lambda r: r.fakes.signaling.complete_open()),
    "open_auth_invalid": _fail_open(LinkError(status=401, cause=Cause.AUTH_INVALID)),
    "open_forbidden": _fail_open(LinkError(status=403, cause=Cause.FORBIDDEN)),
    "open_refused": _fail_open(ConnectRefused()),
    "open_kicked": _fail_open(LinkError(cause=Cause.KICKED)),
    "lose_transient": _lose(Cause.TRANSIENT),
    "lose_kicked": _lose(Cause.KICKED),
    "lose_auth_expired": _lose(Cause.AUTH_EXPIRED),
    "lose_forbidden": _lose(Cause.FORBIDDEN),
    "token_ok": _if_tokens(lambda r: r.fakes.tokens.complete("fresh")),
    "token_fail": _if_tokens(
        lambda r: r.fakes.tokens.complete(None, LinkError(status=401, cause=Cause.AUTH_INVALID))
    ),
    "step_ok": _answer_step,
    "step_timeout": _fail_step(OperationTimeout("slow")),
    "step_forbidden": _fail_step(RequestFailed("join", Cause.FORBIDDEN)),
    "step_kicked": _fail_step(RequestFailed("join", Cause.KICKED)),
    "step_transport": _fail_step(TransportError("ice failed")),
    "finish": lambda r: finish_steps(r) if r.machine.step is not None else None,
    "finish_degraded": lambda r: (
        finish_steps(r, attach_error=TransportError("no mic"))
        if r.machine.step is not None
        else None
    ),
    "timer": _run_timer,
    "media_fail": _media_fail,
    "grant": _if_pending("request_floor", lambda r: r.fakes.signaling.answer_floor(granted=True)),
    "deny": _if_pending(
        "request_floor", lambda r: r.fakes.signaling.answer_floor(granted=False, speaker="bob")
    ),
    "uplink_stalled": _if_link(
        lambda r: r.fakes.signaling.events.floor_lost(None, FloorLost.STALLED_UPLINK)
    ),
    "floor_preempted": _if_link(
        lambda r: r.fakes.signaling.events.floor_lost(None, FloorLost.PREEMPTED)
    ),
    "speaker_bob": _if_link(lambda r: r.fakes.signaling.events.speaker_changed("bob")),
    "member_joined": _if_link(
        lambda r: r.fakes.signaling.events.member_joined(Member("carol", "Carol"))
    ),
    "member_left": _if_link(lambda r: r.fakes.signaling.events.member_left("bob")),
    "source_added": _if_link(lambda r: r.fakes.signaling.events.sources_changed((BOB, XAVIER))),
    "source_closed": _if_link(lambda r: r.fakes.signaling.events.sources_changed((BOB,))),
    "message_throttled": _if_pending(
        "send_message",
        lambda r: r.fakes.signaling.answer(
            "send_message", error=RequestFailed("send_message", Cause.RATE_LIMITED)
        ),
    ),
    "message_unanswered": _if_pending(
        "send_message",
        lambda r: r.fakes.signaling.answer("send_message", error=LinkError("link lost")),
    ),
    "message_received": _if_link(
        lambda r: r.fakes.signaling.events.message(ChannelMessage({"text": "hi"}, "bob"))
    ),
}


GIVE_UP_MACROS = (
    "connect",
    "open_ok",
    "open_refused",
    "finish",
    "outage",
    "lose_transient",
    "timer",
    "media_fail",
    "step_timeout",
    "to_connect_media",
    "step_transport",
)

#: Protocol failures, explored on a machine whose table retries none of them (so one
#: failure takes the ``protocol_exhausted`` rows); kept out of MACROS to keep the main
#: search small.
PROTOCOL_ONLY: dict[str, Macro] = {
    "open_protocol": _fail_open(LinkError(cause=Cause.PROTOCOL, code=1002)),
    "lose_protocol": _lose(Cause.PROTOCOL),
    "step_protocol": _fail_step(ProtocolViolation("join answered 42")),
}
PROTOCOL_MACROS = (
    "connect",
    "open_ok",
    "open_refused",
    "finish",
    "outage",
    "timer",
    *PROTOCOL_ONLY,
)

#: Reports of the OS network watcher: the network back twice in a row (the second one too
#: soon, deferred), lost, or moved while connected. Explored on their own small alphabet.
NETWORK_ONLY: dict[str, Macro] = {
    "net_up": lambda r: r.send("network_changed", change=NetworkChange.UP),
    "net_moved": lambda r: r.send("network_changed", change=NetworkChange.ROUTE_CHANGED),
    "net_down": lambda r: r.send("network_changed", change=NetworkChange.DOWN),
}
NETWORK_MACROS = (*NETWORK_ONLY, "connect", "open_ok", "open_refused", "finish", "lose_transient")

#: A backend without floor control: the machine ends a transmission at max_talk_time.
CLIENT_FLOOR = Features(floor=FloorControl.CLIENT, max_talk_time=1.0)

#: Our own talk-time limit only needs a session and a granted floor.
CLIENT_FLOOR_MACROS = ("connect", "open_ok", "finish", "press", "grant", "release", "timer")


class RowRecorder:
    """Records which table rows (source, event, guard, target) each transition took."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def after_transition(self, event: object, source: object, transition: object) -> None:
        targets = getattr(transition, "targets", [])
        target = targets[0].id if targets else "(internal)"
        guard = " and ".join(str(c) for c in getattr(transition, "cond", []))
        self.rows.append(
            (getattr(source, "id", ""), str(getattr(event, "id", event)), guard, target)
        )


def _fresh(
    max_attempts: int | None = None,
    features: Features | None = None,
    protocol_retries: int | None = None,
) -> tuple[Rig, RowRecorder]:
    rows = RowRecorder()
    backoff = FixedSchedule((1.0, 2.0), max_attempts=max_attempts)
    rig = make(backoff=backoff, stable_after=5.0, listeners=(rows,), features=features)
    if protocol_retries is not None:
        settings = rig.machine.settings
        failures = replace(settings.failures, max_protocol_retries=protocol_retries)
        rig.machine.settings = replace(settings, failures=failures)
    return rig, rows


def _key(rig: Rig) -> tuple[object, ...]:
    m = rig.machine
    retries = sum(m.plan.retries.values()) if m.step is not None else 0
    unanswered = bool(rig.machine.outbox.in_flight())  # sent, not yet settled
    # Only the steps whose failures take different rows are told apart: the rest is "other".
    step = m.step.value if m.step is not None else None
    step = step if step in (None, "join", "connect_media") else "other"
    queued = bool(len(m.outbox))
    talking = m.floor.granted
    return (rig.where, step, retries, min(m.attempt, 2), m.floor.held, talking, unanswered, queued)


def _replay(
    path: tuple[str, ...],
    max_attempts: int | None = None,
    features: Features | None = None,
    protocol_retries: int | None = None,
) -> tuple[Rig, RowRecorder, list[str]]:
    rig, rows = _fresh(max_attempts, features, protocol_retries)
    seen = []
    for name in path:
        (MACROS.get(name) or PROTOCOL_ONLY.get(name) or NETWORK_ONLY[name])(rig)
        seen.append(rig.where)
    return rig, rows, seen


@functools.cache
def explore(
    max_depth: int = 7,
    max_attempts: int | None = None,
    features: Features | None = None,
    protocol_retries: int | None = None,
    network: bool = False,
) -> tuple[dict[tuple[object, ...], tuple[str, ...]], set[Row]]:
    """Breadth-first: the shortest macro path to every abstract state, and every table
    row those paths (plus one more input from each state) took."""
    start, _ = _fresh(max_attempts, features, protocol_retries)
    paths: dict[tuple[object, ...], tuple[str, ...]] = {_key(start): ()}
    covered: set[Row] = set()
    queue: deque[tuple[str, ...]] = deque([()])
    # Giving up only needs the inputs that fail or restore a session; a client-side floor
    # only the inputs that reach a granted floor.
    alphabet: Iterable[str] = MACROS
    if max_attempts is not None:
        alphabet = GIVE_UP_MACROS
    elif features is not None:
        alphabet = CLIENT_FLOOR_MACROS
    elif protocol_retries is not None:
        alphabet = PROTOCOL_MACROS
    elif network:
        alphabet = NETWORK_MACROS
    while queue:
        path = queue.popleft()
        for name in alphabet:
            rig, rows, _ = _replay((*path, name), max_attempts, features, protocol_retries)
            covered.update(rows.rows)
            key = _key(rig)
            if key not in paths and len(path) + 1 < max_depth:
                paths[key] = (*path, name)
                queue.append((*path, name))
    return paths, covered


Row = tuple[str, str, str, str]


def _short(row: Row) -> Row:
    source, event, guard, target = row
    return (source.split(".")[-1], event, guard, target.split(".")[-1])


def test_generated_paths_cover_every_transition() -> None:
    """Every row of the exported transition table is taken by at least one generated path
    (five searches: retry forever, give up after the first reconnect attempt, a backend
    without floor control, a table that retries no protocol failure, and the network
    watcher's reports)."""
    covered = explore()[1] | explore(max_attempts=1)[1] | explore(features=CLIENT_FLOOR)[1]
    covered |= explore(protocol_retries=0)[1] | explore(network=True)[1]
    wanted = set()
    for row in transition_table():
        if row.event == "error.execution":
            continue  # covered by test_callback_bug_becomes_error
        target = "(internal)" if row.internal else row.target
        wanted.add(_short((row.source, row.event, row.guard, target)))
    missing = sorted(wanted - {_short(r) for r in covered})
    assert not missing, f"{len(missing)} rows never taken: {missing}"


def test_paths_replay_deterministically() -> None:
    """Replaying a generated path reproduces the same sequence of states."""
    paths, _ = explore()
    assert len(paths) > 50
    for path in sorted(paths.values(), key=len)[-100:]:
        _, _, first = _replay(path)
        _, _, second = _replay(path)
        assert first == second


def test_callback_bug_becomes_error() -> None:
    """An exception in an adapter call is an error with a reason, never a silent drop."""
    rig, _ = _fresh()

    def broken(*args: object) -> None:
        raise RuntimeError("adapter bug")

    rig.fakes.signaling.open = broken  # type: ignore[method-assign, assignment]
    rig.send("connect")
    assert rig.where == "error"
    assert "adapter bug" in (rig.machine.reason or "")

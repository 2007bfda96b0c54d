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
from collections.abc import Callable

from fsm import (
    ConnectRefused,
    FixedSchedule,
    LinkError,
    OperationTimeout,
    RequestFailed,
    TransportError,
)
from fsm.table import transition_table

from .drive import Rig, finish_steps, make

Macro = Callable[[Rig], None]


def _answer_step(rig: Rig) -> None:
    step = rig.machine.step
    if step is None:
        return
    f = rig.fakes
    if step.value == "join":
        f.signaling.answer("join", {"session_id": "s-1", "peer_id": "me"})
    elif step.value == "load_capabilities":
        f.signaling.answer("getRouterRtpCapabilities", {"codecs": []})
    elif step.value in ("create_transports", "produce", "consume"):
        f.transports.complete(step.value.split("_")[0])
    elif step.value == "open_audio":
        f.audio.complete()
    elif step.value == "request_floor":
        f.signaling.answer("pttStart", {"granted": True})


def _fail_step(error: Exception) -> Macro:
    def run(rig: Rig) -> None:
        step = rig.machine.step
        if step is None:
            return
        f = rig.fakes
        if step.value in ("create_transports", "produce", "consume"):
            f.transports.complete(step.value.split("_")[0], error=error)  # type: ignore[arg-type]
        elif step.value == "open_audio":
            f.audio.complete(error=error)  # type: ignore[arg-type]
        elif f.signaling.pending():
            method = f.signaling.pending()[0][0]
            f.signaling.answer(method, error=error)  # type: ignore[arg-type]

    return run


def _if_link(action: Callable[[Rig], None]) -> Macro:
    def run(rig: Rig) -> None:
        if rig.fakes.signaling.events is not None:
            action(rig)

    return run


def _if_tokens(action: Callable[[Rig], None]) -> Macro:
    def run(rig: Rig) -> None:
        if rig.fakes.tokens.pending is not None:
            action(rig)

    return run


def _run_timer(rig: Rig) -> None:
    if rig.fakes.clock.pending():
        rig.fakes.clock.run_next()


def _media_fail(rig: Rig) -> None:
    if rig.fakes.transports.events is not None:
        rig.fakes.transports.fail_media()


def _to_create(rig: Rig) -> None:
    while rig.machine.step is not None and rig.machine.step.value != "create_transports":
        _answer_step(rig)


def _outage(rig: Rig) -> None:
    """The link drops and comes back: lost, backoff elapses, a new link opens."""
    if rig.where.startswith("connected") and rig.fakes.signaling.events is not None:
        rig.fakes.signaling.lose(LinkError(close_code=1006))
        if rig.where == "reconnecting.backing_off":
            rig.fakes.clock.run_next()
            rig.fakes.signaling.complete_open()


MACROS: dict[str, Macro] = {
    "to_create": _to_create,
    "outage": _outage,
    "connect": lambda r: r.send("connect", token="t2"),
    "disconnect": lambda r: r.send("disconnect"),
    "reconnect_now": lambda r: r.send("reconnect_now"),
    "press": lambda r: r.send("talk_pressed"),
    "release": lambda r: r.send("talk_released"),
    "message": lambda r: r.send("send_message", method="message", data={"n": 1}),
    "burst": lambda r: [r.send("send_message", method="message", data={"n": n}) for n in range(30)],
    "open_ok": _if_link(lambda r: r.fakes.signaling.complete_open()),
    "open_401": _if_link(lambda r: r.fakes.signaling.fail_open(LinkError(status=401))),
    "open_403": _if_link(lambda r: r.fakes.signaling.fail_open(LinkError(status=403))),
    "open_refused": _if_link(lambda r: r.fakes.signaling.fail_open(ConnectRefused())),
    "open_kicked": _if_link(lambda r: r.fakes.signaling.fail_open(LinkError(close_code=4000))),
    "lose_1006": _if_link(lambda r: r.fakes.signaling.lose(LinkError(close_code=1006))),
    "lose_4000": _if_link(lambda r: r.fakes.signaling.lose(LinkError(close_code=4000))),
    "lose_4001": _if_link(lambda r: r.fakes.signaling.lose(LinkError(close_code=4001))),
    "lose_4003": _if_link(lambda r: r.fakes.signaling.lose(LinkError(close_code=4003))),
    "token_ok": _if_tokens(lambda r: r.fakes.tokens.complete("fresh")),
    "token_fail": _if_tokens(lambda r: r.fakes.tokens.complete(None, LinkError(status=401))),
    "step_ok": _answer_step,
    "step_timeout": _fail_step(OperationTimeout("slow")),
    "step_forbidden": _fail_step(RequestFailed("join", "forbidden")),
    "step_kicked": _fail_step(RequestFailed("join", "kicked")),
    "step_transport": _fail_step(TransportError("ice failed")),
    "finish": lambda r: finish_steps(r) if r.machine.step is not None else None,
    "finish_degraded": lambda r: (
        finish_steps(r, produce_error=TransportError("no mic"))
        if r.machine.step is not None
        else None
    ),
    "timer": _run_timer,
    "media_fail": _media_fail,
    "notify_floor_granted": _if_link(lambda r: r.fakes.signaling.notify("floorGranted", {})),
    "notify_floor_denied": _if_link(lambda r: r.fakes.signaling.notify("floorDenied", {})),
    "grant": lambda r: (
        r.fakes.signaling.answer("pttStart", {"granted": True})
        if r.fakes.signaling.pending("pttStart")
        else None
    ),
    "notify_uplink_stalled": _if_link(
        lambda r: r.fakes.signaling.notify("floorRevoked", {"reason": "stalled"})
    ),
    "notify_floor_revoked": _if_link(lambda r: r.fakes.signaling.notify("floorRevoked", {})),
    "notify_speaker": _if_link(
        lambda r: r.fakes.signaling.notify("speakerChanged", {"peer_id": "bob"})
    ),
    "notify_producer": _if_link(
        lambda r: r.fakes.signaling.notify("newProducer", {"producer_id": "p9", "peer_id": "x"})
    ),
    "notify_producer_closed": _if_link(
        lambda r: r.fakes.signaling.notify("producerClosed", {"producer_id": "p9"})
    ),
    "message_throttled": lambda r: (
        r.fakes.signaling.answer("message", error=RequestFailed("message", "rate_limited"))
        if r.fakes.signaling.pending("message")
        else None
    ),
    "message_unanswered": lambda r: (
        r.fakes.signaling.answer("message", error=LinkError("link lost"))
        if r.fakes.signaling.pending("message")
        else None
    ),
    "notify_message": _if_link(lambda r: r.fakes.signaling.notify("message", {"text": "hi"})),
}


GIVE_UP_MACROS = (
    "connect",
    "open_ok",
    "open_refused",
    "finish",
    "outage",
    "lose_1006",
    "timer",
    "media_fail",
    "step_timeout",
    "to_create",
    "step_transport",
)


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


def _fresh(max_attempts: int | None = None) -> tuple[Rig, RowRecorder]:
    rows = RowRecorder()
    backoff = FixedSchedule((1.0, 2.0), max_attempts=max_attempts)
    rig = make(backoff=backoff, stable_after=5.0, listeners=(rows,))
    return rig, rows


def _key(rig: Rig) -> tuple[object, ...]:
    m = rig.machine
    retries = sum(m._step_retries.values()) if m.step is not None else 0
    unanswered = bool(rig.fakes.signaling.pending("message"))
    # Only the steps whose failures take different rows are told apart: the rest is "other".
    step = m.step.value if m.step is not None else None
    step = step if step in (None, "join", "create_transports") else "other"
    queued = bool(len(m.outbox))
    talking = m.talk.floor == "granted"
    return (rig.where, step, retries, min(m.attempt, 2), m.talk.held, talking, unanswered, queued)


def _replay(
    path: tuple[str, ...], max_attempts: int | None = None
) -> tuple[Rig, RowRecorder, list[str]]:
    rig, rows = _fresh(max_attempts)
    seen = []
    for name in path:
        MACROS[name](rig)
        seen.append(rig.where)
    return rig, rows, seen


@functools.cache
def explore(
    max_depth: int = 7, max_attempts: int | None = None
) -> tuple[dict[tuple[object, ...], tuple[str, ...]], set[Row]]:
    """Breadth-first: the shortest macro path to every abstract state, and every table
    row those paths (plus one more input from each state) took."""
    start, _ = _fresh(max_attempts)
    paths: dict[tuple[object, ...], tuple[str, ...]] = {_key(start): ()}
    covered: set[Row] = set()
    queue: deque[tuple[str, ...]] = deque([()])
    # Giving up only needs the inputs that fail or restore a session.
    alphabet = MACROS if max_attempts is None else GIVE_UP_MACROS
    while queue:
        path = queue.popleft()
        for name in alphabet:
            rig, rows, _ = _replay((*path, name), max_attempts)
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
    (two machines: retry forever, and give up after the first reconnect attempt)."""
    covered = explore()[1] | explore(max_attempts=1)[1]
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

    rig.fakes.signaling.open = broken  # type: ignore[method-assign]
    rig.send("connect")
    assert rig.where == "error"
    assert "adapter bug" in (rig.machine.reason or "")

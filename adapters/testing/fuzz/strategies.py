"""Hypothesis strategies for hostile input on both sides of the reference protocol: what a
server could send a client (join and floor answers, every notification, raw frames) and
what a client could send the server (every request with hostile data, raw frames).

Shapes start from the protocol's own and are mutated: any value may be replaced by a
hostile JSON value (wrong type, huge number, NaN, deep nesting, odd unicode), keys may be
dropped and unknown or misspelled keys added.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from adapters.backends.reference import protocol

SearchStrategy = st.SearchStrategy

NOTIFICATIONS = (
    protocol.SPEAKER_CHANGED,
    protocol.NEW_PRODUCER,
    protocol.PRODUCER_CLOSED,
    protocol.PEER_JOINED,
    protocol.PEER_LEFT,
    protocol.FLOOR_REVOKED,
    protocol.MESSAGE,
)
#: Every key either side uses, so mutations hit real ones (plus any text).
KEYS = (
    "id", "ok", "data", "error", "code", "message", "notification", "method", "peer_id",
    "session_id", "resumed", "members", "names", "speaker", "producers", "producer_id",
    "tx_id", "granted", "reason", "user", "from", "msg_id", "missed", "channel",
    "direction", "transport_id", "sdp", "type", "kind", "consumer_id", "released",
)  # fmt: skip

texts = st.text(max_size=24) | st.sampled_from(["", " ", "\x00", "é", "\u202e", "💥", "a" * 300])
keys = st.sampled_from(KEYS) | st.text(max_size=12)
numbers = (
    st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.sampled_from([0, -1, 2**31, 2**63, 10**300, 1])
    | st.floats(allow_nan=True, allow_infinity=True)
)
scalars = st.none() | st.booleans() | numbers | texts
hostile: SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)


def deep(depth: int, kind: str) -> Any:
    """A value nested ``depth`` levels (below json's recursion limit once encoded)."""
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"data": value}
    return value


deep_values = st.builds(deep, st.integers(1, 400), st.sampled_from(["list", "dict"]))
anything = hostile | deep_values


def mutated(good: dict[str, SearchStrategy[Any]]) -> SearchStrategy[dict[str, Any]]:
    """``good``'s shape with a few values made hostile, a key dropped, extra keys added
    (often none of these: a well-formed value must get through too)."""
    names = st.sampled_from(sorted(good) or ["_"])
    return st.builds(
        _mutate,
        st.fixed_dictionaries(good),
        st.dictionaries(names, anything, max_size=2),
        st.sets(names, max_size=1),
        st.dictionaries(keys, anything, max_size=2),
    )


def _mutate(
    base: dict[str, Any], spoil: dict[str, Any], drop: set[str], extra: dict[str, Any]
) -> dict[str, Any]:
    kept = {k: v for k, v in {**base, **spoil}.items() if k not in drop}
    return {**extra, **kept} if extra else kept


# --- what a server sends a client ---------------------------------------------------------
#: Mostly usable ids (hostile ones come from the mutations), so valid facts get through.
peer_ids = st.sampled_from(["p-1", "p-2", "p-3"]) | st.text(min_size=1, max_size=12)
producer = mutated({"producer_id": peer_ids, "peer_id": peer_ids | st.none()})
join_answer = mutated(
    {
        "session_id": peer_ids | st.none(),
        "resumed": st.booleans(),
        "peer_id": peer_ids,
        "members": st.lists(peer_ids | scalars, max_size=4),
        "names": st.dictionaries(peer_ids, texts | scalars, max_size=3),
        "speaker": peer_ids | st.none(),
        "producers": st.lists(producer | scalars, max_size=3),
        "missed": numbers,
    }
)
floor_answer = mutated(
    {"granted": st.booleans(), "tx_id": st.sampled_from(["tx-1", "tx-2"]) | peer_ids,
     "speaker": peer_ids | st.none()}
)  # fmt: skip
notification_data: dict[str, SearchStrategy[dict[str, Any]]] = {
    protocol.SPEAKER_CHANGED: mutated({"peer_id": peer_ids | st.none(), "tx_id": texts}),
    protocol.NEW_PRODUCER: producer,
    protocol.PRODUCER_CLOSED: producer,
    protocol.PEER_JOINED: mutated({"peer_id": peer_ids, "user": texts | st.none()}),
    protocol.PEER_LEFT: mutated({"peer_id": peer_ids, "user": texts}),
    protocol.FLOOR_REVOKED: mutated(
        {"tx_id": peer_ids, "reason": st.sampled_from(["max_talk_time", "stalled", "kicked"])}
    ),
    protocol.MESSAGE: mutated(
        {"from": peer_ids, "data": mutated({"msg_id": texts, "n": numbers})}
    ),
}  # fmt: skip
methods = st.sampled_from(NOTIFICATIONS) | st.sampled_from(NOTIFICATIONS) | texts
notifications = st.one_of(
    *(st.tuples(st.just(m), data) for m, data in notification_data.items()),
    st.tuples(texts, mutated({"peer_id": peer_ids})),
)


def _encode(obj: Any) -> str:
    return json.dumps(obj)  # NaN and Infinity go out as such: Python's json reads them back


notification_frames = st.builds(
    lambda method, data, flag: _encode({"notification": flag, "method": method, "data": data}),
    methods,
    st.one_of(*notification_data.values()) | scalars,
    st.just(True) | st.just(True) | scalars,
)
response_frames = st.builds(
    _encode,
    mutated(
        {
            "id": st.integers(-3, 5) | anything,
            "ok": st.booleans(),
            "data": join_answer | floor_answer | scalars,
            "error": mutated({"code": st.sampled_from(["forbidden", "kicked"]) | texts,
                              "message": texts}),
        }
    ),
)  # fmt: skip
garbage_frames = st.one_of(
    st.text(max_size=64),
    st.builds(_encode, anything),
    st.sampled_from(["NaN", "-Infinity", "1" * 5000, "1e999999", "{", '{"id":', "[]", "null"]),
    st.integers(1, 3000).map(lambda d: "[" * d + "]" * d),
    st.integers(1, 3000).map(lambda d: '{"a":' * d + "1" + "}" * d),
)
#: Raw frames a client's link reads (text, plus a few binary frames).
server_frames: SearchStrategy[str | bytes] = (
    notification_frames | response_frames | garbage_frames | st.binary(max_size=16)
)

# --- what a client sends the server ---------------------------------------------------------
request_data: dict[str, SearchStrategy[dict[str, Any]]] = {
    protocol.JOIN: mutated({"channel": st.just("fuzz") | texts, "session_id": texts | st.none()}),
    protocol.LEAVE: mutated({"channel": st.just("fuzz") | texts}),
    protocol.PING: mutated({}),
    protocol.GET_CAPABILITIES: mutated({}),
    protocol.CREATE_TRANSPORT: mutated({"direction": st.sampled_from(["send", "recv"]) | texts}),
    protocol.CONNECT_TRANSPORT: mutated(
        {"transport_id": texts, "sdp": texts, "type": st.sampled_from(["offer", "answer"])}
    ),
    protocol.PRODUCE: mutated({"transport_id": texts, "kind": st.just("audio") | texts}),
    protocol.CONSUME: mutated(
        {"transport_id": texts, "producer_id": texts, "sdp": texts, "type": texts}
    ),
    protocol.CLOSE_CONSUMER: mutated({"consumer_id": texts}),
    protocol.PTT_START: mutated({"tx_id": st.sampled_from(["tx-1", "tx-2"]) | texts}),
    protocol.PTT_STOP: mutated({"tx_id": st.sampled_from(["tx-1", "tx-2"]) | texts}),
    protocol.MESSAGE: mutated({"msg_id": texts, "n": numbers}),
}
request_ids = st.integers(0, 10**6) | st.integers(0, 10**6) | texts | anything
request_frames = st.builds(
    lambda rid, request: _encode({"id": rid, "method": request[0], "data": request[1]}),
    request_ids,
    st.one_of(
        *(st.tuples(st.just(m), data) for m, data in request_data.items()),
        st.tuples(texts | anything, mutated({}) | anything),
        st.tuples(st.sampled_from(sorted(protocol.REQUESTS)), anything),
    ),
)
#: Raw frames the server reads from a client.
client_frames: SearchStrategy[str | bytes] = (
    request_frames | request_frames | garbage_frames | st.binary(max_size=16)
)

"""fsm/ knows no wire: no request or notification name, payload key, error code or close
code of any protocol appears in the core (checked by reading the source, like the purity
test checks its imports)."""

from __future__ import annotations

import ast
from pathlib import Path

import fsm
from adapters.backends.reference import causes, protocol

#: Words of the domain that a wire happens to spell the same way; each is used in fsm/ for
#: the domain concept (a step, an intent, a cause), never to build or read a frame.
DOMAIN_WORDS = frozenset(
    {"join", "leave", "message", "forbidden", "rate_limited", "kicked", "granted"}
)

#: Payload keys of the reference protocol (its frames' field names).
PAYLOAD_KEYS = frozenset(
    {"session_id", "producers", "producer_id", "transport_id", "consumer_id", "rtpCapabilities"}
    | {"notification", "method", "codecs", "sdp", "granted", "resumed", "names", "user"}
)


def wire_vocabulary() -> tuple[set[str], set[int]]:
    """Every string and number the reference protocol puts on the wire."""
    words: set[str] = set(PAYLOAD_KEYS)
    codes: set[int] = set()
    for name, value in vars(protocol).items():
        if not name.isupper():
            continue
        if isinstance(value, str):
            words.add(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            codes.add(value)
        elif isinstance(value, frozenset):
            words.update(v for v in value if isinstance(v, str))
    codes.update(causes.CLOSE_CAUSES)
    words.update(causes.ERROR_CAUSES)
    return words - DOMAIN_WORDS, codes


def literals(path: Path) -> tuple[set[str], set[int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings: set[str] = set()
    numbers: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node.value, int) and not isinstance(node.value, bool):
                numbers.add(node.value)
    return strings, numbers


def offenders(root: Path) -> dict[str, list[str]]:
    words, codes = wire_vocabulary()
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        strings, numbers = literals(path)
        bad = sorted(strings & words) + [str(n) for n in sorted(numbers & codes)]
        if bad:
            found[path.name] = bad
    return found


def test_the_vocabulary_is_the_reference_protocols() -> None:
    """The check knows the wire: request, notification and error names and close codes."""
    words, codes = wire_vocabulary()
    assert {"pttStart", "getRouterRtpCapabilities", "newProducer", "floorRevoked"} <= words
    assert {"session_id", "producers", "unauthorized", "channel_deleted"} <= words
    assert {1000, 1001, 4000, 4001, 4003, 4004, 4029} <= codes


def test_fsm_holds_no_wire_vocabulary() -> None:
    """No literal in fsm/ is a name, payload key, error code or close code of the wire."""
    assert offenders(Path(fsm.__file__).parent) == {}


def test_the_check_catches_wire_vocabulary(tmp_path: Path) -> None:
    """A module that sends pttStart or reads a 4000 close code is reported."""
    (tmp_path / "leaky.py").write_text(
        'def f(s, e):\n    s.request("pttStart", {"session_id": 1})\n    return e.code == 4000\n'
    )
    assert offenders(tmp_path) == {"leaky.py": ["pttStart", "session_id", "4000"]}

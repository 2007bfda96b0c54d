"""fsm/ is the pure core: it imports no I/O library (checked by reading the source)."""

from __future__ import annotations

import ast
from pathlib import Path

import fsm

FORBIDDEN = {
    "asyncio",
    "socket",
    "ssl",
    "selectors",
    "websockets",
    "aiortc",
    "aioice",
    "av",
    "sounddevice",
    "numpy",
    "subprocess",
    "threading",
    "http",
    "urllib.request",
    "requests",
    "httpx",
    "time",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_fsm_imports_no_io_library() -> None:
    """No module of fsm/ imports a network, audio, process or clock library."""
    root = Path(fsm.__file__).parent
    offenders = {}
    for path in sorted(root.rglob("*.py")):
        bad = {
            name for name in _imports(path) if name.split(".")[0] in FORBIDDEN or name in FORBIDDEN
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_fsm_never_sleeps() -> None:
    """No ``sleep(`` anywhere in the core: time moves only through the Clock port."""
    root = Path(fsm.__file__).parent
    assert [p.name for p in root.rglob("*.py") if "sleep(" in p.read_text()] == []


def test_purity_check_catches_an_io_import(tmp_path: Path) -> None:
    """The check itself works: a module importing websockets is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import websockets.asyncio.client\nfrom time import sleep\n")
    assert {"websockets.asyncio.client", "time"} <= _imports(bad)

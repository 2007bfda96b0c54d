"""Writes diagrams/ from the machine: Mermaid, the Markdown table, and an SVG (Graphviz).

Mermaid and Markdown need nothing beyond ``pip install ptt-fsm``. The SVG needs the
``diagrams`` extra (``pip install 'ptt-fsm[diagrams]'``, i.e. ``pydot``) and Graphviz's
``dot`` program; without them :func:`write_svg` raises :class:`MissingDiagramTool`, whose
message says what to install.

Any subclass of :class:`fsm.ConnectionMachine` can be drawn (``machine=``; the CLI's
``--machine module:Class``).

python-statemachine names DOT nodes after Python object ids, which change every run; we
renumber them in order of appearance so the SVG is as reproducible as the text files and
all three can be drift-checked.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from fsm.machine import ConnectionMachine
from fsm.plan import plan_mermaid
from fsm.table import document, to_mermaid

MERMAID = "connection_machine.mmd"
PLAN = "session_plan.mmd"
TABLE = "transitions.md"
SVG = "connection_machine.svg"


class MissingDiagramTool(RuntimeError):
    """What the SVG needs is not installed; the message says how to install it."""


class BadMachine(ValueError):
    """``--machine`` does not name a subclass of ``fsm.ConnectionMachine``."""


def expected(machine: type[ConnectionMachine] = ConnectionMachine) -> dict[str, str]:
    """The text files ``diagrams/`` must hold, by file name."""
    return {MERMAID: to_mermaid(machine), TABLE: document(machine), PLAN: plan_mermaid()}


def load_machine(spec: str) -> type[ConnectionMachine]:
    """The class named ``module:Class`` (or ``module.Class``); it must subclass
    :class:`fsm.ConnectionMachine`. Raises :class:`BadMachine` with a readable reason."""
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise BadMachine(f"--machine wants module:Class, got {spec!r}")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like ``python -m``: modules of the current folder
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BadMachine(f"cannot import {module_name!r}: {exc}") from exc
    found: object = module
    for part in attr.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise BadMachine(f"{module_name!r} has no {attr!r}")
    if not (isinstance(found, type) and issubclass(found, ConnectionMachine)):
        raise BadMachine(f"{spec} is not a subclass of fsm.ConnectionMachine")
    return found


def check_svg_tools() -> None:
    """Raise :class:`MissingDiagramTool` unless pydot and Graphviz ``dot`` are available."""
    missing = []
    try:
        has_pydot = importlib.util.find_spec("pydot") is not None
    except (ImportError, ValueError):
        has_pydot = False
    if has_pydot:
        try:
            importlib.import_module("pydot")
        except ImportError:
            has_pydot = False
    if not has_pydot:
        missing.append("the Python package pydot: pip install 'ptt-fsm[diagrams]'")
    if shutil.which("dot") is None:
        missing.append("Graphviz's dot program (Debian: apt-get install graphviz)")
    if missing:
        raise MissingDiagramTool(
            "the SVG diagram needs " + " and ".join(missing) + "; or pass --no-svg "
            "(Mermaid and Markdown need nothing more)"
        )


START, END = "<!-- diagram:start -->", "<!-- diagram:end -->"


def write(
    directory: Path,
    *,
    svg: bool = True,
    readme: Path | None = None,
    machine: type[ConnectionMachine] = ConnectionMachine,
) -> list[Path]:
    """Regenerate every diagram of ``machine`` into ``directory`` (and the Mermaid block
    of ``readme`` between its diagram markers); returns the files written.

    The text files are written first: a missing SVG tool (:class:`MissingDiagramTool`)
    leaves them in place."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected(machine).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if readme is not None and readme.exists():
        text = readme.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            _, tail = rest.split(END, 1)
            block = f"{START}\n```mermaid\n{to_mermaid(machine)}```\n{END}"
            readme.write_text(head + block + tail, encoding="utf-8")
            written.append(readme)
    if svg:
        written.append(write_svg(directory / SVG, machine))
    return written


def write_svg(path: Path, machine: type[ConnectionMachine] = ConnectionMachine) -> Path:
    check_svg_tools()
    from statemachine.contrib.diagram import DotGraphMachine

    graph = DotGraphMachine(machine)()  # type: ignore[no-untyped-call]
    dot = stable_dot(graph.to_string())
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True
    ).stdout
    path.write_text(svg, encoding="utf-8")
    return path


def stable_dot(dot: str) -> str:
    """Replace object-id suffixes (``_139758689834640``) with 1, 2, 3... by first use."""
    numbers: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        return "_" + numbers.setdefault(match.group(1), str(len(numbers) + 1))

    return re.sub(r"_(\d{9,})", renumber, dot)

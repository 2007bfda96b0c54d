"""Writes diagrams/ from the machine: Mermaid, the Markdown table, and an SVG (Graphviz).

python-statemachine names DOT nodes after Python object ids, which change every run; we
renumber them in order of appearance so the SVG is as reproducible as the text files and
all three can be drift-checked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from fsm.plan import plan_mermaid
from fsm.table import document, to_mermaid

MERMAID = "connection_machine.mmd"
PLAN = "session_plan.mmd"
TABLE = "transitions.md"
SVG = "connection_machine.svg"


def expected() -> dict[str, str]:
    """The text files ``diagrams/`` must hold, by file name."""
    return {MERMAID: to_mermaid(), TABLE: document(), PLAN: plan_mermaid()}


START, END = "<!-- diagram:start -->", "<!-- diagram:end -->"


def write(directory: Path, *, svg: bool = True, readme: Path | None = None) -> list[Path]:
    """Regenerate every diagram into ``directory`` (and the Mermaid block of ``readme``
    between its diagram markers); returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if svg:
        written.append(write_svg(directory / SVG))
    if readme is not None and readme.exists():
        text = readme.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            _, tail = rest.split(END, 1)
            block = f"{START}\n```mermaid\n{to_mermaid()}```\n{END}"
            readme.write_text(head + block + tail, encoding="utf-8")
            written.append(readme)
    return written


def write_svg(path: Path) -> Path:
    if shutil.which("dot") is None:
        raise RuntimeError("Graphviz `dot` is not installed (Debian: apt-get install graphviz)")
    from statemachine.contrib.diagram import DotGraphMachine

    from fsm.machine import ConnectionMachine

    graph = DotGraphMachine(ConnectionMachine)()  # type: ignore[no-untyped-call]
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

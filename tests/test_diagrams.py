"""diagrams/ holds exactly what the machine generates (drift check)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.app.diagrams import MERMAID, PLAN, SVG, TABLE, expected, write
from fsm.table import states

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


@pytest.mark.parametrize("name", [MERMAID, TABLE, PLAN])
def test_committed_text_diagrams_match_the_machine(name: str) -> None:
    """Run `ptt diagram` and commit the result if this fails."""
    assert (DIAGRAMS / name).read_text(encoding="utf-8") == expected()[name]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is installed by .ci/setup.sh")
def test_committed_svg_matches_a_fresh_render(tmp_path: Path) -> None:
    """The SVG is rendered reproducibly (object ids renumbered) and is up to date."""
    write(tmp_path)
    fresh = (tmp_path / SVG).read_text(encoding="utf-8")
    assert fresh == (DIAGRAMS / SVG).read_text(encoding="utf-8")
    for state in states():
        assert state.split(".")[-1] in fresh


def test_readme_embeds_the_current_mermaid_diagram() -> None:
    readme = (DIAGRAMS.parent / "README.md").read_text(encoding="utf-8")
    assert expected()[MERMAID].strip() in readme

"""The README's code examples run as written."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _block(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    _, rest = text.split(f"<!-- {name}:start -->", 1)
    block, _ = rest.split(f"<!-- {name}:end -->", 1)
    return block.strip().removeprefix("```python").removesuffix("```")


def test_the_fakes_example_runs() -> None:
    """The 'testing your own app' snippet drives a machine through an outage and passes."""
    exec(compile(_block("fakes-example"), str(README), "exec"), {})

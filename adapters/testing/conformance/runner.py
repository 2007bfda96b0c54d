"""Running one case: under pytest a case that does not apply becomes a skip."""

from __future__ import annotations

from .cases import Case
from .failures import NotApplicable
from .harness import ConformanceHarness


async def run_case(case: Case, harness: ConformanceHarness) -> None:
    """Run ``case`` against a started ``harness``; :class:`NotApplicable` is a pytest skip."""
    try:
        await case(harness)
    except NotApplicable as exc:
        import pytest  # only here: the rest of the kit runs without pytest

        pytest.skip(str(exc))

"""The conformance kit against the reference backend and the real reference server."""

from __future__ import annotations

import pytest

from adapters.testing.conformance import Case, ConformanceHarness, run_case

from .reference_harness import ReferenceHarness

pytest_plugins = ["adapters.testing.conformance.plugin"]


@pytest.fixture
def conformance_harness() -> ReferenceHarness:
    return ReferenceHarness()


async def test_reference_backend(conformance_case: Case, conformance: ConformanceHarness) -> None:
    """The reference backend keeps the port contract in this case."""
    await run_case(conformance_case, conformance)

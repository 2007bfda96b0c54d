"""The pytest plugin: parametrises one test per conformance case over your harness.

Load it with ``pytest_plugins = ["adapters.testing.conformance.plugin"]`` in a test
module, override the ``conformance_harness`` fixture there, and write the one test that
asks for ``conformance_case`` (see the package docstring for the whole file). Do not import
this module yourself: pytest imports it as a plugin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .cases import CASES
from .harness import ConformanceHarness


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conformance_case" in metafunc.fixturenames:
        metafunc.parametrize("conformance_case", CASES, ids=[case.__name__ for case in CASES])


@pytest.fixture
def conformance_harness() -> ConformanceHarness:
    """Override this fixture: return your (unstarted) harness."""
    pytest.fail(
        "override the conformance_harness fixture to return your ConformanceHarness",
        pytrace=False,
    )


@pytest_asyncio.fixture
async def conformance(conformance_harness: ConformanceHarness) -> AsyncIterator[ConformanceHarness]:
    """The harness, started for one case and stopped after it."""
    await conformance_harness.start()
    try:
        yield conformance_harness
    finally:
        await conformance_harness.stop()

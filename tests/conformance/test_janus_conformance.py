"""The conformance kit against the Janus backend and a real Janus 1.1 AudioBridge.

Which cases skip, and why (the backend's declared ``Features``: a client-side floor,
``messages=False``): ``floor_lost_reported`` (a client-side floor is lost only to a
collision; the machine itself ends a transmission at ``max_talk_time``) and
``messages_round_trip`` (AudioBridge has no channel messages)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from adapters.backends.janus import LocalJanus
from adapters.testing.conformance import Case, ConformanceHarness, run_case

from .janus_harness import GOOD_TOKEN, JanusHarness

pytest_plugins = ["adapters.testing.conformance.plugin"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def janus() -> AsyncIterator[LocalJanus]:
    """One Janus for every case of this module (a fresh room per case)."""
    if shutil.which("janus") is None:
        pytest.skip("needs Debian's janus (apt-get install janus)")
    async with LocalJanus(token_auth=True) as server:
        await server.add_token(GOOD_TOKEN)
        yield server


@pytest.fixture
def conformance_harness(janus: LocalJanus) -> JanusHarness:
    return JanusHarness(janus)


async def test_janus_backend(conformance_case: Case, conformance: ConformanceHarness) -> None:
    """The Janus backend keeps the port contract in this case."""
    await run_case(conformance_case, conformance)

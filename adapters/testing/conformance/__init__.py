"""A conformance kit for backend authors: proof that a backend keeps the port contract.

In the spirit of the Autobahn testsuite for WebSockets: a set of cases any backend runs
against its own server, driving its :class:`~fsm.ports.Signaling` and
:class:`~fsm.ports.Media` ports directly (not through the machine) and checking every rule
of :mod:`fsm.ports` on the way: the domain facts each case provokes, ``opened`` then
exactly one ``failed`` or ``lost``, every reply called exactly once, no callback from
inside a port call or after ``close()``, no task or socket left behind.

How to run it against your backend: implement :class:`ConformanceHarness` (start and
stop your server, give URLs, tokens, fresh channels, cut a client's link, declare what
the set-up can do in :class:`Capabilities`), then add one test module::

    # tests/conformance/test_my_backend.py
    import pytest

    from adapters.testing.conformance import Capabilities, Case, ConformanceHarness, run_case

    pytest_plugins = ["adapters.testing.conformance.plugin"]


    class MyHarness:
        backend = MyBackend()
        capabilities = Capabilities(cut_link=True, media=True, max_talk_time=2.0)

        async def start(self) -> None: ...  # start your server (and a fault proxy)
        async def stop(self) -> None: ...
        async def url(self, client: str) -> str: ...
        async def token(self, client: str, channel: str) -> str: ...
        async def bad_token(self, client: str, channel: str) -> str: ...
        def fresh_channel(self) -> str: ...
        async def cut_link(self, client: str) -> None: ...  # e.g. FaultProxy.reset_now()


    @pytest.fixture
    def conformance_harness() -> MyHarness:
        return MyHarness()  # unstarted: the plugin starts and stops it around each case


    async def test_my_backend(conformance_case: Case, conformance: ConformanceHarness) -> None:
        await run_case(conformance_case, conformance)

``pytest tests/conformance`` then runs one test per case (``-k floor`` picks some; the
ids are the case names in :data:`CASES`). The plugin needs ``pytest-asyncio``
(``asyncio_mode = "auto"``, or mark the test ``@pytest.mark.asyncio``). A case
is skipped only when it does not apply: the backend's :class:`~fsm.domain.Features` say
so (and then the alternative is tested: with ``FloorControl.CLIENT`` the client-side
policy, with ``resume=False`` a join that does not resume), or the harness lacks a
capability (no ``cut_link``, no media). ``tests/conformance/test_reference_conformance.py``
is the worked example: the reference server behind one ``FaultProxy`` per client.

The pieces are usable on their own in a backend's tests: :class:`RecordingEvents` (a
checking ``SignalingEvents``), :class:`ReplyLedger` (replies as awaited futures),
:class:`Client` and :class:`Scene` (ports driven by hand), :class:`Resources` and
:func:`leftovers` (leak probes), :class:`SilentAudio` (an ``AudioIO`` with no device).
"""

from .audio import SilentAudio
from .cases import CASES, Case
from .client import Client
from .failures import ConformanceError, NotApplicable, applies, expect
from .harness import Capabilities, ConformanceHarness
from .leaks import Resources, leftovers
from .recorder import Call, RecordingEvents, RecordingMediaEvents
from .replies import ReplyLedger, value_of, wait_result
from .rules import Rules
from .runner import run_case
from .scene import Scene

__all__ = [
    "CASES",
    "Call",
    "Capabilities",
    "Case",
    "Client",
    "ConformanceError",
    "ConformanceHarness",
    "NotApplicable",
    "RecordingEvents",
    "RecordingMediaEvents",
    "ReplyLedger",
    "Resources",
    "Rules",
    "Scene",
    "SilentAudio",
    "applies",
    "expect",
    "leftovers",
    "run_case",
    "value_of",
    "wait_result",
]

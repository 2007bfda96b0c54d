"""A backend made of :mod:`fsm.testing` fakes, for testing code that uses
``ConnectionManager`` without a server: the test answers every port call itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from fsm.domain import Features
from fsm.testing import Fakes

from ..backends.base import BackendContext, BackendPorts


@dataclass
class FakeBackend:
    """``ConnectionManager(..., backend=FakeBackend(fakes), clock=fakes.clock,
    audio=fakes.audio)``; drive it with ``fsm.testing.Driver(manager.machine, fakes)``."""

    fakes: Fakes
    name: str = "fake"
    features: Features = field(default_factory=Features)

    def build(self, context: BackendContext) -> BackendPorts:
        media = self.fakes.media if context.media else None
        return BackendPorts(signaling=self.fakes.signaling, media=media)

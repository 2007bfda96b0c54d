"""How a conformance case ends other than by passing: a broken contract, or a case that
does not apply to this backend."""

from __future__ import annotations


class ConformanceError(AssertionError):
    """The backend broke the port contract; the message says which rule and how."""


class NotApplicable(Exception):
    """The case does not apply to this backend (its ``Features`` or the harness say so)."""


def expect(condition: bool, message: str) -> None:
    """Raise :class:`ConformanceError` with ``message`` unless ``condition`` holds.

    Not ``assert``: the kit is library code, and ``python -O`` strips assertions."""
    if not condition:
        raise ConformanceError(message)


def applies(condition: bool, reason: str) -> None:
    """Raise :class:`NotApplicable` with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise NotApplicable(reason)

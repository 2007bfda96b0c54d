"""Cases about channel messages."""

from __future__ import annotations

from types import MappingProxyType

from ..failures import applies, expect
from ..harness import ConformanceHarness
from ..scene import Scene


async def messages_round_trip(harness: ConformanceHarness) -> None:
    """A message one member sends is acknowledged with ``None`` and reaches another member
    with the same data (and the sender's peer id when the backend names senders)."""
    async with Scene(harness) as scene:
        applies(scene.features.messages, "features.messages is False")
        alice = await scene.joined("alice")
        bob = await scene.joined("bob")
        data = MappingProxyType({"text": "hello", "n": 1, "nested": {"ok": True}})
        result = await alice.send_message("msg-alice-1", data)
        expect(result.ok, f"send_message failed: {result.error!r}")
        expect(result.value is None, f"send_message answered {result.value!r}, not None")
        call = await bob.events.wait_for("message", within=scene.capabilities.patience)
        message = call.arg
        expect(dict(message.data) == dict(data), f"the message arrived as {dict(message.data)}")
        expect(
            message.sender in (None, alice.peer_id),
            f"the message's sender is {message.sender!r}, not alice ({alice.peer_id!r})",
        )

"""A missing microphone ends in `error` with guidance (the "permission denied" case)."""

from __future__ import annotations

import pytest

from adapters import ConnectionManager
from adapters.devices.audio import SoundDeviceAudio
from adapters.server import media_server, mint_token
from fsm import ErrorRaised, FixedSchedule
from fsm.observe import Recorder

SECRET = "device-test-secret-0123456789abcdef01"


@pytest.mark.parametrize("source", ["device:NoSuchMicrophone-42", "device:9999"])
async def test_missing_microphone_is_an_error_with_guidance(source: str) -> None:
    async with media_server(SECRET) as server:
        recorder = Recorder()
        manager = ConnectionManager(
            server.url,
            channel="ops",
            token=mint_token(SECRET, "ann", "ops", 60),
            audio=SoundDeviceAudio(source, output=False),
            backoff=FixedSchedule((0.1,)),
            log_transitions=False,
        )
        manager.add_listener(recorder)
        await manager.connect()
        await manager.wait_for("error", timeout=15)
        [error] = recorder.of(ErrorRaised)
        assert "device" in error.reason.lower() or "portaudio" in error.reason.lower()
        assert error.guidance  # says what to do: connect a device, pick another, install
        assert server.stats.handshakes["ok"] == 1  # fatal: no retry
        await manager.disconnect()
        assert manager.state == "disconnected"

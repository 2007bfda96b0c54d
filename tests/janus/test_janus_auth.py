"""token_auth: Janus answers 403 on the first request (never 401 at the handshake)."""

from __future__ import annotations

from pathlib import Path

from adapters.backends.janus import LocalJanus
from fsm.classify import DEFAULT_TABLE
from fsm.errors import Cause, LinkError

from .conftest import MakeClient, Recorder


async def test_a_bad_token_is_auth_invalid_and_a_good_one_opens(
    tmp_path: Path, make_client: MakeClient
) -> None:
    async with LocalJanus(tmp_path / "auth", token_auth=True) as server:
        await server.add_token("good-token")
        client = await make_client(server=server)
        assert await client.open("bad-token") == "failed"
        error = client.events.last("failed")
        assert isinstance(error, LinkError)
        assert error.cause is Cause.AUTH_INVALID
        assert DEFAULT_TABLE.is_auth_failure(error)  # the machine refreshes once

        assert await client.open("good-token", Recorder()) == "opened"
        joined = await client.join()
        assert joined.peer_id
        await client.signaling.aclose()

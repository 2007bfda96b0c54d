"""The fuzz legs that need real sockets: hostile frames from a real server into a client's
link, and hostile requests from a raw client into the real server.

Link leg: the reference server's ``send_raw`` pushes each frame over a real WebSocket into
a real :class:`~adapters.backends.reference.ReferenceSignaling`; a recording
``SignalingEvents`` checks every fact it reports. Each batch ends with a sync message, so
a batch's outcomes (drops by reason, facts by kind, frames with no visible effect) are
counted once the link has read it all.

Server leg: a raw WebSocket client sends each frame to a real ``PttServer`` (joined to a
channel with a second, passive member, so relays and floor changes go somewhere). The
server answers every frame exactly once, in order; each answer must be a well-formed
response whose error code is the protocol's and never ``internal``. A frame the server
closes the link for (a join for another channel) ends the connection: the rest of the
batch is sent again on a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from adapters.backends.reference import ReferenceSignaling, SignalingOptions
from adapters.backends.reference.link import WebSocketLink
from adapters.server import PttServer, mint_token
from fsm.domain import AudioSource, ChannelMessage, FloorLost, Member
from fsm.errors import LinkError

from .checks import ERROR_CODES, InvariantBroken, check_fact

SECRET = "fuzz-secret-" + "0123456789abcdef" * 4
CHANNEL = "fuzz"
USER = "fuzzer"
SYNC = "fuzz-sync"
BATCH = 200
WAIT = 10.0


class Findings:
    """Outcome counts per leg and every finding (input and what went wrong)."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.crashes: list[tuple[str, str, str]] = []  # (leg, input, traceback or reason)

    def crash(self, leg: str, frame: object, why: str) -> None:
        self.crashes.append((leg, repr(frame)[:300], why))


# --- the link leg --------------------------------------------------------------------------
class _Recorder:
    """``SignalingEvents`` that checks every reported fact and counts them by kind."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.facts: Counter[str] = Counter()
        self.synced = -1
        self.loss: LinkError | None = None
        self.opened_event = asyncio.Event()
        self.changed = asyncio.Event()

    def _fact(self, kind: str, *values: object) -> None:
        try:
            for value in values:
                if isinstance(value, tuple | list):
                    for part in value:
                        check_fact(part)
                elif value is not None and not isinstance(value, str):
                    check_fact(value)
                elif isinstance(value, str) and not value:
                    raise InvariantBroken(f"{kind}: empty peer id")
        except InvariantBroken as exc:
            self.findings.crash("link", values, f"invariant: {exc}")
        self.facts[kind] += 1

    def opened(self) -> None:
        self.opened_event.set()

    def failed(self, error: LinkError) -> None:
        self.loss = error
        self.opened_event.set()
        self.changed.set()

    def lost(self, error: LinkError) -> None:
        self.loss = error
        self.changed.set()

    def member_joined(self, member: Member) -> None:
        self._fact("member_joined", member)

    def member_left(self, peer_id: str) -> None:
        self._fact("member_left", peer_id)

    def speaker_changed(self, peer_id: str | None) -> None:
        self._fact("speaker_changed", peer_id)

    def floor_lost(self, tx_id: str | None, why: FloorLost) -> None:
        self._fact("floor_lost", tx_id, why)

    def sources_changed(self, sources: Sequence[AudioSource]) -> None:
        self._fact("sources_changed", sources)

    def message(self, message: ChannelMessage) -> None:
        if message.sender == SYNC and message.msg_id is not None:
            self.synced = int(message.msg_id)
            self.changed.set()
            return
        self._fact("message", message)


def _sync_frame(n: int) -> str:
    data = {"from": SYNC, "data": {"msg_id": str(n)}}
    return json.dumps({"notification": True, "method": "message", "data": data})


async def link_leg(frames: Sequence[str | bytes], findings: Findings) -> None:
    """Push ``frames`` from a real server into a real client link; count the outcomes."""
    async with PttServer(SECRET, max_message_size=1 << 20) as server:
        link = WebSocketLink(SignalingOptions(ping_interval=3600, ping_timeout=3600))
        signaling = ReferenceSignaling(link)
        recorder = _Recorder(findings)
        signaling.open(server.url, mint_token(SECRET, USER, CHANNEL, 3600), recorder)
        await asyncio.wait_for(recorder.opened_event.wait(), WAIT)
        try:
            for n, start in enumerate(range(0, len(frames), BATCH)):
                batch = frames[start : start + BATCH]
                before_drops, before_facts = Counter(link.dropped), Counter(recorder.facts)
                for frame in batch:
                    server.send_raw(USER, frame)
                server.send_raw(USER, _sync_frame(n))
                async with asyncio.timeout(WAIT):
                    while recorder.synced < n and recorder.loss is None:
                        recorder.changed.clear()
                        await recorder.changed.wait()
                if recorder.loss is not None:
                    findings.crash("link", batch, f"the link was lost: {recorder.loss}")
                    return
                drops = Counter(link.dropped) - before_drops
                facts = Counter(recorder.facts) - before_facts
                for why, count in drops.items():
                    findings.outcomes[f"link dropped:{why}"] += count
                for kind, count in facts.items():
                    findings.outcomes[f"link reported:{kind}"] += count
                silent = len(batch) - sum(drops.values()) - sum(facts.values())
                findings.outcomes["link no effect (duplicate or unknown source)"] += silent
        finally:
            await signaling.aclose()


# --- the server leg ------------------------------------------------------------------------
async def _joined(url: str, user: str) -> ClientConnection:
    headers = {"Authorization": f"Bearer {mint_token(SECRET, user, CHANNEL, 3600)}"}
    ws = await connect(url, additional_headers=headers, max_size=None)
    await ws.send(json.dumps({"id": "fuzz-join", "method": "join", "data": {"channel": CHANNEL}}))
    return ws


def _judge(answer: Mapping[str, Any], frame: str | bytes, findings: Findings) -> None:
    ok = answer.get("ok")
    if ok is True:
        if not isinstance(answer.get("data"), dict):
            findings.crash("server", frame, f"ok answer without data object: {answer!r:.200}")
        findings.outcomes["server ok"] += 1
        return
    error = answer.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    if ok is not False or code not in ERROR_CODES:
        findings.crash("server", frame, f"malformed answer: {answer!r:.200}")
    elif code == "internal":
        findings.crash("server", frame, f"internal error: {answer!r:.200}")
    findings.outcomes[f"server error:{code}"] += 1


async def _read_answers(
    ws: ClientConnection, batch: Sequence[str | bytes], findings: Findings
) -> int:
    """Read the answers to ``batch`` and the sync; return how many frames were answered."""
    answered = 0
    try:
        async with asyncio.timeout(WAIT):
            async for raw in ws:
                answer = json.loads(raw)
                if answer.get("notification") is True or answer.get("id") == "fuzz-join":
                    continue
                if answer.get("id") == SYNC:
                    return answered
                if answered == len(batch):
                    findings.crash("server", batch[-1], f"an extra answer: {answer!r:.200}")
                    continue
                _judge(answer, batch[answered], findings)
                answered += 1
    except TimeoutError:
        findings.crash("server", batch[answered:][:1], f"no answer within {WAIT} s")
        return len(batch)
    except ConnectionClosed:
        pass  # judged below by its close code
    findings.outcomes[f"server closed:{ws.close_code}"] += 1
    if ws.close_code not in (4003,):  # the only close a request may cause: wrong channel
        findings.crash("server", batch[max(0, answered - 1)], f"closed with {ws.close_code}")
    return answered


async def server_leg(frames: Sequence[str | bytes], findings: Findings) -> None:
    """Send ``frames`` from a raw client to a real server; judge every answer."""
    async with PttServer(SECRET, grace=5.0, max_rps=10**9, max_talk_time=0) as server:
        listener = await _joined(server.url, "listener")
        drain = asyncio.create_task(_drain(listener))
        ws = await _joined(server.url, USER)
        try:
            sync = json.dumps({"id": SYNC, "method": "ping", "data": {}})
            for start in range(0, len(frames), BATCH):
                pending = list(frames[start : start + BATCH])
                while pending:
                    for frame in pending:
                        with contextlib.suppress(ConnectionClosed):
                            await ws.send(frame)
                    with contextlib.suppress(ConnectionClosed):
                        await ws.send(sync)
                    done = await _read_answers(ws, pending, findings)
                    pending = pending[done:]
                    if pending or ws.close_code is not None:
                        await ws.close()
                        ws = await _joined(server.url, USER)
                # Whatever the batch did (left, joined twice), start the next one joined.
                await ws.send(json.dumps({"id": "fuzz-join", "method": "join",
                                          "data": {"channel": CHANNEL}}))  # fmt: skip
        finally:
            await ws.close()
            await listener.close()
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain


async def _drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass

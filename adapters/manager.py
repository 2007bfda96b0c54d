"""``ConnectionManager``: the one object an application uses.

It builds the machine and the real adapters (or takes yours), and gives a small async API:
``connect()``/``disconnect()`` (or ``async with``), the current ``state``, an async
iterator of typed events, the PTT controller, the channel picture, metrics, and
``hint_reconnect_now()``. Everything it does to the connection goes through the machine:
it never calls an adapter itself, except to wait for their tasks to end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from fsm import ConnectionMachine, IllegalTransition, Settings
from fsm.backoff import BackoffPolicy, ExponentialBackoff
from fsm.channel import ChannelPicture
from fsm.classify import DEFAULT_TABLE, FailureTable
from fsm.delivery import DeliveryPolicy
from fsm.errors import ConfigError, PttError, UsageError
from fsm.events import STATES, PttEvent, StateName
from fsm.logs import get_logger
from fsm.observe import Listener, LogListener, guarded
from fsm.ports import Audio, Clock, NetworkWatch, Ports, TokenSource

from .backends import AudioIO, Backend, BackendContext, resolve
from .delivery import Delivery, Outbound
from .devices.clock import LoopClock
from .devices.tokens import ProviderTokens, TokenProvider
from .ptt import PttController, PttMode
from .stream import EventStream, Fanout

log = get_logger("ptt.manager")

_LIVE = ("connecting", "connected", "reconnecting")
#: Messages handed to the machine per loop tick: one transition each, a few ms at most.
_LISTENER_HOOKS = ("after_transition", "before_transition", "on_transition", "on_event")


@dataclass(frozen=True)
class AudioOptions:
    """Where the microphone audio comes from and where received audio goes."""

    source: str = "device"  # "device", "device:NAME", "tone:440", "clip.wav"
    output: bool = True  # play to the output device
    output_device: str | None = None
    sink: str | None = None  # WAV file of everything heard


@dataclass(frozen=True)
class Metrics:
    episodes: int
    attempts: int
    recoveries: int
    last_recovery_seconds: float
    dropped: Mapping[str, int] = field(default_factory=dict)


class ConnectionManager:
    """The single entry point: a reconnecting push-to-talk connection to one channel.

    ``token`` or ``token_provider`` (an ``async def () -> str`` called once when the server
    says the token is no good) authenticate; ``media=False`` gives a signaling-only client.
    ``backend`` is the kind of server: ``"reference"`` (``ptt serve``) by default, another
    built-in name, or your own :class:`adapters.backends.Backend` (e.g.
    ``adapters.testing.fakes.FakeBackend`` in tests). ``failures`` replaces the failure
    table, ``machine_class`` the machine (a subclass of :class:`fsm.ConnectionMachine`).
    """

    def __init__(
        self,
        url: str,
        *,
        channel: str,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        mode: PttMode = "hold",
        backend: Backend | str = "reference",
        backoff: BackoffPolicy | None = None,
        failures: FailureTable | None = None,
        media: bool = True,
        audio_options: AudioOptions | None = None,
        stable_after: float = 10.0,
        step_timeout: float = 10.0,
        connect_timeout: float = 11.0,
        audio: Audio | None = None,
        clock: Clock | None = None,
        tokens: TokenSource | None = None,
        network: NetworkWatch | bool = True,
        delivery: DeliveryPolicy | None = None,
        machine_class: type[ConnectionMachine] = ConnectionMachine,
        log_transitions: bool = True,
    ) -> None:
        if token is None and token_provider is None:
            raise ConfigError("give a token or a token_provider")
        if not (isinstance(machine_class, type) and issubclass(machine_class, ConnectionMachine)):
            raise ConfigError("machine_class must be a subclass of fsm.ConnectionMachine")
        self.backend = resolve(backend)
        self.settings = Settings(
            url,
            channel,
            token=token or "",
            backoff=backoff or ExponentialBackoff(),
            failures=failures or DEFAULT_TABLE,
            stable_after=stable_after,
            step_timeout=step_timeout,
            connect_timeout=connect_timeout,
        )
        self._token_provider = token_provider
        self._media = media
        self._audio_options = audio_options or AudioOptions()
        self._audio = audio
        self._clock = clock
        self._tokens = tokens
        self._network = network
        self._delivery = delivery
        self._machine_class = machine_class
        self._log_transitions = log_transitions
        self._fanout = Fanout()
        self._pending_listeners: list[Any] = []
        self._outbound = Outbound(lambda: self._machine)
        self._observers: list[Callable[[PttEvent], None]] = []
        self._machine: ConnectionMachine | None = None
        self._ports: Ports | None = None
        self.ptt = PttController(self, mode)
        self._connecting = asyncio.Lock()

    # --- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> ConnectionManager:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def connect(
        self,
        token: str | None = None,
        *,
        wait: bool = False,
        timeout: float = 30.0,  # noqa: ASYNC109 - passed to wait_for
    ) -> None:
        """Start connecting; with ``wait=True`` return once ``connected`` (else at once:
        watch ``events()`` or call ``wait_for``). Raises the typed error that ended the
        attempt (see :meth:`wait_for`).

        From ``disconnected`` or ``error`` this starts over, with ``token`` if given.
        Concurrent calls share one attempt: the token provider runs at most once."""
        async with self._connecting:
            if self._machine is None:
                await self._prepare()
            machine = self._ensure_machine()
            if machine.state not in _LIVE:
                if not (token or machine.token) and self._token_provider is not None:
                    token = await self._token_provider()  # only a provider: the first token
                if not (token or machine.token):
                    raise ConfigError("no token: give one to connect() or a token_provider")
                machine.send("connect", token=token)
        if wait:
            await self.wait_for("connected", timeout)

    async def _prepare(self) -> None:
        """Load what is slow to import (aiortc, numpy, the audio stack) in a thread before
        the first connect builds the ports, so the event loop never stalls on an import.
        A backend may offer ``async def prepare()`` for its own heavy parts."""
        prepare = getattr(self.backend, "prepare", None)
        if prepare is not None and asyncio.iscoroutinefunction(prepare):
            await prepare()
        if self._media and self._audio is None:
            import importlib

            await asyncio.to_thread(importlib.import_module, "adapters.devices.audio")

    async def disconnect(self) -> None:
        """Stop talking, leave the channel, close transports and signaling: ``disconnected``.

        Safe in any state and more than once; returns when no socket or task is left."""
        self._outbound.release(None)  # what was sent before disconnect() goes first
        machine = self._machine
        if machine is not None and machine.state != "disconnected":
            machine.send("disconnect")
        await self.wait_closed()

    async def wait_closed(self) -> None:
        """Wait until the adapters' sockets, peer connections, streams and tasks are gone."""
        ports = self._ports
        if ports is None:
            return
        for port in (ports.signaling, ports.media, ports.audio, ports.tokens):
            closer = getattr(port, "aclose", None) or getattr(port, "wait_closed", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()

    # --- observation ----------------------------------------------------------------------
    @property
    def machine(self) -> ConnectionMachine:
        return self._ensure_machine()

    @property
    def state(self) -> StateName:
        return self._machine.state if self._machine is not None else "idle"

    @property
    def detail(self) -> str:
        return self._machine.detail if self._machine is not None else "idle"

    def add_listener(self, listener: Any) -> None:
        """Register a listener: an :class:`fsm.observe.Listener` (its ``on_event`` gets
        each typed event; the cheap way) or any python-statemachine listener
        (``after_transition``, ``on_enter_<state>``...).

        An exception in your listener is logged (``ptt.listener_failed``) and never breaks
        the connection."""
        if isinstance(listener, Listener) and _typed_only(listener):
            on_event = guarded(listener).on_event
            self._observers.append(on_event)
            if self._machine is not None:
                self._machine.observers.append(on_event)
            return
        if not any(callable(getattr(listener, name, None)) for name in _LISTENER_HOOKS) and not (
            any(n.startswith(("on_enter_", "on_exit_")) for n in dir(listener))
        ):
            raise UsageError(
                f"{listener!r} is not a listener: give an object with after_transition, "
                "on_event (subclass fsm.observe.Listener) or on_enter_<state> methods"
            )
        listener = guarded(listener)
        if self._machine is None:
            self._pending_listeners.append(listener)
        else:
            self._machine.add_listener(listener)  # type: ignore[no-untyped-call]

    def events(self, maxsize: int = 1000) -> EventStream:
        """Typed events from now on, in order (first the transition into the current
        state), until the stream is closed; subscribed at once, so nothing is missed."""
        return EventStream(self._fanout, maxsize)

    async def wait_for(self, state: StateName, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Return once the top-level state is ``state``.

        Fails fast: raises the typed :class:`~fsm.errors.PttError` that sent the machine to
        ``error`` (or the server's final goodbye that ended in ``disconnected``) as soon as
        it happens, ``UsageError`` if the connection was closed by ``disconnect()``, and
        ``TimeoutError`` after ``timeout`` seconds."""
        if state not in STATES:
            raise ConfigError(f"unknown state {state!r}; states are {', '.join(STATES)}")
        async with self.events() as stream, asyncio.timeout(timeout):
            while True:
                current = self.state
                if current == state:
                    return
                if current in ("error", "disconnected") and self._machine is not None:
                    raise self._ending_error(current)
                await anext(stream)

    def _ending_error(self, state: str) -> PttError:
        machine = self._machine
        assert machine is not None
        error = machine.last_error
        if state == "error":
            return error or PttError(machine.reason or "the connection ended in error")
        if error is not None and machine.is_final(error):
            return error
        return UsageError(f"disconnected ({machine.reason or 'disconnect requested'})")

    @property
    def channel(self) -> ChannelPicture:
        """Members, speaker and audio sources of the channel (empty before ``connect``)."""
        if self._machine is None:
            return ChannelPicture(self.settings.channel)
        return self._machine.channel

    @property
    def transmitting(self) -> bool:
        machine = self._machine
        return machine is not None and machine.floor.granted

    @property
    def metrics(self) -> Metrics:
        """Counters of this connection (all zero before the first ``connect``)."""
        self._outbound.release(None)  # count what this tick's messages met
        m = self._machine
        if m is None:
            return Metrics(episodes=0, attempts=0, recoveries=0, last_recovery_seconds=0.0)
        return Metrics(
            episodes=int(m.metrics["episodes"]),
            attempts=int(m.metrics["attempts"]),
            recoveries=int(m.metrics["recoveries"]),
            last_recovery_seconds=m.metrics["last_recovery_seconds"],
            dropped=dict(m.outbox.dropped + self._outbound.refused),
        )

    # --- user intents ---------------------------------------------------------------------
    def hint_reconnect_now(self) -> None:
        """Skip the backoff wait (e.g. the OS says the network is back)."""
        machine = self._machine
        if machine is not None and machine.detail == "backing_off":
            machine.send("reconnect_now")

    def send_message(self, data: Mapping[str, Any]) -> Delivery:
        """Send ``data`` (a JSON object) to the channel now, or queue it until the session
        is restored; returns its :class:`~adapters.delivery.Delivery` (await it for the
        outcome).

        Checked at once: raises :class:`~fsm.delivery.InvalidMessage` if ``data`` is not a
        JSON object (a ``datetime``, ``set``, ``bytes`` or NaN inside),
        :class:`~fsm.delivery.MessageTooLarge` above ``machine.message_limit`` bytes
        encoded (both counted in ``metrics.dropped``), ``IllegalTransition`` unless
        connecting, connected or reconnecting. The calls of one loop tick reach the machine
        together (one transition per batch), so a burst does not stall the event loop."""
        if not self.backend.features.messages:
            raise UsageError(f"the {self.backend.name} backend has no channel messages")
        return self._outbound.send(self._machine, data)

    def _user_event(self, event: str, **data: Any) -> None:
        self._outbound.release(None)  # messages sent before this intent go first
        machine = self._machine
        state = machine.state if machine is not None else "idle"
        if machine is None or state not in _LIVE:
            raise IllegalTransition(event, state)
        machine.send(event, **data)

    # --- wiring ---------------------------------------------------------------------------
    def _ensure_machine(self) -> ConnectionMachine:
        if self._machine is None:
            self._ports = self._build_ports()
            observers = [self._fanout.on_event, *self._observers]
            if self._log_transitions:
                observers.append(LogListener().on_event)
            self._machine = self._machine_class(
                self.settings, self._ports, observers=observers, listeners=self._pending_listeners
            )
            if self._delivery is not None:
                self._machine.delivery = self._delivery
        return self._machine

    def _network_watch(self) -> NetworkWatch | None:
        if self._network is True:
            from .devices.network import default_network_watch

            return default_network_watch()
        return self._network or None

    def _build_ports(self) -> Ports:
        audio = self._audio
        if self._media and audio is None:
            from .devices.audio import SoundDeviceAudio

            o = self._audio_options
            audio = SoundDeviceAudio(
                o.source, output=o.output, output_device=o.output_device, wav_path=o.sink
            )
        # The media adapters need the devices as tracks (AudioIO); a test's fake Audio is not.
        devices = audio if self._media and isinstance(audio, AudioIO) else None
        context = BackendContext(self.settings.channel, media=self._media, audio=devices)
        built = self.backend.build(context)
        tokens = self._tokens
        if tokens is None and self._token_provider is not None:
            tokens = ProviderTokens(self._token_provider)
        return Ports(
            signaling=built.signaling,
            clock=self._clock or LoopClock(),
            media=built.media if self._media else None,
            audio=audio if self._media else None,
            tokens=tokens,
            network=self._network_watch(),
            features=self.backend.features,
        )


def _typed_only(listener: Listener) -> bool:
    """A Listener that only overrides ``on_event`` can skip python-statemachine's per-
    transition callbacks (about 100 KiB per connection) and be a plain observer."""
    hooks = {n for n in dir(type(listener)) if n.startswith(("on_enter_", "on_exit_", "before_"))}
    return type(listener).after_transition is Listener.after_transition and not hooks

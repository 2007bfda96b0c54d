"""ptt-fsm: the connection lifecycle of a push-to-talk client as one state chart.

The core does no I/O: it drives the ports in :mod:`fsm.ports`, which ``adapters`` (or your
own code, or :mod:`fsm.testing`) implement.
"""

from .backoff import BackoffPolicy, ExponentialBackoff, FixedSchedule, FullJitterBackoff
from .classify import DEFAULT_TABLE, FailureTable, Verdict
from .errors import (
    AuthError,
    ConfigError,
    ConnectRefused,
    ConnectTimeout,
    DeviceError,
    IllegalTransition,
    KeepaliveTimeout,
    LinkError,
    MediaTimeout,
    OperationTimeout,
    ProtocolViolation,
    PttError,
    RemoteError,
    RequestFailed,
    TransportError,
    UsageError,
)
from .events import (
    ChannelChanged,
    ErrorRaised,
    PttEvent,
    Reconnected,
    ReconnectFailed,
    Reconnecting,
    StateChanged,
)
from .machine import ConnectionMachine
from .outbox import Outbox, Outgoing
from .ports import Audio, Clock, Ports, Result, Signaling, TokenSource, Tone, Transports
from .settings import Settings
from .steps import Step
from .table import transition_table

__all__ = [
    "DEFAULT_TABLE",
    "Audio",
    "AuthError",
    "BackoffPolicy",
    "ChannelChanged",
    "Clock",
    "ConfigError",
    "ConnectRefused",
    "ConnectTimeout",
    "ConnectionMachine",
    "DeviceError",
    "ErrorRaised",
    "ExponentialBackoff",
    "FailureTable",
    "FixedSchedule",
    "FullJitterBackoff",
    "IllegalTransition",
    "KeepaliveTimeout",
    "LinkError",
    "MediaTimeout",
    "OperationTimeout",
    "Outbox",
    "Outgoing",
    "Ports",
    "ProtocolViolation",
    "PttError",
    "PttEvent",
    "ReconnectFailed",
    "Reconnected",
    "Reconnecting",
    "RemoteError",
    "RequestFailed",
    "Result",
    "Settings",
    "Signaling",
    "StateChanged",
    "Step",
    "TokenSource",
    "Tone",
    "TransportError",
    "Transports",
    "UsageError",
    "Verdict",
    "transition_table",
]

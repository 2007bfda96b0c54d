"""ptt-fsm: the connection lifecycle of a push-to-talk client as one state chart.

The core does no I/O: it drives the ports in :mod:`fsm.ports`, which ``adapters`` (or your
own code, or :mod:`fsm.testing`) implement.
"""

from .backoff import BackoffPolicy, ExponentialBackoff, FixedSchedule, FullJitterBackoff
from .classify import DEFAULT_TABLE, FailureTable, Verdict
from .domain import (
    AudioSource,
    ChannelMessage,
    Features,
    FloorAnswer,
    FloorControl,
    FloorLost,
    Joined,
    Member,
)
from .errors import (
    AuthError,
    Cause,
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
from .outbox import Intent, Outbox, Outgoing
from .plan import Step
from .ports import (
    Audio,
    Clock,
    Media,
    NetworkChange,
    NetworkWatch,
    Ports,
    Result,
    Signaling,
    TokenSource,
    Tone,
)
from .settings import Settings
from .table import transition_table

__all__ = [
    "DEFAULT_TABLE",
    "Audio",
    "AudioSource",
    "AuthError",
    "BackoffPolicy",
    "Cause",
    "ChannelChanged",
    "ChannelMessage",
    "Clock",
    "ConfigError",
    "ConnectRefused",
    "ConnectTimeout",
    "ConnectionMachine",
    "DeviceError",
    "ErrorRaised",
    "ExponentialBackoff",
    "FailureTable",
    "Features",
    "FixedSchedule",
    "FloorAnswer",
    "FloorControl",
    "FloorLost",
    "FullJitterBackoff",
    "IllegalTransition",
    "Intent",
    "Joined",
    "KeepaliveTimeout",
    "LinkError",
    "Media",
    "MediaTimeout",
    "Member",
    "NetworkChange",
    "NetworkWatch",
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
    "UsageError",
    "Verdict",
    "transition_table",
]

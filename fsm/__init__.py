"""ptt-fsm: the connection lifecycle of a push-to-talk client as one state chart.

The core does no I/O: it drives the ports in :mod:`fsm.ports`, which ``adapters`` (or your
own code, or :mod:`fsm.testing`) implement.

Names load on first use: ``import fsm.errors`` (or the reference server importing
the logger) does not load the chart.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backoff import (
        BackoffPolicy,
        ExponentialBackoff,
        FixedSchedule,
        FullJitterBackoff,
    )
    from .classify import (
        DEFAULT_TABLE,
        FailureTable,
        Verdict,
    )
    from .delivery import (
        DeliveryPolicy,
        DropCause,
        InvalidMessage,
        MessageOutcome,
        MessageTooLarge,
    )
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
    from .machine import (
        ConnectionMachine,
    )
    from .outbox import (
        Intent,
        Outbox,
        Outgoing,
    )
    from .plan import (
        Step,
    )
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
    from .settings import (
        Settings,
    )
    from .table import (
        transition_table,
    )

_HOMES = {
    "Audio": ".ports",
    "AudioSource": ".domain",
    "AuthError": ".errors",
    "BackoffPolicy": ".backoff",
    "Cause": ".errors",
    "ChannelChanged": ".events",
    "ChannelMessage": ".domain",
    "Clock": ".ports",
    "ConfigError": ".errors",
    "ConnectRefused": ".errors",
    "ConnectTimeout": ".errors",
    "ConnectionMachine": ".machine",
    "DEFAULT_TABLE": ".classify",
    "DeliveryPolicy": ".delivery",
    "DeviceError": ".errors",
    "DropCause": ".delivery",
    "ErrorRaised": ".events",
    "ExponentialBackoff": ".backoff",
    "FailureTable": ".classify",
    "Features": ".domain",
    "FixedSchedule": ".backoff",
    "FloorAnswer": ".domain",
    "FloorControl": ".domain",
    "FloorLost": ".domain",
    "FullJitterBackoff": ".backoff",
    "IllegalTransition": ".errors",
    "Intent": ".outbox",
    "InvalidMessage": ".delivery",
    "Joined": ".domain",
    "KeepaliveTimeout": ".errors",
    "LinkError": ".errors",
    "Media": ".ports",
    "MediaTimeout": ".errors",
    "Member": ".domain",
    "MessageOutcome": ".delivery",
    "MessageTooLarge": ".delivery",
    "NetworkChange": ".ports",
    "NetworkWatch": ".ports",
    "OperationTimeout": ".errors",
    "Outbox": ".outbox",
    "Outgoing": ".outbox",
    "Ports": ".ports",
    "ProtocolViolation": ".errors",
    "PttError": ".errors",
    "PttEvent": ".events",
    "ReconnectFailed": ".events",
    "Reconnected": ".events",
    "Reconnecting": ".events",
    "RemoteError": ".errors",
    "RequestFailed": ".errors",
    "Result": ".ports",
    "Settings": ".settings",
    "Signaling": ".ports",
    "StateChanged": ".events",
    "Step": ".plan",
    "TokenSource": ".ports",
    "Tone": ".ports",
    "TransportError": ".errors",
    "UsageError": ".errors",
    "Verdict": ".classify",
    "transition_table": ".table",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


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
    "DeliveryPolicy",
    "DeviceError",
    "DropCause",
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
    "InvalidMessage",
    "Joined",
    "KeepaliveTimeout",
    "LinkError",
    "Media",
    "MediaTimeout",
    "Member",
    "MessageOutcome",
    "MessageTooLarge",
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

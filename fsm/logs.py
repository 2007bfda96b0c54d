"""The library's loggers: silent unless the application configured logging.

structlog's defaults print every event to stdout; a library that relied on them would
write into the output of every bot that embeds it. So each event goes where the
application said: through structlog when the application configured structlog
(``structlog.configure``), else to the standard-library logger of the same name
(``ptt.machine``, ``ptt.signaling``...), which is silent until the application configures
``logging`` (``ptt`` carries a ``NullHandler``, as the logging HOWTO asks of libraries).
An event nobody listens to is dropped before it is rendered.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

logging.getLogger("ptt").addHandler(logging.NullHandler())

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class PttLogger:
    """A structlog-style logger (``log.info("ptt.event", key=value)``) with flat keys."""

    __slots__ = ("_stdlib", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._stdlib = logging.getLogger(name)

    def _log(self, level: str, event: str, exc_info: bool, fields: dict[str, Any]) -> None:
        if structlog.is_configured():
            method = getattr(structlog.get_logger(self.name), level)
            method(event, **({"exc_info": True} if exc_info else {}), **fields)
            return
        number = _LEVELS[level]
        if self._stdlib.isEnabledFor(number):
            pairs = " ".join(f"{k}={v!r}" for k, v in fields.items())
            self._stdlib.log(
                number,
                "%s %s",
                event,
                pairs,
                exc_info=exc_info,
                extra={"ptt_event": event, "ptt_fields": fields},
            )

    def debug(self, event: str, **fields: Any) -> None:
        self._log("debug", event, False, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log("info", event, False, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log("warning", event, False, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log("error", event, False, fields)

    def exception(self, event: str, **fields: Any) -> None:
        """An error with the exception being handled."""
        self._log("error", event, True, fields)


def get_logger(name: str) -> PttLogger:
    """The logger for ``name`` (``ptt.<area>``)."""
    return PttLogger(name)

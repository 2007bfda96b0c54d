"""A logger for websockets that never lets a token through: its DEBUG lines quote the
handshake's headers (``Authorization: Bearer ...``). Shared by the client link and the
reference server, and free of the engine so the server can import it alone."""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping


class RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to websockets: formats each record's message itself and removes
    the token and any ``Authorization`` value before a handler can see it."""

    _AUTH = re.compile(r"(?i)(authorization\s*[:=]\s*)[^\r\n'\"]*")
    _BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*")

    def __init__(self, logger: logging.Logger, token: str = "") -> None:
        super().__init__(logger, {})
        self._token = token

    def redact(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "[redacted]")
        text = self._AUTH.sub(r"\1[redacted]", text)
        return self._BEARER.sub(r"\1[redacted]", text)

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        if not self.isEnabledFor(level):
            return
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = " ".join(str(part) for part in (msg, *args))
        if kwargs.get("exc_info"):
            # A traceback can quote the headers: keep its type and message, redacted.
            info = kwargs.pop("exc_info")
            error = info[1] if isinstance(info, tuple) else info
            if isinstance(error, BaseException):
                text += f" ({type(error).__name__}: {self.redact(str(error))})"
        kwargs.setdefault("stacklevel", 2)
        self.logger.log(level, self.redact(text), **kwargs)

    def process(
        self, msg: object, kwargs: MutableMapping[str, object]
    ) -> tuple[object, MutableMapping[str, object]]:
        return msg, kwargs

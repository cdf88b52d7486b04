"""Structured JSON logs: one line per request (method, path, status, ms, user, request id) and one per error.

No secrets: query strings are not logged (they could carry a token someone pasted), nor headers, bodies or
cookies. Lines go to the ``citycarbon.api`` logger's handler set up by :func:`configure` (stderr by default),
so systemd/journald or any log shipper can parse them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LOGGER_NAME = "citycarbon.api"
#: record attributes copied into the JSON line when present
FIELDS = ("request_id", "method", "path", "status", "ms", "user", "client")


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...FIELDS, "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: int | str = logging.INFO, stream=None) -> logging.Logger:
    """Attach one JSON handler to the ``citycarbon.api`` logger (idempotent) and return the logger."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    if not any(getattr(h, "_citycarbon", False) for h in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._citycarbon = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    return logger


def request_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)

"""Log lines on stderr (text or JSON, times with their UTC offset), never the key."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime

from ..config import API_KEY_ENV
from ..text import MIN_REDACTED_SECRET, redact


def setup_logging(args: argparse.Namespace, secret: str | Sequence[str] | None = None) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    if getattr(args, "log_format", "text") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(message)s"))
    # A key too short to be real (a sandbox's) would turn redaction into garbling.
    for key in (secret,) if isinstance(secret, str) else secret or ():
        if len(key) >= MIN_REDACTED_SECRET:
            handler.addFilter(RedactSecret(key))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's own debug output could echo request headers; keep it out.
    logging.getLogger("aiohttp").setLevel(max(level, logging.INFO))


class TextFormatter(logging.Formatter):
    """Timestamps with their UTC offset: a cron log read in another time zone stays clear."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(sep=" ", timespec="milliseconds")


class JsonFormatter(TextFormatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            # exc_text first: RedactSecret may have left a redacted one there.
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RedactSecret(logging.Filter):
    """Defence in depth: no code logs the key, and this makes sure no library does either."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def redact(self, text: str) -> str:
        return redact(text, self._secret)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if (redacted := self.redact(message)) != message:
            record.msg, record.args = redacted, None
        # A traceback is text too (an exception message may quote a header): format it
        # now, redacted, and formatters print this cached text instead.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def redacted(text: str) -> str:
    """`text` without the key this command read (its log filter's) or the environment's."""
    filters = [
        kept
        for handler in logging.getLogger().handlers
        for kept in handler.filters
        if isinstance(kept, RedactSecret)
    ]
    for secret_filter in filters:
        text = secret_filter.redact(text)
    return redact(text, os.environ.get(API_KEY_ENV, "").strip())

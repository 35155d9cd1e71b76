"""Text from outside (input cells, API answers) made safe to show: one line, bounded, visible.

Shared by the loader (naming a bad character), the client (API error
text), the results writer and the review's outputs, which must not depend on
one another.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# A key too short to be real (a sandbox's) would turn redaction into garbling.
MIN_REDACTED_SECRET = 8
REDACTED = "[REDACTED]"

ELLIPSIS = "…"

# What copy and paste leaves around an identifier: spaces of every width
# (no-break spaces from web pages and Excel) and zero-width characters.
_SPACES = " \t\r\n\u00a0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
# Zero-width characters carry nothing a person can see, so inside an identifier
# they can only make it miss the order it names: removed everywhere.
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"
TRIM = _SPACES + _INVISIBLE
_DROP_INVISIBLE = str.maketrans("", "", _INVISIBLE)

# Control characters could move a terminal's cursor or hide text, and bidi overrides
# can reorder what is shown; `printable` marks them, where `one_line` blanks them.
_LAYOUT_CONTROLS = re.compile("[\t\n\r\u2028\u2029]")
_OTHER_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """Control and other invisible characters become spaces, runs of spaces one; at most `limit`."""
    return clip(" ".join("".join(ch if ch.isprintable() else " " for ch in text).split()), limit)


def printable(text: str) -> str:
    """`text` safe to show in a terminal or a page: one line, no control characters.

    Unlike `one_line` it keeps the text as it is otherwise (spaces, length), and a
    control character shows as U+FFFD, so the reader sees that something was there.
    """
    return _OTHER_CONTROLS.sub("\ufffd", _LAYOUT_CONTROLS.sub(" ", text))


def describe_char(char: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE: how a message names a character it cannot show."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip() if name else f"U+{ord(char):04X}"


def redact(text: str, secret: str) -> str:
    """`text` with every copy of `secret` (as is, or URL-encoded) replaced by [REDACTED].

    Applied to everything that came from the server before it is cut or stored:
    a gateway that echoes the key in an error or a header must not get it onto disk.
    """
    if len(secret) < MIN_REDACTED_SECRET or not text:
        return text
    text = text.replace(secret, REDACTED)
    if "%" in text:  # the key URL-encoded, %2F or %2f alike
        text = re.sub(re.escape(quote(secret, safe="")), REDACTED, text, flags=re.IGNORECASE)
    return text


def describe_error(exc: BaseException) -> str:
    """An error nobody foresaw in one line: `RuntimeError: boom`, or the type alone when
    its message is empty (a MemoryError's is)."""
    message = printable(str(exc)).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def clean_identifier(value: str) -> str:
    """Trim spaces of every kind, drop zero-width characters anywhere, NFC-normalise."""
    value = value.strip(TRIM)
    if value.isascii():
        return value
    return unicodedata.normalize("NFC", value.translate(_DROP_INVISIBLE).strip(TRIM))

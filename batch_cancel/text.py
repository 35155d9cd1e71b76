"""Text from outside (input cells, API answers) made safe to show: one line, bounded, visible.

Shared by the loader (naming a bad character), the client (API error
text), the results writer and the review's outputs, which must not depend on
one another. Importing it lifts csv's cell-size limit for every reader here.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from urllib.parse import quote

# A cell is as long as its file makes it: an export's free-text column (echoed into
# the results) can pass csv's 128 KiB default, and no row may fail on that alone.
csv.field_size_limit(2**31 - 1)

# A key too short to be real (a sandbox's) would turn redaction into garbling.
MIN_REDACTED_SECRET = 8
REDACTED = "[REDACTED]"

ELLIPSIS = "…"

# Control characters could move a terminal's cursor or hide text, and bidi overrides
# can reorder what is shown; `printable` marks them, where `one_line` blanks them.
_LAYOUT_CONTROLS = re.compile(r"[\t\n\r]")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


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
    for form in {secret, quote(secret, safe="")}:
        text = text.replace(form, REDACTED)
    return text

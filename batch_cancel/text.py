"""Text from outside (input cells, API answers) made safe to show: one line, bounded, visible.

Shared by the loader (naming a bad character), the client (API error
text) and the results writer, which must not depend on one another.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"


def one_line(text: str, limit: int) -> str:
    """Control and other invisible characters become spaces, runs of spaces one; at most `limit`."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + ELLIPSIS
    return flat


def describe_char(char: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE: how a message names a character it cannot show."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip() if name else f"U+{ord(char):04X}"

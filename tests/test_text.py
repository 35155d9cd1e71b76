"""Unit tests for text.py: clipping, one-line and printable text, naming characters,
redacting the key, and cleaning identifiers."""

from __future__ import annotations

import sys
import unicodedata
from urllib.parse import quote

import pytest

from batch_cancel.text import (
    ELLIPSIS,
    MIN_REDACTED_SECRET,
    REDACTED,
    TRIM,
    clean_identifier,
    clip,
    describe_char,
    one_line,
    printable,
    redact,
)

SECRET = "sk_live/Zq8+Jf3=VwX1"  # characters that URL-encoding changes


# --- clip ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("", 5, ""),
        ("abcd", 4, "abcd"),
        ("abcde", 4, "abc…"),
        ("abcde", 1, "…"),
        ("ÄÖÜßé", 3, "ÄÖ…"),
    ],
)
def test_clip(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected


def test_clip_is_never_longer_than_the_limit() -> None:
    for limit in range(1, 12):
        clipped = clip("x" * 20, limit)
        assert len(clipped) == limit
        assert clipped.endswith(ELLIPSIS)


# --- one_line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("  padded  ", "padded"),
        ("a\tb\r\nc\n\nd", "a b c d"),
        ("a\x00b\x1b[31mc\x7fd", "a b [31mc d"),
        ("\u202eevil\u202c", "evil"),
        ("A\u00a0B\u200bC\u3000D", "A B C D"),
        ("a\u2028b\u2029c\x85d", "a b c d"),
        ("Grüße, 東京 😀", "Grüße, 東京 😀"),
    ],
)
def test_one_line(text: str, expected: str) -> None:
    assert one_line(text, 100) == expected


def test_one_line_collapses_before_it_clips() -> None:
    assert one_line("a\n\n\n\nb" + "c" * 10, 5) == "a bc…"
    assert one_line("short", 5) == "short"


# --- printable -----------------------------------------------------------------------------


def test_printable_turns_layout_into_spaces_and_keeps_everything_else() -> None:
    assert printable("a\tb\r\nc") == "a b  c"
    assert printable("  two  spaces  ") == "  two  spaces  "
    assert printable("Grüße 東京 😀") == "Grüße 東京 😀"


@pytest.mark.parametrize(
    "char", ["\x00", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]
)
def test_printable_marks_control_characters(char: str) -> None:
    assert printable(f"a{char}b") == "a\ufffdb"


@pytest.mark.parametrize(
    "char", [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
)
def test_printable_marks_bidi_controls(char: str) -> None:
    assert printable(f"x{char}y") == "x\ufffdy"


def test_printable_keeps_the_length() -> None:
    text = "a\x1b[2J\u202eb\tc\n"
    assert len(printable(text)) == len(text)
    assert printable(text) == "a\ufffd[2J\ufffdb c "


# --- describe_char -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "expected"),
    [
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u200b", "U+200B ZERO WIDTH SPACE"),
        ("A", "U+0041 LATIN CAPITAL LETTER A"),
        ("\U0001f600", "U+1F600 GRINNING FACE"),
        ("\x00", "U+0000"),  # control characters have no name in unicodedata
        ("\x1b", "U+001B"),
        ("\ue000", "U+E000"),  # private use
    ],
)
def test_describe_char(char: str, expected: str) -> None:
    assert describe_char(char) == expected


# --- redact --------------------------------------------------------------------------------


def test_redact_every_copy_as_is_and_url_encoded() -> None:
    encoded = quote(SECRET, safe="")
    assert encoded == "sk_live%2FZq8%2BJf3%3DVwX1"
    text = f"key {SECRET} echoed; url ?k={encoded}; again {SECRET}"
    assert redact(text, SECRET) == f"key {REDACTED} echoed; url ?k={REDACTED}; again {REDACTED}"


def test_redact_takes_percent_encoding_in_either_case() -> None:
    secret = "sk/live+9f8e7d6c"
    assert redact("a sk%2flive%2b9f8e7d6c b sk%2Flive%2B9f8e7d6c", secret) == (
        f"a {REDACTED} b {REDACTED}"
    )


def test_redact_leaves_text_without_the_secret_alone() -> None:
    assert redact("nothing to see", SECRET) == "nothing to see"
    assert redact("", SECRET) == ""


def test_short_secrets_are_not_redacted() -> None:
    # A sandbox key of a few characters would otherwise blank out ordinary words.
    assert MIN_REDACTED_SECRET == 8
    short = "k" * (MIN_REDACTED_SECRET - 1)
    assert redact(f"a {short} b", short) == f"a {short} b"
    assert redact("a  b", "") == "a  b"
    just_long_enough = "k" * MIN_REDACTED_SECRET
    assert redact(f"a {just_long_enough} b", just_long_enough) == f"a {REDACTED} b"


# --- clean_identifier and TRIM -------------------------------------------------------------

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad"]
SPACES = [" ", "\t", "\r", "\n", "\u00a0", "\u1680", "\u202f", "\u205f", "\u3000"] + [
    chr(code) for code in range(0x2000, 0x200B)
]


def test_trim_is_every_space_and_every_zero_width_character() -> None:
    assert set(TRIM) == set(SPACES) | set(ZERO_WIDTH)
    assert len(TRIM) == len(set(TRIM))


def test_trim_holds_every_unicode_space_separator() -> None:
    separators = {
        chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Zs"
    }
    assert separators <= set(TRIM)


@pytest.mark.parametrize("space", SPACES)
def test_clean_identifier_trims_spaces_of_every_kind(space: str) -> None:
    assert clean_identifier(f"{space}{space}ORD-1{space}") == "ORD-1"


@pytest.mark.parametrize("invisible", ZERO_WIDTH)
def test_clean_identifier_drops_zero_width_characters_everywhere(invisible: str) -> None:
    assert clean_identifier(f"{invisible}ORD{invisible}-1{invisible}") == "ORD-1"


def test_clean_identifier_keeps_inner_spaces() -> None:
    assert clean_identifier("  ORD 1  ") == "ORD 1"
    assert clean_identifier("\u00a0ORD\u00a01\u00a0") == "ORD\u00a01"


def test_clean_identifier_trims_what_dropping_uncovers() -> None:
    # A space behind a zero-width character is an edge once the invisible one is gone.
    assert clean_identifier("\u200b \u00a0ORD-1\u3000\u200b \ufeff") == "ORD-1"
    assert clean_identifier("\u200b\u00a0\ufeff") == ""


@pytest.mark.parametrize("control", ["\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"])
def test_clean_identifier_keeps_control_characters_for_the_loader_to_name(control: str) -> None:
    # Not copy-and-paste debris: trimmed away, the row would go out instead of being flagged.
    assert clean_identifier(f"{control}ORD-1{control}") == f"{control}ORD-1{control}"
    assert clean_identifier(f" {control}ÄRD-1 ") == f"{control}ÄRD-1"


def test_clean_identifier_is_nfc() -> None:
    decomposed = "Cafe\u0301-\u212b"  # e + combining acute; ANGSTROM SIGN
    cleaned = clean_identifier(f" {decomposed} ")
    assert cleaned == "Caf\u00e9-\u00c5"
    assert unicodedata.is_normalized("NFC", cleaned)


def test_clean_identifier_leaves_a_clean_value_alone() -> None:
    for value in ["ORD-1", "TKP/2024/001", "東京-1", ""]:
        assert clean_identifier(value) == value

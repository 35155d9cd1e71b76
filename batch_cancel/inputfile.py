"""Turn the input path into UTF-8 bytes to parse, or refuse it with a one-line reason.

Everything here happens before the first row is read, so a file that cannot be
read (missing, a directory, unreadable, empty, binary, a workbook renamed .csv,
not in the encoding the operator named) stops the command before anything is
sent, and the encoding is settled before the first request leaves:
- `--encoding NAME` given: the file must be valid in it, strictly;
- otherwise a UTF-16/32 byte order mark (Excel's "Unicode text") decides;
  otherwise UTF-8 with or without a BOM; and a file that is not valid UTF-8 is
  read as Windows-1252, so one odd byte does not stop a night's run (the loader
  turns `not_utf8_at_line` into a warning for the log and the summary).

Anything but UTF-8 is copied once into a private temporary file as UTF-8: the
loader, pandas and the record scanner then all read the same plain bytes.
"""

from __future__ import annotations

import codecs
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputFileError

log = logging.getLogger(__name__)

READ_BLOCK_BYTES = 1 << 20
SNIFF_BYTES = 64 * 1024
# git's test for "binary": a NUL byte among the first 8000 bytes. Later NULs are
# damage inside a text file and make their rows invalid instead.
BINARY_SNIFF_BYTES = 8000

# Byte order marks, longest first (the UTF-32 LE mark starts like UTF-16 LE's).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Files that are often renamed to .csv by mistake, by their first bytes.
SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or another zip file, not CSV text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls), not CSV text"),
    (b"%PDF", "a PDF, not CSV text"),
    (b"\x1f\x8b", "a gzip-compressed file, not CSV text"),
    (b"\x89PNG", "a PNG image, not CSV text"),
)
SAVE_AS_CSV = "save it from the spreadsheet as 'CSV UTF-8'"

# cp1252 leaves five bytes undefined; rather than fail on one odd byte, read
# them as the C1 control characters latin-1 gives them, which the loader's
# value checks then report.
CP1252_FALLBACK_ERRORS = "batch_cancel.cp1252_as_latin1"


def _undefined_as_latin1(error: UnicodeError) -> tuple[str, int]:
    if isinstance(error, UnicodeDecodeError):
        return error.object[error.start : error.end].decode("latin-1"), error.end
    raise error


codecs.register_error(CP1252_FALLBACK_ERRORS, _undefined_as_latin1)


@dataclass(frozen=True, kw_only=True)
class Source:
    """The input as UTF-8 bytes: the file itself, or a transcoded copy of it."""

    path: Path  # what to read
    start: int = 0  # bytes to skip there: a UTF-8 byte order mark
    encoding: str = "UTF-8"  # what the input was read as, for messages
    not_utf8_at_line: int | None = None  # set when cp1252 was guessed: where UTF-8 broke
    # Holds the transcoded copy's directory; it is removed when this goes away.
    keep: object = field(default=None, repr=False, compare=False)


def open_source(path: Path, encoding: str | None) -> Source:
    """Check the file, settle its encoding; raises InputFileError with a one-line reason."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if not path.is_file():
        raise InputFileError(f"{path}: not a regular file")
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if not head.strip():
        raise InputFileError(f"{path}: file is empty (no header line)")
    utf8_start = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise InputFileError(f"unknown --encoding {encoding!r}") from exc
        if _ascii_compatible(name):
            _refuse_binary(path, head)
        if name in ("utf-8", "utf-8-sig"):
            _first_invalid_utf8(path, utf8_start, strict=True)
            return Source(path=path, start=utf8_start)
        return _transcode(path, name, errors="strict", label=encoding)
    for bom, name in BOMS:
        if head.startswith(bom) and name != "utf-8-sig":
            log.info("%s: %s, by its byte order mark", path, name.upper())
            return _transcode(path, name, errors="strict", label=name.upper())
    _refuse_binary(path, head)
    bad_line = _first_invalid_utf8(path, utf8_start, strict=False)
    if bad_line is None:
        return Source(path=path, start=utf8_start)
    source = _transcode(path, "cp1252", errors=CP1252_FALLBACK_ERRORS, label="cp1252")
    return Source(path=source.path, encoding="cp1252", not_utf8_at_line=bad_line, keep=source.keep)


def _refuse_binary(path: Path, head: bytes) -> None:
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            raise InputFileError(f"{path}: this is {what}; {SAVE_AS_CSV}")
    if b"\x00" in head[:BINARY_SNIFF_BYTES]:
        raise InputFileError(
            f"{path}: binary data (NUL bytes), not CSV text; if it is UTF-16 without "
            "a byte order mark, pass --encoding utf-16-le"
        )


def _first_invalid_utf8(path: Path, start: int, *, strict: bool) -> int | None:
    """The line of the first invalid UTF-8 sequence, or None; raises instead if `strict`.

    A full pass, but a cheap one: ~30 ms for 1M rows, as an all-ASCII block
    (most of them) needs only `bytes.isascii()`.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        handle.seek(start)
        offset = start
        while True:
            block = handle.read(READ_BLOCK_BYTES)
            try:
                if not (block.isascii() and not decoder.getstate()[0]):
                    decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                pending = len(exc.object) - len(block)  # bytes held from the last block
                bad_at = offset + exc.start - pending
                line = _line_at(path, bad_at)
                if strict:
                    raise InputFileError(
                        f"{path}: not valid UTF-8 at line {line} (byte offset {bad_at}: "
                        f"{exc.reason}); pass the file's real --encoding"
                    ) from exc
                return line
            if not block:
                return None
            offset += len(block)


def _line_at(path: Path, offset: int) -> int:
    """The line number of a byte offset (only on the way to a message)."""
    lines = 1
    with path.open("rb") as handle:
        while offset > 0:
            block = handle.read(min(READ_BLOCK_BYTES, offset))
            if not block:
                break
            lines += block.count(b"\n")
            offset -= len(block)
    return lines


def _transcode(path: Path, encoding: str, *, errors: str, label: str) -> Source:
    """Copy the input as UTF-8 into a private temporary directory (mode 0700: order data)."""
    directory = tempfile.TemporaryDirectory(prefix="batch-cancel-")
    target = Path(directory.name) / "input.utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    lines = 1
    first = True
    with path.open("rb") as source, target.open("wb") as sink:
        while True:
            block = source.read(READ_BLOCK_BYTES)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                line = lines + exc.object[: exc.start].decode(encoding, "replace").count("\n")
                directory.cleanup()
                raise InputFileError(
                    f"{path}: not valid {label} at line {line} ({exc.reason}); pass the "
                    "file's real --encoding"
                ) from exc
            if first and text:
                text = text.removeprefix("\ufeff")  # a BOM the codec did not consume
                first = False
            sink.write(text.encode("utf-8", "replace"))
            lines += text.count("\n")
            if not block:
                break
    return Source(path=target, encoding=label, keep=directory)


def _ascii_compatible(encoding: str) -> bool:
    """Whether the encoding writes delimiters, quotes and line ends as the ASCII bytes."""
    try:
        return 'a,;\t|"\r\n'.encode(encoding) == b'a,;\t|"\r\n'
    except (UnicodeError, LookupError):
        return False

"""The input file as lines of text: checked, decoded, and watched for changes while it is read.

Everything `open_source` checks happens before the first row is read, so a file
that cannot be read (missing, a directory, unreadable, empty, binary, a workbook
renamed .csv, not in the encoding the operator named) stops the command before
anything is sent:
- `--encoding NAME` given: the whole file must be valid in it, checked up front;
- otherwise a UTF-16/32 byte order mark (Excel's "Unicode text") decides, also
  checked up front;
- otherwise UTF-8 with or without a BOM, line by line: a line that is not valid
  UTF-8 is read as Windows-1252, and only that line, so one odd byte neither
  stops a night nor garbles the valid UTF-8 elsewhere (`Source.cp1252_lines`
  names them for the summary).

`Source.lines()` yields physical lines with their line ends (`\\n`, `\\r\\n` or
a lone `\\r`, nothing else: csv needs the quoted ones kept). After every block
it reads, it checks that the file still has the size and modification time it
had when it was opened; a file still being written or cut while it is read
raises InputFileChangedError before any line of that block is handed on.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import AnyStr

from .errors import InputFileChangedError, InputFileError

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


@dataclass(frozen=True, slots=True)
class _Snapshot:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, stat: os.stat_result) -> _Snapshot:
        return cls(stat.st_size, stat.st_mtime_ns)


@dataclass(eq=False, kw_only=True)
class Source:
    """An input file whose encoding is settled; `lines()` reads it, as often as needed."""

    path: Path
    encoding: str | None  # a codec name; None: UTF-8 line by line, cp1252 where it is not
    label: str  # what the input is read as, for messages
    start: int  # bytes to skip: a UTF-8 byte order mark
    snapshot: _Snapshot
    cp1252_lines: list[int] = field(default_factory=list)  # filled by the last lines()
    ends_without_line_break: bool = False  # set by the last lines() once it is done

    def lines(self) -> Iterator[str]:
        """The file's lines, line ends kept; raises InputFileChangedError if the file changes."""
        self.cp1252_lines = []
        self.ends_without_line_break = False
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            blocks = self._blocks(handle)
            if self.encoding is None:
                yield from self._utf8_lines(blocks)
            else:
                yield from self._decoded_lines(blocks, self.encoding)

    def head_text(self) -> str:
        """The start of the file as text (for the header line), whatever its encoding."""
        return self._head_decoded("replace")

    def first_line_bytes(self) -> int:
        """The first line's length in the file's own bytes (past SNIFF_BYTES: more than that)."""
        # surrogateescape: an undecodable byte is one character that encodes back to itself.
        line = re.split("[\r\n]", self._head_decoded("surrogateescape"), maxsplit=1)[0]
        encoding = self.encoding or "utf-8"
        bom = len("".encode(encoding))  # utf-16 and utf-32 encode one
        return len(line.encode(encoding, "surrogateescape")) - bom

    def _head_decoded(self, errors: str) -> str:
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            head = handle.read(SNIFF_BYTES + 4)
        return codecs.getincrementaldecoder(self.encoding or "utf-8")(errors=errors).decode(head)

    def _blocks(self, handle: io.BufferedReader) -> Iterator[bytes]:
        while True:
            block = handle.read(READ_BLOCK_BYTES)
            self._check_unchanged(handle)
            if not block:
                return
            yield block

    def _check_unchanged(self, handle: io.BufferedReader) -> None:
        now = _Snapshot.of(os.fstat(handle.fileno()))
        if now != self.snapshot:
            what = _what_changed(self.snapshot, now)
            raise InputFileChangedError(
                f"{self.path}: the file changed while it was read ({what}); no row read "
                "after the change was sent: run again once the file is complete"
            )

    def _utf8_lines(self, blocks: Iterator[bytes]) -> Iterator[str]:
        line_no = 0
        carry = b""
        for block in blocks:
            data = carry + block
            complete, carry = _split_at_last_line_end(data, b"\n", b"\r")
            if not complete:
                continue
            try:
                text = complete.decode("utf-8")
            except UnicodeDecodeError:
                for raw in complete.splitlines(keepends=True):
                    line_no += 1
                    yield self._decode_line(raw, line_no)
            else:
                for line in io.StringIO(text, newline=""):
                    line_no += 1
                    yield line
        if carry:
            self.ends_without_line_break = True
            yield self._decode_line(carry, line_no + 1)

    def _decode_line(self, raw: bytes, line_no: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.cp1252_lines.append(line_no)
            return raw.decode("cp1252", CP1252_FALLBACK_ERRORS)

    def _decoded_lines(self, blocks: Iterator[bytes], encoding: str) -> Iterator[str]:
        # Checked up front by open_source, so a decoding error here means the file changed.
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        carry = ""
        for block in blocks:
            complete, carry = _split_at_last_line_end(carry + decoder.decode(block), "\n", "\r")
            yield from io.StringIO(complete, newline="")
        carry += decoder.decode(b"", final=True)
        if carry:
            self.ends_without_line_break = not carry.endswith(("\n", "\r"))
            yield from io.StringIO(carry, newline="")


def _split_at_last_line_end(data: AnyStr, lf: AnyStr, cr: AnyStr) -> tuple[AnyStr, AnyStr]:
    """(the complete lines, the rest); a final \\r waits, it may be the start of \\r\\n."""
    end = len(data) - 1 if data.endswith(cr) else len(data)
    cut = max(data.rfind(lf, 0, end), data.rfind(cr, 0, end)) + 1
    return data[:cut], data[cut:]


def _what_changed(before: _Snapshot, now: _Snapshot) -> str:
    if now.size != before.size:
        return f"{before.size} bytes when opened, {now.size} now"
    return "modified, same size"


def open_source(path: Path, encoding: str | None) -> Source:
    """Check the file, settle its encoding; raises InputFileError with a one-line reason."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if not path.is_file():
        raise InputFileError(f"{path}: not a regular file")
    try:
        with path.open("rb") as handle:
            snapshot = _Snapshot.of(os.fstat(handle.fileno()))
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
        start = utf8_start if name in ("utf-8", "utf-8-sig") else 0
        source = Source(path=path, encoding=name, label=encoding, start=start, snapshot=snapshot)
        _check_decodes(source)
        return source
    for bom, name in BOMS:
        if head.startswith(bom) and name != "utf-8-sig":
            log.info("%s: %s, by its byte order mark", path, name.upper())
            source = Source(
                path=path, encoding=name, label=name.upper(), start=0, snapshot=snapshot
            )
            _check_decodes(source)
            return source
    _refuse_binary(path, head)
    return Source(path=path, encoding=None, label="UTF-8", start=utf8_start, snapshot=snapshot)


def _refuse_binary(path: Path, head: bytes) -> None:
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            raise InputFileError(f"{path}: this is {what}; {SAVE_AS_CSV}")
    if b"\x00" in head[:BINARY_SNIFF_BYTES]:
        raise InputFileError(
            f"{path}: binary data (NUL bytes), not CSV text; if it is UTF-16 without "
            "a byte order mark, pass --encoding utf-16-le"
        )


def _check_decodes(source: Source) -> None:
    """The whole file must be valid in the named encoding, before anything is sent."""
    assert source.encoding is not None
    decoder = codecs.getincrementaldecoder(source.encoding)()
    ascii_fast = _ascii_compatible(source.encoding)  # most blocks of most exports are ASCII
    lines = 1
    with source.path.open("rb") as handle:
        handle.seek(source.start)
        while True:
            block = handle.read(READ_BLOCK_BYTES)
            try:
                if not (ascii_fast and block.isascii() and not decoder.getstate()[0]):
                    text = decoder.decode(block, final=not block)
                    lines += text.count("\n")
                else:
                    lines += block.count(b"\n")
            except UnicodeDecodeError as exc:
                lines += exc.object[: exc.start].decode(source.encoding, "replace").count("\n")
                raise InputFileError(
                    f"{source.path}: not valid {source.label} at line {lines} ({exc.reason}); "
                    "pass the file's real --encoding"
                ) from exc
            if not block:
                return


def _ascii_compatible(encoding: str) -> bool:
    """Whether the encoding writes delimiters, quotes and line ends as the ASCII bytes."""
    try:
        return 'a,;\t|"\r\n'.encode(encoding) == b'a,;\t|"\r\n'
    except (UnicodeError, LookupError):
        return False

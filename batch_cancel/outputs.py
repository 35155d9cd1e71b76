"""Where an output file may go, and how one is written whole.

Every output (`run -o`, `--summary-json`, `summarize --needs-attention`,
`report -o`) is checked before anything is read or sent: never an input file
(the same file by any name), a directory, a device, a pipe or a socket, and a
symlink is followed (the link stays; its target is written). Outputs are written
under a name of their own run's and renamed into place, so a reader finds the
old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from .errors import ConfigError, write_failed

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def output_target(path: Path, *, flag: str, inputs: Iterable[Path] = ()) -> Path:
    """The file to write for `path`; ConfigError (exit 2) if it may not be written."""
    target = path.resolve() if path.is_symlink() else path
    try:
        found = os.stat(target)
    except FileNotFoundError:
        return target  # a new file cannot be one of the inputs
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot check it ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(found.st_mode):
        kind = next((what for test, what in _KINDS if test(found.st_mode)), "not a regular file")
        shown = path if target == path else f"{path} (a link to {target})"
        raise ConfigError(f"{flag} {shown} is {kind}; name a file to write")
    for source in inputs:
        try:
            same = os.path.samefile(target, source)
        except OSError:
            continue
        if same:
            raise ConfigError(
                f"{flag} {path} would overwrite the input {source}; name another file"
            )
    return target


def own_partial(path: Path) -> tuple[Path, int]:
    """A new file beside `path`, named for this run alone, open for writing: (name, fd).

    Mode 0o666 under the umask, as any file the user writes (mkstemp's 0600 would
    hide the results from the reviewers).
    """
    partial = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    return partial, os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)


def write_atomically(path: Path, encoding: str, write: Callable[[TextIO], object]) -> None:
    """Write under a name of this run's own and rename: nobody opens a half-written file."""
    partial: Path | None = None
    try:
        partial, fd = own_partial(path)
        with open(fd, "w", encoding=encoding, newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as exc:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise write_failed(path, exc) from exc

"""Where an output file may go, and how one is written whole.

Every output (`run -o` and the results files, `--summary-json`,
`summarize --needs-attention`, `report -o`) is checked before anything is read
or sent: never a directory, a device, a pipe or a socket (a symlink is
followed: the link stays, its target is written), and never a file the command
reads or keeps (`Role`), compared by identity: a symlink or a hard link to it,
or the same new file named twice, is refused as the file itself. Outputs are
written under a name of their own run's and renamed into place, so a reader
finds the old file or the new one, never half of one. A file moved or kept
aside never replaces another (`keep_beside`, `move_into`).
"""

from __future__ import annotations

import enum
import errno
import glob
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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


class Role(enum.Enum):
    """Every file a command reads, writes or keeps, as a refusal names it: (what, whose flag)."""

    INPUT = ("the input", "")
    RESULTS = ("the results file", "")
    RESULTS_INCOMPLETE = ("the results file's incomplete copy", "")
    RESULTS_LOCK = ("the results file's lock", "")
    SUMMARY_JSON = ("the run summary", "--summary-json")
    LEDGER = ("the ledger", "--state")
    LEDGER_WAL = ("the ledger's write-ahead log", "--state")
    LEDGER_SHM = ("the ledger's shared-memory index", "--state")
    LEDGER_JOURNAL = ("the ledger's rollback journal", "--state")
    LEDGER_LOCK = ("the ledger's lock", "--state")
    CONFIG = ("the config file", "--config")
    KEY_FILE = ("the key file", "--api-key-file")
    NEEDS_ATTENTION = ("the needs-attention CSV", "--needs-attention")
    REPORT = ("the HTML report", "-o")

    def __init__(self, what: str, flag: str) -> None:
        self.what = what
        self.flag = flag


@dataclass(frozen=True)
class Named:
    """A file in one of its roles; `path` as the command was given it (messages show it)."""

    path: Path
    role: Role


def ledger_files(state: Path) -> list[Named]:
    """The ledger and every file SQLite and the state lock keep beside it."""
    real = state.resolve()  # the ledger is opened (and its lock taken) by its resolved name
    beside = [
        (f"{real.name}-wal", Role.LEDGER_WAL),
        (f"{real.name}-shm", Role.LEDGER_SHM),
        (f"{real.name}-journal", Role.LEDGER_JOURNAL),
        (f"{real.name}.lock", Role.LEDGER_LOCK),
    ]
    return [Named(state, Role.LEDGER), *(Named(real.with_name(n), r) for n, r in beside)]


def results_lock_path(results: Path) -> Path:
    """`.<results name>.lock` beside the resolved results file."""
    real = results.resolve()
    return real.with_name(f".{real.name}.lock")


def results_files(results: Path) -> list[Named]:
    """What a run writing `results` keeps beside it: its lock and its incomplete copy."""
    return [
        Named(results_lock_path(results), Role.RESULTS_LOCK),
        Named(incomplete_path(results), Role.RESULTS_INCOMPLETE),
    ]


def check_outputs(outputs: Sequence[tuple[str, Named]], kept: Iterable[Named]) -> list[Path]:
    """The file each (flag, output) writes, in order; ConfigError (exit 2) naming both roles
    if one is not a file to write, is one of `kept`, or is an earlier output again."""
    taken = [(_identity(item.path), item) for item in kept]
    targets = []
    for flag, output in outputs:
        target = output_target(output.path, flag=flag)
        identity = _identity(target)
        for other_identity, other in taken:
            if identity == other_identity:
                raise ConfigError(
                    f"{flag} {output.path} would overwrite {_naming(other)}; name another file"
                )
        taken.append((identity, output))
        targets.append(target)
    return targets


def _naming(item: Named) -> str:
    # The key file's path is never shown: a key pasted where its path belongs is a secret.
    path = "" if item.role is Role.KEY_FILE else f" {item.path}"
    flag = f" ({item.role.flag})" if item.role.flag else ""
    return f"{item.role.what}{path}{flag}"


def _identity(path: Path) -> tuple[object, ...]:
    """What makes two names one file: its inode if it exists; else the folder's inode and
    the name the file would get (a symlink followed, so a new file named two ways is one)."""
    try:
        found = os.stat(path)
        return (found.st_dev, found.st_ino)
    except (OSError, ValueError):
        pass
    real = Path(os.path.abspath(path)).resolve()
    try:
        folder = os.stat(real.parent)
    except (OSError, ValueError):
        return (str(real),)  # a folder to be made: its resolved name is all there is
    return (folder.st_dev, folder.st_ino, real.name)


def output_target(path: Path, *, flag: str) -> Path:
    """The file to write for `path`; ConfigError (exit 2) if it is not a file to write."""
    target = path.resolve() if path.is_symlink() else path
    try:
        found = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot check it ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(found.st_mode):
        kind = next((what for test, what in _KINDS if test(found.st_mode)), "not a regular file")
        shown = path if target == path else f"{path} (a link to {target})"
        raise ConfigError(f"{flag} {shown} is {kind}; name a file to write")
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


# When a kept or archived file was written, in its new name: sorts as it happened.
_STAMP = "%Y%m%dT%H%M%SZ"
# The kinds of file a name ends with; a stamp goes before them, so globs still see the kind.
_KINDS_OF_NAME = (".results.csv", ".dry-run.csv")


def incomplete_path(results: Path) -> Path:
    """Where a run that broke off leaves the results it had written."""
    return results.with_name(f"{results.stem}.incomplete{results.suffix}")


# The day (UTC) in a results name stamped() made, as `_STAMP` writes it (and its -N).
_STAMPED_DAY = re.compile(r"\.(\d{8})T\d{6}Z(?:-\d+)?\.results\.csv$")


def stamped_day(path: Path) -> str | None:
    """20261207 for export.20261207T023000Z.results.csv; None for a name not stamped."""
    found = _STAMPED_DAY.search(path.name)
    return found.group(1) if found else None


def stamped(path: Path, moment: datetime, number: int = 1) -> Path:
    """export.results.csv -> export.20261207T023000Z.results.csv (-2, -3, ... after the
    stamp when that name is taken)."""
    stamp = moment.astimezone(UTC).strftime(_STAMP) + (f"-{number}" if number > 1 else "")
    kind = _kind_of(path)
    return path.with_name(f"{path.name.removesuffix(kind)}.{stamp}{kind}")


def _kind_of(path: Path) -> str:
    name = path.name
    return next((k for k in _KINDS_OF_NAME if name.endswith(k) and name != k), path.suffix)


def kept_names(path: Path) -> list[Path]:
    """The stamped names beside `path` (see stamped) that exist now."""
    kind = _kind_of(path)
    try:
        return sorted(path.parent.glob(f"{glob.escape(path.name.removesuffix(kind))}.*{kind}"))
    except OSError:
        return []


def keep_beside(path: Path) -> Path | None:
    """Keep the file at `path` under a new name beside it, named for when it was written,
    before something replaces it; None if there is no file. Never replaces a file."""
    try:
        written = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except FileNotFoundError:
        return None
    for number in range(1, 1000):
        kept = stamped(path, written, number)
        try:
            _new_name(path, kept)
        except FileExistsError:
            continue
        return kept
    raise FileExistsError(errno.EEXIST, "every kept name is taken", str(path))


def move_into(source: Path, target: Path) -> None:
    """Move a file to `target`, which must not exist yet, on any filesystem: a new name
    (or a copy, synced) first, then the old name goes."""
    _new_name(source, target)
    os.unlink(source)


def free_names(paths: Sequence[Path], folder: Path, moment: datetime) -> list[Path]:
    """Names in `folder` for `paths`, none of them taken: their own names if all are free,
    else all of them stamped alike, so a file and its results stay a pair."""
    for number in range(0, 1000):
        names = [
            folder / path.name if number == 0 else stamped(folder / path.name, moment, number)
            for path in paths
        ]
        if not any(os.path.lexists(name) for name in names):
            return names
    raise FileExistsError(errno.EEXIST, "every archive name is taken", str(folder))


def _new_name(source: Path, target: Path) -> None:
    """`target` becomes another name of `source` (a hard link), or a synced copy where the
    two are on different filesystems; FileExistsError if `target` exists."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
            raise
        _copy_to_new(source, target)
    _sync_folder(target.parent)


def _copy_to_new(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(source, "rb") as reading, open(fd, "wb") as writing:
            shutil.copyfileobj(reading, writing)
            writing.flush()
            os.fsync(writing.fileno())
        shutil.copystat(source, target)
    except BaseException:
        target.unlink(missing_ok=True)  # half a copy is no copy; the source stays
        raise


def _sync_folder(folder: Path) -> None:
    """The new name itself on disk, not only the file's bytes."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

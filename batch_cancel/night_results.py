"""A night's results files while its rows are in flight: each input's results lock and
writer (`_ResultsFiles`), and the earlier run's results kept beside them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .config import NightFile
from .errors import (
    InputFileError,
    LedgerError,
    LockHeldError,
    RecordingError,
    write_failed,
)
from .formats.results_csv import ResultsWriter
from .ledger import RunRecord
from .lock import RunLock
from .models import (
    LoadedRow,
    Outcome,
    RowResult,
)
from .outcome import UnreadFile
from .outputs import keep_beside, results_lock_path

log = logging.getLogger(__name__)


def results_lock(path: Path) -> RunLock:
    """One writer per results file, whatever ledger each run uses."""
    return RunLock(results_lock_path(path), what="the results file's lock")


class _ResultsFiles:
    """Each input's results lock and writer, open only while its rows are in flight.

    A file's lock and writer are taken as the run reaches the file (before its first
    row can be sent) and closed once its last row is recorded, so a night of any
    number of files holds only the few whose rows are queued or in flight.
    """

    def __init__(
        self,
        files: Sequence[NightFile],
        headers: Sequence[Sequence[str]],
        *,
        live: bool,
        run: RunRecord | None = None,
    ) -> None:
        self._files = files
        self._run = run  # told of each file begun (RunRecord.file_started)
        self._headers = headers
        self._live = live  # a live run's results never replace an earlier run's
        self._writers: list[ResultsWriter | None] = [None] * len(files)  # while open
        self.counts: list[Counter[Outcome] | None] = [None] * len(files)  # once started
        self.previous: list[Path | None] = [None] * len(files)  # where an earlier run's went
        self.unread: list[UnreadFile] = []
        self.failure: RecordingError | None = None  # a results file could not be started
        self._open: dict[int, ExitStack] = {}
        self._read = [0] * len(files)
        self._recorded = [0] * len(files)
        self._reading: set[int] = set()

    def rows(self, per_file: Sequence[Iterable[LoadedRow]]) -> Iterator[LoadedRow]:
        for index, rows in enumerate(per_file):
            if self.failure is not None:
                return
            yield from self._rows_of(index, rows)

    def _rows_of(self, index: int, rows: Iterable[LoadedRow]) -> Iterator[LoadedRow]:
        night_file = self._files[index]
        try:
            self._start(index)
        except LockHeldError as exc:  # taken since the check at the start: one file lost
            self._lost(night_file, str(exc))
            return
        except RecordingError as exc:
            self.failure = exc
            return
        self._reading.add(index)
        try:
            for row in rows:
                self._read[index] += 1
                yield row
        except (InputFileError, OSError) as exc:  # changed or vanished since it was opened
            if not night_file.from_glob:
                raise
            reason = (
                str(exc) if isinstance(exc, InputFileError) else f"{exc.filename}: {exc.strerror}"
            )
            self._lost(night_file, reason)  # its rows read so far go on as usual
        self._reading.discard(index)
        self._finish_if_done(index)

    def _start(self, index: int) -> None:
        night_file = self._files[index]
        with ExitStack() as stack:
            stack.enter_context(results_lock(night_file.output))
            header = self._headers[index]
            writer = stack.enter_context(ResultsWriter(night_file.output, header))
            if self._run is not None:
                try:
                    self._run.file_started(
                        index, night_file.output, writer.partial_path, night_file.archive
                    )
                except LedgerError:
                    pass  # no row is sent from now on; this file still records every row
                except OSError as exc:
                    raise write_failed(writer.partial_path, exc) from exc
            self._writers[index], self.counts[index] = writer, writer.counts
            self._open[index] = stack.pop_all()

    def add(self, row: LoadedRow, result: RowResult) -> None:
        writer = self._writers[row.file]
        assert writer is not None
        writer.add(row, result)
        self._recorded[row.file] += 1
        self._finish_if_done(row.file)

    def _finish_if_done(self, index: int) -> None:
        reading = index in self._reading
        if index in self._open and not reading and self._recorded[index] == self._read[index]:
            self._finish(index)

    def _finish(self, index: int) -> None:
        writer = self._writers[index]
        assert writer is not None
        if self._live:
            self.previous[index] = _keep_previous(writer.path)
        writer.close()
        self._open.pop(index).close()
        self._writers[index] = None  # a closed writer still holds its buffers

    def _lost(self, night_file: NightFile, reason: str) -> None:
        log.error("%s", reason)
        self.unread.append(
            UnreadFile(input_path=night_file.input.path, source=night_file.source, reason=reason)
        )

    def close(self) -> None:
        """Every file started is complete (a stop still records every row it read)."""
        for index in sorted(self._open):
            self._finish(index)

    def __enter__(self) -> _ResultsFiles:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        # An error on its way: what each open file has is kept as its .incomplete.csv.
        for index in sorted(self._open):
            self._open.pop(index).__exit__(*exc_info)


def _keep_previous(results: Path) -> Path | None:
    """A live run's results never replace an earlier run's: that file is kept beside them."""
    try:
        kept = keep_beside(results)
    except OSError as exc:  # then the new results stay .incomplete.csv: nothing is replaced
        raise write_failed(results, exc) from exc
    if kept is not None:
        log.info("%s: the earlier results are kept as %s", results, kept)
    return kept

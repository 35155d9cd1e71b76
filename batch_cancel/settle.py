"""An order in doubt: a cancel that may have reached Shipper with no answer back.

Whether a failed send may have arrived (MAY_HAVE_ARRIVED), the read-back that asks
Shipper before the order is sent again (ReadBack, at the run's pace and with its
retries), what the read's answer makes of the row (settled_by_read), and the
`in_doubt` result when nothing says what the cancel did (left_in_doubt).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from .models import (
    ApiAnswer,
    CancelRequest,
    LoadedRow,
    LocalCode,
    Outcome,
    ReadAnswer,
    RowResult,
    utc_now,
)
from .readback import Meaning, meaning_of, verdict

Reader = Callable[[str, str], Awaitable[ReadAnswer]]  # (order_no, warehouse_id)

# Failures after which the request may have reached Shipper (DNS and TLS failures never left).
MAY_HAVE_ARRIVED = frozenset({LocalCode.TIMEOUT, LocalCode.CONNECTION_ERROR})


class RunGate(Protocol):
    """What a read needs of the run it is part of (the Runner): its turn and start slot
    (cancels and reads share the rate), its watch over the API, and its stop."""

    async def turn(self) -> bool: ...

    async def slot(self) -> bool: ...

    def observe(self, answer: ApiAnswer | ReadAnswer, latency_s: float) -> None: ...

    def stop_if_refused(self, answer: ApiAnswer | ReadAnswer) -> bool: ...

    async def sleep_unless_stopped(self, delay: float) -> None: ...

    def recording_failed(self, exc: Exception) -> None: ...


class Retries(Protocol):
    @property
    def max_attempts(self) -> int: ...

    def delay(self, attempt: int, retry_after_s: float | None) -> float: ...


class ReadLog(Protocol):
    def read_answered(self, request: CancelRequest, answer: ReadAnswer, *, cancelled: bool) -> None:
        """A read-back of the order ended (http_status 0: no answer)."""


class ReadBack:
    """Reads an order back at the run's pace, with the cancel's retries."""

    def __init__(
        self,
        read: Reader,
        statuses: Mapping[str, Meaning],
        *,
        gate: RunGate,
        retries: Retries,
        log: ReadLog,
    ) -> None:
        self._read = read
        self._statuses = statuses
        self._gate = gate
        self._retries = retries
        self._log = log

    async def __call__(self, request: CancelRequest) -> tuple[ReadAnswer, Meaning | None, int]:
        """The last answer, what it means (None: nothing known), and how many reads were made."""
        gate = self._gate
        answer = ReadAnswer(
            http_status=0, error_code=LocalCode.RUN_INTERRUPTED, error_message="the run stopped"
        )
        reads = 0
        while reads < self._retries.max_attempts and await gate.turn() and await gate.slot():
            reads += 1
            sent_at = time.monotonic()
            try:
                answer = await self._read(request.order_no, request.warehouse_id)
            except Exception as exc:
                if (failure := no_answer(exc)) is None:
                    raise
                answer = ReadAnswer(
                    http_status=0,
                    error_code=failure.error_code,
                    error_message=failure.error_message,
                )
            gate.observe(answer, time.monotonic() - sent_at)
            meaning = meaning_of(answer, self._statuses)
            try:
                cancelled = meaning is Meaning.CANCELLED
                self._log.read_answered(request, answer, cancelled=cancelled)
            except Exception as exc:
                gate.recording_failed(exc)
            if meaning is not None:
                return answer, meaning, reads
            gate.stop_if_refused(answer)
            if answer.http_status and not is_transient(answer.http_status):
                break  # a 3xx, 405, ...: asking again would get the same
            if reads < self._retries.max_attempts:
                await gate.sleep_unless_stopped(self._retries.delay(reads, answer.retry_after_s))
        return answer, None, reads


def settled_by_read(
    row: LoadedRow, answer: ReadAnswer, meaning: Meaning | None, attempts: int
) -> RowResult | None:
    """The row's outcome from what a read-back found; None when the order is still open
    (sending is safe)."""
    request = row.request
    assert request is not None
    if meaning is Meaning.OPEN:
        return None
    if meaning is None:
        return left_in_doubt(row, answer, attempts, read_back=True)
    asked = join(answer.so_status, f"request id {answer.request_id or '(none)'}")
    result = RowResult(
        source_row=row.source_row,
        status=Outcome.REJECTED,
        http_status=answer.http_status or None,
        error_code=answer.so_status or answer.error_code,
        attempts=attempts,
        request_id=answer.request_id,
        finished_at=utc_now(),
    )
    if meaning is Meaning.CANCELLED:
        result.status, result.error_code = Outcome.CANCELLED, ""
        message = f"confirmed cancelled by read-back ({asked})"
    else:
        message = f"not sent again: {verdict(answer, meaning)} (read-back {asked})"
        if meaning is Meaning.UNKNOWN:
            message = join(message, answer.error_message)
    result.error_message = join(message, request.note)
    return result


def left_in_doubt(
    row: LoadedRow, answer: ApiAnswer | ReadAnswer, attempts: int, *, read_back: bool = False
) -> RowResult:
    """A cancel that may have reached Shipper, and nothing says what it did: the ledger
    could not record its missing answer, or the read-back that should have said failed."""
    why = f"{answer.error_code or f'HTTP {answer.http_status}'}: {answer.error_message}"
    if read_back:
        said = f"in doubt: sent, no answer, and the read-back failed ({why})"
    else:
        said = (
            f"in doubt: sent, but no answer before the run stopped ({why}) and the ledger "
            "could not record it"
        )
    return RowResult(
        source_row=row.source_row,
        status=Outcome.IN_DOUBT,
        http_status=answer.http_status or None,
        error_code=LocalCode.IN_DOUBT,
        error_message=join(
            f"{said}; Shipper may have cancelled it: check the order in Shipper "
            "(batch-cancel check) before sending it again",
            row.request.note if row.request else "",
        ),
        attempts=attempts,
        request_id=answer.request_id,
        finished_at=utc_now(),
    )


def is_transient(status: int) -> bool:
    return status in (408, 429) or status >= 500


def no_answer(exc: Exception) -> ApiAnswer | None:
    """A send that raised, as an answer without an HTTP status; None: not a transport failure."""
    # Imported here, not at the top: a night that sends nothing (every row skipped, or
    # invalid) never loads aiohttp, a tenth of a second of start-up. A send that raised
    # has loaded it already.
    import aiohttp

    if isinstance(exc, TimeoutError):
        return transport_failure(LocalCode.TIMEOUT, "no answer within the timeout")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return transport_failure(
            LocalCode.TLS_ERROR, f"certificate verification failed: {exc.certificate_error}"
        )
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return transport_failure(
            LocalCode.DNS_ERROR, f"cannot resolve host {exc.host}: {exc.os_error.strerror}"
        )
    if isinstance(exc, aiohttp.ClientError):
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return transport_failure(LocalCode.CONNECTION_ERROR, detail)
    return None


def refused_connect(exc: Exception) -> bool:
    """The connection itself failed (refused, unreachable): the request never left."""
    import aiohttp  # loaded already: a send raised

    return isinstance(exc, aiohttp.ClientConnectorError)


def transport_failure(code: LocalCode, message: str) -> ApiAnswer:
    """A failure with no HTTP answer, shaped like one so that every path ends the same way."""
    return ApiAnswer(http_status=0, error_code=code, error_message=message)


def join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)

"""Send every row through a rate-limited pool of workers, with retries, and report each result.

The runner never prints. Results leave through `on_result(row, result)` in the
order they complete (the report puts them back in input order). The run stops
taking new rows when the API refuses the key, when the input breaks mid-file,
when an attempt, answer or result cannot be recorded (a full disk), or when
`request_stop()` is called (signals); whatever was not sent then is reported
`not_sent`, so every row still gets exactly one result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from aiolimiter import AsyncLimiter

from .config import HealthPolicy
from .errors import InputFileError, RecordingError
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
from .pacing import AutoPace, HealthWatch, ProbingThrottle, Throttle, rate_limiter
from .readback import Meaning, statuses
from .settle import (
    MAY_HAVE_ARRIVED,
    ReadBack,
    Reader,
    is_transient,
    join,
    left_in_doubt,
    no_answer,
    refused_connect,
    settled_by_read,
    transport_failure,
)
from .text import describe_error

log = logging.getLogger(__name__)

Sender = Callable[[CancelRequest], Awaitable[ApiAnswer]]
ResultSink = Callable[[LoadedRow, RowResult], None]

BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
RETRY_AFTER_MAX_S = 120.0
# Let the event loop breathe while long runs of unsendable rows stream past.
YIELD_EVERY_ROWS = 500


class StopReason(StrEnum):
    AUTH_REFUSED = "auth_refused"
    API_DOWN = "api_down"
    TLS_FAILED = "tls_failed"
    INTERRUPTED = "interrupted"
    RECORDING_FAILED = "recording_failed"


class AttemptLog(Protocol):
    """Where each attempt is recorded before it is sent and when it is answered (the ledger)."""

    def attempt_started(self, request: CancelRequest, attempt: int) -> int: ...

    def attempt_answered(self, attempt_id: int, answer: ApiAnswer, *, cancelled: bool) -> None: ...

    async def durable(self) -> None:
        """Return once the attempts recorded so far would survive a kill."""

    def read_answered(self, request: CancelRequest, answer: ReadAnswer, *, cancelled: bool) -> None:
        """A read-back of the order ended (http_status 0: no answer)."""


class _NoAttemptLog:
    def attempt_started(self, request: CancelRequest, attempt: int) -> int:
        return 0

    def attempt_answered(self, attempt_id: int, answer: ApiAnswer, *, cancelled: bool) -> None:
        return None

    async def durable(self) -> None:
        return None

    def read_answered(self, request: CancelRequest, answer: ReadAnswer, *, cancelled: bool) -> None:
        return None


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int
    backoff_base_s: float = BACKOFF_BASE_S
    backoff_max_s: float = BACKOFF_MAX_S
    retry_after_max_s: float = RETRY_AFTER_MAX_S

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        """Wait before attempt `attempt + 1`: the server's Retry-After, else exponential
        backoff with equal jitter (between half and all of base x 2^(attempt-1), capped)."""
        if retry_after_s is not None:
            return min(retry_after_s, self.retry_after_max_s)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True, kw_only=True)
class RunEnd:
    """How the run ended; per-row facts are in the results, not here."""

    stop_reason: StopReason | None
    stop_message: str = ""
    input_error: str = ""  # the input broke off mid-file; rows after the break are unread
    internal_error: str = ""  # as input_error, for an error nobody foresaw (text.describe_error)
    signal: int | None = None  # the signal that stopped the run, if one did
    # --rate auto: the fastest pace reached, the pace at the end, the first 429 (s after start)
    rate_reached: float | None = None
    final_rate: float | None = None
    first_throttled_s: float | None = None
    # RECORDING_FAILED: what could not be written (the ledger's error, or the results file's)
    recording_error: Exception | None = None
    pace_to_remember: float | None = None  # where the next night's --rate auto starts


# The API asking us to slow down: 429, or 503 from a server that sheds load instead.
PUSH_BACK = frozenset({429, 503})


class Runner:
    def __init__(
        self,
        *,
        send: Sender,
        rate: float,
        concurrency: int,
        policy: RetryPolicy,
        on_result: ResultSink,
        attempt_log: AttemptLog | None = None,
        health: HealthPolicy | None = None,
        already_cancelled_codes: frozenset[str] = frozenset(),
        auto_rate: AutoPace | None = None,  # --rate auto
        key_from: str = "SHIPPER_API_KEY",  # where the key came from, for a refusal's message
        read: Reader | None = None,  # the read-back; None: an order in doubt is sent again
        order_statuses: Mapping[str, Meaning] | None = None,  # so_status -> meaning
    ) -> None:
        self._send = send
        self._key_from = key_from
        self._throttle: Throttle
        if auto_rate is not None:
            # The hard cap is --max-rate; the probing pace stays under it.
            self._limiter: AsyncLimiter | None = rate_limiter(auto_rate.ceiling)
            self._throttle = ProbingThrottle(
                auto_rate.start, auto_rate.ceiling, remembered=auto_rate.remembered
            )
        else:
            # rate 0: no client-side limit (benchmarks, local sandboxes).
            self._limiter = rate_limiter(rate) if rate else None
            self._throttle = Throttle(rate)
        health = health or HealthPolicy()
        self._health = HealthWatch(
            max_consecutive_failures=health.max_consecutive_failures,
            down_after_s=health.down_after_s,
        )
        self._attempt_log: AttemptLog = attempt_log or _NoAttemptLog()
        # NOTE: Shipper does not document the code for "already cancelled"
        # (docs/api.md); when the operator names it, such an answer
        # means the goal is reached and the row counts as cancelled.
        self._already_cancelled = already_cancelled_codes
        self._concurrency = concurrency
        self._policy = policy
        self._on_result = on_result
        self._stop = asyncio.Event()
        self._stop_reason: StopReason | None = None
        self._stop_message = ""
        self._input_error = ""
        self._internal_error = ""
        self._record_error: Exception | None = None
        self._read_back = (
            ReadBack(
                read,
                order_statuses if order_statuses is not None else statuses(),
                gate=self,
                retries=policy,
                log=self._attempt_log,
            )
            if read is not None
            else None
        )

    @property
    def stop_reason(self) -> StopReason | None:
        return self._stop_reason

    def request_stop(self, reason: StopReason, message: str) -> None:
        """Stop taking new rows; requests in flight finish. The first reason given wins."""
        if self._stop_reason is None:
            self._stop_reason = reason
            self._stop_message = message
            log.warning("stopping: %s", message)
        self._stop.set()

    async def run(self, rows: Iterable[LoadedRow]) -> RunEnd:
        queue: asyncio.Queue[LoadedRow | None] = asyncio.Queue(maxsize=2 * self._concurrency)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self._concurrency)]
        try:
            await self._produce(rows, queue)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        finally:
            # Only does anything when the run itself is cancelled: a blocked put()
            # or a worker must not keep the event loop from closing.
            for worker in workers:
                worker.cancel()
        probing = self._throttle if isinstance(self._throttle, ProbingThrottle) else None
        return RunEnd(
            stop_reason=self._stop_reason,
            stop_message=self._stop_message,
            input_error=self._input_error,
            internal_error=self._internal_error,
            rate_reached=probing.rate_reached if probing else None,
            final_rate=probing.current_rate if probing else None,
            first_throttled_s=probing.first_throttled_s if probing else None,
            recording_error=self._record_error,
            pace_to_remember=probing.pace_to_remember(finished=self._finished) if probing else None,
        )

    @property
    def _finished(self) -> bool:
        """Every row had its chance: no stop, and the input read to its end."""
        return self._stop_reason is None and not self._input_error

    @property
    def current_rate(self) -> float | None:
        """The pace --rate auto holds now (None for a fixed --rate)."""
        return self._throttle.current_rate if isinstance(self._throttle, ProbingThrottle) else None

    async def _produce(
        self, rows: Iterable[LoadedRow], queue: asyncio.Queue[LoadedRow | None]
    ) -> None:
        try:
            for count, row in enumerate(rows, start=1):
                if row.verdict is not None:
                    self._emit(row, row.verdict)
                elif self._stop.is_set():
                    self._emit(row, self._not_sent(row))
                else:
                    await queue.put(row)
                if count % YIELD_EVERY_ROWS == 0:
                    await asyncio.sleep(0)
        except InputFileError as exc:
            # Rows already read still go out; the ones past the break cannot be reported
            # row by row, so the run ends with the error instead.
            log.error("%s", exc)
            self._input_error = str(exc)
        except Exception as exc:  # the same, but a bug or no memory: never a success
            log.error("reading the input failed: %s", describe_error(exc))
            log.debug("the traceback (-v)", exc_info=True)
            self._internal_error = describe_error(exc)

    async def _worker(self, queue: asyncio.Queue[LoadedRow | None]) -> None:
        while (row := await queue.get()) is not None:
            if self._stop.is_set():
                result = self._not_sent(row)
            else:
                try:
                    result = await self._send_with_retries(row)
                except Exception as exc:  # a bug must cost one row, never the run's record
                    log.exception("unexpected error on row %d", row.source_row)
                    result = RowResult(
                        source_row=row.source_row,
                        status=Outcome.FAILED,
                        error_code=LocalCode.INTERNAL_ERROR,
                        error_message=f"unexpected {type(exc).__name__}: {exc}",
                        finished_at=utc_now(),
                    )
            self._emit(row, result)

    def _emit(self, row: LoadedRow, result: RowResult) -> None:
        """Hand a result over; if it cannot be recorded (disk full), stop sending at once."""
        try:
            self._on_result(row, result)
        except Exception as exc:
            if self._record_error is None and not isinstance(exc, RecordingError):
                log.exception("cannot record the result of row %d", row.source_row)
            self.recording_failed(exc)

    def recording_failed(self, exc: Exception) -> None:
        """What cannot be recorded must not be sent: stop, and fail the run at its end."""
        if self._record_error is None:
            self._record_error = exc
            self.request_stop(StopReason.RECORDING_FAILED, f"cannot record results: {exc}")

    def _not_sent(self, row: LoadedRow) -> RowResult:
        code = {
            StopReason.AUTH_REFUSED: LocalCode.AUTH_REFUSED,
            StopReason.API_DOWN: LocalCode.API_DOWN,
            StopReason.TLS_FAILED: LocalCode.TLS_ERROR,
        }.get(self._stop_reason or StopReason.INTERRUPTED, LocalCode.RUN_INTERRUPTED)
        return RowResult(
            source_row=row.source_row,
            status=Outcome.NOT_SENT,
            error_code=code,
            error_message=f"not sent: {self._stop_message}",
        )

    async def _send_with_retries(self, row: LoadedRow) -> RowResult:
        request = row.request
        assert request is not None
        attempts = 0
        answer = transport_failure(LocalCode.RUN_INTERRUPTED, "")
        in_doubt = request.in_doubt  # an earlier run's last attempt got no answer
        while True:
            if in_doubt and self._read_back is not None:
                # Ask before sending again: the unanswered cancel may have been applied.
                settled = await self._settle_by_reading(row, attempts, answer)
                if settled is not None:
                    return settled
                in_doubt = False  # still open: sending is safe
                if attempts >= self._policy.max_attempts:
                    return _result(row, Outcome.FAILED, answer, attempts, gave_up=True)
            attempt_id = await self._take_start(row, request, attempts + 1)
            if attempt_id is None:
                # A row tried before may have reached Shipper: failed, not not_sent.
                if attempts:
                    return _result(row, Outcome.FAILED, answer, attempts, gave_up=True)
                return self._not_sent(row)
            attempts += 1
            sent_at = time.monotonic()
            answer, on_record, may_have_arrived = await self._send_recorded(request, attempt_id)
            self.observe(answer, time.monotonic() - sent_at)
            settled = self._settle(row, answer, attempts)
            if settled is not None:
                if not on_record:
                    settled.error_message = join(NOT_ON_RECORD, settled.error_message)
                return settled
            if not on_record and may_have_arrived:
                return left_in_doubt(row, answer, attempts)
            in_doubt = may_have_arrived and self._read_back is not None
            if self._stop.is_set() or (attempts >= self._policy.max_attempts and not in_doubt):
                return _result(row, Outcome.FAILED, answer, attempts, gave_up=True)
            if in_doubt:
                continue  # the read-back comes first; it waits for its own turn and slot
            delay = self._policy.delay(attempts, answer.retry_after_s)
            log.debug(
                "row %d: attempt %d failed (%s %s), retrying in %.2fs",
                row.source_row,
                attempts,
                answer.http_status or "",
                answer.error_message,
                delay,
            )
            await self.sleep_unless_stopped(delay)

    async def _settle_by_reading(
        self, row: LoadedRow, attempts: int, last: ApiAnswer
    ) -> RowResult | None:
        """The row's outcome from what Shipper shows; None when the order is still open."""
        assert row.request is not None
        answer, meaning, reads = await self.read_back(row.request)
        if meaning is None and not reads:  # the run stopped before the order could be read
            if attempts:
                return _result(row, Outcome.FAILED, last, attempts, gave_up=True)
            return self._not_sent(row)
        return settled_by_read(row, answer, meaning, attempts)

    async def read_back(self, request: CancelRequest) -> tuple[ReadAnswer, Meaning | None, int]:
        """Read the order back at the run's pace, with the cancel's retries (settle.ReadBack)."""
        assert self._read_back is not None
        return await self._read_back(request)

    async def _take_start(self, row: LoadedRow, request: CancelRequest, attempt: int) -> int | None:
        """The attempt on record and its start slot taken: its id; None if it may not go."""
        if not await self.turn():
            return None
        # On record before the start slot is taken, so that the time a commit
        # takes never lies between the slot and the request leaving.
        try:
            attempt_id = await self._record_attempt(request, attempt)
        except _AttemptNotRecorded as exc:
            log.debug("row %d: not sent: %s", row.source_row, exc.__cause__)
            self.recording_failed(exc.__cause__ if isinstance(exc.__cause__, Exception) else exc)
            return None
        if not await self.slot():
            self._answer_on_record(attempt_id, NEVER_SENT, cancelled=False)
            return None
        return attempt_id

    async def turn(self) -> bool:
        """The throttle's turn (after a 429); False if the run stopped meanwhile."""
        # A stop must not wait for a slow turn: the throttle may hold everyone for
        # minutes after a long Retry-After, and a low --rate spaces turns seconds apart.
        if self._throttle.engaged:
            await self._unless_stopped(self._throttle.wait_turn())
        return not self._stop.is_set()

    async def slot(self) -> bool:
        """A start slot of the rate limit (cancels and reads share it); False if stopped."""
        if self._limiter is not None:
            if self._limiter.has_capacity():
                await self._limiter.acquire()  # immediate: no need to race a stop
            else:
                await self._unless_stopped(self._limiter.acquire())
        return not self._stop.is_set()

    def observe(self, answer: ApiAnswer | ReadAnswer, latency_s: float) -> None:
        """What an answer says about the API as a whole: pace, and whether it looks down."""
        status = answer.http_status
        why = None
        if status in PUSH_BACK:
            self._throttle.on_throttled(answer.retry_after_s)
            why = self._health.on_throttled()
        elif status and not is_transient(status):
            self._throttle.on_clean_answer(latency_s)
            self._health.on_alive()
        else:
            why = self._health.on_transient_failure()
        if why:
            last = f"HTTP {status}" if status else answer.error_code
            self.request_stop(
                StopReason.API_DOWN,
                f"the API looks down ({why}; last: {join(last, answer.error_message)}); "
                "the next run will resume",
            )

    def _settle(self, row: LoadedRow, answer: ApiAnswer, attempts: int) -> RowResult | None:
        """The row's outcome if this answer decides it; None when it is worth another try."""
        status = answer.http_status
        if 200 <= status < 300:
            return _result(row, Outcome.CANCELLED, answer, attempts)
        if self._confirms_cancel(answer):
            return _result(
                row, Outcome.CANCELLED, answer, attempts, note="already cancelled in Shipper"
            )
        if self.stop_if_refused(answer):
            outcome = (
                Outcome.FAILED if answer.error_code == LocalCode.TLS_ERROR else Outcome.REJECTED
            )
            return _result(row, outcome, answer, attempts)
        if status and not is_transient(status):
            return _result(row, Outcome.REJECTED, answer, attempts)
        return None

    def stop_if_refused(self, answer: ApiAnswer | ReadAnswer) -> bool:
        """Stop the run on a TLS failure or a refused key (every row would fail alike)."""
        if answer.error_code == LocalCode.TLS_ERROR:
            # Not the network having a bad minute: this host is not the API, or a
            # proxy intercepts TLS. Every row would fail the same way (the key was
            # never sent): stop, so the next run resumes once it is fixed.
            self.request_stop(
                StopReason.TLS_FAILED,
                f"the API's TLS certificate failed verification ({answer.error_message})",
            )
            return True
        if answer.http_status in (401, 403):
            self.request_stop(
                StopReason.AUTH_REFUSED,
                f"the API refused the key (HTTP {answer.http_status}"
                f"{' code ' + answer.error_code if answer.error_code else ''}); "
                f"check {self._key_from}",
            )
            return True
        return False

    async def _record_attempt(self, request: CancelRequest, attempt: int) -> int:
        """Put the attempt on record; a kill from here on leaves the order "in doubt"."""
        try:
            attempt_id = self._attempt_log.attempt_started(request, attempt)
            await self._attempt_log.durable()
        except Exception as exc:
            raise _AttemptNotRecorded(str(exc)) from exc
        return attempt_id

    async def _send_recorded(
        self, request: CancelRequest, attempt_id: int
    ) -> tuple[ApiAnswer, bool, bool]:
        """Send an attempt that is on record; record its answer as soon as it arrives.

        Returns the answer, whether the ledger took it (a full disk stops the run, and
        the answer still becomes the row's result), and whether the request may have
        reached Shipper without an answer (a read-back must settle it)."""
        may_have_arrived = False
        try:
            answer = await self._send(request)
        except Exception as exc:
            unanswered = no_answer(exc)
            if unanswered is None:
                # Not sent, or not in a way we understand: close the attempt, so a later
                # run does not report it as "killed mid-request"; the worker fails the row.
                failure = transport_failure(LocalCode.INTERNAL_ERROR, type(exc).__name__)
                self._answer_on_record(attempt_id, failure, cancelled=False)
                raise
            answer = unanswered
            may_have_arrived = answer.error_code in MAY_HAVE_ARRIVED and not refused_connect(exc)
        cancelled = 200 <= answer.http_status < 300 or self._confirms_cancel(answer)
        on_record = self._answer_on_record(attempt_id, answer, cancelled=cancelled)
        return answer, on_record, may_have_arrived

    def _answer_on_record(self, attempt_id: int, answer: ApiAnswer, *, cancelled: bool) -> bool:
        """Record an attempt's end; False (and the run stops) if the ledger cannot take it."""
        try:
            self._attempt_log.attempt_answered(attempt_id, answer, cancelled=cancelled)
        except Exception as exc:
            self.recording_failed(exc)
            return False
        return True

    def _confirms_cancel(self, answer: ApiAnswer) -> bool:
        """An error answer that means the order is cancelled already (--already-cancelled-code)."""
        return bool(answer.error_code) and answer.error_code in self._already_cancelled

    async def _unless_stopped(self, waiting: Awaitable[None]) -> None:
        """Wait for `waiting`, or for a stop, whichever comes first."""
        turn = asyncio.ensure_future(waiting)
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({turn, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            turn.cancel()
            stopped.cancel()

    async def sleep_unless_stopped(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=delay)


# How an attempt put on record and then not sent (the run stopped) is closed.
NEVER_SENT = ApiAnswer(
    http_status=0, error_code=LocalCode.RUN_INTERRUPTED, error_message="not sent: the run stopped"
)


# An answer the ledger could not take is the row's result all the same; its message says so.
NOT_ON_RECORD = "answer not in the ledger, which could not be written; the re-run reads it here"


class _AttemptNotRecorded(Exception):
    """The ledger could not record an attempt, so its request was not sent."""


def _result(
    row: LoadedRow,
    status: Outcome,
    answer: ApiAnswer,
    attempts: int,
    *,
    gave_up: bool = False,
    note: str = "",
) -> RowResult:
    assert row.request is not None
    message = answer.error_message
    if gave_up:
        message = f"gave up after {attempts} attempt(s): {message}"
    if note:
        message = f"{note} ({answer.error_code}: {message})"
    return RowResult(
        source_row=row.source_row,
        status=status,
        http_status=answer.http_status or None,
        error_code=answer.error_code,
        error_message=join(message, row.request.note),
        attempts=attempts,
        request_id=answer.request_id,
        finished_at=utc_now(),
    )

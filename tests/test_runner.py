"""Unit tests for runner.py, with a fake async `send` instead of the network."""

from __future__ import annotations

import asyncio
import bisect
import random
from collections.abc import Callable, Iterator

import aiohttp
import pytest

from batch_cancel.errors import InputFileError, LedgerError
from batch_cancel.models import ApiAnswer, CancelRequest, LoadedRow, LocalCode, Outcome, RowResult
from batch_cancel.pacing import rate_limiter
from batch_cancel.runner import AttemptLog, RetryPolicy, RunEnd, Runner, Sender, StopReason

FAST_RATE = 1000.0  # starts 1 ms apart: the limiter stays in the path without slowing tests
OK = ApiAnswer(http_status=200, request_id="req-ok")
SERVER_ERROR = ApiAnswer(http_status=500, error_code="803", error_message="Internal Server error.")
BAD_INPUT = ApiAnswer(
    http_status=400, error_code="810", error_message="Invalid Input. Please Validate Your Input."
)
UNAUTHORIZED = ApiAnswer(http_status=401, error_code="802", error_message="Unauthorized Access.")

# What the fake API does with one request: an answer to return or an exception to raise.
Reply = ApiAnswer | BaseException
# (request, attempt number for that row, 1-based) -> Reply
Script = Callable[[CancelRequest, int], Reply]


def always(reply: Reply) -> Script:
    return lambda request, attempt: reply


def in_turn(*replies: Reply) -> Script:
    """Attempt 1 gets the first reply, attempt 2 the second, ...; the last one repeats."""
    return lambda request, attempt: replies[min(attempt, len(replies)) - 1]


def row(source_row: int, note: str = "") -> LoadedRow:
    order_no = f"ORD-{source_row:04d}"
    request = CancelRequest(source_row, order_no, "WH-TGR04", "Cancelled", note)
    return LoadedRow(source_row, (order_no, "WH-TGR04", "Cancelled"), request, None)


def verdict_row(source_row: int, status: Outcome, code: LocalCode) -> LoadedRow:
    verdict = RowResult(source_row=source_row, status=status, error_code=code)
    return LoadedRow(source_row, ("", "", ""), None, verdict)


def rows(count: int) -> list[LoadedRow]:
    return [row(n) for n in range(1, count + 1)]


class FakeApi:
    """Stands in for ShipperClient.cancel and records every call with its loop.time()."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls: list[tuple[int, float]] = []  # (source_row, loop time)

    async def __call__(self, request: CancelRequest) -> ApiAnswer:
        attempt = 1 + sum(1 for source_row, _ in self.calls if source_row == request.source_row)
        self.calls.append((request.source_row, asyncio.get_running_loop().time()))
        await asyncio.sleep(0)  # a real request yields to the loop
        reply = self.script(request, attempt)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def times(self, source_row: int) -> list[float]:
        return [when for called, when in self.calls if called == source_row]


class Harness:
    """A Runner wired to a FakeApi, collecting exactly one result per row."""

    def __init__(
        self,
        script: Script,
        *,
        concurrency: int = 2,
        max_attempts: int = 3,
        rate: float = FAST_RATE,
        attempt_log: AttemptLog | None = None,
        send: Sender | None = None,  # instead of the FakeApi
    ) -> None:
        self.api = FakeApi(script)
        self.concurrency = concurrency
        self.results: dict[int, RowResult] = {}
        self.runner = Runner(
            send=send or self.api,
            rate=rate,
            concurrency=concurrency,
            policy=RetryPolicy(max_attempts=max_attempts, backoff_base_s=0.001),
            on_result=self._collect,
            attempt_log=attempt_log,
        )

    def _collect(self, loaded: LoadedRow, result: RowResult) -> None:
        assert loaded.source_row == result.source_row
        assert result.source_row not in self.results, f"row {result.source_row} reported twice"
        self.results[result.source_row] = result

    async def run(self, loaded: list[LoadedRow] | Iterator[LoadedRow]) -> RunEnd:
        return await self.runner.run(loaded)

    def statuses(self) -> dict[int, Outcome]:
        return {source_row: result.status for source_row, result in sorted(self.results.items())}


async def run_one(script: Script, **options: int) -> tuple[RowResult, FakeApi]:
    harness = Harness(script, **options)
    end = await harness.run([row(1)])
    assert end == RunEnd(stop_reason=None)
    return harness.results[1], harness.api


# --- every row, once ---------------------------------------------------------------------


async def test_every_row_gets_exactly_one_result() -> None:
    def script(request: CancelRequest, attempt: int) -> Reply:
        return [OK, BAD_INPUT, SERVER_ERROR][request.source_row % 3]

    loaded = [
        row(n) if n % 5 else verdict_row(n, Outcome.INVALID, LocalCode.ORDER_NO_MISSING)
        for n in range(1, 61)
    ]
    harness = Harness(script, concurrency=4, max_attempts=2)
    end = await harness.run(loaded)
    assert end == RunEnd(stop_reason=None)
    assert sorted(harness.results) == list(range(1, 61))
    expected = {
        n: Outcome.INVALID
        if n % 5 == 0
        else [Outcome.CANCELLED, Outcome.REJECTED, Outcome.FAILED][n % 3]
        for n in range(1, 61)
    }
    assert harness.statuses() == expected


async def test_verdict_rows_pass_straight_through() -> None:
    invalid = verdict_row(1, Outcome.INVALID, LocalCode.WAREHOUSE_ID_MISSING)
    duplicate = verdict_row(3, Outcome.DUPLICATE, LocalCode.DUPLICATE_ROW)
    harness = Harness(always(OK))
    await harness.run([invalid, row(2), duplicate])
    assert harness.results[1] is invalid.verdict
    assert harness.results[3] is duplicate.verdict
    assert [source_row for source_row, _ in harness.api.calls] == [2]


# --- one row's fate ------------------------------------------------------------------------


async def test_2xx_is_cancelled_first_time() -> None:
    result, api = await run_one(always(ApiAnswer(http_status=204, request_id="req-9")))
    assert result.status is Outcome.CANCELLED
    assert (result.http_status, result.attempts, result.request_id) == (204, 1, "req-9")
    assert (result.error_code, result.error_message) == ("", "")
    assert result.finished_at.endswith("Z")
    assert len(api.calls) == 1


async def test_400_is_rejected_without_retry() -> None:
    result, api = await run_one(always(BAD_INPUT))
    assert result.status is Outcome.REJECTED
    assert (result.http_status, result.error_code, result.attempts) == (400, "810", 1)
    assert result.error_message == "Invalid Input. Please Validate Your Input."
    assert len(api.calls) == 1


async def test_500_then_200_is_cancelled_on_attempt_2() -> None:
    result, api = await run_one(in_turn(SERVER_ERROR, OK))
    assert result.status is Outcome.CANCELLED
    assert (result.http_status, result.attempts, result.error_code) == (200, 2, "")
    assert len(api.calls) == 2


async def test_429_retry_after_is_honoured() -> None:
    retry_after = 0.2  # far above the 1-2 ms backoff the policy would pick by itself
    too_many = ApiAnswer(http_status=429, error_message="slow down", retry_after_s=retry_after)
    result, api = await run_one(in_turn(too_many, OK))
    assert (result.status, result.attempts) == (Outcome.CANCELLED, 2)
    first, second = api.times(1)
    assert second - first >= retry_after  # a lower bound only: tests assert no upper timings


async def test_always_500_fails_after_max_attempts() -> None:
    result, api = await run_one(always(SERVER_ERROR), max_attempts=4)
    assert result.status is Outcome.FAILED
    assert (result.http_status, result.error_code, result.attempts) == (500, "803", 4)
    assert result.error_message == "gave up after 4 attempt(s): Internal Server error."
    assert len(api.calls) == 4


TRANSPORT_FAILURES = [
    pytest.param(TimeoutError(), LocalCode.TIMEOUT, "no answer within the timeout", id="timeout"),
    pytest.param(
        aiohttp.ClientConnectionError("Connection refused"),
        LocalCode.CONNECTION_ERROR,
        "ClientConnectionError: Connection refused",
        id="connection",
    ),
]


@pytest.mark.parametrize(("error", "code", "detail"), TRANSPORT_FAILURES)
async def test_transport_failure_retried_then_failed(
    error: BaseException, code: LocalCode, detail: str
) -> None:
    result, api = await run_one(always(error), max_attempts=3)
    assert result.status is Outcome.FAILED
    assert (result.http_status, result.error_code, result.attempts) == (None, code, 3)
    assert result.error_message == f"gave up after 3 attempt(s): {detail}"
    assert len(api.calls) == 3


@pytest.mark.parametrize(("error", "code", "detail"), TRANSPORT_FAILURES)
async def test_transport_failure_then_success(
    error: BaseException, code: LocalCode, detail: str
) -> None:
    result, _ = await run_one(in_turn(error, OK))
    assert (result.status, result.attempts, result.error_code) == (Outcome.CANCELLED, 2, "")


async def test_unexpected_exception_costs_one_row_only() -> None:
    def script(request: CancelRequest, attempt: int) -> Reply:
        return ValueError("boom") if request.source_row == 2 else OK

    harness = Harness(script)
    end = await harness.run(rows(4))
    assert end.stop_reason is None
    failed = harness.results[2]
    assert (failed.status, failed.error_code) == (Outcome.FAILED, LocalCode.INTERNAL_ERROR)
    assert failed.error_message == "unexpected ValueError: boom"
    assert harness.statuses() == {
        1: Outcome.CANCELLED,
        2: Outcome.FAILED,
        3: Outcome.CANCELLED,
        4: Outcome.CANCELLED,
    }


async def test_cancel_reason_note_carried_into_the_message() -> None:
    note = "cancel_reason_shortened: cancel_reason was 60 characters, sent its first 50"

    def script(request: CancelRequest, attempt: int) -> Reply:
        return OK if request.source_row == 1 else BAD_INPUT

    harness = Harness(script)
    await harness.run([row(1, note), row(2, note)])
    assert harness.results[1].status is Outcome.CANCELLED
    assert harness.results[1].error_message == note
    assert harness.results[2].error_message == f"{BAD_INPUT.error_message}; {note}"


# --- the run stops -------------------------------------------------------------------------


async def test_401_stops_the_run() -> None:
    harness = Harness(always(UNAUTHORIZED), concurrency=3)
    end = await harness.run(rows(20))
    assert end.stop_reason is StopReason.AUTH_REFUSED
    assert "the API refused the key (HTTP 401 code 802)" in end.stop_message
    sent = {source_row for source_row, _ in harness.api.calls}
    assert 1 in sent
    assert len(harness.api.calls) <= harness.concurrency
    for source_row, result in harness.results.items():
        if source_row in sent:
            assert (result.status, result.http_status) == (Outcome.REJECTED, 401)
        else:
            assert (result.status, result.error_code) == (Outcome.NOT_SENT, LocalCode.AUTH_REFUSED)
            assert result.error_message == f"not sent: {end.stop_message}"
    assert sorted(harness.results) == list(range(1, 21))


async def test_rows_waiting_for_a_start_slot_are_not_sent_after_a_401() -> None:
    # At 10 starts a second, rows 2 and 3 are still waiting for their slot when row 1's
    # 401 arrives: they must not go out once their slot comes.
    harness = Harness(always(UNAUTHORIZED), concurrency=3, rate=10)
    end = await harness.run(rows(6))
    assert end.stop_reason is StopReason.AUTH_REFUSED
    assert [source_row for source_row, _ in harness.api.calls] == [1]
    assert harness.statuses() == {
        n: Outcome.REJECTED if n == 1 else Outcome.NOT_SENT for n in range(1, 7)
    }


async def test_request_stop_mid_run_leaves_the_rest_not_sent() -> None:
    harness: Harness

    def script(request: CancelRequest, attempt: int) -> Reply:
        if request.source_row == 3:
            harness.runner.request_stop(StopReason.INTERRUPTED, "interrupted by SIGTERM")
        return OK

    harness = Harness(script, concurrency=1)
    end = await harness.run(rows(8))
    assert (end.stop_reason, end.stop_message) == (StopReason.INTERRUPTED, "interrupted by SIGTERM")
    assert [source_row for source_row, _ in harness.api.calls] == [1, 2, 3]
    assert harness.statuses() == {
        n: Outcome.CANCELLED if n <= 3 else Outcome.NOT_SENT for n in range(1, 9)
    }
    for n in range(4, 9):
        assert harness.results[n].error_code == LocalCode.RUN_INTERRUPTED
        assert harness.results[n].error_message == "not sent: interrupted by SIGTERM"


async def test_input_error_mid_file_reports_rows_read_so_far() -> None:
    def broken_file() -> Iterator[LoadedRow]:
        yield from rows(5)
        raise InputFileError("orders.csv: cannot read the file: line 7 is garbage")

    harness = Harness(always(OK))
    end = await harness.run(broken_file())
    assert end == RunEnd(
        stop_reason=None, input_error="orders.csv: cannot read the file: line 7 is garbage"
    )
    assert harness.statuses() == {n: Outcome.CANCELLED for n in range(1, 6)}


async def test_a_failing_result_sink_stops_the_run_and_says_why() -> None:
    calls: list[int] = []

    def sink(loaded: LoadedRow, result: RowResult) -> None:
        calls.append(loaded.source_row)
        raise OSError("No space left on device")

    api = FakeApi(always(OK))
    runner = Runner(
        send=api,
        rate=FAST_RATE,
        concurrency=1,
        policy=RetryPolicy(max_attempts=1),
        on_result=sink,
    )
    task = asyncio.create_task(runner.run(rows(10)))
    # A liveness guard, not a timing assertion: the run needs milliseconds if it ends at all.
    await asyncio.wait({task}, timeout=5)
    assert task.done(), "run() never returned after the result sink failed"
    end = task.result()
    assert (end.stop_reason, end.stop_message) == (
        StopReason.RECORDING_FAILED,
        "cannot record results: No space left on device",
    )
    assert isinstance(end.recording_error, OSError)
    # Sending stopped at once: only the row in hand was sent.
    assert len(api.calls) == 1
    assert len(calls) == 10  # every row was still offered to the sink


class UnwritableLedger:
    """An attempt log that cannot record anything (the disk filled up)."""

    def attempt_started(self, request: CancelRequest, attempt: int) -> int:
        return 1

    def attempt_answered(self, attempt_id: int, answer: ApiAnswer, *, cancelled: bool) -> None:
        return None

    async def durable(self) -> None:
        raise OSError("No space left on device")


async def test_an_attempt_that_cannot_be_recorded_is_not_sent() -> None:
    # The ledger's promise (every request on record before it leaves) wins over sending.
    api = FakeApi(always(OK))
    results: dict[int, RowResult] = {}
    runner = Runner(
        send=api,
        rate=FAST_RATE,
        concurrency=2,
        policy=RetryPolicy(max_attempts=3),
        on_result=lambda loaded, result: results.setdefault(loaded.source_row, result),
        attempt_log=UnwritableLedger(),
    )
    end = await runner.run(rows(6))
    assert end.stop_reason is StopReason.RECORDING_FAILED
    assert str(end.recording_error) == "No space left on device"
    assert api.calls == []
    assert sorted(results) == [1, 2, 3, 4, 5, 6]
    assert {result.status for result in results.values()} == {Outcome.NOT_SENT}
    assert "No space left on device" in results[1].error_message


class AttemptRecorder:
    """An attempt log that keeps what it is told."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.answered: dict[int, ApiAnswer] = {}

    def attempt_started(self, request: CancelRequest, attempt: int) -> int:
        self.started.append(request.source_row)
        return request.source_row

    def attempt_answered(self, attempt_id: int, answer: ApiAnswer, *, cancelled: bool) -> None:
        self.answered[attempt_id] = answer

    async def durable(self) -> None:
        return None


async def test_a_stop_while_waiting_for_a_start_slot_closes_the_recorded_attempt() -> None:
    # Attempts go on record before the start slot is taken; one whose slot never
    # came must be closed as never sent, or a re-run would flag the order in doubt.
    log = AttemptRecorder()
    harness = Harness(always(OK), concurrency=2, rate=0.5, attempt_log=log)  # a slot every 2 s
    task = asyncio.create_task(harness.run(rows(2)))
    while len(log.started) < 2 or not harness.api.calls:
        await asyncio.sleep(0.001)
    harness.runner.request_stop(StopReason.INTERRUPTED, "interrupted by SIGINT")
    end = await asyncio.wait_for(task, timeout=5)  # a liveness guard, not a timing
    assert end.stop_reason is StopReason.INTERRUPTED
    [(sent, _)] = harness.api.calls
    waiting = 3 - sent
    assert harness.statuses() == {sent: Outcome.CANCELLED, waiting: Outcome.NOT_SENT}
    assert log.answered[sent].http_status == 200
    assert log.answered[waiting].error_code == LocalCode.RUN_INTERRUPTED


# --- the rate limiter ------------------------------------------------------------------------


async def test_rate_limiter_never_exceeds_rate_in_any_second() -> None:
    # This asserts a count, not a timing: however slow the machine, no window of one
    # second (on the loop's clock) may hold more than `rate` starts.
    rate = 20
    limiter = rate_limiter(rate)
    loop = asyncio.get_running_loop()
    starts: list[float] = []
    for _ in range(2 * rate + 1):
        await limiter.acquire()
        starts.append(loop.time())
    busiest = max(sum(1 for t in starts if start <= t < start + 1.0) for start in starts)
    assert len(starts) == 41
    assert busiest <= rate


@pytest.mark.parametrize("rate", [7, 50, 200])
async def test_rate_limiter_cap_holds_when_workers_wake_late(rate: int) -> None:
    # The bucket lets a late worker start at once (its slack); many workers waking
    # at random moments must still never put more than `rate` starts in one second.
    limiter = rate_limiter(rate)
    loop = asyncio.get_running_loop()
    rng = random.Random(rate)
    starts: list[float] = []
    deadline = loop.time() + 1.6

    async def worker() -> None:
        while loop.time() < deadline:
            await limiter.acquire()
            starts.append(loop.time())
            await asyncio.sleep(rng.uniform(0, 3 / rate))  # the request, then a late return

    await asyncio.gather(*(worker() for _ in range(8)))
    starts.sort()
    busiest = max(bisect.bisect_left(starts, t + 1.0) - i for i, t in enumerate(starts))
    assert len(starts) > rate  # the run spanned more than one full window
    assert busiest <= rate


class LedgerThatFillsUp:
    """Takes the first attempt, then fills up: the second attempt's commit fails, and
    nothing is taken after that (an answer included), as RunRecord behaves."""

    def __init__(self) -> None:
        self.started = 0
        self.full = asyncio.Event()

    def _check(self) -> None:
        if self.full.is_set():
            raise LedgerError("the ledger /x/state.db could not be written (disk full)")

    def attempt_started(self, request: CancelRequest, attempt: int) -> int:
        self._check()
        self.started += 1
        return self.started

    def attempt_answered(self, attempt_id: int, answer: ApiAnswer, *, cancelled: bool) -> None:
        self._check()

    async def durable(self) -> None:
        if self.started >= 2:
            self.full.set()
        self._check()


@pytest.mark.parametrize(
    ("reply", "status", "code"),
    [
        (OK, Outcome.CANCELLED, ""),
        (TimeoutError(), Outcome.IN_DOUBT, LocalCode.IN_DOUBT),
    ],
    ids=["answered-200", "no-answer"],
)
async def test_a_ledger_that_fills_up_stops_sending_and_keeps_the_answers_in_flight(
    reply: Reply, status: Outcome, code: str
) -> None:
    ledger = LedgerThatFillsUp()
    sent: list[int] = []

    async def send(request: CancelRequest) -> ApiAnswer:
        sent.append(request.source_row)
        await ledger.full.wait()  # row 1 is in flight when the ledger fills up
        if isinstance(reply, BaseException):
            raise reply
        return reply

    harness = Harness(always(OK), attempt_log=ledger, send=send)
    end = await asyncio.wait_for(harness.run(rows(6)), timeout=5)  # a liveness guard
    results = harness.results
    assert end.stop_reason is StopReason.RECORDING_FAILED
    assert isinstance(end.recording_error, LedgerError)
    assert sent == [1]
    first = results[1]
    assert (first.status, first.error_code, first.attempts) == (status, code, 1)
    if status is Outcome.CANCELLED:
        assert (first.http_status, first.request_id) == (200, "req-ok")
    else:
        assert first.error_message == (
            "in doubt: sent, but no answer before the run stopped (timeout: no answer within "
            "the timeout) and the ledger could not record it; Shipper may have cancelled it: "
            "check the order in Shipper (batch-cancel check) before sending it again"
        )
    assert {n: results[n].status for n in range(2, 7)} == dict.fromkeys(
        range(2, 7), Outcome.NOT_SENT
    )

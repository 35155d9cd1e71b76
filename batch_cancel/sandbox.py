"""A local Shipper-compatible server for the demo and the tests.

It answers ``PATCH /v3/fulfillment/outbound/oms/cancel`` and the order read
``GET /v3/fulfillment/warehouse/{warehouse_id}/outbound/oms/{order_no}`` the way
``docs/api.md`` describes (a read shows the order book's state, with the same
faults and rate limit as a cancel), keeps an in-memory order book, and can
inject the faults a nightly run must survive: latency, 500s, 429s with
``Retry-After``, connections dropped without any answer, and (``--lose-answer``)
a cancel applied whose answer is lost. ``GET
/_sandbox/stats`` reports what arrived so tests can check pacing and that no
order was cancelled twice.

It is started as its own process, so it imports only the standard library and
aiohttp (no pandas, no other ``batch_cancel`` module) to start fast.

Sandbox-only behaviour (the real API's codes for these cases are undocumented,
so a client must not rely on these numbers):

======  =====  ==========================================================
code    HTTP   meaning
======  =====  ==========================================================
9001    400    stock already allocated (ALLOCATED, PICKED, PACKED)
9002    400    order is already cancelled
9003    400    order already left the warehouse (SHIPPED, CLOSED)
9429    429    rate limit exceeded (the real limits are undocumented)
9503    503    over the limit, ``--limit-kind 503`` (a server that sheds load)
======  =====  ==========================================================

The ``FAULTY`` order state is sandbox-only too: such an order always gets a
500/803, so the demo can show a row whose transient errors outlast the retries.
"""

from __future__ import annotations

import asyncio
import bisect
import csv
import hmac
import json
import math
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aiohttp import web

CANCEL_PATH = "/v3/fulfillment/outbound/oms/cancel"
READ_PATH = "/v3/fulfillment/warehouse/{warehouse_id}/outbound/oms/{order_no}"
STATS_PATH = "/_sandbox/stats"

# Character limits from the contract; counted in characters (the docs don't say).
FIELD_LIMITS = {"order_no": 50, "cancel_reason": 50, "warehouse_id": 20}

INVALID_INPUT = (810, "Invalid Input. Please Validate Your Input.")
INTERNAL_ERROR = (803, "Internal Server error.")
UNKNOWN_ORDER = (3012, "Order Doesn't Exist in WMS and OMS.")
ALREADY_CANCELLED = (9002, "Order is already cancelled.")
TOO_MANY_REQUESTS = (9429, "Too Many Requests (sandbox)")
OVERLOADED = (9503, "Service Unavailable: over capacity (sandbox)")
UNAUTHORIZED = (802, "Unauthorized Access. You are not authorized to access this resource.")


class LimitKind(StrEnum):
    """How --rate-limit is enforced: the kinds of limit API gateways use."""

    WINDOW = "window"  # 429 above LIMIT arrivals in the trailing second
    BUCKET = "bucket"  # token bucket: LIMIT tokens a second, at most --burst saved up
    MINUTE = "minute"  # 60 x LIMIT a minute; 429 with Retry-After to the next minute
    OVERLOAD = "503"  # like window, but answers 503 without Retry-After
    QUEUE = "queue"  # refuses nothing: serves LIMIT a second, the rest wait their turn


class OrderState(StrEnum):
    CREATED = "CREATED"
    ALLOCATED = "ALLOCATED"
    PICKED = "PICKED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"
    FAULTY = "FAULTY"  # sandbox-only: always answers 500


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    api_key: str = field(default="sandbox-key", repr=False)
    # (order_no, warehouse_id) -> state; None accepts any order once.
    orders: Mapping[tuple[str, str], OrderState] | None = None
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    # 429 above this many requests in the trailing second; a schedule "40,15@60" changes it
    # over time (40/s, then 15/s from 60 s after the first request).
    rate_limit: float | str | None = None
    limit_kind: LimitKind = LimitKind.WINDOW
    burst: float | None = None  # --limit-kind bucket: tokens saved up (default: a quarter second's)
    retry_after_s: int = 1
    drop_rate: float = 0.0
    # Orders whose first cancel is applied and its answer lost (the connection dropped):
    # the order in doubt that a read-back settles.
    lose_answer: frozenset[str] = frozenset()
    seed: int | None = None
    limits: tuple[tuple[float, float], ...] = field(init=False, default=())  # from rate_limit

    def __post_init__(self) -> None:
        for name in ("fail_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency_ms < 0 or self.retry_after_s < 0:
            raise ValueError("latency_ms and retry_after_s must not be negative")
        if self.burst is not None and self.burst < 1:
            raise ValueError("burst must be at least 1")
        object.__setattr__(self, "limit_kind", LimitKind(self.limit_kind))
        object.__setattr__(self, "limits", tuple(parse_rate_schedule(self.rate_limit)))

    def limit_at(self, elapsed_s: float) -> float | None:
        """The limit in force `elapsed_s` after the first request; None: no limit."""
        current = None
        for start_s, limit in self.limits:
            if elapsed_s >= start_s:
                current = limit
        return current


def parse_rate_schedule(value: float | str | None) -> list[tuple[float, float]]:
    """ "40" or "40,15@60" -> [(0, 40), (60, 15)]; ValueError for anything else."""
    if value is None:
        return []
    limits = []
    for part in str(value).split(","):
        rate, _, start = part.strip().partition("@")
        try:
            limit, start_s = float(rate), float(start) if start else 0.0
        except ValueError:
            raise ValueError(f"rate_limit: {part.strip()!r} is not RATE or RATE@SECONDS") from None
        if limit <= 0 or start_s < 0:
            raise ValueError("rate_limit must be positive, its start times 0 or more")
        limits.append((start_s, limit))
    if limits[0][0] != 0:
        raise ValueError("rate_limit: the first limit applies from the start (no @ on it)")
    return sorted(limits)


def load_order_book(path: str | Path) -> dict[tuple[str, str], OrderState]:
    """Read a CSV with header ``order_no,warehouse_id,state`` into an order book."""
    book: dict[tuple[str, str], OrderState] = {}
    # utf-8-sig because spreadsheet tools on Windows prepend a BOM.
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"order_no", "warehouse_id", "state"} <= set(reader.fieldnames or ()):
            raise ValueError(f"{path}: header must be order_no,warehouse_id,state")
        for row in reader:
            order_no = (row["order_no"] or "").strip()
            warehouse_id = (row["warehouse_id"] or "").strip()
            raw_state = (row["state"] or "").strip()
            where = f"{path}, line {reader.line_num}"
            if not order_no or not warehouse_id:
                raise ValueError(f"{where}: order_no and warehouse_id are required")
            try:
                state = OrderState(raw_state.upper())
            except ValueError:
                allowed = ", ".join(OrderState)
                raise ValueError(
                    f"{where}: unknown state {raw_state!r} (expected one of {allowed})"
                ) from None
            if (order_no, warehouse_id) in book:
                raise ValueError(f"{where}: duplicate order {order_no} on {warehouse_id}")
            book[order_no, warehouse_id] = state
    return book


class SandboxState:
    """Everything the sandbox remembers; one per app, mutated only on the event loop."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.orders: dict[tuple[str, str], OrderState] = dict(config.orders or {})
        self.arrivals: list[float] = []
        self.answers: Counter[str] = Counter()
        self.cancel_calls: Counter[str] = Counter()
        self.read_calls: Counter[str] = Counter()  # "ORDER|WH" -> reads with a valid key
        self.cancelled: list[str] = []
        self.answers_lost: set[str] = set()  # --lose-answer orders already applied unanswered
        self.events: list[tuple[float, str, int]] = []  # (arrival, "ORDER|WH", HTTP status)
        self._tokens, self._tokens_at = math.inf, 0.0  # --limit-kind bucket
        self._minute, self._minute_count = -1, 0  # --limit-kind minute
        self._queue_free_at = 0.0  # --limit-kind queue: when the server is next free

    def lookup(self, key: tuple[str, str]) -> OrderState | None:
        if self.config.orders is None:
            return self.orders.get(key, OrderState.CREATED)
        return self.orders.get(key)

    def recent_arrivals(self, now: float) -> int:
        # arrivals is sorted because time.monotonic() never goes back.
        return len(self.arrivals) - bisect.bisect_right(self.arrivals, now - 1.0)

    def check_limit(self, arrived: float, limit: float) -> tuple[int, int | None] | float:
        """Over `limit`: the refusal (HTTP status, Retry-After); else how long the request
        waits for its turn (only a queueing server makes it wait)."""
        kind, retry_after = self.config.limit_kind, self.config.retry_after_s
        if kind is LimitKind.QUEUE:
            start = max(arrived, self._queue_free_at)
            self._queue_free_at = start + 1 / limit
            return start - arrived
        if kind is LimitKind.BUCKET:
            burst = self.config.burst or max(1.0, limit / 4)
            self._tokens = min(burst, self._tokens + (arrived - self._tokens_at) * limit)
            self._tokens_at = arrived
            if self._tokens < 1:
                return 429, retry_after
            self._tokens -= 1
            return 0.0
        if kind is LimitKind.MINUTE:
            elapsed = arrived - self.arrivals[0]
            minute = int(elapsed // 60)
            if minute != self._minute:
                self._minute, self._minute_count = minute, 0
            if self._minute_count >= 60 * limit:
                return 429, max(1, math.ceil(60 * (minute + 1) - elapsed))
            self._minute_count += 1
            return 0.0
        if self.recent_arrivals(arrived) > limit:
            return (503, None) if kind is LimitKind.OVERLOAD else (429, retry_after)
        return 0.0

    def busiest_second(self) -> int:
        """The most arrivals in any window [t, t + 1 s): what a rate limit is judged by."""
        best, start = 0, 0
        for end, arrived in enumerate(self.arrivals):
            while arrived - self.arrivals[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def snapshot(self) -> dict[str, Any]:
        answers = {key: self.answers[key] for key in ("200", "400", "401", "429", "500", "503")}
        return {
            "arrivals": list(self.arrivals),
            "busiest_second": self.busiest_second(),
            "answers": answers | {"dropped": self.answers["dropped"]},
            "cancel_calls": dict(self.cancel_calls),
            "read_calls": dict(self.read_calls),
            "cancelled": list(self.cancelled),
            "events": [list(event) for event in self.events],
        }


STATE_KEY = web.AppKey("sandbox_state", SandboxState)
ORDER_KEY = web.RequestKey("sandbox_order", str)  # the "ORDER|WH" a request carried


def _only(value: object, key: str) -> object:
    """value[key] if value is an object with exactly that one key, else None."""
    if isinstance(value, dict) and set(value) == {key}:
        return value[key]
    return None


def _parse_cancellation(raw: bytes) -> tuple[str, str, str] | None:
    """Return (order_no, warehouse_id, cancel_reason) from a valid body, else None."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return None
    cancellation = _only(_only(body, "data"), "cancellation")
    if not isinstance(cancellation, dict) or set(cancellation) != set(FIELD_LIMITS):
        return None
    for name, limit in FIELD_LIMITS.items():
        value = cancellation[name]
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            return None
    return cancellation["order_no"], cancellation["warehouse_id"], cancellation["cancel_reason"]


def _key_is_valid(request: web.Request, api_key: str) -> bool:
    sent = request.headers.get("x-api-key")
    return sent is not None and hmac.compare_digest(sent.encode(), api_key.encode())


def _answer(
    state: SandboxState,
    request: web.Request,
    status: int,
    error: tuple[int, str] | None = None,
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, Any] | None = None,
) -> web.Response:
    metadata: dict[str, Any] = {
        "path": request.path,
        "http_status_code": status,
        "http_status": HTTPStatus(status).phrase,
    }
    if error is not None:
        metadata["errors"] = [{"code": error[0], "message": error[1]}]
    metadata["timestamp"] = int(time.time())
    state.answers[str(status)] += 1
    document = {"metadata": metadata} | ({"data": data} if data is not None else {})
    return web.json_response(document, status=status, headers=headers)


def _unauthorized(state: SandboxState, request: web.Request) -> web.Response:
    # NOTE: the documented 401 has its own envelope (docs/api.md).
    metadata = {
        "path": request.path,
        "status_code": 401,
        "status": "Unauthorized",
        "message": f"{request.method} {request.path} [401] Unauthorized",
        "error": {"code": UNAUTHORIZED[0], "message": UNAUTHORIZED[1]},
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    state.answers["401"] += 1
    return web.json_response({"metadata": metadata}, status=401)


async def _cancel(request: web.Request) -> web.Response:
    arrived = time.monotonic()
    state = request.app[STATE_KEY]
    state.arrivals.append(arrived)
    response = await _decide(request, state, arrived)
    # One event per request, so tests can see what each order got and when.
    order = request.get(ORDER_KEY, "")
    state.events.append((arrived, order, response.status))
    return response


async def _decide(request: web.Request, state: SandboxState, arrived: float) -> web.Response:
    config = state.config
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raw = b""
    cancellation = _parse_cancellation(raw)
    key_is_valid = _key_is_valid(request, config.api_key)
    # Counted before any fault so tests can see every attempt, even dropped ones.
    if cancellation is not None:
        request[ORDER_KEY] = f"{cancellation[0]}|{cancellation[1]}"
    if key_is_valid and cancellation is not None:
        state.cancel_calls[request[ORDER_KEY]] += 1
    if (fault := await _fault(request, state, arrived, key_is_valid=key_is_valid)) is not None:
        return fault
    if cancellation is None:
        return _answer(state, request, 400, INVALID_INPUT)

    # No await from here on, so check-and-cancel is atomic for concurrent requests.
    order_no, warehouse_id, _reason = cancellation
    order_state = state.lookup((order_no, warehouse_id))
    if order_state is None:
        return _answer(state, request, 400, UNKNOWN_ORDER)
    if order_state is OrderState.FAULTY:
        return _answer(state, request, 500, INTERNAL_ERROR)
    if order_state is OrderState.CANCELLED:
        return _answer(state, request, 400, ALREADY_CANCELLED)
    if order_state in (OrderState.ALLOCATED, OrderState.PICKED, OrderState.PACKED):
        message = f"Order cannot be cancelled: stock is already allocated (status {order_state})."
        return _answer(state, request, 400, (9001, message))
    if order_state in (OrderState.SHIPPED, OrderState.CLOSED):
        message = f"Order cannot be cancelled: order is {order_state}."
        return _answer(state, request, 400, (9003, message))
    state.orders[order_no, warehouse_id] = OrderState.CANCELLED
    state.cancelled.append(f"{order_no}|{warehouse_id}")
    if order_no in config.lose_answer and order_no not in state.answers_lost:
        state.answers_lost.add(order_no)
        return _drop(request, state)
    return _answer(state, request, 200)


async def _fault(
    request: web.Request, state: SandboxState, arrived: float, *, key_is_valid: bool
) -> web.Response | None:
    """The faults every route injects alike (drop, rate limit, latency, key, 500); None: none."""
    config = state.config
    if config.drop_rate and state.rng.random() < config.drop_rate:
        return _drop(request, state)

    limit = config.limit_at(arrived - state.arrivals[0]) if state.arrivals else None
    decision = state.check_limit(arrived, limit) if limit is not None else 0.0
    if isinstance(decision, tuple):
        status, retry_after_s = decision
        retry_after = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
        error = OVERLOADED if status == 503 else TOO_MANY_REQUESTS
        return _answer(state, request, status, error, headers=retry_after)

    if decision or config.latency_ms:  # a queueing server's wait, then its own latency
        await asyncio.sleep(decision + config.latency_ms / 1000)
    if not key_is_valid:
        return _unauthorized(state, request)
    if config.fail_rate and state.rng.random() < config.fail_rate:
        return _answer(state, request, 500, INTERNAL_ERROR)
    return None


def _drop(request: web.Request, state: SandboxState) -> web.Response:
    """Close the connection without an answer."""
    state.answers["dropped"] += 1
    if request.transport is not None:
        request.transport.abort()
    # aiohttp cannot write this to the aborted transport, takes that for a
    # client disconnect and stays quiet (raising would log a traceback). Only
    # the access log sees it: 444 is nginx's "closed without response".
    return web.Response(status=444, reason="Dropped by sandbox")


async def _read(request: web.Request) -> web.Response:
    """An order as the read shows it: its state as so_status, stock allocated per line."""
    arrived = time.monotonic()
    state = request.app[STATE_KEY]
    state.arrivals.append(arrived)  # reads count against the same rate limit
    key = (request.match_info["order_no"], request.match_info["warehouse_id"])
    key_is_valid = _key_is_valid(request, state.config.api_key)
    if key_is_valid:
        state.read_calls[f"{key[0]}|{key[1]}"] += 1
    if (fault := await _fault(request, state, arrived, key_is_valid=key_is_valid)) is not None:
        return fault
    order_state = state.lookup(key)
    if order_state is None:
        return _answer(state, request, 400, UNKNOWN_ORDER)
    if order_state is OrderState.FAULTY:
        return _answer(state, request, 500, INTERNAL_ERROR)
    allocated = order_state in (OrderState.ALLOCATED, OrderState.PICKED, OrderState.PACKED)
    outbound = {
        "order_no": key[0],
        "warehouse_id": key[1],
        "so_status": order_state.value,
        "details": [{"sku": "SKU-1", "qty": 1, "qty_allocated": 1 if allocated else 0}],
    }
    return _answer(state, request, 200, data={"outbound": outbound})


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].snapshot())


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    # A signal rather than the handler, so 404/405 answers carry one too.
    response.headers.setdefault("x-request-id", f"sbx-{uuid.uuid4().hex[:16]}")


def create_app(config: SandboxConfig) -> web.Application:
    app = web.Application()
    app[STATE_KEY] = SandboxState(config)
    app.router.add_route("PATCH", CANCEL_PATH, _cancel)
    app.router.add_get(READ_PATH, _read)
    app.router.add_get(STATS_PATH, _stats)
    app.on_response_prepare.append(_add_request_id)
    return app


async def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve until cancelled, SIGINT or SIGTERM; print the URL once listening."""
    runner = web.AppRunner(create_app(config), shutdown_timeout=5.0)
    await runner.setup()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handled: list[signal.Signals] = []
    try:
        await web.TCPSite(runner, host, port).start()
        bound_port = runner.addresses[0][1]
        shown_host = f"[{host}]" if ":" in host else host
        print(f"Shipper sandbox listening on http://{shown_host}:{bound_port}", flush=True)
        # Our own handlers, so that a signal ends serve() normally instead of
        # asyncio.run() turning SIGINT into a KeyboardInterrupt traceback.
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Not available on Windows or outside the main thread.
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
                handled.append(signum)
        await stop.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await runner.cleanup()

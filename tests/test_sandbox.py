"""Tests for the Shipper sandbox: real aiohttp client and server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy

from batch_cancel import sandbox as sandbox_module
from batch_cancel.sandbox import (
    CANCEL_PATH,
    STATS_PATH,
    OrderState,
    SandboxConfig,
    SandboxState,
    create_app,
    load_order_book,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
KEY = "test-key"
WH = "WH-TGR04"
REASON = "Cancelled from marketplace"
BOOK = {
    ("ORD-CREATED", WH): OrderState.CREATED,
    ("ORD-ALLOCATED", WH): OrderState.ALLOCATED,
    ("ORD-PICKED", WH): OrderState.PICKED,
    ("ORD-PACKED", WH): OrderState.PACKED,
    ("ORD-SHIPPED", WH): OrderState.SHIPPED,
    ("ORD-CLOSED", WH): OrderState.CLOSED,
    ("ORD-CANCELLED", WH): OrderState.CANCELLED,
    ("ORD-FAULTY", WH): OrderState.FAULTY,
}

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    clients: list[Client] = []

    async def make(**config: Any) -> Client:
        config.setdefault("api_key", KEY)
        config.setdefault("orders", BOOK)
        client: Client = TestClient(TestServer(create_app(SandboxConfig(**config))))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def body_for(order_no: str, warehouse_id: str = WH, reason: str = REASON) -> dict[str, Any]:
    return {
        "data": {
            "cancellation": {
                "order_no": order_no,
                "cancel_reason": reason,
                "warehouse_id": warehouse_id,
            }
        }
    }


async def cancel(
    client: Client,
    order_no: str = "ORD-CREATED",
    *,
    warehouse_id: str = WH,
    key: str | None = KEY,
    raw: bytes | None = None,
) -> tuple[int, dict[str, Any], CIMultiDictProxy[str]]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    data = raw if raw is not None else json.dumps(body_for(order_no, warehouse_id)).encode()
    async with client.patch(CANCEL_PATH, data=data, headers=headers) as response:
        return response.status, await response.json(), response.headers


async def stats(client: Client) -> dict[str, Any]:
    async with client.get(STATS_PATH) as response:
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result


def error_of(body: dict[str, Any]) -> tuple[int, str]:
    [error] = body["metadata"]["errors"]
    return error["code"], error["message"]


async def test_created_order_is_cancelled_with_success_envelope(make_client: MakeClient) -> None:
    client = await make_client()
    status, body, headers = await cancel(client)
    assert status == 200
    timestamp = body["metadata"].pop("timestamp")
    assert isinstance(timestamp, int)
    assert body == {"metadata": {"path": CANCEL_PATH, "http_status_code": 200, "http_status": "OK"}}
    assert re.fullmatch(r"sbx-[0-9a-f]{16}", headers["x-request-id"])


async def test_second_cancel_is_9002_already_cancelled(make_client: MakeClient) -> None:
    client = await make_client()
    assert (await cancel(client))[0] == 200
    status, body, _ = await cancel(client)
    assert status == 400
    assert error_of(body) == (9002, "Order is already cancelled.")
    assert body["metadata"]["http_status"] == "Bad Request"
    assert body["metadata"]["http_status_code"] == 400


async def test_order_cancelled_in_the_book_is_9002(make_client: MakeClient) -> None:
    client = await make_client()
    status, body, _ = await cancel(client, "ORD-CANCELLED")
    assert (status, error_of(body)[0]) == (400, 9002)


async def test_unknown_order_is_3012(make_client: MakeClient) -> None:
    client = await make_client()
    status, body, _ = await cancel(client, "ORD-CREATED", warehouse_id="WH-SBY02")
    assert status == 400
    assert error_of(body) == (3012, "Order Doesn't Exist in WMS and OMS.")


@pytest.mark.parametrize("state", ["ALLOCATED", "PICKED", "PACKED"])
async def test_allocated_orders_are_9001_naming_the_state(
    make_client: MakeClient, state: str
) -> None:
    client = await make_client()
    status, body, _ = await cancel(client, f"ORD-{state}")
    assert status == 400
    assert error_of(body) == (
        9001,
        f"Order cannot be cancelled: stock is already allocated (status {state}).",
    )


@pytest.mark.parametrize("state", ["SHIPPED", "CLOSED"])
async def test_shipped_orders_are_9003(make_client: MakeClient, state: str) -> None:
    client = await make_client()
    status, body, _ = await cancel(client, f"ORD-{state}")
    assert status == 400
    assert error_of(body) == (9003, f"Order cannot be cancelled: order is {state}.")


async def test_faulty_order_always_answers_500_803(make_client: MakeClient) -> None:
    client = await make_client()
    for _ in range(3):
        status, body, _ = await cancel(client, "ORD-FAULTY")
        assert status == 500
        assert body["metadata"]["http_status"] == "Internal Server Error"
        assert error_of(body) == (803, "Internal Server error.")
    assert (await stats(client))["cancelled"] == []


@pytest.mark.parametrize("key", [None, "wrong-key", ""])
async def test_bad_key_is_401_in_the_documented_shape(
    make_client: MakeClient, key: str | None
) -> None:
    client = await make_client()
    status, body, headers = await cancel(client, key=key)
    assert status == 401
    metadata = body["metadata"]
    assert set(metadata) == {"path", "status_code", "status", "message", "error", "timestamp"}
    assert metadata["path"] == CANCEL_PATH
    assert metadata["status_code"] == 401
    assert metadata["status"] == "Unauthorized"
    assert metadata["message"] == f"PATCH {CANCEL_PATH} [401] Unauthorized"
    assert metadata["error"] == {
        "code": 802,
        "message": "Unauthorized Access. You are not authorized to access this resource.",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", metadata["timestamp"])
    assert headers["x-request-id"]
    snapshot = await stats(client)
    assert snapshot["cancelled"] == []
    assert snapshot["cancel_calls"] == {}


def _with(path: tuple[str, ...], value: Any) -> bytes:
    body = body_for("ORD-CREATED")
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(body).encode()


BAD_BODIES = {
    "not json": b"order_no=ORD-CREATED",
    "empty": b"",
    "truncated": json.dumps(body_for("ORD-CREATED")).encode()[:-3],
    "invalid utf-8": b'{"data": "\xff"}',
    "json list": json.dumps([body_for("ORD-CREATED")]).encode(),
    "flat": json.dumps(body_for("ORD-CREATED")["data"]["cancellation"]).encode(),
    "no data wrapper": json.dumps(body_for("ORD-CREATED")["data"]).encode(),
    "cancellation is a list": _with(("data", "cancellation"), ["order_no"]),
    "extra top-level key": json.dumps(body_for("ORD-CREATED") | {"x": 1}).encode(),
    "missing field": json.dumps(
        {"data": {"cancellation": {"order_no": "ORD-CREATED", "warehouse_id": WH}}}
    ).encode(),
    "numeric order_no": _with(("data", "cancellation", "order_no"), 1234567),
    "null reason": _with(("data", "cancellation", "cancel_reason"), None),
    "blank warehouse": _with(("data", "cancellation", "warehouse_id"), "   "),
    "order_no 51 chars": _with(("data", "cancellation", "order_no"), "A" * 51),
    "warehouse 21 chars": _with(("data", "cancellation", "warehouse_id"), "W" * 21),
    "reason 51 chars": _with(("data", "cancellation", "cancel_reason"), "r" * 51),
    "extra field": _with(("data", "cancellation", "note"), "hi"),
}


@pytest.mark.parametrize("raw", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_bad_body_is_400_810(make_client: MakeClient, raw: bytes) -> None:
    client = await make_client()
    status, body, _ = await cancel(client, raw=raw)
    assert status == 400
    assert error_of(body) == (810, "Invalid Input. Please Validate Your Input.")
    assert (await stats(client))["cancelled"] == []


async def test_values_at_the_length_limits_are_accepted(make_client: MakeClient) -> None:
    client = await make_client(orders=None)
    raw = json.dumps(body_for("Ö" * 50, "W" * 20, "r" * 50)).encode()
    status, _, _ = await cancel(client, raw=raw)
    assert status == 200


async def test_without_order_book_any_order_cancels_once(make_client: MakeClient) -> None:
    client = await make_client(orders=None)
    assert (await cancel(client, "ANY-1"))[0] == 200
    assert (await cancel(client, "ANY-1", warehouse_id="WH-CKR01"))[0] == 200
    status, body, _ = await cancel(client, "ANY-1")
    assert (status, error_of(body)[0]) == (400, 9002)


async def test_fail_rate_one_always_answers_500_803(make_client: MakeClient) -> None:
    client = await make_client(fail_rate=1.0)
    status, body, _ = await cancel(client)
    assert status == 500
    assert error_of(body) == (803, "Internal Server error.")
    snapshot = await stats(client)
    assert snapshot["cancelled"] == []
    assert snapshot["cancel_calls"] == {f"ORD-CREATED|{WH}": 1}


async def test_key_is_checked_before_injected_failures(make_client: MakeClient) -> None:
    client = await make_client(fail_rate=1.0)
    assert (await cancel(client, key="wrong"))[0] == 401


async def test_seed_makes_fault_injection_reproducible(make_client: MakeClient) -> None:
    runs = []
    for _ in range(2):
        client = await make_client(orders=None, fail_rate=0.5, seed=7)
        runs.append([(await cancel(client, f"ORD-{n}"))[0] for n in range(20)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}


async def test_rate_limit_answers_429_with_retry_after(make_client: MakeClient) -> None:
    client = await make_client(orders=None, rate_limit=2, retry_after_s=7)
    results = await asyncio.gather(*(cancel(client, f"ORD-{n}") for n in range(3)))
    assert sorted(status for status, _, _ in results) == [200, 200, 429]
    [(_, body, headers)] = [result for result in results if result[0] == 429]
    assert headers["Retry-After"] == "7"
    assert body["metadata"]["http_status"] == "Too Many Requests"
    assert error_of(body) == (9429, "Too Many Requests (sandbox)")
    snapshot = await stats(client)
    assert len(snapshot["arrivals"]) == 3
    assert snapshot["answers"]["429"] == 1


async def test_rate_limit_window_slides(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window is one second of the sandbox's clock, replaced here (no sleep)."""
    now = [1000.0]
    monkeypatch.setattr(
        sandbox_module, "time", SimpleNamespace(monotonic=lambda: now[0], time=time.time)
    )
    client = await make_client(orders=None, rate_limit=1)
    assert (await cancel(client, "ORD-1"))[0] == 200
    now[0] += 0.999
    assert (await cancel(client, "ORD-2"))[0] == 429  # ORD-1 is still in the window
    now[0] += 0.001
    assert (await cancel(client, "ORD-2"))[0] == 429  # the 429 arrived too, 0.001 s ago
    now[0] += 1.0
    assert (await cancel(client, "ORD-2"))[0] == 200


async def test_limit_kind_503_sheds_load_without_retry_after(make_client: MakeClient) -> None:
    client = await make_client(orders=None, rate_limit=1, limit_kind="503")
    assert (await cancel(client, "ORD-1"))[0] == 200
    status, body, headers = await cancel(client, "ORD-2")
    assert (status, "Retry-After" in headers) == (503, False)
    assert error_of(body) == (9503, "Service Unavailable: over capacity (sandbox)")
    assert (await stats(client))["answers"]["503"] == 1


def limit_answers(kind: str, limit: float, times: list[float], **config: Any) -> list[object]:
    """What the limit says to requests arriving at `times` (seconds after the first)."""
    state = SandboxState(SandboxConfig(rate_limit=limit, limit_kind=kind, **config))
    answers = []
    for moment in times:
        state.arrivals.append(1000.0 + moment)
        answers.append(state.check_limit(1000.0 + moment, limit))
    return answers


def test_a_token_bucket_lets_a_burst_through_then_the_rate() -> None:
    # 10 a second, 3 saved up: three at once, then one every 0.1 s.
    answers = limit_answers("bucket", 10, [0, 0, 0, 0, 0.1, 0.15, 0.2], burst=3)
    assert answers == [0.0, 0.0, 0.0, (429, 1), 0.0, (429, 1), 0.0]


def test_a_minute_quota_says_when_the_next_minute_starts() -> None:
    # 0.05/s is 3 a minute: the fourth waits for the next minute, which takes three more.
    times = [0, 1, 2, 20.5, 60, 61, 62, 63]
    answers = limit_answers("minute", 0.05, times)
    assert answers == [0.0, 0.0, 0.0, (429, 40), 0.0, 0.0, 0.0, (429, 57)]


def test_a_queueing_server_refuses_nothing_and_makes_the_excess_wait() -> None:
    # It serves 10 a second: 4 arriving at once wait 0, 0.1, 0.2 and 0.3 s.
    waits = limit_answers("queue", 10, [0, 0, 0, 0, 1.0])
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.0])


async def test_drop_closes_the_connection_without_an_answer(make_client: MakeClient) -> None:
    client = await make_client(drop_rate=1.0)
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await cancel(client)
    snapshot = await stats(client)  # the server itself keeps serving
    assert snapshot["answers"]["dropped"] == 1
    assert sum(snapshot["answers"].values()) == 1
    assert len(snapshot["arrivals"]) == 1
    assert snapshot["cancel_calls"] == {f"ORD-CREATED|{WH}": 1}
    assert snapshot["cancelled"] == []


async def test_latency_is_added_before_answers(make_client: MakeClient) -> None:
    client = await make_client(latency_ms=150)
    loop = asyncio.get_running_loop()
    for key in (KEY, "wrong"):
        started = loop.time()
        await cancel(client, key=key)
        assert loop.time() - started >= 0.14


async def test_concurrent_cancels_of_one_order_succeed_once(make_client: MakeClient) -> None:
    client = await make_client(latency_ms=20)
    results = await asyncio.gather(*(cancel(client) for _ in range(10)))
    assert sorted(status for status, _, _ in results) == [200] + [400] * 9
    assert (await stats(client))["cancelled"] == [f"ORD-CREATED|{WH}"]


async def test_every_response_has_a_request_id(make_client: MakeClient) -> None:
    client = await make_client()
    ids = []
    for method, path in [("GET", CANCEL_PATH), ("GET", "/nope"), ("GET", STATS_PATH)]:
        async with client.request(method, path) as response:
            assert response.status == {CANCEL_PATH: 405, "/nope": 404, STATS_PATH: 200}[path]
            ids.append(response.headers["x-request-id"])
    ids += [(await cancel(client, key=key))[2]["x-request-id"] for key in (KEY, KEY, None)]
    assert len(set(ids)) == len(ids)


async def test_stats_count_arrivals_answers_and_calls(make_client: MakeClient) -> None:
    client = await make_client()
    await cancel(client)  # 200
    await cancel(client)  # 400 already cancelled
    await cancel(client, "ORD-ALLOCATED")  # 400
    await cancel(client, "ORD-FAULTY")  # 500
    await cancel(client, key="wrong")  # 401, not a call with a valid key
    await cancel(client, raw=b"{}")  # 400, names no order
    snapshot = await stats(client)
    assert snapshot["answers"] == {
        "200": 1,
        "400": 3,
        "401": 1,
        "429": 0,
        "500": 1,
        "503": 0,
        "dropped": 0,
    }
    assert snapshot["cancel_calls"] == {
        f"ORD-CREATED|{WH}": 2,
        f"ORD-ALLOCATED|{WH}": 1,
        f"ORD-FAULTY|{WH}": 1,
    }
    assert snapshot["cancelled"] == [f"ORD-CREATED|{WH}"]
    arrivals = snapshot["arrivals"]
    assert len(arrivals) == 6
    assert arrivals == sorted(arrivals)


@pytest.mark.parametrize(
    ("arrivals", "busiest"),
    [
        ([], 0),
        ([0.0], 1),
        ([0.0, 0.5, 0.999, 1.0], 3),  # the window is [t, t + 1 s): 1.0 starts a new one
        ([0.0, 1.0, 2.0, 2.1, 2.2, 3.15], 3),
        ([5.0, 5.0, 5.0], 3),
    ],
)
def test_busiest_second_counts_the_fullest_sliding_window(
    arrivals: list[float], busiest: int
) -> None:
    state = SandboxState(SandboxConfig(api_key=KEY))
    state.arrivals = arrivals
    assert state.busiest_second() == busiest


def test_config_hides_the_key_and_rejects_nonsense() -> None:
    assert "secret" not in repr(SandboxConfig(api_key="secret"))
    for bad in ({"fail_rate": 1.5}, {"drop_rate": -0.1}, {"rate_limit": 0}, {"latency_ms": -1}):
        with pytest.raises(ValueError, match="must"):
            SandboxConfig(**bad)


def test_load_order_book_keeps_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_no,warehouse_id,state\r\n0001234567,WH-TGR04,CREATED\r\nX-1,WH-CKR01,allocated\r\n",
        encoding="utf-8-sig",
    )
    assert load_order_book(path) == {
        ("0001234567", "WH-TGR04"): OrderState.CREATED,
        ("X-1", "WH-CKR01"): OrderState.ALLOCATED,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("order_no,warehouse_id,state\nA,W,CREATED\nB,W,LOST\n", r"line 3: unknown state 'LOST'"),
        ("order_no,warehouse_id\nA,W\n", "header must be"),
        ("order_no,warehouse_id,state\nA,W,CREATED\nA,W,PICKED\n", "line 3: duplicate"),
        ("order_no,warehouse_id,state\n,W,CREATED\n", "line 2: order_no and warehouse_id"),
    ],
)
def test_load_order_book_rejects_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_order_book(path)


def test_sample_order_book_has_the_demo_states() -> None:
    book = load_order_book(REPO_ROOT / "samples" / "orders.csv")
    states = [str(state) for state in book.values()]
    assert len(book) >= 30
    assert {state: states.count(state) for state in set(states) - {"CREATED"}} == {
        "ALLOCATED": 3,
        "PICKED": 1,
        "SHIPPED": 1,
        "CANCELLED": 1,
        "FAULTY": 1,
    }
    assert book["0001234567", "WH-TGR04"] is OrderState.CREATED


def test_importing_the_sandbox_pulls_in_no_pandas_nor_other_modules() -> None:
    code = (
        "import sys, batch_cancel.sandbox\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas'"
        " or (m.startswith('batch_cancel.') and m != 'batch_cancel.sandbox')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_serve_prints_its_url_and_exits_cleanly_on_signal(signum: signal.Signals) -> None:
    code = (
        "import asyncio\n"
        "from batch_cancel.sandbox import SandboxConfig, serve\n"
        "asyncio.run(serve(SandboxConfig(api_key='k', orders=None), '127.0.0.1', 0))\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        match = re.fullmatch(r"Shipper sandbox listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        assert int(match[2]) > 0
        async with aiohttp.ClientSession(match[1]) as session:
            body = body_for("ORD-1")
            async with session.patch(CANCEL_PATH, json=body, headers={"x-api-key": "k"}) as resp:
                assert resp.status == 200
        process.send_signal(signum)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert stderr == b""
    assert stdout == b""

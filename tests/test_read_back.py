"""Read-back before re-sending: an order whose cancel may have been applied is asked
about (GET .../outbound/oms/{order_no}) before it is sent again, over two nights.

The server applies each order's first cancel and then breaks its answer in a way aiohttp
refuses before the status is known; a cancel sent again is refused as Shipper refuses one
("already cancelled", a code the operator does not name with --already-cancelled-code).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batch_cancel.models import ExitStatus

from .helpers import orders_csv, read_results
from .misbehaving import MisbehavingServer, reply
from .test_exactly_once import env, run  # noqa: F401 - env is a fixture

FAST = ["--rate", "0", "--concurrency", "2", "--timeout", "1", "--max-attempts", "2"]

Breaker = Callable[[asyncio.StreamWriter], Awaitable[None]]


async def _invalid_chunk_size(writer: asyncio.StreamWriter) -> None:
    # Head and a bad chunk in one packet: aiohttp refuses the lot before handing a status back.
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nnot a chunk\r\n")
    await writer.drain()
    writer.close()


async def _header_block_too_large(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 70_000 + b"\r\n\r\n")
    await writer.drain()
    writer.close()


async def _headers_a_byte_a_second(writer: asyncio.StreamWriter) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}":
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1)


async def _drop(writer: asyncio.StreamWriter) -> None:
    writer.transport.abort()


class Shipper:
    """Applies a cancel once; breaks the answer to the first; answers reads from its book."""

    def __init__(self, breaker: Breaker, *, reads_break: bool = False) -> None:
        self.breaker = breaker
        self.reads_break = reads_break
        self.cancelled: set[str] = set()
        self.server = MisbehavingServer(self.answer)

    async def answer(self, body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        line = self.server.request_lines[-1]
        if line.startswith("GET "):
            if self.reads_break:
                await _drop(writer)
                return
            order_no = line.split()[1].rsplit("/", 1)[-1]
            status = "CANCELLED" if order_no in self.cancelled else "CREATED"
            outbound = {"so_status": status, "details": [{"qty_allocated": 0}]}
            payload = json.dumps({"data": {"outbound": outbound}}).encode()
            writer.write(reply("200 OK", payload, f"x-request-id: read-{order_no}"))
            await writer.drain()
            return
        order_no = body["data"]["cancellation"]["order_no"]
        if order_no in self.cancelled:
            error = {"metadata": {"errors": [{"code": 9002, "message": "already cancelled"}]}}
            writer.write(reply("400 Bad Request", json.dumps(error).encode()))
            await writer.drain()
            return
        self.cancelled.add(order_no)
        await self.breaker(writer)

    def cancels_sent(self) -> list[str]:
        return sorted(self.server.order_nos())

    def reads_sent(self) -> int:
        return sum(line.startswith("GET ") for line in self.server.request_lines)


def _reads_on_record(ledger: Path) -> list[tuple[int | None, str]]:
    with sqlite3.connect(ledger) as db:
        return db.execute("SELECT http_status, so_status FROM reads ORDER BY read_id").fetchall()


def serving(shipper: Shipper) -> Iterator[MisbehavingServer]:
    with shipper.server.running() as server:
        yield server


@pytest.mark.parametrize(
    "breaker",
    [_invalid_chunk_size, _header_block_too_large, _headers_a_byte_a_second],
    ids=["invalid-chunk-size", "header-block-too-large", "headers-a-byte-a-second"],
)
@pytest.mark.usefixtures("env")
def test_a_cancel_applied_but_unanswered_is_read_back_not_sent_again_two_nights(
    tmp_path: Path, breaker: Breaker
) -> None:
    source = orders_csv(tmp_path / "in.csv", 2)
    out = tmp_path / "out.csv"
    shipper = Shipper(breaker)
    for server in serving(shipper):
        assert run(source, "-o", out, "--base-url", server.url, *FAST) == ExitStatus.SUCCESS
        rows = read_results(out)
        assert [row["result_status"] for row in rows] == ["cancelled"] * 2
        assert [row["result_request_id"] for row in rows] == ["read-ORD-00000", "read-ORD-00001"]
        assert [row["result_error_message"] for row in rows] == [
            f"confirmed cancelled by read-back (CANCELLED; request id read-{order_no})"
            for order_no in ("ORD-00000", "ORD-00001")
        ]
        assert shipper.cancels_sent() == ["ORD-00000", "ORD-00001"]
        # The next night: skipped at this account, nothing sent, nothing read.
        assert run(source, "-o", out, "--base-url", server.url, *FAST) == ExitStatus.SUCCESS
        assert [row["result_status"] for row in read_results(out)] == ["skipped"] * 2
        assert shipper.cancels_sent() == ["ORD-00000", "ORD-00001"]
        assert shipper.reads_sent() == 2


@pytest.mark.usefixtures("env")
def test_an_unreachable_read_leaves_in_doubt_then_the_next_night_settles_it(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "state" / "ledger.sqlite3"  # as the env fixture sets it
    source = orders_csv(tmp_path / "in.csv", 1)
    out = tmp_path / "out.csv"
    shipper = Shipper(_drop, reads_break=True)
    for server in serving(shipper):
        assert run(source, "-o", out, "--base-url", server.url, *FAST) == (
            ExitStatus.ROWS_NEED_ATTENTION
        )
        (row,) = read_results(out)
        assert (row["result_status"], row["result_error_code"]) == ("in_doubt", "in_doubt")
        assert row["result_error_message"].startswith(
            "in doubt: sent, no answer, and the read-back failed "
        )
        assert "check the order in Shipper" in row["result_error_message"]
        assert shipper.cancels_sent() == ["ORD-00000"]  # never sent blind
        # --max-attempts 2 reads, each on record (aiohttp itself may retry a GET whose
        # kept-alive connection drops, so the server can see more).
        assert _reads_on_record(ledger) == [(None, "")] * 2

        # The next night the read works: the earlier run's unanswered attempt is read back.
        shipper.reads_break = False
        assert run(source, "-o", out, "--base-url", server.url, *FAST) == ExitStatus.SUCCESS
        (row,) = read_results(out)
        assert row["result_status"] == "cancelled"
        assert row["result_error_message"].startswith(
            "confirmed cancelled by read-back (CANCELLED; request id read-ORD-00000); "
            "an earlier attempt (run 1, "
        )
        assert shipper.cancels_sent() == ["ORD-00000"]
        # And the night after, the ledger knows it: skipped.
        assert run(source, "-o", out, "--base-url", server.url, *FAST) == ExitStatus.SUCCESS
        assert read_results(out)[0]["result_status"] == "skipped"
        assert _reads_on_record(ledger) == [(None, "")] * 2 + [(200, "CANCELLED")]

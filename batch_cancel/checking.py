"""`check`: read orders back from Shipper at the run's pace, and say what became of each.

Reads only; nothing is cancelled and the ledger is not written. The runner's read-back
(its rate limit, throttle, retries and stops) does the asking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from .account_run import connected_runner
from .config import HealthPolicy, SendOptions
from .models import CancelRequest, ReadAnswer
from .readback import Meaning, verdict
from .runner import StopReason


@dataclass(frozen=True, slots=True)
class Checked:
    order_no: str
    warehouse_id: str
    answer: ReadAnswer
    meaning: Meaning | None  # None: the read failed, nothing is known
    verdict: str


async def _check(
    orders: Sequence[tuple[str, str]], send: SendOptions, health: HealthPolicy
) -> tuple[list[Checked], StopReason | None]:
    # The runner's cancel is never called: check only reads.
    async with connected_runner(send, on_result=_no_result, health=health) as (_, runner):
        gate = asyncio.Semaphore(send.concurrency)

        async def one(order_no: str, warehouse_id: str) -> Checked:
            async with gate:
                request = CancelRequest(0, order_no, warehouse_id, "")
                answer, meaning, _reads = await runner.read_back(request)
            return Checked(order_no, warehouse_id, answer, meaning, verdict(answer, meaning))

        checked = await asyncio.gather(*(one(*order) for order in orders))
        return list(checked), runner.stop_reason


def _no_result(*_: object) -> None:
    return None


def check_orders(
    orders: Sequence[tuple[str, str]], send: SendOptions, health: HealthPolicy
) -> tuple[list[Checked], StopReason | None]:
    """Each order read back, in the order given; and why the reads stopped, if they did."""
    return asyncio.run(_check(orders, send, health))

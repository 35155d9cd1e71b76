"""The floor for item 1: the least code that sends every row with aiohttp, nothing else.

Same session settings as batch_cancel.client.ShipperClient (one ClientSession,
TCPConnector(limit=concurrency), ClientTimeout(total=30), the same headers, no
redirects), the same PATCH body, N tasks pulling from one list. No validation,
no retries, no results file: what is left is the cost of the HTTP round trip.

    SHIPPER_API_KEY=... python -m bench.minimal_aiohttp BASE_URL INPUT.csv CONCURRENCY
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator

import aiohttp

from batch_cancel.client import CANCEL_PATH, USER_AGENT

TIMEOUT_S = 30.0  # batch-cancel's default --timeout


async def send_all(base_url: str, rows: list[dict[str, str]], concurrency: int) -> Counter[int]:
    url = base_url.rstrip("/") + CANCEL_PATH
    statuses: Counter[int] = Counter()
    pending: Iterator[dict[str, str]] = iter(rows)
    async with aiohttp.ClientSession(
        headers={"x-api-key": os.environ["SHIPPER_API_KEY"], "User-Agent": USER_AGENT},
        timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
        connector=aiohttp.TCPConnector(limit=concurrency),
        raise_for_status=False,
    ) as session:

        async def worker() -> None:
            for row in pending:
                body = {"data": {"cancellation": row}}
                async with session.patch(url, json=body, allow_redirects=False) as response:
                    await response.read()
                    statuses[response.status] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def main(argv: list[str]) -> int:
    base_url, path, concurrency = argv[0], argv[1], int(argv[2])
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [
            {
                "order_no": row["order_no"],
                "cancel_reason": row["cancel_reason"],
                "warehouse_id": row["warehouse_id"],
            }
            for row in csv.DictReader(handle)
        ]
    started = time.monotonic()
    statuses = asyncio.run(send_all(base_url, rows, concurrency))
    elapsed = time.monotonic() - started
    print(json.dumps({"rows": len(rows), "seconds": elapsed, "statuses": statuses}))
    return 0 if statuses.get(200) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

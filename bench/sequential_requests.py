"""What a user writes first: a `requests` loop, one order after another.

It is given the benefit of the doubt: one `requests.Session` (keep-alive, one
connection for the whole run) rather than a fresh connection per row.

    SHIPPER_API_KEY=... python -m bench.sequential_requests BASE_URL INPUT.csv
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import Counter

import requests

CANCEL_PATH = "/v3/fulfillment/outbound/oms/cancel"


def main(argv: list[str]) -> int:
    base_url, path = argv[0], argv[1]
    url = base_url.rstrip("/") + CANCEL_PATH
    statuses: Counter[int] = Counter()
    rows = 0
    with requests.Session() as session, open(path, encoding="utf-8", newline="") as handle:
        session.headers["x-api-key"] = os.environ["SHIPPER_API_KEY"]
        for row in csv.DictReader(handle):
            rows += 1
            body = {
                "data": {
                    "cancellation": {
                        "order_no": row["order_no"],
                        "cancel_reason": row["cancel_reason"],
                        "warehouse_id": row["warehouse_id"],
                    }
                }
            }
            response = session.patch(url, json=body, timeout=30, allow_redirects=False)
            statuses[response.status_code] += 1
    print(json.dumps({"rows": rows, "statuses": statuses}))
    return 0 if statuses.get(200) == rows else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

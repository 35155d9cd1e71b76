"""The run's process-level parts that need no server: the input scan beside the run."""

from __future__ import annotations

import hashlib
from pathlib import Path

from batch_cancel.job import InputScan


def test_input_scan_counts_rows_and_hashes_the_file(tmp_path: Path) -> None:
    data = b"order_no,warehouse_id,cancel_reason\r\n" + b"A,WH,r\n" * 3000
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    scan = InputScan([path, tmp_path / "missing.csv", path])
    assert scan.sha256s() == [
        hashlib.sha256(data).hexdigest(),
        "",
        hashlib.sha256(data).hexdigest(),
    ]
    assert scan.rows_estimate == 6000

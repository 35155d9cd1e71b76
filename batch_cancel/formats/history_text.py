"""`history`'s text: one line per attempt or outcome the ledger holds for an order."""

from __future__ import annotations

from pathlib import Path


def history_line(entry: dict[str, object]) -> str:
    answer = (f"HTTP {entry['http_status']}" if entry["http_status"] else "no answer") + "".join(
        f" {entry[key]}" for key in ("error_code", "error_message") if entry[key]
    )
    if entry["request_id"]:
        answer += f" (request {entry['request_id']})"
    if entry["kind"] == "attempt":
        what = f"attempt {entry['attempt']} sent -> {answer}"
    elif entry["kind"] == "read":
        shown = f"Shipper shows {entry['status']}" if entry["status"] else answer
        what = f"read-back -> {shown}" + (f" ({answer})" if entry["status"] else "")
    else:
        row = f"row {entry['source_row']} of {Path(str(entry['input_path'])).name}"
        what = f"outcome {entry['status']} after {entry['attempt']} attempt(s): {answer}; {row}"
    line = f"{entry['at']}  run {entry['run_id']}  {entry['warehouse_id']}  {what}"
    if entry["this_account"] is False:
        line += f"  [another account, at {entry['host']}]"
    return line

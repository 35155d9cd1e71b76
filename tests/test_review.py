"""Unit tests for the morning review: reading results CSVs back (results_file.py), counting,
the plain sentence and the review's outputs (review.py), and re-sending (`resend_only`)."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from batch_cancel.config import InputOptions
from batch_cancel.errors import ConfigError, InputFileError
from batch_cancel.formats.html_report import render_report
from batch_cancel.formats.needs_attention_csv import (
    ACTION_COLUMN,
    FILE_COLUMN,
    needs_attention_table,
    write_needs_attention,
)
from batch_cancel.formats.results_csv import ResultsWriter
from batch_cancel.formats.review_json import review_json
from batch_cancel.formats.review_text import format_text
from batch_cancel.loader import OrdersFile
from batch_cancel.models import LoadedRow, Outcome, RowResult
from batch_cancel.results_file import ResultsFile, parse_statuses, resend_only
from batch_cancel.review import (
    MAX_MESSAGES,
    SAMPLE_ROWS,
    MessageCount,
    WarehouseCount,
    review_files,
)
from batch_cancel.schema import RESULT_COLUMNS, safe_cell
from batch_cancel.text import printable
from batch_cancel.wording import attention_sentence, rejection_reason

from .helpers import DATA, read_results, write_csv

EVERY_STATUS = DATA / "results-every-status.csv"
ATTENTION_ROWS = [3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15]
INPUT_COLUMNS = ["order_no", "warehouse_id", "cancel_reason"]
HEADER = [*INPUT_COLUMNS, *RESULT_COLUMNS]
EVERY_STATUS_SENTENCE = (
    "11 rows need attention: 5 rejected (2 because stock is allocated, 1 because Shipper does "
    "not know the order, 1 because the order has shipped, 1 with HTTP 404), 2 failed after "
    "retries (re-run), "
    "2 invalid, 2 were not sent (re-run)."
)


def results_row(order_no: str, status: str, code: str = "", message: str = "") -> list[str]:
    return [order_no, "WH-1", "r", "", status, "", code, message, "0", "", ""]


def raw_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_the_hand_made_file_has_every_status() -> None:
    # The fixture must keep up with models.Outcome, or "every status" silently stops being true.
    statuses = {row.result.status for row in ResultsFile(EVERY_STATUS).rows()}
    # in_doubt rows (read-back) are reviewed in test_check.py; this file predates them.
    assert statuses == set(Outcome) - {Outcome.IN_DOUBT}


def test_counts_per_status_code_warehouse_and_message() -> None:
    review = review_files([EVERY_STATUS])
    total = review.total
    assert total.rows == 15
    assert dict(total.by_status) == {
        Outcome.CANCELLED: 2,
        Outcome.REJECTED: 5,
        Outcome.FAILED: 2,
        Outcome.IN_DOUBT: 0,
        Outcome.INVALID: 2,
        Outcome.DUPLICATE: 1,
        Outcome.SKIPPED: 1,
        Outcome.NOT_SENT: 2,
    }
    assert total.needs_attention == 11
    assert total.sentence == EVERY_STATUS_SENTENCE
    codes = {item.code: item for item in total.error_codes}
    assert [item.code for item in total.error_codes][:2] == ["9001", "run_interrupted"]
    allocated = codes["9001"]
    assert (allocated.rows, allocated.other_messages, dict(allocated.by_status)) == (
        2,
        1,
        {Outcome.REJECTED: 2},
    )
    assert allocated.message == (
        "Order cannot be cancelled: stock is already allocated (status ALLOCATED)."
    )
    assert codes["3012"].message == "Order Doesn't Exist in WMS and OMS."
    assert dict(codes["run_interrupted"].by_status) == {Outcome.NOT_SENT: 2}
    assert "" not in codes  # the 404 with no code is not a code
    assert total.warehouses == (
        WarehouseCount(
            "WH-CKR01",
            5,
            4,
            {
                Outcome.CANCELLED: 1,
                Outcome.REJECTED: 1,
                Outcome.FAILED: 1,
                Outcome.INVALID: 1,
                Outcome.NOT_SENT: 1,
            },
        ),
        WarehouseCount("WH-SBY02", 2, 2, {Outcome.REJECTED: 1, Outcome.NOT_SENT: 1}),
        WarehouseCount("WH-TANGERANG-SELATAN-04", 1, 1, {Outcome.INVALID: 1}),
        WarehouseCount(
            "WH-TGR04",
            7,
            4,
            {
                Outcome.CANCELLED: 1,
                Outcome.REJECTED: 3,
                Outcome.FAILED: 1,
                Outcome.DUPLICATE: 1,
                Outcome.SKIPPED: 1,
            },
        ),
    )
    assert total.top_messages[0] == MessageCount(
        "not sent: interrupted by SIGTERM; requests in flight were finished", 2
    )
    assert len(total.top_messages) == 5
    assert (total.first_finished_at, total.last_finished_at) == (
        "2026-11-26T23:00:01.120Z",
        "2026-11-26T23:00:09.870Z",
    )
    assert [row.result.source_row for row in review.needs_attention] == ATTENTION_ROWS


def test_several_files_are_summarised_together_and_per_file(tmp_path: Path) -> None:
    clean = write_csv(
        tmp_path / "monday.results.csv", HEADER, [results_row("A-1", "cancelled")] * 3
    )
    review = review_files([clean, EVERY_STATUS])
    assert review.total.label == "2 results files"
    assert review.total.rows == 18
    assert review.total.by_status[Outcome.CANCELLED] == 5
    assert [(summary.label, summary.rows, summary.needs_attention) for summary in review.files] == [
        (str(clean), 3, 0),
        (str(EVERY_STATUS), 15, 11),
    ]
    assert review.files[0].sentence == "Nothing needs attention: 3 cancelled."
    assert review.files[1].sentence == EVERY_STATUS_SENTENCE
    text = format_text(review)
    assert f"  {clean}: 3 row(s); Nothing needs attention: 3 cancelled." in text
    assert text.splitlines()[0] == "2 results files: 18 row(s), 11 need attention"


@pytest.mark.parametrize(
    ("by_status", "reasons", "sentence"),
    [
        (
            {Outcome.CANCELLED: 30, Outcome.REJECTED: 9, Outcome.INVALID: 3},
            {(Outcome.REJECTED, "because stock is allocated"): 9, (Outcome.INVALID, ""): 3},
            "12 rows need attention: 9 rejected because stock is allocated, 3 invalid.",
        ),
        (
            {Outcome.FAILED: 1},
            {(Outcome.FAILED, ""): 1},
            "1 row needs attention: 1 failed after retries (re-run).",
        ),
        (
            {Outcome.NOT_SENT: 1, Outcome.INVALID: 1},
            {(Outcome.NOT_SENT, ""): 1, (Outcome.INVALID, ""): 1},
            "2 rows need attention: 1 invalid, 1 was not sent (re-run).",
        ),
        (
            {Outcome.CANCELLED: 38, Outcome.DUPLICATE: 2, Outcome.SKIPPED: 0},
            {},
            "Nothing needs attention: 38 cancelled, 2 duplicate.",
        ),
        ({}, {}, "No rows."),
    ],
)
def test_attention_sentence(
    by_status: dict[Outcome, int], reasons: dict[tuple[Outcome, str], int], sentence: str
) -> None:
    assert attention_sentence(by_status, reasons) == sentence


@pytest.mark.parametrize(
    ("code", "message", "http_status", "reason"),
    [
        (
            "3012",
            "Order Doesn't Exist in WMS and OMS.",
            400,
            "because Shipper does not know the order",
        ),
        ("802", "Unauthorized Access.", 401, "because the API refused the key"),
        ("9001", "stock is already allocated (status PICKED).", 400, "because stock is allocated"),
        ("", "Order cannot be cancelled: stock is allocated", 400, "because stock is allocated"),
        # The number alone is the sandbox's: the real API may mean something else by it.
        ("9001", "Something else entirely.", 400, "with code 9001"),
        ("77", "Order is not allocated yet.", 400, "with code 77"),
        ("77", "Order not yet allocated; try later.", 400, "with code 77"),
        ("77", "Cannot cancel: stock is already allocated.", 400, "because stock is allocated"),
        ("9002", "Order is already cancelled.", 400, "because the order was already cancelled"),
        ("", "non-JSON response (text/html): <h1>Not Found</h1>", 404, "with HTTP 404"),
        ("", "", None, "with no error code"),
    ],
)
def test_rejection_reason_claims_only_what_the_row_shows(
    code: str, message: str, http_status: int | None, reason: str
) -> None:
    result = RowResult(
        source_row=1,
        status=Outcome.REJECTED,
        http_status=http_status,
        error_code=code,
        error_message=message,
    )
    assert rejection_reason(result) == reason


def test_parse_statuses() -> None:
    assert parse_statuses(" Failed , not_sent,") == {Outcome.FAILED, Outcome.NOT_SENT}
    with pytest.raises(ValueError, match=r"^unknown status 'faild'; statuses are cancelled, "):
        parse_statuses("faild,rejected")
    with pytest.raises(ValueError, match=r"^expects STATUS\[,STATUS\.\.\.\]"):
        parse_statuses(" , ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "file is empty (no header line)"),
        ("order_no,warehouse_id\nA-1,WH\n", "not a results file (no result_status column); "),
        ("order_no,result_status\nA-1,cancelled\nA-2,maybe\n", "data row 2: result_status 'maybe'"),
        (
            "order_no,result_status,result_http_status\nA-1,rejected,4xx\n",
            "data row 1: result_http_status '4xx' is not a whole number",
        ),
    ],
)
def test_unreadable_results_files_are_input_errors(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.results.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=re.escape(message)):
        review_files([path])


def test_missing_file_and_wrong_encoding(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.csv: no such file$"):
        review_files([tmp_path / "nope.csv"])
    latin = tmp_path / "latin.csv"
    latin.write_bytes("order_no,result_status\nKÖLN,cancelled\n".encode("cp1252"))
    with pytest.raises(InputFileError, match="try --encoding cp1252"):
        review_files([latin])
    assert review_files([latin], encoding="cp1252").total.rows == 1


def test_mapped_columns_and_semicolons(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "m.results.csv",
        ["No. Pesanan", "Gudang", "source_row", "result_status"],
        [["TKP-1", "WH-A", "1", "failed"], ["TKP-2", "WH-A", "2", "cancelled"]],
        delimiter=";",
    )
    review = review_files([path], column_map={"order_no": "No. Pesanan", "warehouse_id": "gudang"})
    assert [(row.order_no, row.warehouse_id) for row in review.needs_attention] == [
        ("TKP-1", "WH-A")
    ]
    assert [item.warehouse_id for item in review.total.warehouses] == ["WH-A"]
    # Without --map the warehouse is unknown, not guessed.
    assert [item.warehouse_id for item in review_files([path]).total.warehouses] == [""]


def test_needs_attention_csv_keeps_rows_as_they_are(tmp_path: Path) -> None:
    out = tmp_path / "out" / "needs.csv"
    assert write_needs_attention(review_files([EVERY_STATUS]), out) == 11
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    source = raw_rows(EVERY_STATUS)
    written = raw_rows(out)
    assert written[0] == [*source[0], FILE_COLUMN, ACTION_COLUMN]
    # As they are, but never a formula: row 15's order_no is one (see the next test).
    assert [row[:-1] for row in written[1:]] == [
        [*map(safe_cell, source[row]), str(EVERY_STATUS)] for row in ATTENTION_ROWS
    ]
    # Each row says what to do, with the command for its own file where one helps.
    actions = [row[-1] for row in written[1:]]
    assert (
        "ask the warehouse to release the stock, then re-send these rows (or let "
        '`retry_rejected = "allocated"` retry them on the nights the config sets): '
        f"batch-cancel run {EVERY_STATUS} --only rejected"
    ) in actions
    assert "too late to cancel: handle it as a return with the buyer or the marketplace" in actions
    # It is a results file itself: it can be summarised (and re-run) again, keeping its file names.
    again = review_files([out])
    assert again.total.needs_attention == 11
    assert next(needs_attention_table(again)[1])[-2] == str(EVERY_STATUS)


def test_needs_attention_csv_cells_are_never_formulas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A results file re-saved from Excel has lost the apostrophes ResultsWriter added;
    # the needs-attention CSV is opened in Excel again, so it adds them back.
    monkeypatch.chdir(tmp_path)
    formula = '=HYPERLINK("evil.example","open me")'
    path = write_csv(
        Path("=night.csv"),
        [*HEADER, "@note"],
        [
            [*results_row(formula, "rejected", "-1", "+SUM(A1:A9)"), "ok"],
            [*results_row("'=already safe", "failed", "", "\t=tab first"), "\uff1dfull width"],
        ],
    )
    out = Path("needs.csv")
    assert write_needs_attention(review_files([path]), out) == 2
    header, *rows = raw_rows(out)
    assert header == [*HEADER, "'@note", FILE_COLUMN, ACTION_COLUMN]
    assert rows == [
        [f"'{formula}", "WH-1", "r", "", "rejected", "", "'-1", "'+SUM(A1:A9)", "0", "", "",
         "ok", f"'{path}", "read Shipper's message on the row; ask Shipper support with "
         "its result_request_id"],
        ["'=already safe", "WH-1", "r", "", "failed", "", "", "'\t=tab first", "0", "", "",
         "'\uff1dfull width", f"'{path}", "transient errors outlasted the retries: re-run "
         f"(the ledger skips what was cancelled): batch-cancel run {path} --only failed"],
    ]  # fmt: skip
    # What the review reads from the file is still the file's own text.
    assert next(needs_attention_table(review_files([path]))[1])[0] == formula


def test_needs_attention_header_is_the_union_of_the_files(tmp_path: Path) -> None:
    first = write_csv(
        tmp_path / "a.csv", ["order_no", "result_status", "note"], [["A-1", "failed", "x"]]
    )
    second = write_csv(
        tmp_path / "b.csv",
        ["marketplace", "order_no", "result_status"],
        [["Shopee", "B-1", "invalid"]],
    )
    header, rows = needs_attention_table(review_files([first, second]))
    assert header == ["order_no", "result_status", "note", "marketplace", FILE_COLUMN, "action"]
    assert [row[:-1] for row in rows] == [
        ["A-1", "failed", "x", "", str(first)],
        ["B-1", "invalid", "", "Shopee", str(second)],
    ]


def test_text_output_is_printable_and_clipped(tmp_path: Path) -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07line\nbreak\u202e" + "x" * 500
    path = write_csv(tmp_path / "h.csv", HEADER, [results_row("A-1", "rejected", "1", hostile)])
    text = format_text(review_files([path]))
    assert not {"\x1b", "\x07", "\u202e"} & set(text)
    assert "\ufffd[2J\ufffd]0;pwned\ufffdline break\ufffd" in text
    assert max(len(line) for line in text.splitlines()) < 250
    assert printable("a\tb\r\nc\x00") == "a b  c\ufffd"


def test_columns_stay_aligned_past_a_million_rows(tmp_path: Path) -> None:
    rows = [results_row(f"A-{n}", "not_sent", "api_down", "down") for n in range(1_000_001)]
    path = write_csv(tmp_path / "night.csv", HEADER, rows)
    lines = format_text(review_files([path])).splitlines()
    header = lines.index("  error code                 rows  status    message")
    assert lines[header + 1] == "  api_down                1000001  not_sent  down"
    header = lines.index("  warehouse                  rows   attention  by status")
    assert lines[header + 1] == "  WH-1                    1000001     1000001  not_sent 1000001"
    assert "  1000001  down" in lines


def test_json_is_plain_data() -> None:
    document = json.loads(json.dumps(review_json(review_files([EVERY_STATUS]))))
    assert document["total"]["by_status"]["rejected"] == 5
    assert document["total"]["sentence"] == EVERY_STATUS_SENTENCE
    assert document["files"][0]["label"] == str(EVERY_STATUS)
    assert document["total"]["error_codes"][0] == {
        "code": "9001",
        "rows": 2,
        "message": "Order cannot be cancelled: stock is already allocated (status ALLOCATED).",
        "other_messages": 1,
        "by_status": {"rejected": 2},
    }


def test_resend_only_keeps_old_verdicts_of_unselected_rows() -> None:
    orders = OrdersFile(InputOptions(path=EVERY_STATUS))
    rows = list(resend_only(orders, frozenset({Outcome.FAILED, Outcome.NOT_SENT})))
    assert [row.source_row for row in rows] == list(range(1, 16))
    sent = [row.source_row for row in rows if row.request is not None]
    assert sent == [7, 8, 13, 14]
    assert all(rows[n - 1].verdict is None for n in sent)
    kept = {row.source_row: row.verdict for row in rows if row.request is None}
    assert sorted(kept) == [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 15]
    assert kept[3] == RowResult(
        source_row=3,
        status=Outcome.REJECTED,
        http_status=400,
        error_code="9001",
        error_message="Order cannot be cancelled: stock is already allocated (status ALLOCATED).",
        attempts=1,
        request_id="sbx-000003",
        finished_at="2026-11-26T23:00:01.580Z",
    )
    assert Counter(verdict.status for verdict in kept.values() if verdict) == {
        Outcome.CANCELLED: 2,
        Outcome.REJECTED: 5,
        Outcome.INVALID: 2,
        Outcome.DUPLICATE: 1,
        Outcome.SKIPPED: 1,
    }


def test_a_results_file_read_back_sends_the_real_values(tmp_path: Path) -> None:
    # Order numbers a spreadsheet would run as formulas are written with an apostrophe;
    # read back as input (plain or with --only) they must be the orders Shipper knows.
    orders = ["-503", "=HYPERLINK(1)", "'+61", "A-1"]
    out = tmp_path / "night.results.csv"
    with ResultsWriter(out, INPUT_COLUMNS) as writer:
        for number, order_no in enumerate(orders, start=1):
            writer.add(
                LoadedRow(number, (order_no, "@WH", "r"), None, None),
                RowResult(source_row=number, status=Outcome.FAILED, error_code="timeout"),
            )
    written = [row["order_no"] for row in read_results(out)]
    assert written == ["'-503", "'=HYPERLINK(1)", "''+61", "A-1"]
    sent = list(resend_only(OrdersFile(InputOptions(path=out)), frozenset({Outcome.FAILED})))
    requests = [row.request for row in sent]
    assert [(r.order_no, r.warehouse_id) for r in requests if r] == [
        (order_no, "@WH") for order_no in orders
    ]
    # Echoed again, each cell gets one apostrophe, never two.
    again = tmp_path / "again.results.csv"
    rows = list(OrdersFile(InputOptions(path=out)).rows())
    with ResultsWriter(again, OrdersFile(InputOptions(path=out)).header) as writer:
        for row in rows:
            writer.add(row, RowResult(source_row=row.source_row, status=Outcome.CANCELLED))
    assert [row["order_no"] for row in read_results(again)] == written
    reviewed = [row.order_no for row in ResultsFile(out).rows()]
    assert reviewed == orders


def test_resend_only_checks_the_whole_file_before_anything_is_sent(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        HEADER,
        [results_row("A-1", "failed"), results_row("A-2", "cancelld")],
    )
    with pytest.raises(InputFileError, match=r"data row 2: result_status 'cancelld'"):
        resend_only(OrdersFile(InputOptions(path=path)), frozenset({Outcome.FAILED}))
    plain = write_csv(tmp_path / "orders.csv", INPUT_COLUMNS, [["A-1", "WH-1", "r"]])
    with pytest.raises(
        ConfigError, match=r"--only needs a results CSV as input: .* no result_status"
    ):
        resend_only(OrdersFile(InputOptions(path=plain)), frozenset({Outcome.FAILED}))


def test_a_night_of_failures_keeps_a_sample_in_memory_and_writes_them_all(
    tmp_path: Path,
) -> None:
    rows = [
        results_row(f"A-{i}", "failed", "", f"timeout on A-{i} after 5 attempts")
        for i in range(1200)
    ]
    path = write_csv(tmp_path / "down.results.csv", HEADER, rows)
    review = review_files([path])
    assert review.total.needs_attention == 1200
    assert len(review.needs_attention) == SAMPLE_ROWS  # the page's sample, not every row
    [top, *_] = review.total.top_messages
    assert (top.message, top.rows) == ("(other messages)", 1200 - MAX_MESSAGES)
    out = tmp_path / "needs.csv"
    assert write_needs_attention(review, out) == 1200
    assert len(raw_rows(out)) == 1201
    page = render_report(review)
    assert (
        f"The first {SAMPLE_ROWS} of 1200 rows; all of them are in the needs-attention CSV" in page
    )

"""The HTML report, read back with html.parser (no browser): content, escaping, nothing external.

Chromium is not installed by .ci/run, so the page is checked the way a browser would
first see it: parsed into elements, attributes and text.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from batch_cancel.formats.html_report import render_report
from batch_cancel.models import NEEDS_ATTENTION
from batch_cancel.review import review_files
from batch_cancel.schema import RESULT_COLUMNS

from .helpers import DATA, write_csv

EVERY_STATUS = DATA / "results-every-status.csv"
HEADER = ["order_no", "warehouse_id", "cancel_reason", *RESULT_COLUMNS]
HOSTILE_ORDER = '=HYPERLINK("evil.example","open me")'
HOSTILE_MESSAGE = "non-JSON response (text/html): <script>alert(1)</script>"
# Tags that would fetch, embed or submit something.
LOADING_TAGS = {"link", "img", "iframe", "object", "embed", "form", "base", "audio", "video"}


@dataclass
class Page(HTMLParser):
    """Elements, attributes, text per table, and the inline script/style of one page."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    scripts: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    svg_titles: list[str] = field(default_factory=list)
    sentence: str = ""
    _table: str | None = None
    _row: list[str] | None = None
    _cell: list[str] | None = None
    _raw: list[str] | None = None
    _in_svg_title: bool = False
    _in_sentence: bool = False

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "table":
            self._table = attributes.get("aria-label") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag in ("script", "style"):
            self._raw = []
        elif tag == "title" and any(name == "rect" for name, _ in self.tags[-2:-1]):
            self._in_svg_title = True
        elif tag == "p" and "sentence" in (attributes.get("class") or ""):
            self._in_sentence = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            if self._row:  # header rows have no <td>
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag in ("script", "style") and self._raw is not None:
            (self.scripts if tag == "script" else self.styles).append("".join(self._raw))
            self._raw = None
        elif tag == "title":
            self._in_svg_title = False
        elif tag == "p":
            self._in_sentence = False

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._raw.append(data)
        elif self._cell is not None:
            self._cell.append(data)
        if self._in_svg_title:
            self.svg_titles.append(data)
        if self._in_sentence:
            self.sentence += data


def parse(page: str) -> Page:
    parsed = Page()
    parsed.feed(page)
    parsed.close()
    return parsed


def sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def test_report_of_every_status_shows_counts_chart_and_attention_rows() -> None:
    review = review_files([EVERY_STATUS])
    page = parse(render_report(review))
    assert page.sentence == review.total.sentence
    assert page.sentence.startswith("11 rows need attention: 5 rejected (2 because stock")
    assert page.tables["rows per status"] == [
        [outcome.value, str(count), "yes" if outcome in NEEDS_ATTENTION else "no"]
        for outcome, count in review.total.by_status.items()
    ]
    # One bar per status, in Outcome order, its tooltip giving the count.
    assert page.svg_titles == [
        "cancelled: 2",
        "rejected: 5",
        "failed: 2",
        "invalid: 2",
        "duplicate: 1",
        "skipped: 1",
        "not_sent: 2",
    ]  # in_doubt has no rows: its label and 0 show, with no empty bar
    bars = [attrs for tag, attrs in page.tags if tag == "rect"]
    assert [bar["width"] for bar in bars] == ["168", "420", "168", "168", "84", "84", "168"]
    attention = page.tables["rows that need attention"]
    assert [row[0] for row in attention] == [
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "13",
        "14",
        "15",
    ]
    # The status right after the row number: on a phone's first screen.
    assert attention[0] == [
        "3",
        "rejected",
        "TKP-2411260003",
        "WH-CKR01",
        "400",
        "9001",
        "Order cannot be cancelled: stock is already allocated (status ALLOCATED).",
        "1",
        "sbx-000003",
        "2026-11-26T23:00:01.580Z",
        # Its cause and what to do (the commands are in "What to do", at the top).
        "rejected: stock is allocated",
        "ask the warehouse to release the stock, then re-send these rows (or let "
        '`retry_rejected = "allocated"` retry them on the nights the config sets)',
    ]
    assert {row[1] for row in attention} == {"rejected", "failed", "invalid", "not_sent"}
    assert page.tables["rows per error code"][0] == [
        "9001",
        "2",
        "rejected",
        "Order cannot be cancelled: stock is already allocated (status ALLOCATED). "
        "(+1 other message(s))",
    ]
    assert ["WH-TANGERANG-SELATAN-04", "1", "1", "invalid 1"] in page.tables["rows per warehouse"]


def test_values_are_escaped_and_stay_text() -> None:
    html = render_report(review_files([EVERY_STATUS]))
    page = parse(html)
    hostile = page.tables["rows that need attention"][-1]
    assert hostile[2] == HOSTILE_ORDER  # shown as text, exactly as in the file
    assert hostile[6] == HOSTILE_MESSAGE
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=HYPERLINK(&quot;evil.example&quot;,&quot;open me&quot;)" in html
    assert "<script>alert(1)" not in html
    assert len(page.scripts) == 1  # ours, and only ours
    assert "alert" not in page.scripts[0]


def test_nothing_is_loaded_from_outside_and_the_policy_allows_only_our_code(
    tmp_path: Path,
) -> None:
    # A cell that would load or link something if it were ever taken as markup.
    sneaky = '"><img src="https://evil.example/x.png" onerror="alert(1)"><a href="http://evil">'
    path = write_csv(
        tmp_path / "r.csv",
        HEADER,
        [[sneaky, "WH-1", "r", "1", "rejected", "400", "1", sneaky, "1", "", ""]],
    )
    html = render_report(review_files([path]))
    page = parse(html)
    assert page.tables["rows that need attention"][0][2] == sneaky  # text, not elements
    assert not LOADING_TAGS & {tag for tag, _ in page.tags}
    assert [tag for tag, _ in page.tags if tag in ("script", "style")] == ["style", "script"]
    for tag, attributes in page.tags:
        assert "src" not in attributes, tag
        assert "href" not in attributes, tag
        assert not any(name.startswith("on") for name in attributes), tag
    # The URLs from the cell are there only escaped, inside text.
    for url in ("https://evil.example/x.png", "http://evil"):
        assert html.count(url) == html.count(f"&quot;{url}&quot;") == 4  # 2 cells, 2 summaries
    assert 'src="' not in html
    assert 'href="' not in html
    csp = next(
        attributes["content"]
        for tag, attributes in page.tags
        if tag == "meta" and attributes.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp == (
        f"default-src 'none'; style-src {sha256(page.styles[0])}; "
        f"script-src {sha256(page.scripts[0])}; base-uri 'none'; form-action 'none'"
    )


def test_the_plain_page_has_no_urls_at_all() -> None:
    html = render_report(review_files([EVERY_STATUS]))
    assert "http://" not in html
    assert "https://" not in html
    assert "src=" not in html
    assert "url(" not in html
    assert "@import" not in html


def test_clean_night_says_so(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        HEADER,
        [["A-1", "WH-1", "r", "1", "cancelled", "200", "", "", "1", "sbx-1", "2026-11-27T23:00Z"]],
    )
    html = render_report(review_files([path]))
    page = parse(html)
    assert page.sentence == "Nothing needs attention: 1 cancelled."
    assert '<p class="sentence ok">' in html
    assert "rows that need attention" not in page.tables
    assert "<h2>Rows that need attention</h2>\n<p>None.</p>" in html


@pytest.mark.parametrize("files", [2, 3])
def test_several_files_get_a_per_file_table_and_a_file_column(tmp_path: Path, files: int) -> None:
    paths = [EVERY_STATUS] * (files - 1) + [
        write_csv(
            tmp_path / "clean.csv",
            HEADER,
            [["A-1", "WH-1", "r", "1", "cancelled", "200", "", "", "1", "", ""]],
        )
    ]
    page = parse(render_report(review_files(paths)))
    per_file = page.tables["per results file"]
    assert [row[:3] for row in per_file] == [[str(EVERY_STATUS), "15", "11"]] * (files - 1) + [
        [str(paths[-1]), "1", "0"]
    ]
    attention = page.tables["rows that need attention"]
    # The same file twice is a night and its retry: each row once, from the last copy,
    # the one without an order number (invalid) too, matched by its place and cells.
    assert len(attention) == 11
    # The file after the row number and status (which stay on a phone's first screen).
    assert {row[2] for row in attention} == {str(EVERY_STATUS)}


def test_every_table_is_sortable_by_every_column() -> None:
    page = parse(render_report(review_files([EVERY_STATUS])))
    tables = [attrs for tag, attrs in page.tags if tag == "table"]
    assert tables
    assert all(attrs.get("class", "").split()[0] == "sortable" for attrs in tables)
    headers = sum(1 for tag, _ in page.tags if tag == "th")
    buttons = sum(1 for tag, attrs in page.tags if tag == "button" and attrs["type"] == "button")
    assert headers == buttons
    assert 'querySelectorAll("table.sortable")' in page.scripts[0]
    assert "innerHTML" not in page.scripts[0]  # sorting moves rows, never re-parses cell text


def test_tables_scroll_in_their_own_box_and_only_the_script_offers_sorting() -> None:
    html = render_report(review_files([EVERY_STATUS]))
    page = parse(html)
    for index, (tag, _) in enumerate(page.tags):
        if tag == "table":
            assert page.tags[index - 1] == ("div", {"class": "scroll"})
    assert ".scroll { overflow-x: auto;" in page.styles[0]
    assert "@media print" in page.styles[0]
    # Without JavaScript nothing sorts, so the page itself does not say it does.
    hint = "Click a column title to sort."
    assert hint not in html.replace(page.scripts[0], "")
    assert f'hint.textContent = "{hint}";' in page.scripts[0]
    attention = [attrs for tag, attrs in page.tags if tag == "table"][1]
    assert attention["aria-label"] == "rows that need attention"
    assert "data-sort-hint" in attention


def test_the_page_stays_small_whatever_the_file_holds(tmp_path: Path) -> None:
    """A damaged night: every row a different code and warehouse, cells of 3,000 characters."""
    from batch_cancel.formats.html_report import MAX_CELL_CHARS, MAX_MESSAGE_CHARS, MAX_TABLE_ROWS
    from batch_cancel.review import MAX_GROUPS, OTHER_CODES, OTHER_WAREHOUSES, SAMPLE_ROWS

    huge = "<&>" * 1000
    rows = [
        [f"A-{n}{huge}", f"WH-{n}", "r", str(n), "failed", "", f"E{n}", f"m{n}{huge}", "1", "", ""]
        for n in range(1, MAX_GROUPS + 301)
    ]
    path = write_csv(tmp_path / "damaged.csv", HEADER, rows)
    review = review_files([path])
    codes = {item.code: item.rows for item in review.total.error_codes}
    assert len(codes) == MAX_GROUPS + 1
    assert codes[OTHER_CODES] == 300
    warehouses = {item.warehouse_id: item.rows for item in review.total.warehouses}
    assert len(warehouses) == MAX_GROUPS + 1
    assert warehouses[OTHER_WAREHOUSES] == 300

    html = render_report(review)
    page = parse(html)
    assert len(html.encode()) < 2_000_000
    shown = len(page.tables["rows that need attention"])
    assert 0 < shown <= SAMPLE_ROWS  # fewer when the cells are long (MAX_ATTENTION_BYTES)
    assert f"The first {shown} of {MAX_GROUPS + 300} rows;" in html
    assert len(page.tables["rows per error code"]) == MAX_TABLE_ROWS
    assert len(page.tables["rows per warehouse"]) == MAX_TABLE_ROWS
    # The most rows first: the 300 folded together is the one code the table must show.
    assert page.tables["rows per error code"][0][:2] == [OTHER_CODES, "300"]
    assert f"{MAX_GROUPS + 1 - MAX_TABLE_ROWS} more error codes with fewer rows" in html
    assert f"{MAX_GROUPS + 1 - MAX_TABLE_ROWS} more warehouses with fewer rows" in html
    cells = [cell for table in page.tables.values() for row in table for cell in row]
    assert max(map(len, cells)) == MAX_MESSAGE_CHARS
    first = page.tables["rows that need attention"][0]
    assert first[2] == ("A-1" + huge)[: MAX_CELL_CHARS - 1] + "…"


def row_of_quotes(n: int, quotes: str, wide: str) -> list[str]:
    return [
        f"A-{n}{quotes}",
        f"WH-{n}{wide}",
        quotes,
        str(n),
        "failed",
        "",
        f"E{n}{quotes}",
        f"{quotes}{n}",
        "1",
        quotes,
        quotes,
    ]


def test_the_page_stays_under_2_mb_when_every_cell_escapes_to_six_times_its_size(
    tmp_path: Path,
) -> None:
    """Quotes escape to six bytes each: 500 rows of clipped cells would be 4 MB, so the
    sample's table shows fewer rows and says so."""
    from batch_cancel.review import SAMPLE_ROWS

    quotes, wide = '"' * 3000, "\U0001f4e6" * 3000  # 4 bytes each in UTF-8
    rows = [row_of_quotes(n, quotes, wide) for n in range(1, 1001)]
    path = write_csv(tmp_path / "quotes.csv", HEADER, rows)
    html = render_report(review_files([path]))
    assert len(html.encode()) < 2_000_000
    page = parse(html)
    shown = len(page.tables["rows that need attention"])
    assert 0 < shown < SAMPLE_ROWS
    assert f"The first {shown} of 1000 rows; all of them are in the needs-attention CSV" in html

"""The HTML report in a real browser: layout facts read from the DOM of headless chromium.

test_html_report.py checks what the page says; this checks what a reviewer sees: on a
375 px phone and a 1280 px laptop, with and without JavaScript, and printed. Debian's
chromium is driven through playwright (playwright's own browser download does not work
here). Without chromium they skip, naming it; under CI=true (.ci/run, which installs it)
they fail instead.

Screenshots of every width are saved for a human to look at: run with `pytest -s` to see
where (SCREENSHOTS below).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, sync_playwright

from batch_cancel.formats.html_report import render_report
from batch_cancel.review import review_files
from batch_cancel.schema import RESULT_COLUMNS

from .helpers import DATA, lacking, write_csv

pytestmark = pytest.mark.integration

EVERY_STATUS = DATA / "results-every-status.csv"
PHONE, LAPTOP = 375, 1280
WIDTHS = (PHONE, LAPTOP)
# Printing lays the page out on the paper, not the screen: A4 or US Letter, landscape
# (the page asks for it), less 1cm margins, at 96 px/inch. Letter is the narrower.
LETTER_LANDSCAPE = round((11 * 25.4 - 20) / 25.4 * 96)  # 980 px
HEIGHT = 800
HINT = "Click a column title to sort"
ATTENTION = 'table[aria-label="rows that need attention"]'
SCREENSHOTS = (
    Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "batch-cancel-report-screenshots"
)

# The nearest ancestor of `table` (below <body>) that scrolls horizontally, measured.
_SCROLL_CONTAINER_JS = """
table => {
  for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
    if (getComputedStyle(el).overflowX === "auto") {
      const box = el.getBoundingClientRect();
      return {clientWidth: el.clientWidth, scrollWidth: el.scrollWidth,
              left: box.left, right: box.right, tableWidth: table.getBoundingClientRect().width};
    }
  }
  return null;
}
"""

# Every word of the cells, with the number of line boxes it lies on. A line may end at a
# space or after a hyphen ("2026-" / "11-25T23:00"), as in any text; nowhere else.
_WORD_LINES_JS = """
cells => {
  const words = [];
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s-]*-+|[^\\s-]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        words.push([match[0], range.getClientRects().length]);
      }
    }
  }
  return words;
}
"""

# Elements that hold text (or are the chart) but are not rendered, or rendered invisible.
_HIDDEN_DATA_JS = """
() => {
  const hidden = [];
  for (const el of document.body.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (tag === "script" || tag === "style" || el.closest("svg title")) continue;
    if (el.classList.contains("sort-hint")) continue;  // how to use the screen, not data
    const ownText = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.data.trim());
    if (!ownText && tag !== "svg" && tag !== "rect") continue;
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (style.display === "none" || style.visibility !== "visible" || style.opacity === "0"
        || box.width === 0 || box.height === 0) {
      hidden.push(tag + ": " + el.textContent.trim().slice(0, 60));
    }
  }
  return hidden;
}
"""

_ALLOCATED_LINES_JS = """
cells => cells.flatMap(cell => {
  const node = cell.firstChild, at = node.data.indexOf("ALLOCATED");
  if (at < 0) return [];
  const range = document.createRange();
  range.setStart(node, at);
  range.setEnd(node, at + "ALLOCATED".length);
  return [range.getClientRects().length];
})
"""

_HAS_PRINT_RULE_JS = """
() => Array.from(document.styleSheets).some(sheet => Array.from(sheet.cssRules).some(
  rule => rule instanceof CSSMediaRule && rule.media.mediaText.includes("print")))
"""

_PAGE_SIZE_JS = """
() => Array.from(document.styleSheets).flatMap(sheet => Array.from(sheet.cssRules))
  .filter(rule => rule instanceof CSSPageRule).map(rule => rule.style.size)
"""


class _Chromium:
    """Launched on first use, inside a test, so that a missing chromium skips (or, in CI,
    fails) that test, not the module."""

    def __init__(self) -> None:
        self._stack: Any = None
        self._browser: Browser | None = None

    def browser(self) -> Browser:
        if self._browser is None:
            executable = shutil.which("chromium")
            if executable is None:
                lacking(
                    "needs chromium, which is not installed: `apt-get install chromium` "
                    "(Debian's; .ci/run installs it). Playwright's own download is not used."
                )
            self._stack = sync_playwright().start()
            self._browser = self._stack.chromium.launch(
                executable_path=executable, args=["--no-sandbox"]
            )
        return self._browser

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._stack is not None:
            self._stack.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[_Chromium]:
    launcher = _Chromium()
    yield launcher
    launcher.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "page.html"
    path.write_text(render_report(review_files([EVERY_STATUS])), encoding="utf-8")
    return path


@dataclass
class _Opened:
    page: Page
    errors: list[str] = field(default_factory=list)  # console errors, CSP violations included


@contextmanager
def opened(
    chromium: _Chromium, report: Path, width: int, *, javascript: bool = True
) -> Iterator[_Opened]:
    context = chromium.browser().new_context(
        viewport={"width": width, "height": HEIGHT}, java_script_enabled=javascript
    )
    try:
        page = context.new_page()
        result = _Opened(page)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                result.errors.append(message.text)

        page.on("console", on_console)
        page.goto(report.as_uri())
        yield result
    finally:
        context.close()


def no_page_overflow(page: Page) -> tuple[int, int]:
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    return scroll_width, inner_width


def column(table: Locator, title: str) -> int:
    titles = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    return titles.index(title)


def column_texts(table: Locator, title: str) -> list[str]:
    index = column(table, title)
    return [
        text.strip()
        for text in table.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_page_never_scrolls_sideways(chromium: _Chromium, report: Path, width: int) -> None:
    with opened(chromium, report, width) as opened_page:
        scroll_width, inner_width = no_page_overflow(opened_page.page)
        assert inner_width == width
        assert scroll_width <= inner_width, f"page is {scroll_width} px wide at {width} px"
        assert opened_page.errors == []  # the CSP lets our own style and script run


@pytest.mark.parametrize("width", WIDTHS)
def test_every_table_scrolls_inside_its_own_container(
    chromium: _Chromium, report: Path, width: int
) -> None:
    with opened(chromium, report, width) as opened_page:
        tables = opened_page.page.locator("table").all()
        assert len(tables) == 4  # per status, needs attention, error codes, warehouses
        for table in tables:
            label = table.get_attribute("aria-label")
            box = table.evaluate(_SCROLL_CONTAINER_JS)
            assert box is not None, f"table {label!r} has no overflow-x:auto container"
            assert box["clientWidth"] <= width, label
            assert box["left"] >= 0, label
            assert box["right"] <= width, label
            # The whole table is in the container's scrolling area.
            assert box["scrollWidth"] >= box["tableWidth"] - 1, label
        # The attention table fits: cards on a phone, every column on a laptop (none cut).
        box = opened_page.page.locator(ATTENTION).evaluate(_SCROLL_CONTAINER_JS)
        assert box["tableWidth"] <= box["clientWidth"], width
        assert box["scrollWidth"] <= box["clientWidth"], width


@pytest.mark.parametrize("width", WIDTHS)
def test_status_of_a_row_needing_attention_is_on_the_first_screen(
    chromium: _Chromium, report: Path, width: int
) -> None:
    with opened(chromium, report, width) as opened_page:
        table = opened_page.page.locator(ATTENTION)
        titles = [text.strip() for text in table.locator("thead th").all_inner_texts()]
        assert titles[:2] == ["row", "status"]
        first = table.locator("tbody tr").first
        status = first.locator("td").nth(column(table, "status"))
        assert status.inner_text() == "rejected"
        box = status.bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= width, box
        if width == LAPTOP:  # on a laptop, why it needs attention is on the first screen too
            message = first.locator('td[data-label="message"]').bounding_box()
            assert message is not None
            assert message["x"] + message["width"] <= width, message


@pytest.mark.parametrize("width", WIDTHS)
def test_messages_wrap_between_words_never_inside_one(
    chromium: _Chromium, report: Path, width: int
) -> None:
    with opened(chromium, report, width) as opened_page:
        page = opened_page.page
        cells = page.locator("td.msg")
        assert cells.count() >= 11 + 6  # every row needing attention, every error code
        for cell in cells.all():
            style = cell.evaluate(
                "el => [getComputedStyle(el).overflowWrap, getComputedStyle(el).wordBreak]"
            )
            assert style[0] in ("normal", "break-word"), style
            assert style[1] == "normal", style
        words = cells.evaluate_all(_WORD_LINES_JS)
        assert len(words) > 150
        broken = [(word, lines) for word, lines in words if lines != 1]
        assert broken == [], f"words split across lines at {width} px"
        # The word that broke ("ALLOCAT/ED"), measured exactly.
        allocated = cells.evaluate_all(_ALLOCATED_LINES_JS)
        assert allocated == [1, 1], allocated  # in the attention table and the codes table
        # The message gets room, not the short columns: it is never narrower than the
        # code beside it, and a long message wraps onto more lines (at most 36em wide).
        table = page.locator(ATTENTION)
        first = table.locator("tbody tr").first.locator("td")
        widths = {
            title: first.nth(index).evaluate("el => el.getBoundingClientRect().width")
            for index, title in enumerate(
                text.strip() for text in table.locator("thead th").all_inner_texts()
            )
        }
        assert widths["message"] >= widths["code"], widths
        # 12em (14px) in the attention table, which fits a laptop: a few words a line.
        assert widths["message"] >= 168, widths
        assert widths["message"] <= 520, widths  # 36em (14px) plus padding: a readable line
        message = table.locator("td.msg").filter(has_text="ServerDisconnectedError")
        lines = message.evaluate(
            "el => { const r = document.createRange(); r.selectNodeContents(el);"
            " return r.getClientRects().length; }"
        )
        assert lines >= 2, f"{message.inner_text()!r} on one line: the column grew instead"


@pytest.mark.parametrize("width", WIDTHS)
def test_long_unbroken_values_never_widen_the_page(
    chromium: _Chromium, tmp_path: Path, width: int
) -> None:
    # A file name, order number, code and message with nowhere to break a line.
    results = write_csv(
        tmp_path / f"{'night_run_' * 12}results.csv",
        ["order_no", "warehouse_id", "cancel_reason", *RESULT_COLUMNS],
        [
            [
                "A" * 80,
                "WH-1",
                "r",
                "1",
                "rejected",
                "400",
                "E" * 60,
                f"x {'X' * 150} y",
                "1",
                "",
                "",
            ]
        ],
    )
    report = tmp_path / "page.html"
    report.write_text(render_report(review_files([results])), encoding="utf-8")
    with opened(chromium, report, width) as opened_page:
        scroll_width, inner_width = no_page_overflow(opened_page.page)
        assert scroll_width <= inner_width, f"page is {scroll_width} px wide at {width} px"
        for table in opened_page.page.locator("table").all():
            box = table.evaluate(_SCROLL_CONTAINER_JS)
            assert box is not None
            assert box["right"] <= width
        # The message column stays at most 36em wide: the one endless word breaks in it.
        for cell in opened_page.page.locator("td.msg").all():
            assert cell.evaluate("el => el.getBoundingClientRect().width") <= 520


def test_sort_hint_is_there_only_when_sorting_works(chromium: _Chromium, report: Path) -> None:
    with opened(chromium, report, PHONE, javascript=False) as opened_page:
        assert HINT not in opened_page.page.locator("body").inner_text()
        assert opened_page.page.get_by_text(HINT).count() == 0
        assert opened_page.page.locator(".sort-hint").count() == 0
    with opened(chromium, report, LAPTOP) as opened_page:  # a phone shows cards: no titles
        hint = opened_page.page.get_by_text(HINT)
        assert hint.count() == 1
        assert hint.is_visible()
        # Right above the table it is about.
        assert hint.evaluate(f"el => el.nextElementSibling.querySelector('{ATTENTION}') !== null")
        assert opened_page.errors == []


def test_clicking_a_column_title_sorts_by_that_column(chromium: _Chromium, report: Path) -> None:
    with opened(chromium, report, LAPTOP) as opened_page:
        table = opened_page.page.locator(ATTENTION)
        rows = column_texts(table, "row")
        assert rows == ["3", "4", "5", "6", "7", "8", "9", "10", "13", "14", "15"]
        statuses = column_texts(table, "status")
        status_title = table.locator("thead th").nth(column(table, "status"))
        status_title.get_by_role("button").click()
        assert column_texts(table, "status") == sorted(statuses)
        assert status_title.get_attribute("aria-sort") == "ascending"
        status_title.get_by_role("button").click()
        assert column_texts(table, "status") == sorted(statuses, reverse=True)
        assert status_title.get_attribute("aria-sort") == "descending"
        row_title = table.locator("thead th").nth(column(table, "row"))
        row_title.get_by_role("button").click()
        assert column_texts(table, "row") == rows  # numerically: 3 before 10
        assert status_title.get_attribute("aria-sort") is None
        row_title.get_by_role("button").click()
        assert column_texts(table, "row") == rows[::-1]
        assert opened_page.errors == []


@pytest.mark.parametrize("width", [LETTER_LANDSCAPE, LAPTOP])
def test_printed_page_shows_everything_without_clipping(
    chromium: _Chromium, report: Path, width: int
) -> None:
    with opened(chromium, report, width) as opened_page:
        page = opened_page.page
        assert page.evaluate(_HAS_PRINT_RULE_JS), "no @media print rule"
        assert page.evaluate(_PAGE_SIZE_JS) == ["landscape"]
        page.emulate_media(media="print")
        assert page.evaluate(_HIDDEN_DATA_JS) == []
        scroll_width, inner_width = no_page_overflow(page)
        assert scroll_width <= inner_width, f"printed page is {scroll_width} px at {width} px"
        main_width = page.locator("main").evaluate("el => el.clientWidth")
        for table in page.locator("table").all():
            label = table.get_attribute("aria-label")
            clip = table.evaluate(
                """table => {
                  const holder = table.parentElement, style = getComputedStyle(holder);
                  return [style.overflowX, holder.scrollWidth, holder.clientWidth,
                          table.getBoundingClientRect().width];
                }"""
            )
            overflow, holder_scroll, holder_width, table_width = clip
            assert overflow == "visible", label  # paper cannot be scrolled
            assert holder_scroll <= holder_width, label  # so nothing may stick out either
            assert table_width >= main_width - 1, label  # full width
        font_size = page.locator(f"{ATTENTION} td").first.evaluate(
            "el => parseFloat(getComputedStyle(el).fontSize)"
        )
        assert font_size < 15  # smaller than on screen


def test_screenshots_for_a_human_to_look_at(chromium: _Chromium, report: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for width in WIDTHS:
        for javascript in (True, False):
            with opened(chromium, report, width, javascript=javascript) as opened_page:
                name = f"report-{width}px{'' if javascript else '-no-js'}.png"
                opened_page.page.screenshot(path=SCREENSHOTS / name, full_page=True)
                saved.append(name)
    with opened(chromium, report, LETTER_LANDSCAPE) as opened_page:
        opened_page.page.emulate_media(media="print")
        name = f"report-print-{LETTER_LANDSCAPE}px.png"
        opened_page.page.screenshot(path=SCREENSHOTS / name, full_page=True)
        saved.append(name)
    print(f"\nreport screenshots in {SCREENSHOTS}: {', '.join(saved)}")
    for name in saved:
        assert (SCREENSHOTS / name).stat().st_size > 10_000, name


@pytest.mark.parametrize("width", WIDTHS)
def test_order_status_cause_and_action_of_each_row_are_on_screen(
    chromium: _Chromium, report: Path, width: int
) -> None:
    with opened(chromium, report, width) as opened_page:
        page = opened_page.page
        rows = page.locator(f"{ATTENTION} tbody tr").all()
        assert len(rows) == 11
        for row in rows:
            for label in ("order_no", "status", "cause", "action"):
                box = row.locator(f'td[data-label="{label}"]').bounding_box()
                assert box is not None, label
                assert box["x"] >= 0, (label, box)
                assert box["x"] + box["width"] <= width, (label, width, box)
        order = rows[0].locator('td[data-label="order_no"]')
        action = rows[0].locator('td[data-label="action"]')
        assert order.inner_text() == "TKP-2411260003"
        assert action.inner_text().startswith("ask the warehouse to release the stock")
        if width == PHONE:  # a card: each field labelled, on a line of its own
            label = order.evaluate("el => getComputedStyle(el, '::before').content")
            assert label == '"order_no: "'
        # The page leads with what to do: causes, counts, actions and commands.
        causes = page.locator("ul.actions li").all_inner_texts()
        assert causes[0].startswith("2 failed after retries")
        assert any(
            f"batch-cancel run {EVERY_STATUS} --only rejected" in item
            and "stock is allocated" in item
            for item in causes
        )
        page.screenshot(path=Path(tempfile.gettempdir()) / f"morning-{width}px.png", full_page=True)


def test_the_whole_header_cell_sorts_with_the_mouse_and_the_keyboard(
    chromium: _Chromium, report: Path
) -> None:
    with opened(chromium, report, LAPTOP) as opened_page:
        table = opened_page.page.locator(ATTENTION)
        statuses = column_texts(table, "status")
        title = table.locator("thead th").nth(column(table, "status"))
        title.scroll_into_view_if_needed()
        box = title.bounding_box()
        assert box is not None
        # The far right edge of the cell, away from the label's text.
        opened_page.page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
        assert column_texts(table, "status") == sorted(statuses)
        title.get_by_role("button").focus()
        opened_page.page.keyboard.press("Enter")
        assert column_texts(table, "status") == sorted(statuses, reverse=True)
        opened_page.page.keyboard.press("Space")
        assert title.get_attribute("aria-sort") == "ascending"

"""The rules for one row's values: cleaning them, and the API's limits, as a request or a verdict.

`_quick_request` is the common row's short path (the loader's hot loop calls it per row);
`validate_row` decides every row it leaves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .models import (
    CANCEL_REASON_MAX,
    ORDER_NO_MAX,
    WAREHOUSE_ID_MAX,
    CancelRequest,
    LocalCode,
    Outcome,
    RowResult,
)
from .text import TRIM, clean_identifier, describe_char

# Categories that make an identifier invalid: control (Cc), format (Cf: bidi
# overrides and the like, after the zero-width ones are gone), surrogates, and
# line/paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# A cancel reason is free text typed by a buyer: a line break or a tab in it is
# layout, so runs of them (with the spaces around) become one space.
_LAYOUT_RUNS = re.compile("[ \t]*[\r\n\t\u2028\u2029]+[ \t]*")
# How a spreadsheet shows a long number it has rounded: 1.23457E+14 (or with a
# decimal comma, 1,23457E+14). Excel always writes the exponent's sign.
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-][0-9]+")


@dataclass(frozen=True, slots=True)
class _Problem:
    code: LocalCode
    message: str


def clean_reason(value: str) -> str:
    """Trim, fold line breaks and tabs into spaces, NFC-normalise (free text: keep the rest)."""
    value = value.strip(TRIM)
    if value.isascii() and value.isprintable():
        return value
    value = _LAYOUT_RUNS.sub(" ", value)
    return value if value.isascii() else unicodedata.normalize("NFC", value)


def _first_control(value: str, categories: frozenset[str]) -> tuple[int, str] | None:
    if value.isprintable():
        return None
    for position, char in enumerate(value):
        if unicodedata.category(char) in categories:
            return position, char
    return None


def _control_problem(name: str, value: str, categories: frozenset[str]) -> _Problem | None:
    found = _first_control(value, categories)
    if found is None:
        return None
    position, char = found
    return _Problem(
        LocalCode.CONTROL_CHARACTERS,
        f"{name} contains a control character ({describe_char(char)}) at position {position + 1}",
    )


def _identifier_problems(name: str, value: str, limit: int) -> list[_Problem]:
    if not value:
        return [_Problem(LocalCode(f"{name}_missing"), f"{name} is blank")]
    problems: list[_Problem] = []
    control = _control_problem(name, value, _CONTROL_CATEGORIES)
    if control is not None:
        problems.append(control)
    if not value.isascii() and "\ufffd" in value:
        problems.append(
            _Problem(
                LocalCode.GARBLED_TEXT,
                f"{name} contains U+FFFD, the mark of a character lost in an earlier "
                "encoding conversion",
            )
        )
    if name == "order_no" and _SCIENTIFIC.fullmatch(value):
        problems.append(
            _Problem(
                LocalCode.SCIENTIFIC_NOTATION,
                f"order_no {value} is in scientific notation: a spreadsheet turned the order "
                "number into a rounded number and its digits are lost; format the column as "
                "Text and export again",
            )
        )
    if len(value) > limit:
        problems.append(
            _Problem(
                LocalCode(f"{name}_too_long"),
                f"{name} is {len(value)} characters; the API allows at most {limit}",
            )
        )
    return problems


def validate_row(
    source_row: int, order_no: str, warehouse_id: str, cancel_reason: str
) -> CancelRequest | RowResult:
    """Clean the values (see `clean_identifier`, `clean_reason`), then apply the API's rules.

    An identifier that is too long is refused (shortening it would target another
    order); a cancel_reason that is too long is free text, so it is shortened and
    the row still goes out, with a note.
    """
    order_no = clean_identifier(order_no)
    warehouse_id = clean_identifier(warehouse_id)
    cancel_reason = clean_reason(cancel_reason)
    problems = _identifier_problems("order_no", order_no, ORDER_NO_MAX)
    problems += _identifier_problems("warehouse_id", warehouse_id, WAREHOUSE_ID_MAX)
    if not cancel_reason:
        problems.append(_Problem(LocalCode.CANCEL_REASON_MISSING, "cancel_reason is blank"))
    else:
        # Only control characters proper: format characters such as the zero-width
        # joiner inside emoji are legitimate in free text.
        control = _control_problem("cancel_reason", cancel_reason, frozenset({"Cc"}))
        if control is not None:
            problems.append(control)
    if problems:
        return RowResult(
            source_row=source_row,
            status=Outcome.INVALID,
            error_code=problems[0].code,
            error_message="; ".join(problem.message for problem in problems),
        )
    note = ""
    if len(cancel_reason) > CANCEL_REASON_MAX:
        note = (
            f"{LocalCode.CANCEL_REASON_SHORTENED}: cancel_reason was {len(cancel_reason)} "
            f"characters, sent its first {CANCEL_REASON_MAX}"
        )
        cancel_reason = cancel_reason[:CANCEL_REASON_MAX]
    return CancelRequest(source_row, order_no, warehouse_id, cancel_reason, note)


def _quick_request(
    source_row: int, order_no: str, warehouse_id: str, cancel_reason: str
) -> CancelRequest | None:
    """The common row, checked in a few string operations; None: let `validate_row` decide.

    Printable text (no control, format or zero-width characters, no spaces but
    U+0020) that is already NFC needs no cleaning beyond spaces, so only lengths
    and the scientific-notation shape are left to check: most rows of most
    exports take this path (its speed is in BENCHMARKS.md).
    """
    joined = order_no + warehouse_id + cancel_reason
    if not joined.isprintable():
        return None
    if not joined.isascii() and (
        "\ufffd" in joined or not unicodedata.is_normalized("NFC", joined)
    ):
        return None
    order_no, warehouse_id, cancel_reason = (
        order_no.strip(),
        warehouse_id.strip(),
        cancel_reason.strip(),
    )
    if not (
        0 < len(order_no) <= ORDER_NO_MAX
        and 0 < len(warehouse_id) <= WAREHOUSE_ID_MAX
        and 0 < len(cancel_reason) <= CANCEL_REASON_MAX
    ):
        return None
    if order_no[-1].isdigit() and ("E" in order_no or "e" in order_no):
        return None  # perhaps 1.23457E+14
    return CancelRequest(source_row, order_no, warehouse_id, cancel_reason)


def _is_blank(cells: Sequence[str]) -> bool:
    return all(not cell.strip(TRIM) for cell in cells)


def _invalid(source_row: int, code: LocalCode, message: str) -> RowResult:
    return RowResult(
        source_row=source_row, status=Outcome.INVALID, error_code=code, error_message=message
    )


def _date_as_order_no(source_row: int, shown: str) -> RowResult:
    return _invalid(
        source_row,
        LocalCode.DATE_AS_ORDER_NO,
        f"order_no is a date or time in the workbook ({shown}), not an order number: format "
        "the column as Text or Number and export again",
    )

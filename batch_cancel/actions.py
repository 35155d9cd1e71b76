"""What to do about each row that needs a person: the one table of causes and actions.

A row's cause comes from its status and, for a rejection, from what wording.py
recognises in Shipper's code and message; for an invalid row, from the rule it
broke (its LocalCode). The summary, `summarize`, the needs-attention CSV, the HTML
report and the README all say the actions of this table, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .models import LocalCode, Outcome, RowResult
from .wording import (
    ALLOCATED,
    ALREADY_CANCELLED,
    INPUT_REFUSED,
    KEY_REFUSED,
    SHIPPED,
    UNKNOWN_ORDER,
    ranked,
    rejection_reason,
)

RESULTS = "{results}"  # in a command: the results file the rows are in


@dataclass(frozen=True, slots=True)
class Action:
    """One cause of rows needing attention, and what a person does about it."""

    cause: str  # the key, e.g. "rejected: stock is allocated"
    todo: str  # in plain words
    command: str = ""  # the command that helps, with RESULTS for the results file; "" if none

    def command_for(self, results: str) -> str:
        return self.command.replace(RESULTS, results)


def _resend(status: str) -> str:
    return f"batch-cancel run {RESULTS} --only {status}"


_FIX_AND_RESEND = "fix it in the export (or in the results file), then re-send these rows"

# The table. Rejections by what wording.py recognises; invalid rows by the rule they broke.
_REJECTED = {
    ALLOCATED: Action(
        "rejected: stock is allocated",
        "ask the warehouse to release the stock, then re-send these rows "
        '(or let `retry_rejected = "allocated"` retry them on the nights the config sets)',
        _resend("rejected"),
    ),
    UNKNOWN_ORDER: Action(
        "rejected: Shipper does not know the order",
        "check the order number and warehouse in Shipper; if the row is wrong, fix it in the "
        "results file and re-send; if the order never reached Shipper, there is nothing to cancel",
        _resend("rejected"),
    ),
    SHIPPED: Action(
        "rejected: the order has shipped",
        "too late to cancel: handle it as a return with the buyer or the marketplace",
    ),
    ALREADY_CANCELLED: Action(
        "rejected: the order was already cancelled",
        "nothing to cancel; if Shipper always answers this with one code, pass it as "
        "--already-cancelled-code so these rows count as cancelled",
    ),
    INPUT_REFUSED: Action(
        "rejected: Shipper found the input invalid",
        f"compare the values sent (result_order_no, result_warehouse_id) with Shipper's; "
        f"{_FIX_AND_RESEND}",
        _resend("rejected"),
    ),
    KEY_REFUSED: Action(
        "rejected: the API refused the key",
        "check the API key (api_key_file or SHIPPER_API_KEY), then re-send these rows",
        _resend("rejected,not_sent"),
    ),
}
REJECTED_OTHER = Action(
    "rejected: another reason",
    "read Shipper's message on the row; ask Shipper support with its result_request_id",
)

_INVALID_RULES = {
    LocalCode.ORDER_NO_MISSING: "order_no is blank: fill it in",
    LocalCode.ORDER_NO_TOO_LONG: "order_no is longer than the API allows: correct it",
    LocalCode.WAREHOUSE_ID_MISSING: "warehouse_id is blank: fill it in, or set the source's "
    "warehouse_id",
    LocalCode.WAREHOUSE_ID_TOO_LONG: "warehouse_id is longer than the API allows: correct it",
    LocalCode.CANCEL_REASON_MISSING: "cancel_reason is blank: fill it in, or set the source's "
    "cancel_reason",
    LocalCode.SCIENTIFIC_NOTATION: "order_no lost its digits to scientific notation: format "
    "the column as Text and export again",
    LocalCode.DATE_AS_ORDER_NO: "order_no holds a date: format the column as Text and export again",
    LocalCode.GARBLED_TEXT: "a value lost characters in a conversion: export again in UTF-8",
    LocalCode.CONTROL_CHARACTERS: "a value holds a control character: remove it",
    LocalCode.WRONG_FIELD_COUNT: "the line has more or fewer cells than the header: repair "
    "the line",
    LocalCode.UNCLOSED_QUOTE: "a quote never closes, so the rest of the file was not read: "
    "repair the quote",
    LocalCode.REPEATED_HEADER: "the header line appears again: two exports were joined, "
    "remove the second header",
}
_INVALID: dict[str, Action] = {  # by the code as the results file has it
    code: Action(f"invalid: {code.value}", f"{rule}; {_FIX_AND_RESEND}", _resend("invalid"))
    for code, rule in _INVALID_RULES.items()
}
INVALID_OTHER = Action(
    "invalid: another rule", f"read the row's message; {_FIX_AND_RESEND}", _resend("invalid")
)
IN_DOUBT = Action(
    "in doubt: sent, but the answer is unknown",
    "check in Shipper before sending again",
    f"batch-cancel check {RESULTS} --only in_doubt",
)
FAILED = Action(
    "failed after retries",
    "transient errors outlasted the retries: re-run (the ledger skips what was cancelled)",
    _resend("failed"),
)
NOT_SENT = Action(
    "not sent: the run stopped first",
    "re-run once the reason the run stopped is fixed (the summary's headline says it)",
    _resend("not_sent"),
)
DUPLICATE = Action(
    "duplicate: the order is on an earlier row",
    "nothing to do: the earlier row was sent",
)

ACTIONS: tuple[Action, ...] = (
    *_REJECTED.values(),
    REJECTED_OTHER,
    *_INVALID.values(),
    INVALID_OTHER,
    IN_DOUBT,
    FAILED,
    NOT_SENT,
    DUPLICATE,
)
BY_CAUSE: Mapping[str, Action] = {action.cause: action for action in ACTIONS}
# A source's `retry_rejected` names -> the cause they retry (configfile.RETRYABLE_REJECTIONS).
RETRYABLE = {"allocated": _REJECTED[ALLOCATED].cause}


def action_of(result: RowResult) -> Action | None:
    """The action for one row; None for a row that needs nothing (cancelled, skipped).

    In doubt is keyed by its code, LocalCode.IN_DOUBT, whatever status carries it.
    """
    if result.error_code == LocalCode.IN_DOUBT:
        return IN_DOUBT
    status = result.status
    if status is Outcome.REJECTED:
        return _REJECTED.get(rejection_reason(result), REJECTED_OTHER)
    if status is Outcome.INVALID:
        # LocalCode is a StrEnum: the code's text finds its member's entry.
        return _INVALID.get(result.error_code.strip(), INVALID_OTHER)
    return {Outcome.FAILED: FAILED, Outcome.NOT_SENT: NOT_SENT, Outcome.DUPLICATE: DUPLICATE}.get(
        status
    )


def action_text(result: RowResult, results_file: str) -> str:
    """'what to do: the command' for one row ("" for a row that needs nothing)."""
    action = action_of(result)
    if action is None:
        return ""
    command = action.command_for(results_file)
    return f"{action.todo}: {command}" if command else action.todo


def action_lines(
    causes: Mapping[str, int],
    results: Mapping[str, Sequence[str]],
    *,
    indent: str = "  ",
    commands: bool = True,
) -> list[str]:
    """'What to do' as text: each cause with its rows, its action and its command(s).

    `results` names, per cause, the results files its rows are in; with none, the
    command keeps RESULTS for the reader to fill in.
    """
    lines: list[str] = []
    for cause, rows in ranked(causes):
        action = BY_CAUSE[cause]
        lines.append(f"{indent}{rows:>5}  {cause}")
        lines.append(f"{indent}       -> {action.todo}")
        if action.command and commands:
            for name in results.get(cause) or ["RESULTS"]:
                lines.append(f"{indent}          {action.command_for(name)}")
    return lines

"""`summarize --json`: the review as one JSON document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import Outcome
from ..review import Review, Summary


def review_json(review: Review) -> dict[str, Any]:
    return {
        "total": summary_json(review.total),
        "superseded_rows": review.superseded,
        "files": [summary_json(summary) for summary in review.files],
    }


def summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "label": summary.label,
        "rows": summary.rows,
        "needs_attention": summary.needs_attention,
        "sentence": summary.sentence,
        "by_status": _status_json(summary.by_status),
        "error_codes": [
            {
                "code": item.code,
                "rows": item.rows,
                "message": item.message,
                "other_messages": item.other_messages,
                "by_status": _status_json(item.by_status),
            }
            for item in summary.error_codes
        ],
        "warehouses": [
            {
                "warehouse_id": item.warehouse_id,
                "rows": item.rows,
                "needs_attention": item.needs_attention,
                "by_status": _status_json(item.by_status),
            }
            for item in summary.warehouses
        ],
        "top_failure_messages": [
            {"message": item.message, "rows": item.rows} for item in summary.top_messages
        ],
        "first_finished_at": summary.first_finished_at,
        "last_finished_at": summary.last_finished_at,
    }


def _status_json(counts: Mapping[Outcome, int]) -> dict[str, int]:
    return {outcome.value: count for outcome, count in counts.items()}

"""One rule per checked setting, whatever its origin: a flag, the config file, a default.

config.py checks a flag's value against it and names the flag; configfile.py checks the
file's value against it and names the file, the line and the key. So a value one origin
refuses is refused from every origin, in the same words.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: Any) -> bool:
    return _number(value) and value > 0


def _not_negative(value: Any) -> bool:
    return _number(value) and value >= 0


def _at_least_one(value: Any) -> bool:
    return isinstance(value, int) and value >= 1


def _codes(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(
        isinstance(code, str) and code.strip() for code in value
    )


def _path_template(value: Any) -> bool:
    if not (isinstance(value, str) and value.startswith("/")):
        return False
    if "{order_no}" not in value or "{warehouse_id}" not in value:
        return False
    try:
        value.format(order_no="", warehouse_id="")
    except (KeyError, IndexError, ValueError):
        return False
    return True


# name (as the config file spells it) -> (accepts, what it must be)
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "rate": (
        lambda value: value == "auto" or _not_negative(value),
        "must be 0 (no limit), a number, or auto",
    ),
    "max_rate": (_positive, "must be a number of requests per second above 0"),
    "concurrency": (_at_least_one, "must be at least 1"),
    "timeout": (_positive, "must be greater than 0"),
    "max_attempts": (_at_least_one, "must be at least 1"),
    "max_consecutive_failures": (
        lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "must be 0 (never) or more",
    ),
    "down_after": (_not_negative, "must be 0 (never) or a number of seconds"),
    "already_cancelled_codes": (_codes, "must be a list of API error codes (text)"),
    "progress_every": (_positive, "must be a positive number of seconds"),
    "log_format": (lambda value: value in ("text", "json"), "must be text or json"),
    "keep_days": (_not_negative, "must be a number of days, 0 (keep everything) or more"),
    "read_path": (
        _path_template,
        "must be a path starting with / holding {order_no} and {warehouse_id}, no other {}",
    ),
}


def problem(name: str, value: Any) -> str | None:
    """What is wrong with `value` for the setting `name` (None: nothing)."""
    accepts, wanted = RULES[name]
    return None if accepts(value) else wanted

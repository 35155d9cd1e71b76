"""The night's config file (TOML): the API settings and one entry per marketplace export.

A config names one account (`[api]` and `[sources.X]`) or several: `[accounts.NAME]`,
each with `[api]`'s keys (`[api]` then holds what they share) and its own
`[accounts.NAME.sources.X]`. A source sits under its account, so it can belong to
no other and no name has to match another's.

Found at `--config PATH`, else `$BATCH_CANCEL_CONFIG`, else
`$XDG_CONFIG_HOME/batch-cancel/config.toml` (`~/.config/...`) when it exists.
Read with the standard library's tomllib and checked whole before anything else
happens: an unknown key, a source without `files`, or a value of the wrong kind
is a ConfigError naming the file, the line and the key. The key itself never
goes here (only `api_key_file`, a path).
"""

from __future__ import annotations

import codecs
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .models import FIELDS
from .readback import CONFIGURABLE
from .settings import RULES, problem

CONFIG_ENV = "BATCH_CANCEL_CONFIG"

API_KEYS = {
    "base_url": str,
    "api_key_file": str,
    "rate": (int, float, str),  # a number, or "auto"
    "max_rate": (int, float),
    "concurrency": int,
    "timeout": (int, float),
    "max_attempts": int,
    "read_path": str,  # the read-back's path template (docs/api.md)
    "order_statuses": dict,  # so_status -> cancelled | open | allocated | shipped
    "already_cancelled_codes": list,  # API error codes meaning "cancelled before"
    "max_consecutive_failures": int,  # transient failures in a row before stopping; 0: never
    "down_after": (int, float),  # seconds of nothing but transient failures; 0: never
}
SOURCE_KEYS = {
    "files": (str, list),
    "map": dict,
    "warehouse_id": str,
    "cancel_reason": str,
    "delimiter": str,
    "encoding": str,
    "sheet": str,
    "archive": str,
    "optional": bool,  # true: a night without its file is no news
    "give_up_after": int,  # nights a file may stay before it goes to needs-person/
    "retry_rejected": (str, list),  # rejection causes retried nightly: "allocated", or none
}
# A file that still needs attention after this many nights leaves the nightly loop.
DEFAULT_GIVE_UP_AFTER = 3
# Rejections whose cause can change without anyone touching the row: the warehouse
# releases allocated stock. Retried by default (within give_up_after); [] turns it off.
RETRYABLE_REJECTIONS = ("allocated",)
ACCOUNT_KEYS = {**API_KEYS, "sources": dict}
NOTIFY_KEYS = {"urls": list, "when": str}
NOTIFY_WHEN = ("attention", "always")
TOP_KEYS = {
    "api": dict,
    "sources": dict,
    "accounts": dict,
    "notify": dict,
    "state": str,
    "keep_days": (int, float),
    "timezone": str,
    "progress_every": (int, float),  # seconds between progress lines without a terminal
    "log_format": str,  # text | json
}
_TOML_WHERE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True, kw_only=True)
class Source:
    """One marketplace export's layout, and where its files arrive."""

    name: str
    files: tuple[str, ...]  # glob patterns, relative to the config file's folder
    base_dir: Path
    column_map: Mapping[str, str] = field(default_factory=dict)
    warehouse_id: str | None = None
    cancel_reason: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    archive: Path | None = None  # where a file goes once its results are complete
    account: str = ""  # [accounts.NAME] it sits under; "" in a config of one account
    # False: a night this source matches no file needs attention (the export never came).
    optional: bool = False
    give_up_after: int = DEFAULT_GIVE_UP_AFTER  # nights; 0: never give up
    retry_rejected: tuple[str, ...] = RETRYABLE_REJECTIONS

    @property
    def globs(self) -> tuple[str, ...]:
        """The patterns as globbed, below the config file's folder: for messages."""
        return tuple(str(self.base_dir / pattern) for pattern in self.files)

    def paths(self) -> list[Path]:
        """The files this source names tonight, oldest first (by modification time, then
        name), each once; never our own outputs. Oldest first: an order in two exports is
        sent from the earlier one, and the later one's row is the duplicate."""
        found: set[Path] = set()
        for pattern in self.files:
            found.update(
                path
                for path in self.base_dir.glob(pattern)
                if path.is_file() and not _is_our_output(path.name)
            )
        return sorted(found, key=_age_order)


@dataclass(frozen=True, kw_only=True)
class ConfigFile:
    path: Path
    api: Mapping[str, Any] = field(default_factory=dict)  # the [api] table, checked
    state: Path | None = None
    keep_days: float | None = None
    sources: Mapping[str, Source] = field(default_factory=dict)  # every account's
    # [accounts.NAME]: its API table over [api]'s (paths resolved); empty: one account
    accounts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notify: Notify | None = None
    timezone: str | None = None  # an IANA name; None: the machine's
    progress_every: float | None = None
    log_format: str | None = None


@dataclass(frozen=True)
class Notify:
    """[notify]: where word of a night goes. The URLs hold secrets: repr hides them."""

    urls: tuple[str, ...] = field(repr=False)
    when: str = "attention"  # or "always"


# What runs write beside their inputs; a glob like "tokopedia-*.csv" matches them too.
_OUTPUT_SUFFIXES = (".results.csv", ".dry-run.csv", ".incomplete.csv", ".html")


def _age_order(path: Path) -> tuple[int, Path]:
    try:
        return (path.stat().st_mtime_ns, path)
    except OSError:  # gone since the glob: the loader says so, in name order
        return (0, path)


def _is_our_output(name: str) -> bool:
    return name.startswith(".") or name.endswith(_OUTPUT_SUFFIXES)


def find_config(flag: Path | None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """--config, else $BATCH_CANCEL_CONFIG, else the XDG file when it exists; None: no file."""
    if flag is not None:
        return flag
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]).expanduser()
    home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    default = Path(home) / "batch-cancel" / "config.toml"
    return default if default.is_file() else None


def load_config(path: Path) -> ConfigFile:
    """Read and check the whole file; ConfigError naming the file, the line and the key."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # Notepad starts a UTF-8 file with a BOM
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_WHERE.search(str(exc))
        line = f"line {where.group(1)}: " if where else ""
        reason = _TOML_WHERE.sub("", str(exc)).strip()
        raise ConfigError(f"{path}: {line}not valid TOML: {reason}") from exc
    checker = _Checker(path, text)
    checker.keys(data, TOP_KEYS, ())
    base = path.parent
    api = _api_table(checker, data.get("api", {}), ("api",), API_KEYS, base)
    sources = {
        name: _source(checker, name, table, base) for name, table in data.get("sources", {}).items()
    }
    accounts: dict[str, Mapping[str, Any]] = {}
    if sources and data.get("accounts"):
        checker.fail(
            ("sources",),
            "with [accounts], each source goes under its account ([accounts.NAME.sources.X])",
        )
    for account, table in data.get("accounts", {}).items():
        parent = ("accounts", account)
        own = _api_table(checker, table, parent, ACCOUNT_KEYS, base)
        for name, source_table in own.pop("sources", {}).items():
            if name in sources:
                checker.fail(
                    (*parent, "sources", name), "a source of another account has this name"
                )
            source = _source(checker, name, source_table, base, parent)
            sources[name] = replace(source, account=account)
        accounts[account] = {**api, **own}
    state = data.get("state")
    timezone = data.get("timezone")
    if timezone is not None and (wrong := timezone_problem(timezone)):
        checker.fail(("timezone",), wrong)
    for key in RULES.keys() & data.keys():  # keep_days, progress_every, log_format
        if wrong := problem(key, data[key]):
            checker.fail((key,), wrong)
    return ConfigFile(
        path=path,
        api=api,
        state=base / state if state else None,
        keep_days=data.get("keep_days"),
        progress_every=data.get("progress_every"),
        log_format=data.get("log_format"),
        sources=sources,
        accounts=accounts,
        notify=_notify(checker, data["notify"]) if "notify" in data else None,
        timezone=timezone,
    )


def _api_table(
    checker: _Checker, table: Any, where: tuple[str, ...], allowed: Mapping[str, Any], base: Path
) -> dict[str, Any]:
    """An [api] or [accounts.NAME] table, checked, its key file relative to the config."""
    checker.keys(table, allowed, where)
    for name in RULES.keys() & table.keys():  # the rules a flag's value is checked by
        if wrong := problem(name, table[name]):
            checker.fail((*where, name), wrong)
    for status, meaning in table.get("order_statuses", {}).items():
        if meaning not in CONFIGURABLE:
            checker.fail(
                (*where, "order_statuses", status), f"must be one of {', '.join(CONFIGURABLE)}"
            )
    if "api_key_file" in table:  # relative to the config file, as every path in it
        return {**table, "api_key_file": str(base / Path(table["api_key_file"]).expanduser())}
    return dict(table)


def _notify(checker: _Checker, table: Any) -> Notify:
    checker.keys(table, NOTIFY_KEYS, ("notify",))
    urls = table.get("urls", [])
    # Never quoted back: a URL holds a webhook's token or a password.
    if not all(isinstance(url, str) and "://" in url for url in urls):
        checker.fail(("notify", "urls"), "must be a list of apprise URLs (scheme://...)")
    when = table.get("when", "attention")
    if when not in NOTIFY_WHEN:
        checker.fail(("notify", "when"), f"must be one of {', '.join(NOTIFY_WHEN)}")
    return Notify(urls=tuple(urls), when=when)


def timezone_problem(name: str) -> str | None:
    """Why `name` is not a time zone this machine knows (None: it is)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (an IANA name such as Asia/Jakarta)"
    return None


def _source(
    checker: _Checker, name: str, table: Any, base: Path, parent: tuple[str, ...] = ()
) -> Source:
    where = (*parent, "sources", name)
    if not isinstance(table, dict):
        checker.fail(where, "must be a table ([sources.NAME])")
    checker.keys(table, SOURCE_KEYS, where)
    if "files" not in table:
        checker.fail(
            where, "has no `files` (a glob, or a list of them, relative to the config file)"
        )
    files = table["files"]
    patterns = (files,) if isinstance(files, str) else tuple(files)
    if not patterns or not all(isinstance(item, str) and item.strip() for item in patterns):
        checker.fail((*where, "files"), "must be a glob or a list of globs")
    column_map = table.get("map", {})
    for key, value in column_map.items():
        if key not in FIELDS:
            checker.fail((*where, "map", key), f"unknown field; fields are {', '.join(FIELDS)}")
        if not isinstance(value, str) or not value.strip():
            checker.fail((*where, "map", key), "must be the column's header text")
    delimiter = table.get("delimiter")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        checker.fail((*where, "delimiter"), "must be one character other than a quote")
    encoding = table.get("encoding")
    if encoding is not None and (problem := encoding_problem(encoding)):
        checker.fail((*where, "encoding"), problem)
    archive = table.get("archive")
    give_up_after = table.get("give_up_after", DEFAULT_GIVE_UP_AFTER)
    if give_up_after < 0:
        checker.fail((*where, "give_up_after"), "must be 0 (never) or a number of nights")
    retry = table.get("retry_rejected", list(RETRYABLE_REJECTIONS))
    retry = [retry] if isinstance(retry, str) else retry
    if not set(retry) <= set(RETRYABLE_REJECTIONS):
        known = ", ".join(f'"{name}"' for name in RETRYABLE_REJECTIONS)
        checker.fail((*where, "retry_rejected"), f"must be {known} or [] (retry none)")
    return Source(
        name=name,
        files=patterns,
        base_dir=base,
        column_map={key: value.strip() for key, value in column_map.items()},
        warehouse_id=table.get("warehouse_id"),
        cancel_reason=table.get("cancel_reason"),
        delimiter=delimiter,
        encoding=encoding,
        sheet=table.get("sheet"),
        archive=base / archive if archive else None,
        optional=table.get("optional", False),
        give_up_after=give_up_after,
        retry_rejected=tuple(retry),
    )


# Text codecs, but for domain names, Python literals or nothing: never a file's text.
_NOT_FOR_FILES = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
)


def encoding_problem(name: str) -> str | None:
    """Why `name` cannot read a file's text (None: it can). hex, base64, rot13, zlib and
    the like are codecs too, but of bytes to bytes or text to text."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return f"unknown encoding {name!r}"
    # _is_text_encoding: the flag str.encode and bytes.decode themselves refuse codecs by.
    if not info._is_text_encoding or info.name in _NOT_FOR_FILES:
        return f"{name!r} is not a text encoding; name one such as utf-8 or cp1252"
    return None


class _Checker:
    """Names the line of a key in the file's text, for messages (tomllib gives no positions)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self._lines = text.splitlines()

    def keys(self, table: Any, allowed: Mapping[str, Any], where: tuple[str, ...]) -> None:
        if not isinstance(table, dict):
            self.fail(where, "must be a table")
        for key, value in table.items():
            if key not in allowed:
                known = ", ".join(allowed)
                self.fail((*where, key), f"unknown key (known here: {known})")
            kinds = allowed[key]
            if not isinstance(value, kinds) or (isinstance(value, bool) and kinds is not bool):
                wanted = "true or false" if kinds is bool else _kind_name(kinds)
                self.fail((*where, key), f"must be {wanted}, not {_kind_name(type(value))}")

    def fail(self, where: tuple[str, ...], problem: str) -> None:
        line = self._line_of(where)
        at = f"line {line}: " if line else ""
        raise ConfigError(f"{self.path}: {at}{'.'.join(where)}: {problem}")

    def _line_of(self, where: tuple[str, ...]) -> int | None:
        """The line that sets `where` (a key, or the table header); None if not found."""
        table: tuple[str, ...] = ()
        candidates = [where[:-1], where] if len(where) > 1 else [(), where]
        best: int | None = None
        for number, raw in enumerate(self._lines, start=1):
            line = raw.split("#", 1)[0].strip()
            header = re.fullmatch(r"\[+\s*([^\]]+?)\s*\]+", line)
            if header:
                table = tuple(part.strip().strip('"') for part in header.group(1).split("."))
                if table == where:
                    return number
                continue
            key = re.match(r'("[^"]*"|[A-Za-z0-9_\-.]+)\s*=', line)
            if key is None:
                continue
            parts = table + tuple(part.strip().strip('"') for part in key.group(1).split("."))
            if parts == where:
                return number
            # An inline table (map = { order_no = ... }) or a dotted prefix: its line will do.
            if best is None and len(where) > len(parts) and where[: len(parts)] == parts:
                best = number
            if parts in candidates and best is None:
                best = number
        return best


def _kind_name(kinds: Any) -> str:
    names = {str: "text", int: "a whole number", float: "a number", list: "a list", dict: "a table"}
    if isinstance(kinds, tuple) and int in kinds and float in kinds:
        rest = [kind for kind in kinds if kind not in (int, float)]
        return " or ".join(["a number", *(names.get(kind, kind.__name__) for kind in rest)])
    if isinstance(kinds, tuple):
        return " or ".join(dict.fromkeys(names.get(kind, kind.__name__) for kind in kinds))
    return names.get(kinds, getattr(kinds, "__name__", str(kinds)))

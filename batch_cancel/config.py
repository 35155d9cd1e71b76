"""One frozen options object per concern, built from flags and the environment.

Only this module reads `SHIPPER_API_KEY`, `SHIPPER_BASE_URL` and the
`--api-key-file`; everything else gets the values passed in, so tests never
depend on the caller's environment. The key opens a merchant's whole warehouse:
no message from here ever contains it, or any part of a key file.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .models import FIELDS
from .settings import RULES, problem

if TYPE_CHECKING:
    from .configfile import ConfigFile
    from .configfile import Source as ConfigSource

API_KEY_ENV = "SHIPPER_API_KEY"
BASE_URL_ENV = "SHIPPER_BASE_URL"

# Shipper publishes no rate limit (docs/api.md, "What the documentation does
# not say"), so the default is deliberately polite; raise it with --rate once
# Shipper confirms what the account may do.
DEFAULT_RATE = 5.0
# --rate auto never starts more than this per second: a ceiling well above the polite
# default and below what a small gateway tier is likely to allow bursts of.
DEFAULT_MAX_RATE = 50.0
DEFAULT_CONCURRENCY = 4
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_ATTEMPTS = 5
# A key is a few dozen characters; anything much bigger is the wrong file.
MAX_KEY_FILE_BYTES = 4096
# A dead API should end the night early, and the next cron run resume, rather
# than every row burning its retries against it.
DEFAULT_MAX_CONSECUTIVE_FAILURES = 25
DEFAULT_DOWN_AFTER_S = 300.0
DEFAULT_PROGRESS_EVERY_S = 10.0
DEFAULT_LOG_FORMAT = "text"
STATE_ENV = "BATCH_CANCEL_STATE"
# How long the ledger remembers (and so how long the re-run skip is sure): half a year
# of nights is far longer than an export re-lists an order, and keeps the file small.
DEFAULT_KEEP_DAYS = 180.0


@dataclass(frozen=True, kw_only=True)
class InputOptions:
    """How to read the orders CSV."""

    path: Path
    column_map: Mapping[str, str] = field(default_factory=dict)  # field -> header in the file
    default_warehouse_id: str | None = None
    default_cancel_reason: str | None = None
    delimiter: str | None = None  # None: detect from the header line
    # None: UTF-8 (with or without Excel's BOM), UTF-16/32 by their BOM, else cp1252
    # for the lines that are not UTF-8, with a note (inputfile.py). A name given here
    # is used as it is, strictly.
    encoding: str | None = None
    sheet: str | None = None  # spreadsheets only; None: the only visible sheet


@dataclass(frozen=True, kw_only=True)
class NightFile:
    """One input file of the night: how to read it, where its results go."""

    input: InputOptions
    output: Path
    source: str = ""  # the config file's source name, if it came from one
    archive: Path | None = None  # moved there with its results once nothing is left to do
    # Nights the file may stay needing attention, then it goes to needs-person/ (0: never).
    give_up_after: int = 0
    retry_rejected: tuple[str, ...] = ()  # rejection causes that keep the file for a retry
    # Found by a source's glob, not named by the operator: a file that cannot be read is
    # then one bad file of the night (skipped or reported), not the end of the command.
    from_glob: bool = False


@dataclass(frozen=True, kw_only=True)
class SendOptions:
    """Where and how fast to send. The key is excluded from repr so it never reaches a log."""

    base_url: str
    api_key: str = field(repr=False)
    rate: float = DEFAULT_RATE  # most request starts in any one-second window; 0 = no limit
    # --rate auto: find the API's pace (pacing.ProbingThrottle), never above max_rate.
    auto_rate: bool = False
    max_rate: float = DEFAULT_MAX_RATE
    concurrency: int = DEFAULT_CONCURRENCY  # most requests in flight
    timeout_s: float = DEFAULT_TIMEOUT_S  # per attempt, connect to last byte
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    key_from: str = API_KEY_ENV  # where the key was read: a refusal names it
    # The read-back (docs/api.md): `[api] read_path` (None: client.DEFAULT_READ_PATH), and
    # `[api.order_statuses]`, so_status -> meaning, over readback.DEFAULT_STATUSES.
    read_path: str | None = None
    order_statuses: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class HealthPolicy:
    """When to decide the API is down and stop for tonight (0 disables a rule)."""

    max_consecutive_failures: int = 0
    down_after_s: float = 0.0


def default_state_path(environ: Mapping[str, str] = os.environ) -> Path:
    """$BATCH_CANCEL_STATE, else $XDG_STATE_HOME/batch-cancel/ledger.sqlite3 (~/.local/state)."""
    if environ.get(STATE_ENV):
        return Path(environ[STATE_ENV]).expanduser()
    state_home = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "batch-cancel" / "ledger.sqlite3"


def default_results_path(input_path: Path, *, dry_run: bool = False) -> Path:
    """<input stem>.results.csv beside the input; a dry run's is <stem>.dry-run.csv."""
    return input_path.with_name(f"{input_path.stem}.{'dry-run' if dry_run else 'results'}.csv")


def input_options(
    path: Path,
    *,
    map_pairs: Sequence[str] = (),
    warehouse_id: str | None = None,
    cancel_reason: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> InputOptions:
    """InputOptions from the flags; `--delimiter '\\t'` is a tab."""
    if delimiter is not None:
        delimiter = delimiter.replace("\\t", "\t")
        if len(delimiter) != 1 or not delimiter.isascii() or delimiter in '"\r\n':
            raise ConfigError(
                "--delimiter must be one ASCII character other than a quote or a line break "
                "(use '\\t' for tab)"
            )
    return InputOptions(
        path=path,
        column_map=parse_column_map(map_pairs),
        default_warehouse_id=warehouse_id,
        default_cancel_reason=cancel_reason,
        delimiter=delimiter,
        encoding=encoding,
        sheet=sheet,
    )


@dataclass(frozen=True, kw_only=True)
class Night:
    """The night's files, and the sources that expect a file and matched none."""

    files: list[NightFile]
    empty_sources: tuple[ConfigSource, ...] = ()


def night_files(
    inputs: Sequence[Path],
    *,
    sources: Sequence[str],
    config: ConfigFile | None,
    flags: InputOptions,
    output: Path | None,
    dry_run: bool,
) -> Night:
    """The night's files: the FILEs given (with a source's layout if one is named), else
    every file of every source in the config (or of those named with --source).

    Layout flags (`--map`, `--warehouse-id`, ...) win over the source's settings. A
    source without `optional = true` that matches nothing is one of `empty_sources`.
    """
    known = config.sources if config else {}
    check_sources(sources, config)
    empty: tuple[ConfigSource, ...] = ()
    if inputs:
        if len(sources) > 1:
            raise ConfigError("with INPUT files, name at most one --source (their layout)")
        chosen = [(known[sources[0]] if sources else None, path) for path in inputs]
    else:
        if config is None:
            raise ConfigError(
                "nothing to read: name an INPUT file, or a --config whose [sources] name the files"
            )
        named = [known[name] for name in (sources or list(known))]
        found = {source.name: source.paths() for source in named}
        chosen = [(source, path) for source in named for path in found[source.name]]
        empty = tuple(source for source in named if not found[source.name] and not source.optional)
    if output is not None and len(chosen) != 1:
        raise ConfigError(f"-o names one results file, but the night has {len(chosen)} inputs")
    seen: set[Path] = set()
    files = []
    for source, path in chosen:
        if path.resolve() in seen:
            continue  # matched by two globs: read once
        seen.add(path.resolve())
        files.append(
            NightFile(
                input=_with_source(flags, source, path),
                output=output or default_results_path(path, dry_run=dry_run),
                source=source.name if source else "",
                archive=source.archive if source else None,
                give_up_after=source.give_up_after if source else 0,
                retry_rejected=source.retry_rejected if source else (),
                from_glob=not inputs,
            )
        )
    outputs = distinct_outputs(files, dry_run=dry_run) if output is None else files
    return Night(files=outputs, empty_sources=empty)


def check_sources(names: Sequence[str], config: ConfigFile | None) -> None:
    """Every --source a source of the config."""
    known = config.sources if config else {}
    for name in names:
        if name not in known:
            where = f"in {config.path}" if config else "(no config file: pass --config)"
            sources = ", ".join(known) or "none"
            raise ConfigError(f"--source {name}: no such source {where}; sources: {sources}")


def distinct_outputs(files: Sequence[NightFile], *, dry_run: bool) -> list[NightFile]:
    """Every file its own results name: `orders.csv` keeps `orders.results.csv`, and
    `orders.xlsx` beside it (first come, first served) gets `orders.xlsx.results.csv`."""
    taken: set[Path] = set()
    distinct = []
    for night_file in files:
        output = night_file.output
        if output.resolve() in taken:
            path = night_file.input.path
            kind = "dry-run" if dry_run else "results"
            output = path.with_name(f"{path.name}.{kind}.csv")
            for number in itertools.count(2):
                if output.resolve() not in taken:
                    break
                output = path.with_name(f"{path.name}.{number}.{kind}.csv")
        taken.add(output.resolve())
        distinct.append(replace(night_file, output=output))
    return distinct


def _with_source(flags: InputOptions, source: ConfigSource | None, path: Path) -> InputOptions:
    if source is None:
        return replace(flags, path=path)
    return InputOptions(
        path=path,
        column_map={**source.column_map, **flags.column_map},
        default_warehouse_id=flags.default_warehouse_id or source.warehouse_id,
        default_cancel_reason=flags.default_cancel_reason or source.cancel_reason,
        delimiter=flags.delimiter or source.delimiter,
        encoding=flags.encoding or source.encoding,
        sheet=flags.sheet or source.sheet,
    )


def health_policy(*, max_consecutive_failures: int, down_after_s: float) -> HealthPolicy:
    """The run's own limits; a negative one would otherwise stop the run at the first hiccup."""
    if wrong := problem("max_consecutive_failures", max_consecutive_failures):
        raise ConfigError(f"--max-consecutive-failures {wrong}")
    if wrong := problem("down_after", down_after_s):
        raise ConfigError(f"--down-after {wrong}")
    return HealthPolicy(
        max_consecutive_failures=max_consecutive_failures, down_after_s=down_after_s
    )


def keep_days(flag: float | None, config: ConfigFile | None) -> float:
    """--keep-days, else the config file's, else the default."""
    days = night_settings(config, keep_days=flag)["keep_days"].value
    if flag is not None and (wrong := problem("keep_days", days)):
        raise ConfigError(f"--keep-days {wrong}")
    return float(days)


def check_progress_every(seconds: float) -> float:
    if wrong := problem("progress_every", seconds):
        raise ConfigError(f"--progress-every {wrong}")
    return seconds


def night_settings(
    config: ConfigFile | None,
    *,
    keep_days: float | None = None,
    progress_every: float | None = None,
    log_format: str | None = None,
) -> dict[str, Setting]:
    """The night's top-level settings by precedence: the flag, then the file, then the
    default (none of them has a variable). timezone has no flag: None is the machine's."""
    in_file = f"file {config.path}" if config else ""

    def pick(flag: Any, flag_name: str, key: str, default: Any) -> Setting:
        if flag is not None:
            return Setting(flag, f"flag {flag_name}")
        if config is not None and getattr(config, key) is not None:
            return Setting(getattr(config, key), f"{in_file} {key}")
        return Setting(default, "default")

    return {
        "keep_days": pick(keep_days, "--keep-days", "keep_days", DEFAULT_KEEP_DAYS),
        "progress_every": pick(
            progress_every, "--progress-every", "progress_every", DEFAULT_PROGRESS_EVERY_S
        ),
        "log_format": pick(log_format, "--log-format", "log_format", DEFAULT_LOG_FORMAT),
        "timezone": pick(None, "", "timezone", None),
    }


def parse_column_map(pairs: Sequence[str]) -> dict[str, str]:
    """Turn ["order_no=No. Pesanan", ...] into {"order_no": "No. Pesanan"}."""
    column_map: dict[str, str] = {}
    for pair in pairs:
        name, sep, header = pair.partition("=")
        name = name.strip()
        if not sep or not header.strip():
            raise ConfigError(f"--map expects FIELD=HEADER, got {pair!r}")
        if name not in FIELDS:
            raise ConfigError(f"--map: unknown field {name!r}; fields are {', '.join(FIELDS)}")
        column_map[name] = header.strip()
    return column_map


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """Refuse URLs that would send the key somewhere it should not go."""
    parts = urlsplit(base_url)
    if "@" in parts.netloc:
        # Checked first and never echoed: user:password@ is a secret of its own, and
        # aiohttp would send it as Basic auth beside the key.
        raise ConfigError(
            "base URL must not carry a user name or password (host[:port] only; "
            f"the key goes in {API_KEY_ENV} or --api-key-file)"
        )
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ConfigError(f"base URL must have a numeric port, got {base_url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"base URL must look like https://host[/prefix], got {base_url!r}")
    if parts.query or parts.fragment:
        raise ConfigError("base URL must not carry a query string or fragment")
    if parts.scheme == "http" and not (allow_insecure_http or _is_loopback(parts.hostname)):
        raise ConfigError(
            f"refusing plain http to {parts.hostname}: the API key would travel unencrypted "
            "(use https, or --allow-insecure-http if you really mean it)"
        )
    return base_url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_file_shown(path: Path) -> str | None:
    """The key file's path, as a message may show it: None when no file is there, for
    then the value may be no path at all but a key pasted in its place."""
    return str(path) if os.path.lexists(path) else None


def read_api_key_file(path: Path, named_by: str = "--api-key-file") -> str:
    """The key from a file that only its owner may read (as ssh insists for private keys)."""
    shown = key_file_shown(path)
    where = f"{named_by} {shown}" if shown else named_by
    try:
        # O_NONBLOCK: a named pipe must not hang the run before the check below.
        handle = open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise ConfigError(
            f"{where}: no such file (the value is not shown: it must be the path of the "
            "file that holds the key, never the key itself)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{where}: not a regular file") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read ({exc.strerror})") from None
    with handle:
        # fstat of the open file, not stat of the name: what is checked is what is read.
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{where}: not a regular file")
        if os.name == "posix" and info.st_mode & 0o077:
            raise ConfigError(
                f"{where}: other users may read or change it (mode "
                f"{stat.S_IMODE(info.st_mode):03o}); refusing to use it: run chmod 600 {path}"
            )
        data = handle.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_KEY_FILE_BYTES} bytes; not a key file")
    try:
        api_key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        api_key = "\x00"  # reported below like any other unprintable key
    if not api_key:
        raise ConfigError(f"{where}: the file is empty")
    _check_key(api_key, where)
    return api_key


def _check_key(api_key: str, where: str) -> None:
    # A key with spaces, line breaks or other bytes is a wrong file (say, an env
    # file with `export ...`), and would otherwise fail later inside aiohttp.
    if not (api_key.isascii() and api_key.isprintable()) or " " in api_key:
        raise ConfigError(
            f"{where}: the key must be one line of printable ASCII without spaces "
            "(the key itself, nothing else)"
        )


@dataclass(frozen=True)
class Setting:
    """One effective setting and where it came from: flag, env, file or default."""

    value: Any
    origin: str


@dataclass(frozen=True, kw_only=True)
class ApiFlags:
    """The API settings' flags as given (None: not given), for `api_settings`."""

    base_url: str | None = None
    rate: float | str | None = None
    concurrency: int | None = None
    timeout_s: float | None = None
    max_attempts: int | None = None
    max_rate: float | None = None
    api_key_file: Path | None = None
    state: Path | None = None
    allow_insecure_http: bool = False
    already_cancelled_codes: tuple[str, ...] | None = None
    max_consecutive_failures: int | None = None
    down_after_s: float | None = None


def api_settings(
    flags: ApiFlags = ApiFlags(),
    *,
    config: ConfigFile | None = None,
    environ: Mapping[str, str] = os.environ,
    account: str = "",
) -> dict[str, Setting]:
    """The API settings by precedence: flags, then the environment, then the file, then defaults.

    The key itself is not read here: `api_key` says where it will come from. For an
    `account` of the config ([accounts.NAME]) the environment's base URL and key are
    not asked: one variable cannot be every account's, and an order must reach its own.
    """
    api: Mapping[str, Any] = (config.accounts[account] if account else config.api) if config else {}
    in_file = f"file {config.path}" if config else ""
    shared: Mapping[str, Any] = config.api if config else {}

    def origin(key: str) -> str:
        own = account and shared.get(key) is not api[key]
        return f"{in_file} {f'[accounts.{account}]' if own else '[api]'} {key}"

    def pick(flag: Any, flag_name: str, env: str | None, key: str, default: Any) -> Setting:
        if flag is not None:
            return Setting(flag, f"flag {flag_name}")
        if env and not account and environ.get(env, "").strip():
            return Setting(environ[env].strip(), f"env {env}")
        if key in api:
            return Setting(api[key], origin(key))
        return Setting(default, "default")

    if flags.api_key_file is not None:
        key = Setting(flags.api_key_file, "flag --api-key-file")
    elif not account and environ.get(API_KEY_ENV, "").strip():
        key = Setting(None, f"env {API_KEY_ENV}")
    elif "api_key_file" in api:
        key = Setting(Path(api["api_key_file"]), origin("api_key_file"))
    else:
        key = Setting(None, "not set")
    state_file = config.state if config else None
    return {
        "base_url": pick(flags.base_url, "--base-url", BASE_URL_ENV, "base_url", None),
        "api_key": key,
        "rate": pick(flags.rate, "--rate", None, "rate", DEFAULT_RATE),
        "max_rate": pick(flags.max_rate, "--max-rate", None, "max_rate", DEFAULT_MAX_RATE),
        "concurrency": pick(
            flags.concurrency, "--concurrency", None, "concurrency", DEFAULT_CONCURRENCY
        ),
        "timeout": pick(flags.timeout_s, "--timeout", None, "timeout", DEFAULT_TIMEOUT_S),
        "max_attempts": pick(
            flags.max_attempts, "--max-attempts", None, "max_attempts", DEFAULT_MAX_ATTEMPTS
        ),
        "already_cancelled_codes": pick(
            flags.already_cancelled_codes,
            "--already-cancelled-code",
            None,
            "already_cancelled_codes",
            (),
        ),
        "max_consecutive_failures": pick(
            flags.max_consecutive_failures,
            "--max-consecutive-failures",
            None,
            "max_consecutive_failures",
            DEFAULT_MAX_CONSECUTIVE_FAILURES,
        ),
        "down_after": pick(
            flags.down_after_s, "--down-after", None, "down_after", DEFAULT_DOWN_AFTER_S
        ),
        "read_path": pick(None, "", None, "read_path", None),
        "order_statuses": pick(None, "", None, "order_statuses", {}),
        "state": (
            Setting(flags.state, "flag --state")
            if flags.state is not None
            else Setting(Path(environ[STATE_ENV]).expanduser(), f"env {STATE_ENV}")
            if environ.get(STATE_ENV)
            else Setting(state_file, f"{in_file} state")
            if state_file is not None
            else Setting(default_state_path(environ), "default")
        ),
    }


def send_options_from_env(
    flags: ApiFlags = ApiFlags(),
    *,
    config: ConfigFile | None = None,
    environ: Mapping[str, str] = os.environ,
    account: str = "",
) -> SendOptions:
    """Build SendOptions (flags, then the environment, then the config file, then defaults).

    The key comes from a key file or the environment, never from a flag's value:
    command lines are visible to every user in `ps`.
    """
    settings = api_settings(flags, config=config, environ=environ, account=account)
    key = settings["api_key"]
    if isinstance(key.value, Path):
        named_by = key.origin.removeprefix("flag ").removeprefix("file ")
        api_key = read_api_key_file(key.value, named_by)
        key_from = f"the key in {key.value}"
    elif account:
        raise ConfigError(f"[accounts.{account}] has no api_key_file: each account names its key")
    else:
        api_key = environ.get(API_KEY_ENV, "").strip()
        if not api_key:
            raise ConfigError(
                f"{API_KEY_ENV} is not set: export the Shipper API key in it, "
                "or pass --api-key-file"
            )
        _check_key(api_key, API_KEY_ENV)
        key_from = API_KEY_ENV
    base_url = (settings["base_url"].value or "").strip()
    if not base_url and account:
        raise ConfigError(f"[accounts.{account}] has no base_url")
    if not base_url:
        raise ConfigError(
            f"no API base URL: pass --base-url or set {BASE_URL_ENV} "
            "(Shipper does not publish one default host)"
        )
    for name, setting in settings.items():  # a config file's values were checked as read
        flag = setting.origin.removeprefix("flag ")
        if name in RULES and flag != setting.origin and (wrong := problem(name, setting.value)):
            raise ConfigError(f"{flag} {wrong}")
    rate, max_rate = settings["rate"].value, settings["max_rate"].value
    auto_rate = rate == "auto"
    return SendOptions(
        base_url=check_base_url(base_url, allow_insecure_http=flags.allow_insecure_http),
        api_key=api_key,
        rate=max_rate if auto_rate else rate,
        concurrency=settings["concurrency"].value,
        timeout_s=settings["timeout"].value,
        max_attempts=settings["max_attempts"].value,
        auto_rate=auto_rate,
        max_rate=max_rate,
        key_from=key_from,
        read_path=settings["read_path"].value,
        order_statuses=settings["order_statuses"].value,
    )

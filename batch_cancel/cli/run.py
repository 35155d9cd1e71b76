"""`run`: the night's settings checked, its files and outputs settled, then `job.run_night`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import (
    HealthPolicy,
    SendOptions,
    api_settings,
    check_progress_every,
    check_sources,
    health_policy,
    keep_days,
    night_files,
    night_settings,
    send_options_from_env,
)
from ..errors import ConfigError
from ..models import ExitStatus, utc_now
from ..outputs import Named, Role, check_outputs, results_files
from .common import api_flags, config_file, input_options_of, kept_files, write_json
from .logs import setup_logging
from .notify import notify_night, zone_of
from .progress import Progress

if TYPE_CHECKING:
    from ..config import NightFile
    from ..configfile import ConfigFile
    from ..configfile import Source as ConfigSource
    from ..job import JobOptions, OpenedNight
    from ..outcome import RunOutcome, UnreadFile


def run_command(args: argparse.Namespace) -> ExitStatus:
    config = config_file(args)
    accounts = _accounts(args, config)
    # Configuration is checked before the input is read, so a missing key costs nothing.
    sends = {
        name: None
        if args.dry_run
        else send_options_from_env(api_flags(args), config=config, account=name)
        for name in accounts
    }
    health = {name: _health(args, config, name) for name in accounts}
    shared = night_settings(config, progress_every=args.progress_every, log_format=args.log_format)
    # The file's values were checked as read; what logging and progress read is settled here.
    args.progress_every = check_progress_every(shared["progress_every"].value)
    args.log_format = shared["log_format"].value
    setup_logging(args, secret=[send.api_key for send in sends.values() if send is not None])
    nights = {
        name: night_files(
            args.input,
            sources=sources,
            config=config,
            flags=input_options_of(args, path=Path()),
            output=args.output,
            dry_run=args.dry_run,
        )
        for name, sources in accounts.items()
    }
    for night in nights.values():
        for source in night.empty_sources:  # a missing export is news: under -q too
            print(
                f"batch-cancel: source {source.name}: no file matched {', '.join(source.globs)}",
                file=sys.stderr,
            )
    files = _checked_outputs(args, config, [f for night in nights.values() for f in night.files])
    empty_sources = [source for night in nights.values() for source in night.empty_sources]
    if not files:
        return _empty_night(args, config, empty_sources)
    jobs = []
    for name, night in nights.items():
        paths = {night_file.input.path for night_file in night.files}
        own = [night_file for night_file in files if night_file.input.path in paths]
        codes = api_settings(api_flags(args), config=config, account=name)[
            "already_cancelled_codes"
        ].value
        settings = (sends[name], health[name], codes)
        if own or night.empty_sources:
            jobs.append((name, _job_options(args, config, own, settings, night.empty_sources)))
    return _run_night(args, config, jobs)


def _health(args: argparse.Namespace, config: ConfigFile | None, account: str) -> HealthPolicy:
    settings = api_settings(api_flags(args), config=config, account=account)
    return health_policy(
        max_consecutive_failures=settings["max_consecutive_failures"].value,
        down_after_s=settings["down_after"].value,
    )


def _accounts(args: argparse.Namespace, config: ConfigFile | None) -> dict[str, list[str]]:
    """The night's accounts ("" for a config of one) and the sources each reads."""
    names = list(config.accounts) if config else []
    for name in args.account:
        if name not in names:
            known = ", ".join(names) or "none"
            raise ConfigError(
                f"--account {name}: no [accounts.{name}] in the config; accounts: {known}"
            )
    if not names:
        return {"": args.source}
    assert config is not None
    check_sources(args.source, config)  # else an account's sources would drop the name
    chosen = args.account or names
    if args.input:  # the files' account: their --source's, or the one --account
        owner = {config.sources[s].account for s in args.source if s in config.sources}
        owner = owner or set(args.account)
        if len(owner) != 1:
            raise ConfigError(
                "with INPUT files, name the account: --account NAME, or a --source of that account"
            )
        chosen = list(owner)
    elif len(chosen) > 1 and (args.base_url or args.api_key_file):
        raise ConfigError("--base-url and --api-key-file name one account: add --account NAME")
    picked: dict[str, list[str]] = {name: [] for name in chosen}
    for source in config.sources.values():
        if source.account in picked and (not args.source or source.name in args.source):
            picked[source.account].append(source.name)
    for name in args.source:
        if name in config.sources and config.sources[name].account not in picked:
            raise ConfigError(
                f"--source {name} is a source of account "
                f"{config.sources[name].account}, not of --account "
                f"{', '.join(chosen)}"
            )
    # An account with no source to read tonight has nothing to do (INPUT files aside).
    return {name: sources for name, sources in picked.items() if sources or args.input}


def _checked_outputs(
    args: argparse.Namespace, config: ConfigFile | None, files: Sequence[NightFile]
) -> list[NightFile]:
    """Every output compared with every file the night reads or keeps, before it is read."""
    if args.only and len(files) != 1:
        raise ConfigError("--only reads one results file; name it as the only INPUT")
    kept = kept_files(args, config, [night_file.input.path for night_file in files])
    results_flag = "-o" if args.output else "the results file"
    outputs = [(results_flag, Named(night_file.output, Role.RESULTS)) for night_file in files]
    kept += [item for night_file in files for item in results_files(night_file.output)]
    if args.summary_json is not None:
        outputs.append(("--summary-json", Named(args.summary_json, Role.SUMMARY_JSON)))
    targets = check_outputs(outputs, kept)
    if args.summary_json is not None:
        args.summary_json = targets[-1]
    return [
        replace(night_file, output=target)
        for night_file, target in zip(files, targets[: len(files)], strict=True)
    ]


def _job_options(
    args: argparse.Namespace,
    config: ConfigFile | None,
    files: Sequence[NightFile],
    settings: tuple[SendOptions | None, HealthPolicy, Sequence[str]],
    empty_sources: Sequence[ConfigSource],
) -> JobOptions:
    from ..job import JobOptions

    state = api_settings(api_flags(args), config=config)["state"].value
    return JobOptions(
        files=tuple(files),
        send=settings[0],
        state_path=None if args.no_state else state,
        force_resend=args.force_resend,
        already_cancelled_codes=frozenset(code.strip() for code in settings[2]),
        resend_only=args.only or frozenset(),
        health=settings[1],
        keep_days=keep_days(args.keep_days, config),
        empty_sources=tuple(empty_sources),
    )


def _run_night(
    args: argparse.Namespace, config: ConfigFile | None, accounts: Sequence[tuple[str, JobOptions]]
) -> ExitStatus:
    from ..formats.summary_text import format_summary
    from ..job import AccountJob, InputScan, combine_accounts, open_orders, run_night

    jobs: list[AccountJob] = []
    notes: list[str] = []
    empty_sources: list[ConfigSource] = []
    for name, options in accounts:
        opened = open_orders(options)
        no_export = _sources_without_an_export(config, options.files, opened)
        for source in no_export:  # owner files, empty files, our own outputs: still no export
            print(
                f"batch-cancel: source {source.name}: no export among the files matched"
                f" ({', '.join(source.globs)}): each was skipped",
                file=sys.stderr,
            )
        empty = (*options.empty_sources, *no_export)
        notes += opened.notes
        empty_sources += empty
        if opened.files or opened.unread:
            options = replace(options, files=opened.files, empty_sources=empty)
            jobs.append(
                AccountJob(options=options, orders=opened.orders, unread=opened.unread, name=name)
            )
    if not jobs:
        for note in notes:
            print(f"  note: {note}", file=sys.stderr)
        return _empty_night(args, config, empty_sources, notes=notes)
    scan = InputScan(
        [night_file.input.path for job in jobs for night_file in job.options.files],
        [orders.counted_rows for job in jobs for orders in job.orders],
    )
    progress = Progress(scan, quiet=args.quiet, every_s=args.progress_every)
    try:
        reports = run_night(
            jobs, input_scan=scan, on_result=progress.advance, on_pace=progress.watch_pace
        )
    finally:
        progress.close()
    report = combine_accounts(reports) if config and config.accounts else reports[0]
    notes += [note for job in jobs for orders in job.orders for note in orders.notes]
    # -q and a clean night: nothing at all, so cron mails only when someone must look.
    if not (args.quiet and report.exit_status == ExitStatus.SUCCESS and not notes):
        print(format_summary(report, zone=zone_of(config), finished=utc_now()), file=sys.stderr)
        # What the loader had to say about a file as a whole (lines read as cp1252, no
        # data rows, ...): in the summary, so `-q` and cron mail show it too.
        for note in notes:
            print(f"  note: {note}", file=sys.stderr)
    if args.summary_json:
        _write_summary_json(args.summary_json, report, notes=notes)
    notify_night(config, report, str(args.summary_json) if args.summary_json else None)
    return report.exit_status


def _write_summary_json(path: Path, report: RunOutcome, *, notes: Sequence[str] = ()) -> None:
    from ..formats.summary_json import summary_json

    write_json(path, summary_json(report, notes=notes))


def _empty_night(
    args: argparse.Namespace,
    config: ConfigFile | None,
    empty_sources: Sequence[ConfigSource],
    *,
    notes: Sequence[str] = (),
) -> ExitStatus:
    from ..job import empty_night

    empty = empty_night(empty_sources, dry_run=args.dry_run)
    if not (args.quiet and empty.exit_status == ExitStatus.SUCCESS):
        print(empty.headline, file=sys.stderr)
    if args.summary_json:  # the notes say why a source's files did not count
        _write_summary_json(args.summary_json, empty, notes=notes)
    notify_night(config, empty)
    return empty.exit_status


def _sources_without_an_export(
    config: ConfigFile | None, matched: Sequence[NightFile], opened: OpenedNight
) -> list[ConfigSource]:
    """Sources whose every matched file was skipped (not an export): as news as no file."""
    if config is None:
        return []
    unread: Sequence[UnreadFile] = opened.unread
    found = {night_file.source for night_file in opened.files} | {item.source for item in unread}
    names = dict.fromkeys(night_file.source for night_file in matched if night_file.from_glob)
    return [
        config.sources[name]
        for name in names
        if name and name not in found and not config.sources[name].optional
    ]

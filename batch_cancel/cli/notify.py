"""`notify --test`, and word to a person after a night ([notify] in the config).

A failed notification is a warning on stderr: the exit status stays the night's.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..models import ExitStatus
from .common import config_file

if TYPE_CHECKING:
    from datetime import tzinfo

    from ..configfile import ConfigFile
    from ..outcome import RunOutcome


def notify_command(args: argparse.Namespace) -> ExitStatus:
    from ..formats.notification import test_message

    config = config_file(args)
    if config is None or config.notify is None or not config.notify.urls:
        raise ConfigError("no [notify] urls in the config: nothing to send a test to")
    title, body = test_message(now=datetime.now(UTC), tz=zone_of(config))
    if not _send(config, title, body):
        return ExitStatus.API_REFUSED_OR_DOWN
    print(f"test notification sent to {len(config.notify.urls)} URL(s)")
    return ExitStatus.SUCCESS


def notify_night(
    config: ConfigFile | None, report: RunOutcome, summary_json: str | None = None
) -> None:
    """After the summary: word of the night, if [notify] asks for it tonight."""
    if config is None or config.notify is None or not config.notify.urls:
        return
    if config.notify.when != "always" and report.exit_status == ExitStatus.SUCCESS:
        return
    from ..formats.notification import night_message

    now = datetime.now(UTC)
    _send(config, *night_message(report, now=now, tz=zone_of(config), summary_json=summary_json))


def notify_refused(args: argparse.Namespace, error: str) -> None:
    """A night that did not start (or stopped before its summary) is news too."""
    try:
        config = config_file(args)
    except Exception:  # the config itself was what failed: said already
        return
    if config is None or config.notify is None or not config.notify.urls:
        return
    from ..formats.notification import refused_message

    _send(config, *refused_message(error, now=datetime.now(UTC), tz=zone_of(config)))


def _send(config: ConfigFile, title: str, body: str) -> bool:
    from ..notify import send

    assert config.notify is not None
    problems = send(config.notify.urls, title, body)
    for problem in problems:
        print(f"batch-cancel: warning: {problem}", file=sys.stderr)
    return not problems


def zone_of(config: ConfigFile | None) -> tzinfo | None:
    """The config's time zone; None: the machine's."""
    if config is None or config.timezone is None:
        return None
    from zoneinfo import ZoneInfo

    return ZoneInfo(config.timezone)

"""Word of a night to a person, through apprise (Slack, Telegram, e-mail, JSON webhooks, ...).

apprise is imported here, inside `send`, and only `send` imports this module's caller's
way: a night that notifies nobody never loads it (BENCHMARKS.md has its cost). A
notification that fails is a warning: it never changes the exit status, and it never
holds the night past NOTIFY_TIMEOUT_S. The URLs carry tokens and passwords, so no
message from here shows more of one than its scheme.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence

log = logging.getLogger(__name__)

# Long enough for a webhook on a slow line; a night never waits longer for its mail.
NOTIFY_TIMEOUT_S = 10.0


def scheme_of(url: str) -> str:
    """What of a notify URL may be shown: its scheme ("slack://"), never the rest."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://" if sep and scheme.isalnum() else "(not a URL)"


def send(
    urls: Sequence[str], title: str, body: str, *, timeout_s: float = NOTIFY_TIMEOUT_S
) -> list[str]:
    """Send to every URL; the problems, one line each naming only the scheme ([]: sent)."""
    problems: list[str] = []
    done = threading.Event()

    def deliver() -> None:
        try:
            with warnings.catch_warnings():  # apprise's imports' deprecations: not cron's news
                warnings.simplefilter("ignore", DeprecationWarning)
                problems.extend(_deliver(urls, title, body))
        except Exception as exc:  # apprise's own bug: a warning like any failure
            problems.append(f"notification failed ({type(exc).__name__})")
        finally:
            done.set()

    # A daemon thread: a receiver that never answers cannot keep the process alive.
    threading.Thread(target=deliver, name="notify", daemon=True).start()
    if not done.wait(timeout_s):
        return [f"notification not confirmed within {timeout_s:g}s; the night goes on"]
    return problems


def _deliver(urls: Sequence[str], title: str, body: str) -> list[str]:
    import apprise

    # apprise logs the URLs it works with; they hold secrets, so none of its lines pass.
    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)
    problems = []
    for url in urls:
        sender = apprise.Apprise()
        if not sender.add(url):
            problems.append(f"notify URL {scheme_of(url)} is not one apprise knows")
        elif not sender.notify(title=title, body=body):
            problems.append(f"notification to {scheme_of(url)} was not delivered")
    return problems

"""Issue 26: several accounts in one night (one ledger, one lock, each its own key, rate
and orders), and word to a person through apprise when the night needs one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batch_cancel import cli
from batch_cancel.demo import NotifyReceiver
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import ROOT, cli_env, key_file, orders_csv, raw_rows, read_results, write_csv

ALPHA_KEY = "alpha-key-Hq7Tz2Lm9W"
BETA_KEY = "beta-key-Pv4Rx8Ks1N"
WEBHOOK_TOKEN = "hook-token-Sx5Bn3Jd7"  # a notify URL's secret: never in any output
ALPHA_RATE, BETA_RATE = 4, 8


class Receiver(NotifyReceiver):
    """A local HTTP receiver: what apprise's json:// posts, one body per notification."""

    @property
    def url(self) -> str:
        return self.address(f"/hook/{WEBHOOK_TOKEN}")


@pytest.fixture(autouse=True)
def no_key_in_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No SHIPPER_API_KEY: every account's key comes from its own file; a ledger of our own."""
    for name, value in cli_env(api_key=None, state=tmp_path / "ledger.sqlite3").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SHIPPER_API_KEY", raising=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    yield got
    got.server.shutdown()


def night_config(folder: Path, alpha: str, beta: str, notify_url: str) -> Path:
    """Two accounts, each with its key file, rate and source (alpha's archived)."""
    blocks = []
    for name, url, key, rate, source in (
        (
            "alpha",
            alpha,
            ALPHA_KEY,
            ALPHA_RATE,
            'tokopedia]\nfiles = "alpha-*.csv"\narchive = "done/"',
        ),
        ("beta", beta, BETA_KEY, BETA_RATE, 'shopee]\nfiles = "beta-*.csv"'),
    ):
        key_file(folder / name, key)
        blocks.append(
            f'[accounts.{name}]\nbase_url = "{url}"\napi_key_file = "{name}/shipper.key"\n'
            f"rate = {rate}\n\n[accounts.{name}.sources.{source}\n"
        )
    config = folder / "night.toml"
    config.write_text(
        'timezone = "Asia/Jakarta"\n\n[api]\nconcurrency = 2\n\n'
        + "\n".join(blocks)
        + f'\n[notify]\nurls = ["{notify_url}"]\n'
    )
    return config


def no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (ALPHA_KEY, BETA_KEY, WEBHOOK_TOKEN):
            assert secret not in text


@pytest.mark.integration
def test_two_accounts_in_one_night_each_order_to_its_own_account_and_word_sent(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alpha = start_sandbox("--rate-limit", str(ALPHA_RATE), api_key=ALPHA_KEY)
    beta = start_sandbox("--rate-limit", str(BETA_RATE), api_key=BETA_KEY)
    orders_csv(tmp_path / "alpha-1.csv", 12, prefix="ALPHA")
    write_csv(
        tmp_path / "beta-1.csv",
        ["order_no", "warehouse_id", "cancel_reason"],
        [[f"BETA{i}", "WH-1", "out of stock"] for i in range(20)] + [["", "WH-1", "x"]],
    )
    config = night_config(tmp_path, alpha.url, beta.url, receiver.url)
    summary = tmp_path / "summary.json"
    status = cli.main(["run", "-q", "--config", str(config), "--summary-json", str(summary)])
    captured = capsys.readouterr()
    assert status == ExitStatus.ROWS_NEED_ATTENTION, captured.err

    # Each order went to its own account only, each account at its own rate.
    alpha_calls, beta_calls = alpha.stats(), beta.stats()
    alpha_orders = [row[0] for row in raw_rows(tmp_path / "done" / "alpha-1.csv")[1:]]
    assert sorted(alpha_calls["cancel_calls"]) == sorted(f"{o}|WH-1" for o in alpha_orders)
    assert len(alpha_calls["cancel_calls"]) == 12
    assert sorted(beta_calls["cancel_calls"]) == sorted(f"BETA{i}|WH-1" for i in range(20))
    assert alpha_calls["busiest_second"] <= ALPHA_RATE
    assert beta_calls["busiest_second"] <= BETA_RATE
    assert alpha_calls["answers"]["429"] == beta_calls["answers"]["429"] == 0

    # One summary: the total, then a section per account; the archived results' place.
    err = captured.err
    assert err.splitlines()[0] == "batch-cancel: finished; 1 row(s) need attention"
    assert "  rows: 33 in " in err
    assert ", 2 accounts" in err
    assert "  account alpha:" in err
    assert "  account beta:" in err
    archived = list((tmp_path / "done").glob("alpha-1*.results.csv"))
    assert len(archived) == 1
    assert f"results: {archived[0]}" in err
    report = json.loads(summary.read_text())
    assert report["exit_status"] == 1
    assert set(report["accounts"]) == {"alpha", "beta"}
    assert report["accounts"]["alpha"]["counts"]["cancelled"] == 12
    assert report["accounts"]["beta"]["counts"]["invalid"] == 1
    assert [item["results_path"] for item in report["files"]] == [
        str(archived[0]),
        str(tmp_path / "beta-1.results.csv"),
    ]
    assert [row["result_status"] for row in read_results(tmp_path / "beta-1.results.csv")] == [
        "cancelled"
    ] * 20 + ["invalid"]

    # The notification: headline, why, counts per account, the rows, the final paths.
    [body] = receiver.bodies
    assert receiver.paths == [f"/hook/{WEBHOOK_TOKEN}"]
    text = body["message"]
    assert text.splitlines()[0] == "batch-cancel: finished; 1 row(s) need attention"
    assert "1 row needs attention: 1 invalid" in text
    assert "account alpha: cancelled 12" in text
    assert "account beta: cancelled 20, invalid 1" in text
    assert re.search(r"\[beta\] beta-1\.csv row 21: \(no order number\) invalid: ", text)
    assert str(archived[0]) in text
    assert str(tmp_path / "beta-1.results.csv") in text
    assert re.search(r"\d\d:\d\d WIB: exit 1$", body["title"])  # Asia/Jakarta
    no_secret(
        captured.out,
        err,
        summary.read_text(),
        (tmp_path / "ledger.sqlite3").read_text(errors="replace"),
    )


def test_a_refused_start_notifies_too(
    tmp_path: Path,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = night_config(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", receiver.url)
    (tmp_path / "beta" / "shipper.key").chmod(0o644)
    status = cli.main(["run", "--config", str(config)])
    captured = capsys.readouterr()
    assert status == ExitStatus.USAGE_OR_INPUT
    [body] = receiver.bodies
    assert body["title"].endswith("the night did not run")
    key = tmp_path / "beta" / "shipper.key"
    assert body["message"] == (
        f"batch-cancel: error: {config} [accounts.beta] api_key_file {key}: other users "
        f"may read or change it (mode 644); refusing to use it: run chmod 600 {key}"
    )
    no_secret(captured.out, captured.err)


def test_a_notification_that_fails_is_a_warning_and_the_status_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"json://127.0.0.1:9/hook/{WEBHOOK_TOKEN}"  # nothing listens on port 9
    config = night_config(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", dead)
    (tmp_path / "config-test.toml").write_text(config.read_text())
    status = cli.main(["notify", "--test", "--config", str(config)])
    captured = capsys.readouterr()
    assert status == ExitStatus.API_REFUSED_OR_DOWN
    assert captured.err == "batch-cancel: warning: notification to json:// was not delivered\n"
    no_secret(captured.out, captured.err)


def test_notify_test_reaches_the_receiver(
    tmp_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    config = night_config(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", receiver.url)
    assert cli.main(["notify", "--test", "--config", str(config)]) == ExitStatus.SUCCESS
    assert capsys.readouterr().out == "test notification sent to 1 URL(s)\n"
    [body] = receiver.bodies
    assert body["title"].endswith("WIB: test")


def test_a_night_that_notifies_nobody_never_loads_apprise(tmp_path: Path) -> None:
    """A night without [notify] (or one that went well under when = "attention")."""
    orders_csv(tmp_path / "in.csv", 2)
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "batch_cancel",
            "run",
            tmp_path / "in.csv",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "batch_cancel.cli.run" in done.stderr  # the import log is there
    assert "apprise" not in done.stderr


def test_a_refused_key_from_a_key_file_names_that_file(tmp_path: Path) -> None:
    from batch_cancel.config import ApiFlags, send_options_from_env

    key = key_file(tmp_path, "some-key-123456")
    send = send_options_from_env(
        ApiFlags(api_key_file=key, base_url="http://127.0.0.1:9"), environ={}
    )
    assert send.key_from == f"the key in {key}"
    assert (
        send_options_from_env(
            ApiFlags(base_url="http://127.0.0.1:9"), environ={"SHIPPER_API_KEY": "k-123456789"}
        ).key_from
        == "SHIPPER_API_KEY"
    )


def test_a_key_file_from_systemd_load_credential_is_accepted(tmp_path: Path) -> None:
    """systemd's LoadCredential=: $CREDENTIALS_DIRECTORY/NAME, mode 0400, owned by the
    service's user, in a directory that may be readable by others (0755 here)."""
    from batch_cancel.config import read_api_key_file

    credentials = tmp_path / "credentials" / "batch-cancel.service"
    credentials.mkdir(parents=True)
    credentials.chmod(0o755)
    key = credentials / "shipper-key"
    key.write_text("cred-key-Qw3Er5Ty7\n")
    key.chmod(0o400)
    assert key.stat().st_uid == os.getuid()
    assert read_api_key_file(key) == "cred-key-Qw3Er5Ty7"

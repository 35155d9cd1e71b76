"""The night's config file: found, read, checked (file, line and key in every error),
and its settings ranked below flags and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_cancel import cli
from batch_cancel.config import ApiFlags, api_settings, send_options_from_env
from batch_cancel.configfile import find_config, load_config
from batch_cancel.errors import ConfigError
from batch_cancel.models import ExitStatus

from .helpers import CANARY_KEY

GOOD = """\
[api]
base_url = "https://api.example.com"
api_key_file = "key"
rate = 12
concurrency = 6

[sources.shopee]
files = "inbox/shopee-*.xlsx"
map = { order_no = "No. Pesanan", cancel_reason = "Alasan Pembatalan" }
warehouse_id = "WH-TGR04"
cancel_reason = "Cancelled from marketplace"
sheet = "Sheet1"
archive = "done/"

[sources.tokopedia]
files = ["inbox/tkp-*.csv", "inbox/tokopedia-*.csv"]
delimiter = ";"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "night.toml"
    path.write_text(text)
    return path


def test_a_good_file_is_read_with_paths_relative_to_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.api["rate"] == 12
    assert config.api["api_key_file"] == str(tmp_path / "key")
    shopee = config.sources["shopee"]
    assert shopee.files == ("inbox/shopee-*.xlsx",)
    assert dict(shopee.column_map) == {
        "order_no": "No. Pesanan",
        "cancel_reason": "Alasan Pembatalan",
    }
    assert (shopee.sheet, shopee.archive) == ("Sheet1", tmp_path / "done")
    (tmp_path / "inbox").mkdir()
    for name in ("tkp-1.csv", "tokopedia-2.csv", "other.csv"):
        (tmp_path / "inbox" / name).write_text("x")
    assert [path.name for path in config.sources["tokopedia"].paths()] == [
        "tkp-1.csv",
        "tokopedia-2.csv",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[api]\nrate = 5\nratee = 6\n",
            "line 3: api.ratee: unknown key (known here: base_url, api_key_file, rate, "
            "max_rate, concurrency, timeout, max_attempts, read_path, order_statuses, "
            "already_cancelled_codes, max_consecutive_failures, down_after)",
        ),
        ('[api]\nrate = "fast"\n', "line 2: api.rate: must be 0 (no limit), a number, or auto"),
        ("[api]\nrate = true\n", "line 2: api.rate: must be a number or text, not bool"),
        ("[api]\nconcurrency = 0\n", "line 2: api.concurrency: must be at least 1"),
        ("[api]\nrate = -1\n", "line 2: api.rate: must be 0 (no limit), a number, or auto"),
        # the rules a flag's value is checked by, naming the file, the line and the key
        ("[api]\ntimeout = 0\n", "line 2: api.timeout: must be greater than 0"),
        (
            "\n[api]\nmax_rate = 0\n",
            "line 3: api.max_rate: must be a number of requests per second above 0",
        ),
        (
            "[sources.shopee]\nmap = { order_no = 'x' }\n",
            "line 1: sources.shopee: has no `files` (a glob, or a list of them, relative to "
            "the config file)",
        ),
        (
            "[sources.shopee]\nfiles = 'a'\nmap = { order = 'x' }\n",
            "line 3: sources.shopee.map.order: unknown field; fields are order_no, "
            "warehouse_id, cancel_reason",
        ),
        (
            "[sources.shopee]\nfiles = 'a'\ndelimiter = ';;'\n",
            "line 3: sources.shopee.delimiter: must be one character other than a quote",
        ),
        ("[sources.shopee]\nfiles = []\n",
         "line 2: sources.shopee.files: must be a glob or a list of globs"),
        ("api_key = 'sk-live'\n",
         "line 1: api_key: unknown key (known here: api, sources, accounts, notify, state, "
         "keep_days, timezone, progress_every, log_format)"),
        ("[api]\nmax_consecutive_failures = -1\n",
         "line 2: api.max_consecutive_failures: must be 0 (never) or more"),
        ("[api]\ndown_after = -5\n",
         "line 2: api.down_after: must be 0 (never) or a number of seconds"),
        ("[api]\nalready_cancelled_codes = [1]\n",
         "line 2: api.already_cancelled_codes: must be a list of API error codes (text)"),
        ('log_format = "xml"\n', "line 1: log_format: must be text or json"),
        ("progress_every = 0\n", "line 1: progress_every: must be a positive number of seconds"),
        ("[api]\nrate = \n", "line 2: not valid TOML: Invalid value"),
        ("[sources.shopee]\nfiles = 'a'\noptional = 'yes'\n",
         "line 3: sources.shopee.optional: must be true or false, not text"),
        ("[sources.shopee]\nfiles = 'a'\noptional = 1\n",
         "line 3: sources.shopee.optional: must be true or false, not a whole number"),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_file_the_line_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: {message}"


def test_a_source_expects_a_file_unless_it_is_optional(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[sources.a]\nfiles = 'a-*.csv'\n[sources.b]\nfiles = ['b/*.csv']\noptional = true\n",
    )
    sources = load_config(path).sources
    assert (sources["a"].optional, sources["b"].optional) == (False, True)
    assert sources["b"].globs == (f"{tmp_path}/b/*.csv",)


def test_the_file_is_found_by_flag_then_env_then_xdg(tmp_path: Path) -> None:
    flag, env = tmp_path / "flag.toml", tmp_path / "env.toml"
    xdg = tmp_path / "xdg" / "batch-cancel" / "config.toml"
    assert find_config(flag, {"BATCH_CANCEL_CONFIG": str(env)}) == flag
    assert find_config(None, {"BATCH_CANCEL_CONFIG": str(env)}) == env
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert find_config(None, environ) is None  # only when it exists
    xdg.parent.mkdir(parents=True)
    xdg.write_text("")
    assert find_config(None, environ) == xdg


def test_flags_then_env_then_file_then_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    settings = api_settings(ApiFlags(rate=3.0), config=config, environ={})
    assert (settings["rate"].value, settings["rate"].origin) == (3.0, "flag --rate")
    assert settings["concurrency"].value == 6
    assert settings["concurrency"].origin == f"file {tmp_path / 'night.toml'} [api] concurrency"
    assert (settings["timeout"].value, settings["timeout"].origin) == (30.0, "default")
    env = {"SHIPPER_BASE_URL": "https://env.example.com", "SHIPPER_API_KEY": "k" * 20}
    settings = api_settings(config=config, environ=env)
    assert settings["base_url"].value == "https://env.example.com"
    assert settings["api_key"].origin == "env SHIPPER_API_KEY"  # beats the file's key file
    assert api_settings(config=config, environ={})["api_key"].value == tmp_path / "key"


def test_the_key_file_named_in_the_config_is_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    key = tmp_path / "key"
    key.write_text("sk-live-0123456789abcdef\n")
    key.chmod(0o600)
    options = send_options_from_env(config=config, environ={})
    assert (options.api_key, options.base_url, options.rate) == (
        "sk-live-0123456789abcdef",
        "https://api.example.com",
        12,
    )


def test_the_config_command_shows_origins_and_never_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD)
    monkeypatch.setenv("SHIPPER_API_KEY", "sk-live-0123456789abcdef")
    monkeypatch.delenv("SHIPPER_BASE_URL", raising=False)
    monkeypatch.setenv("BATCH_CANCEL_STATE", str(tmp_path / "ledger.sqlite3"))
    assert cli.main(["config", "--config", str(path)]) == ExitStatus.SUCCESS
    out = capsys.readouterr().out
    assert "sk-live" not in out
    assert out.splitlines()[:4] == [
        f"config file: {path}",
        f"base_url = https://api.example.com    # file {path} [api] base_url",
        "api_key = (set, hidden)    # env SHIPPER_API_KEY",
        "rate = 12    # file " + str(path) + " [api] rate",
    ]
    assert "[sources.shopee] inbox/shopee-*.xlsx: 0 file(s) now" in out


def test_the_readme_example_is_a_valid_config(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    [example, accounts, notify] = [
        block.split("```", 1)[0] for block in readme.split("```toml\n")[1:] if "[" in block
    ]
    config = load_config(write(tmp_path, example))
    assert sorted(config.sources) == ["shopee", "tokopedia"]
    assert config.sources["shopee"].archive == tmp_path / "done"
    config = load_config(write(tmp_path, accounts))
    assert {name: source.account for name, source in config.sources.items()} == {
        "shopee": "tokoabc",
        "tokopedia": "gudangxyz",
    }
    assert config.accounts["gudangxyz"]["concurrency"] == 4  # from [api]
    config = load_config(write(tmp_path, notify))
    assert (config.timezone, config.notify and config.notify.when) == ("Asia/Jakarta", "attention")


# --- config edges: encodings, a BOM, a key where its path belongs -------------------------


@pytest.mark.parametrize("codec", ["hex", "base64", "rot13", "zlib", "idna", "punycode"])
def test_only_a_text_encoding_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], codec: str
) -> None:
    path = write(tmp_path, f'[sources.shop]\nfiles = "*.csv"\nencoding = "{codec}"\n')
    (tmp_path / "orders.csv").write_text("order_no,warehouse_id\nA-1,WH-1\n")
    assert cli.main(["run", "--config", str(path), "--dry-run"]) == ExitStatus.USAGE_OR_INPUT
    assert capsys.readouterr().err == (
        f"batch-cancel: error: {path}: line 3: sources.shop.encoding: '{codec}' is not a text "
        "encoding; name one such as utf-8 or cp1252\n"
    )
    usage = cli.main(["run", str(tmp_path / "orders.csv"), "--dry-run", "--encoding", codec])
    assert usage == ExitStatus.USAGE_OR_INPUT
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"batch-cancel run: error: argument --encoding: '{codec}' is not a text encoding; "
        "name one such as utf-8 or cp1252"
    )


def test_an_unknown_encoding_is_named_with_its_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources.shop]\nfiles = "*.csv"\nencoding = "klingon"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: line 3: sources.shop.encoding: unknown encoding 'klingon'"


def test_a_config_saved_with_a_bom_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "night.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())  # as Notepad saves UTF-8
    monkeypatch.delenv("SHIPPER_BASE_URL", raising=False)
    assert cli.main(["config", "--config", str(path)]) == ExitStatus.SUCCESS
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"base_url = https://api.example.com    # file {path} [api] base_url"


def test_a_key_pasted_where_its_file_belongs_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, f'[api]\nbase_url = "https://api.example.com"\n'
                           f'api_key_file = "{CANARY_KEY}"\n')  # fmt: skip
    monkeypatch.delenv("SHIPPER_API_KEY", raising=False)
    monkeypatch.delenv("SHIPPER_BASE_URL", raising=False)
    monkeypatch.setenv("BATCH_CANCEL_STATE", str(tmp_path / "ledger.sqlite3"))
    orders = tmp_path / "orders.csv"
    orders.write_text("order_no,warehouse_id\nA-1,WH-1\n")
    assert cli.main(["config", "--config", str(path)]) == ExitStatus.SUCCESS
    shown = capsys.readouterr()
    assert (
        f"api_key = read from a file that does not exist    # file {path} [api] api_key_file"
        in (shown.out.splitlines())
    )
    hidden = "(the value is not shown: it must be the path of the file that holds the key, never "
    assert cli.main(["run", str(orders), "--config", str(path)]) == ExitStatus.USAGE_OR_INPUT
    run_error = capsys.readouterr()
    assert run_error.err == (
        f"batch-cancel: error: {path} [api] api_key_file: no such file {hidden}the key itself)\n"
    )
    args = ["run", str(orders), "--api-key-file", CANARY_KEY, "--base-url", "https://a.example"]
    assert cli.main(args) == ExitStatus.USAGE_OR_INPUT
    flag_error = capsys.readouterr()
    assert flag_error.err == (
        f"batch-cancel: error: --api-key-file: no such file {hidden}the key itself)\n"
    )
    for said in (shown, run_error, flag_error):
        assert CANARY_KEY not in said.out + said.err

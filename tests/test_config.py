"""Unit tests for config.py: --map parsing, options from flags + environment, base URL checks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from batch_cancel.client import ShipperClient
from batch_cancel.config import (
    API_KEY_ENV,
    BASE_URL_ENV,
    ApiFlags,
    InputOptions,
    NightFile,
    SendOptions,
    check_base_url,
    input_options,
    parse_column_map,
    read_api_key_file,
    send_options_from_env,
)
from batch_cancel.errors import ConfigError
from batch_cancel.job import JobOptions
from batch_cancel.models import ExitStatus

from .helpers import (
    API_KEY,
    CANARY_KEY,
    OTHER_CANARY_KEY,
    key_file,
    main_in_process,
    use_cli_env,
    write_csv,
)

ENV = {API_KEY_ENV: API_KEY, BASE_URL_ENV: "https://env.shipper.test/api/"}
GOOD: dict[str, Any] = {"rate": 5.0, "concurrency": 4, "timeout_s": 30.0, "max_attempts": 5}


def options(*, environ: dict[str, str] = ENV, **overrides: Any) -> SendOptions:
    arguments: dict[str, Any] = {"base_url": None, **GOOD, **overrides}
    return send_options_from_env(ApiFlags(**arguments), environ=environ)


def refused(message: str, *, environ: dict[str, str] = ENV, **overrides: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        options(environ=environ, **overrides)
    assert message in str(caught.value)


# --- parse_column_map ------------------------------------------------------------------


def test_parse_column_map() -> None:
    pairs = ["order_no=No. Pesanan", " warehouse_id = Gudang ", "cancel_reason=a=b"]
    assert parse_column_map(pairs) == {
        "order_no": "No. Pesanan",
        "warehouse_id": "Gudang",
        "cancel_reason": "a=b",  # only the first '=' separates
    }
    assert parse_column_map([]) == {}


def test_parse_column_map_unknown_field() -> None:
    with pytest.raises(ConfigError, match=r"unknown field 'sku'; fields are order_no, "):
        parse_column_map(["sku=SKU"])


@pytest.mark.parametrize("pair", ["order_no", "order_no=", "order_no=   "])
def test_parse_column_map_needs_field_equals_header(pair: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_column_map([pair])
    assert str(caught.value) == f"--map expects FIELD=HEADER, got {pair!r}"


# --- send_options_from_env -----------------------------------------------------------


def test_options_from_env() -> None:
    assert options() == SendOptions(
        base_url="https://env.shipper.test/api", api_key=API_KEY, **GOOD
    )


@pytest.mark.parametrize("key", [None, "", "   "])
def test_api_key_missing_or_blank(key: str | None) -> None:
    environ = {BASE_URL_ENV: ENV[BASE_URL_ENV]}
    if key is not None:
        environ[API_KEY_ENV] = key
    refused(f"{API_KEY_ENV} is not set", environ=environ)


def test_base_url_missing() -> None:
    refused(
        f"no API base URL: pass --base-url or set {BASE_URL_ENV}", environ={API_KEY_ENV: API_KEY}
    )


def test_base_url_flag_beats_env() -> None:
    assert options(base_url="https://flag.shipper.test").base_url == ("https://flag.shipper.test")


def test_base_url_flag_alone() -> None:
    chosen = options(environ={API_KEY_ENV: API_KEY}, base_url="https://flag.shipper.test/")
    assert chosen.base_url == "https://flag.shipper.test"


def test_base_url_from_env_is_checked() -> None:
    refused("refusing plain http", environ={**ENV, BASE_URL_ENV: "http://shipper.test"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rate": -1.0}, "--rate must be"),
        ({"rate": float("nan")}, "--rate must be"),
        ({"concurrency": 0}, "--concurrency must be at least 1"),
        ({"timeout_s": 0.0}, "--timeout must be greater than 0"),
        ({"timeout_s": -5.0}, "--timeout must be greater than 0"),
        ({"timeout_s": float("nan")}, "--timeout must be greater than 0"),
        ({"max_attempts": 0}, "--max-attempts must be at least 1"),
    ],
)
def test_bad_numbers_refused(overrides: dict[str, Any], message: str) -> None:
    refused(message, **overrides)


@pytest.mark.parametrize("name", ["rate", "timeout_s"])
def test_infinite_numbers_refused(name: str) -> None:
    with pytest.raises(ConfigError):
        options(**{name: float("inf")}, environ=ENV)


def test_rate_zero_means_no_limit() -> None:
    assert options(rate=0.0).rate == 0.0


def test_repr_hides_the_key() -> None:
    text = repr(options())
    assert API_KEY not in text
    assert "api_key" not in text
    assert "https://env.shipper.test/api" in text


# --- check_base_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.shipper.test", "https://api.shipper.test"),
        ("https://api.shipper.test/prefix/", "https://api.shipper.test/prefix"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.2:8080/", "http://127.0.0.2:8080"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://LOCALHOST:8080", "http://LOCALHOST:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_base_url_accepted(url: str, expected: str) -> None:
    assert check_base_url(url, allow_insecure_http=False) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://api.shipper.test",
        "http://10.0.0.5:8080",
        "http://localhost.shipper.test",
        "http://127.0.0.1.shipper.test",
    ],
)
def test_plain_http_to_another_host_refused_unless_allowed(url: str) -> None:
    with pytest.raises(ConfigError, match=r"refusing plain http to .*unencrypted"):
        check_base_url(url, allow_insecure_http=False)
    assert check_base_url(url, allow_insecure_http=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "api.shipper.test",
        "not a url",
        "ftp://api.shipper.test",
        "https://",
        "https:///v3",
        "https://api.shipper.test/?key=1",
        "https://api.shipper.test/#top",
    ],
)
def test_garbage_base_url_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="base URL must"):
        check_base_url(url, allow_insecure_http=True)


def test_base_url_with_bad_port_refused() -> None:
    with pytest.raises(ConfigError):
        check_base_url("https://api.shipper.test:notaport", allow_insecure_http=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://ops:Hunter2-secret@api.shipper.test",
        "https://Hunter2-secret@api.shipper.test/v3",
        "http://ops:Hunter2-secret@127.0.0.1:bad",  # refused before the port is looked at
    ],
)
def test_credentials_in_base_url_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ConfigError, match="must not carry a user name or password") as caught:
        check_base_url(url, allow_insecure_http=True)
    assert "Hunter2" not in str(caught.value)


def test_delimiter_must_be_one_ascii_character(tmp_path: Path) -> None:
    for delimiter in ("\uff0c", '"', ";;"):  # a full-width comma, a quote, two characters
        with pytest.raises(ConfigError) as raised:
            input_options(tmp_path / "d.csv", delimiter=delimiter)
        assert str(raised.value) == (
            "--delimiter must be one ASCII character other than a quote or a line break "
            "(use '\\t' for tab)"
        )
    assert input_options(tmp_path / "d.csv", delimiter="\\t").delimiter == "\t"


# --- the API key: a key file, the environment, and never a trace of it ---------------------


def options_with_key_file(path: Path, environ: dict[str, str] | None = None) -> SendOptions:
    return send_options_from_env(
        ApiFlags(
            base_url="https://api.shipper.test",
            rate=5,
            concurrency=4,
            timeout_s=30,
            max_attempts=5,
            api_key_file=path,
        ),
        environ=environ or {},
    )


def test_key_file_read_and_trimmed(tmp_path: Path) -> None:
    path = key_file(tmp_path, f"{CANARY_KEY}\n")
    assert read_api_key_file(path) == CANARY_KEY
    # The file wins over the environment: the operator named it on purpose.
    options = options_with_key_file(path, {"SHIPPER_API_KEY": OTHER_CANARY_KEY})
    assert options.api_key == CANARY_KEY
    assert CANARY_KEY not in repr(options)
    assert CANARY_KEY not in str(options)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = key_file(tmp_path, CANARY_KEY, mode)
    with pytest.raises(ConfigError) as caught:
        read_api_key_file(path)
    assert str(caught.value) == (
        f"--api-key-file {path}: other users may read or change it (mode {mode:03o}); "
        f"refusing to use it: run chmod 600 {path}"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        (f"export SHIPPER_API_KEY={CANARY_KEY}\n", "one line of printable ASCII without spaces"),
        (f"{CANARY_KEY}\n{OTHER_CANARY_KEY}\n", "one line of printable ASCII without spaces"),
        (f"{CANARY_KEY}\x00", "one line of printable ASCII without spaces"),
        ("k" * 5000, "larger than 4096 bytes; not a key file"),
    ],
)
def test_bad_key_files_refused_without_quoting_them(
    tmp_path: Path, content: str, message: str
) -> None:
    path = key_file(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        options_with_key_file(path)
    assert message in str(caught.value)
    assert CANARY_KEY not in str(caught.value)
    assert OTHER_CANARY_KEY not in str(caught.value)


def test_key_file_missing_or_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        read_api_key_file(tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"(not a regular file|cannot read)"):
        read_api_key_file(tmp_path)


def test_environment_key_with_spaces_refused_without_quoting_it() -> None:
    with pytest.raises(ConfigError) as caught:
        send_options_from_env(
            ApiFlags(
                base_url="https://api.shipper.test",
                rate=5,
                concurrency=4,
                timeout_s=30,
                max_attempts=5,
            ),
            environ={"SHIPPER_API_KEY": f"Bearer {CANARY_KEY}"},
        )
    assert "SHIPPER_API_KEY: the key must be one line" in str(caught.value)
    assert CANARY_KEY not in str(caught.value)


def test_job_options_repr_hides_the_key(tmp_path: Path) -> None:
    send = SendOptions(base_url="https://api.shipper.test", api_key=CANARY_KEY)
    job = JobOptions(
        files=(NightFile(input=InputOptions(path=tmp_path / "in.csv"), output=tmp_path / "o.csv"),),
        send=send,
        state_path=None,
    )
    assert CANARY_KEY not in repr(job)
    assert CANARY_KEY not in repr(
        ShipperClient(base_url="https://a.test", api_key=CANARY_KEY, timeout_s=1, max_connections=1)
    )


@pytest.mark.integration
def test_key_file_readable_by_others_stops_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch, api_key=None)
    path = key_file(tmp_path / "secret", CANARY_KEY, 0o644)
    source = write_csv(
        tmp_path / "in.csv", ["order_no", "warehouse_id", "cancel_reason"], [["A", "B", "C"]]
    )
    done = main_in_process(
        capsys,
        "run",
        source,
        "--base-url",
        "http://127.0.0.1:9",
        "--api-key-file",
        path,
    )
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert "other users may read or change it (mode 644)" in done.stderr
    assert done.stderr.splitlines() == [
        f"batch-cancel: error: --api-key-file {path}: other users may read or change it "
        f"(mode 644); refusing to use it: run chmod 600 {path}"
    ]
    assert CANARY_KEY not in done.stderr + done.stdout

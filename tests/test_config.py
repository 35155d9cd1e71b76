"""Unit tests for config.py: --map parsing, options from flags + environment, base URL checks."""

from __future__ import annotations

from typing import Any

import pytest

from batch_cancel.config import (
    API_KEY_ENV,
    BASE_URL_ENV,
    SendOptions,
    check_base_url,
    parse_column_map,
    send_options_from_env,
)
from batch_cancel.errors import ConfigError

from .helpers import API_KEY

ENV = {API_KEY_ENV: API_KEY, BASE_URL_ENV: "https://env.shipper.test/api/"}
GOOD: dict[str, Any] = {"rate": 5.0, "concurrency": 4, "timeout_s": 30.0, "max_attempts": 5}


def options(*, environ: dict[str, str] = ENV, **overrides: Any) -> SendOptions:
    arguments: dict[str, Any] = {"base_url_flag": None, **GOOD, **overrides}
    return send_options_from_env(environ=environ, **arguments)


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
    assert options(base_url_flag="https://flag.shipper.test").base_url == (
        "https://flag.shipper.test"
    )


def test_base_url_flag_alone() -> None:
    chosen = options(environ={API_KEY_ENV: API_KEY}, base_url_flag="https://flag.shipper.test/")
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

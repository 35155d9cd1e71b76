"""Unit tests for client.py: the body, both error envelopes, Retry-After, and one cancel call.

HTTP goes through `mock_api` (aioresponses); the base URL is a loopback address anyway,
so nothing could ever leave the machine.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from batch_cancel import client as client_module
from batch_cancel.client import (
    CANCEL_PATH,
    MAX_BODY_BYTES,
    MAX_MESSAGE_CHARS,
    ShipperClient,
    build_body,
    parse_error,
    parse_retry_after,
)
from batch_cancel.models import ApiAnswer, CancelRequest

from .helpers import API_KEY, CANARY_KEY, api_with_untrusted_certificate

BASE_URL = "http://127.0.0.1:8999/shipper"
CANCEL_URL = BASE_URL + CANCEL_PATH
REQUEST = CancelRequest(3, "ORD-0003", "WH-TGR04", "Cancelled from marketplace")
INVALID_INPUT = "Invalid Input. Please Validate Your Input."
UNAUTHORIZED = "Unauthorized Access. You are not authorized to access this resource."
HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def envelope(status: int, *errors: tuple[int, str]) -> bytes:
    """The usual error envelope: metadata.errors is a list."""
    metadata = {
        "path": CANCEL_PATH,
        "http_status_code": status,
        "http_status": "Bad Request",
        "errors": [{"code": code, "message": message} for code, message in errors],
        "timestamp": 1637907103,
    }
    return json.dumps({"metadata": metadata}).encode()


def envelope_401(message: str = UNAUTHORIZED) -> bytes:
    """The documented 401: status_code/status, one `error` object, an ISO timestamp."""
    metadata = {
        "path": CANCEL_PATH,
        "status_code": 401,
        "status": "Unauthorized",
        "message": "PATCH /v1/fulfillment/outbound/oms/cancel [401] Unauthorized",
        "error": {"code": 802, "message": message},
        "timestamp": "2022-05-12T04:04:19Z",
    }
    return json.dumps({"metadata": metadata}).encode()


# --- build_body ------------------------------------------------------------------------


def test_build_body_exact_nesting() -> None:
    assert build_body(REQUEST) == {
        "data": {
            "cancellation": {
                "order_no": "ORD-0003",
                "cancel_reason": "Cancelled from marketplace",
                "warehouse_id": "WH-TGR04",
            }
        }
    }


# --- parse_error -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param(
            envelope(400, (810, INVALID_INPUT)),
            "application/json",
            ("810", INVALID_INPUT),
            id="errors-list-one",
        ),
        pytest.param(
            envelope(400, (810, INVALID_INPUT), (3012, "Order Doesn't Exist in WMS and OMS.")),
            "application/json",
            ("810;3012", f"{INVALID_INPUT}; Order Doesn't Exist in WMS and OMS."),
            id="errors-list-two",
        ),
        pytest.param(envelope_401(), "application/json", ("802", UNAUTHORIZED), id="401-error"),
        pytest.param(
            json.dumps({"metadata": {"message": "gateway says no"}}).encode(),
            "application/json",
            ("", "gateway says no"),
            id="metadata-message-only",
        ),
        pytest.param(
            HTML_PAGE.encode(),
            "text/html",
            ("", f"non-JSON response (text/html): {HTML_PAGE}"),
            id="html",
        ),
        pytest.param(b"", "application/json", ("", "empty response body"), id="empty"),
        pytest.param(b" \r\n ", "", ("", "empty response body"), id="whitespace"),
        pytest.param(
            b'{"metadata": {"errors": [{"code": 8',
            "application/json",
            ("", 'non-JSON response (application/json): {"metadata": {"errors": [{"code": 8'),
            id="truncated",
        ),
        pytest.param(
            b"[1, 2]", "", ("", "non-JSON response (unknown content type): [1, 2]"), id="list"
        ),
        pytest.param(
            b'"oops"', "application/json", ("", 'non-JSON response (application/json): "oops"')
        ),
        pytest.param(
            b"null", "application/json", ("", "non-JSON response (application/json): null")
        ),
        pytest.param(
            b"\xff\xfe bad bytes",
            "text/plain",
            ("", "non-JSON response (text/plain): \ufffd\ufffd bad bytes"),
        ),
    ],
)
def test_parse_error(body: bytes, content_type: str, expected: tuple[str, str]) -> None:
    assert parse_error(body, content_type) == expected


def test_parse_error_flattens_control_characters() -> None:
    body = envelope(400, (810, "Invalid\r\nInput.\tPlease\x00\x1b[31m  Validate\u2028Your Input."))
    assert parse_error(body, "application/json") == (
        "810",
        "Invalid Input. Please [31m Validate Your Input.",
    )


@pytest.mark.parametrize(
    "body",
    [envelope(400, (810, "x" * 5000)), envelope_401("y" * 5000), b"<html>" + b"z" * 5000],
)
def test_parse_error_caps_long_messages(body: bytes) -> None:
    _, message = parse_error(body, "text/html")
    assert len(message) == MAX_MESSAGE_CHARS
    assert message.endswith("…")


# --- parse_retry_after -----------------------------------------------------------------

NOW = 1_700_000_000.0


def http_date(timestamp: float) -> str:
    return format_datetime(datetime.fromtimestamp(timestamp, UTC), usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        (http_date(NOW + 30), 30.0),
        (http_date(NOW - 30), 0.0),  # in the past: no wait, never negative
    ],
)
def test_parse_retry_after(value: str, expected: float) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    "value",
    [None, "", "soon", "-5", "1.5", "Wed, 99 Foo 2024 99:99:99 GMT", "Tue, 14 Nov 2023 22:13:50"],
)
def test_parse_retry_after_garbage_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_parse_retry_after_superscript_digit_is_none() -> None:
    assert parse_retry_after("²", now=NOW) is None


# --- ShipperClient.cancel ------------------------------------------------------------


async def cancel_once(mock_api: aioresponses, **reply: Any) -> ApiAnswer:
    """Answer one PATCH with `reply` (aioresponses keywords) and send REQUEST through it."""
    mock_api.patch(CANCEL_URL, **reply)
    async with ShipperClient(
        base_url=BASE_URL + "/", api_key=API_KEY, timeout_s=5, max_connections=2
    ) as client:
        return await client.cancel(REQUEST)


def sent_calls(mock_api: aioresponses) -> list[Any]:
    return list(mock_api.requests[("PATCH", URL(CANCEL_URL))])


async def test_cancel_sends_patch_with_key_and_body(mock_api: aioresponses) -> None:
    await cancel_once(mock_api, status=200)
    assert list(mock_api.requests) == [("PATCH", URL(CANCEL_URL))]
    [call] = sent_calls(mock_api)
    assert call.kwargs["headers"]["x-api-key"] == API_KEY
    assert call.kwargs["json"] == build_body(REQUEST)
    assert call.kwargs["allow_redirects"] is False


async def test_cancel_200(mock_api: aioresponses) -> None:
    success = {"metadata": {"path": CANCEL_PATH, "http_status_code": 200, "timestamp": 1}}
    answer = await cancel_once(
        mock_api, status=200, payload=success, headers={"x-request-id": "req-123"}
    )
    assert answer == ApiAnswer(http_status=200, request_id="req-123")


async def test_cancel_400_with_code_810(mock_api: aioresponses) -> None:
    answer = await cancel_once(
        mock_api,
        status=400,
        body=envelope(400, (810, INVALID_INPUT)),
        headers={"x-request-id": "r4"},
    )
    assert answer == ApiAnswer(
        http_status=400, error_code="810", error_message=INVALID_INPUT, request_id="r4"
    )


async def test_cancel_401_envelope(mock_api: aioresponses) -> None:
    answer = await cancel_once(mock_api, status=401, body=envelope_401())
    assert answer == ApiAnswer(http_status=401, error_code="802", error_message=UNAUTHORIZED)


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), ("garbage", None)])
async def test_cancel_429_with_retry_after(
    mock_api: aioresponses, header: str, seconds: float | None
) -> None:
    answer = await cancel_once(
        mock_api,
        status=429,
        body=b"Too Many Requests",
        content_type="text/plain",
        headers={"Retry-After": header},
    )
    assert answer == ApiAnswer(
        http_status=429,
        error_message="non-JSON response (text/plain): Too Many Requests",
        retry_after_s=seconds,
    )


async def test_cancel_500_with_html_body(mock_api: aioresponses) -> None:
    answer = await cancel_once(mock_api, status=500, body=HTML_PAGE, content_type="text/html")
    assert answer == ApiAnswer(
        http_status=500, error_message=f"non-JSON response (text/html): {HTML_PAGE}"
    )


async def test_cancel_reads_a_huge_body_only_up_to_the_cap(
    mock_api: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def spy(body: bytes, content_type: str, *, secret: str = "") -> tuple[str, str]:
        seen.append(len(body))
        return parse_error(body, content_type, secret=secret)

    monkeypatch.setattr(client_module, "parse_error", spy)
    # Twice the cap: aioresponses' stand-in stream cannot hold more than 128 KiB unread.
    huge = "<html>" + "x" * (2 * MAX_BODY_BYTES - len("<html>"))
    answer = await cancel_once(mock_api, status=502, body=huge, content_type="text/html")
    assert seen == [MAX_BODY_BYTES]
    assert answer.http_status == 502
    assert answer.error_message.startswith("non-JSON response (text/html): <html>xxx")
    assert len(answer.error_message) == MAX_MESSAGE_CHARS


async def test_a_refused_connection_raises_a_client_error_naming_the_address() -> None:
    """A real refusal (a loopback port nobody listens on), not a mock's exception: the
    client raises what the runner turns into `connection_error`, without the key."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed at once: nothing listens there
    async with ShipperClient(
        base_url=f"http://127.0.0.1:{port}", api_key=API_KEY, timeout_s=5, max_connections=1
    ) as client:
        with pytest.raises(aiohttp.ClientConnectorError) as refused:
            await client.cancel(REQUEST)
    assert (refused.value.host, refused.value.port) == ("127.0.0.1", port)
    assert isinstance(refused.value.os_error, ConnectionRefusedError)
    assert API_KEY not in str(refused.value)


async def test_repr_hides_the_key() -> None:
    client = ShipperClient(base_url=BASE_URL, api_key=API_KEY, timeout_s=5, max_connections=1)
    assert API_KEY not in repr(client)
    assert CANCEL_URL in repr(client)


# --- TLS: certificates are always verified ---------------------------------------------------


async def test_certificates_are_always_verified(tmp_path: Path) -> None:
    async with (
        api_with_untrusted_certificate(tmp_path) as (base_url, reached),
        ShipperClient(
            base_url=base_url, api_key=CANARY_KEY, timeout_s=5, max_connections=1
        ) as client,
    ):
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await client.cancel(CancelRequest(1, "ORD-1", "WH", "r"))
    assert reached == []  # the key never reached a server whose certificate failed

"""Speak Shipper's cancel endpoint: build the body, send it, parse either envelope.

One aiohttp session per run. Transport problems before a status line arrives
(connection refused, reset, timeout) are raised as aiohttp.ClientError /
TimeoutError for the runner to classify; once a status line has arrived, that
status is the answer, even if the body then breaks, and it comes back as an
ApiAnswer. Everything taken from the answer is scrubbed of the key first.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .models import ApiAnswer, CancelRequest, ReadAnswer
from .text import one_line, redact

CANCEL_PATH = "/v3/fulfillment/outbound/oms/cancel"
# The order-detail read (docs/api.md, "The read-back"); the config may name another path.
DEFAULT_READ_PATH = "/v3/fulfillment/warehouse/{warehouse_id}/outbound/oms/{order_no}"
# Error bodies are a few hundred bytes; a gateway could send megabytes of HTML.
MAX_BODY_BYTES = 64 * 1024
MAX_MESSAGE_CHARS = 300
MAX_CODE_CHARS = 40
MAX_REQUEST_ID_CHARS = 100
USER_AGENT = "batch-cancel/0.1"

if TYPE_CHECKING:
    import aiohttp


def build_body(request: CancelRequest) -> dict[str, Any]:
    """The exact nesting of the contract: data.cancellation.{order_no, ...}."""
    return {
        "data": {
            "cancellation": {
                "order_no": request.order_no,
                "cancel_reason": request.cancel_reason,
                "warehouse_id": request.warehouse_id,
            }
        }
    }


def parse_error(body: bytes, content_type: str, *, secret: str = "") -> tuple[str, str]:
    """(code, message) from an error body in either envelope, or from whatever came instead.

    NOTE: Shipper uses two envelopes (docs/api.md, "Responses"): the usual
    `metadata.errors` list, and for 401 a single `metadata.error` object. Bodies that
    are not JSON at all (gateway HTML, empty, truncated) still yield a readable message.
    """
    text = redact(body.decode("utf-8", errors="replace"), secret)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        document = None
    metadata = document.get("metadata") if isinstance(document, dict) else None
    if isinstance(metadata, dict):
        errors = metadata.get("errors")
        if not isinstance(errors, list):
            errors = [metadata.get("error")]
        entries = [entry for entry in errors if isinstance(entry, dict)]
        if entries:
            codes = [_scalar(entry.get("code")) for entry in entries]
            messages = [_scalar(entry.get("message")) for entry in entries]
            code = one_line(";".join(code for code in codes if code), MAX_CODE_CHARS)
            return code, _clean("; ".join(message for message in messages if message))
        if isinstance(metadata.get("message"), str):
            return "", _clean(metadata["message"])
    snippet = _clean(text)
    if not snippet:
        return "", "empty response body"
    kind = content_type or "unknown content type"
    return "", _clean(f"non-JSON response ({kind}): {snippet}")


def parse_order(body: bytes, *, secret: str = "") -> tuple[str, int | None]:
    """(so_status, allocated quantity) from a read's 2xx body: `data.outbound.so_status`
    and the sum of `data.outbound.details[].qty_allocated`; ("", None) where absent."""
    try:
        document = json.loads(redact(body.decode("utf-8", errors="replace"), secret))
    except (ValueError, RecursionError):
        return "", None
    data = document.get("data") if isinstance(document, dict) else None
    outbound = data.get("outbound") if isinstance(data, dict) else None
    if not isinstance(outbound, dict):
        return "", None
    status = one_line(_scalar(outbound.get("so_status")), MAX_CODE_CHARS)
    details = outbound.get("details")
    quantities = [
        entry.get("qty_allocated")
        for entry in (details if isinstance(details, list) else [])
        if isinstance(entry, dict)
    ]
    numbers = [int(n) for n in quantities if isinstance(n, int | float) and not isinstance(n, bool)]
    return status, sum(numbers) if numbers else None


def _scalar(value: object) -> str:
    """A code or message as text; anything but a string or a number is not one."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _clean(text: str) -> str:
    """One line, no control characters, bounded length: it ends up in a spreadsheet cell."""
    return one_line(text, MAX_MESSAGE_CHARS)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is True too
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY_BYTES:
        chunk = await response.content.read(MAX_BODY_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class ShipperClient:
    """An async context manager owning the run's one aiohttp session.

    The session, and aiohttp itself, are made by `open()` (job calls it as the first
    row to send is queued) or else at the first cancel: a night that sends nothing
    (every row skipped, or invalid) never loads aiohttp, a tenth of a second of
    start-up.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout_s: float,
        max_connections: int,
        read_path: str = DEFAULT_READ_PATH,
    ) -> None:
        self._url = base_url.rstrip("/") + CANCEL_PATH
        self._read_url = base_url.rstrip("/") + read_path
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._entered = False

    def __repr__(self) -> str:  # the key is a secret; never let it reach a log
        return f"ShipperClient(url={self._url!r})"

    async def __aenter__(self) -> ShipperClient:
        self._entered = True
        return self

    def open(self) -> aiohttp.ClientSession:
        """The run's session, made (and aiohttp loaded) the first time; synchronous."""
        if self._session is not None:
            return self._session
        import aiohttp  # see the class docstring

        self._session = aiohttp.ClientSession(
            headers={"x-api-key": self._api_key, "User-Agent": USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            # ssl=True: certificates and host names are always verified (the
            # default, spelled out); there is deliberately no way to turn it off.
            connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=True),
            raise_for_status=False,
        )
        return self._session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._entered = False
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def cancel(self, request: CancelRequest) -> ApiAnswer:
        """Send one cancel. Raises aiohttp.ClientError or TimeoutError on transport failure."""
        assert self._entered, "use ShipperClient as an async context manager"
        session = self.open()
        # A redirect would resend the key to another host and may turn PATCH into GET.
        async with session.patch(
            self._url, json=build_body(request), allow_redirects=False
        ) as response:
            answer, _body = await self._answer(response)
            return answer

    async def read_order(self, order_no: str, warehouse_id: str) -> ReadAnswer:
        """Read one order back (its so_status and allocated quantity). Raises as cancel()."""
        assert self._entered, "use ShipperClient as an async context manager"
        session = self.open()
        url = self._read_url.format(
            order_no=quote(order_no, safe=""), warehouse_id=quote(warehouse_id, safe="")
        )
        async with session.get(url, allow_redirects=False) as response:
            answer, body = await self._answer(response)
        so_status, allocated = ("", None)
        if 200 <= answer.http_status < 300 and not answer.error_message:
            so_status, allocated = parse_order(body, secret=self._api_key)
            if not so_status:
                answer = replace(answer, error_message="no data.outbound.so_status in the answer")
        return ReadAnswer(
            http_status=answer.http_status,
            so_status=so_status,
            qty_allocated=allocated,
            error_code=answer.error_code,
            error_message=answer.error_message,
            request_id=answer.request_id,
            retry_after_s=answer.retry_after_s,
        )

    async def _answer(self, response: aiohttp.ClientResponse) -> tuple[ApiAnswer, bytes]:
        """The answer once its status line has arrived, and the body as far as it was read."""
        import aiohttp  # see the class docstring; loaded once, then a dictionary look-up

        # The status line has arrived: the server has decided. A body that breaks
        # now (reset, bad chunk, corrupt gzip, past --timeout) does not undo a 2xx.
        unreadable = ""
        try:
            body = await _read_capped(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            body = b""
            unreadable = f"response body unreadable ({self._scrub(_describe(exc))})"
        request_id = self._scrub(response.headers.get("x-request-id", ""))
        request_id = one_line(request_id, MAX_REQUEST_ID_CHARS)
        if 200 <= response.status < 300:
            answer = ApiAnswer(
                http_status=response.status, error_message=unreadable, request_id=request_id
            )
            return answer, body
        reason = self._scrub(response.reason or "")
        if unreadable:
            code, message = "", _clean(f"{reason}; {unreadable}")
        else:
            content_type = self._scrub(response.content_type)
            code, message = parse_error(body, content_type, secret=self._api_key)
        answer = ApiAnswer(
            http_status=response.status,
            error_code=code,
            error_message=message or _clean(reason),
            request_id=request_id,
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
        )
        return answer, body

    def _scrub(self, text: str) -> str:
        return redact(text, self._api_key)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

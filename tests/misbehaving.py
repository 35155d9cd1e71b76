"""A raw HTTP server on 127.0.0.1 that misbehaves on purpose, in a thread of its own.

Each test hands it a script: an async function that gets the request's body and
the stream writer, and writes whatever bytes it likes (a status line then a cut
body, a stall, a bad chunk). The CLI under test talks to it over a real socket.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

Script = Callable[[dict[str, Any], asyncio.StreamWriter], Awaitable[None]]


class MisbehavingServer:
    def __init__(self, script: Script) -> None:
        self._script = script
        self.requests: list[dict[str, Any]] = []  # each request's JSON body, as received
        self.request_lines: list[str] = []  # each request's first line: "GET /path HTTP/1.1"
        self.api_keys: list[str] = []  # each request's x-api-key header, as received
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.request_lines.append(head.decode("latin-1").split("\r\n", 1)[0])
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                    if name.strip().lower() == "x-api-key":
                        self.api_keys.append(value.strip())
                body = json.loads(await reader.readexactly(length)) if length else {}
                self.requests.append(body)
                await self._script(body, writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @contextmanager
    def running(self) -> Iterator[MisbehavingServer]:
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        holder: dict[str, asyncio.Server] = {}

        async def start() -> None:
            server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            holder["server"] = server
            self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            ready.set()

        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=5)
        ready.wait(5)
        try:
            yield self
        finally:

            async def stop() -> None:
                holder["server"].close()
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()

            asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()

    def order_nos(self) -> list[str]:
        """The orders of the cancels received (a read-back has no body)."""
        return [body["data"]["cancellation"]["order_no"] for body in self.requests if body]


def reply(status: str, body: bytes, *headers: str) -> bytes:
    """A whole, well-formed answer."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

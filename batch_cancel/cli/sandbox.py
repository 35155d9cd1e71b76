"""`sandbox`: the local stand-in for Shipper's cancel endpoint, in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import logging

from ..errors import ConfigError
from ..models import ExitStatus


def sandbox_command(args: argparse.Namespace) -> ExitStatus:
    from ..sandbox import SandboxConfig, load_order_book, serve

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    try:
        orders = load_order_book(args.orders) if args.orders else None
        config = SandboxConfig(
            api_key=args.api_key,
            orders=orders,
            latency_ms=args.latency_ms,
            fail_rate=args.fail_rate,
            rate_limit=args.rate_limit,
            limit_kind=args.limit_kind,
            burst=args.burst,
            retry_after_s=args.retry_after,
            drop_rate=args.drop_rate,
            lose_answer=frozenset(args.lose_answer),
            seed=args.seed,
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"sandbox: {exc}") from exc
    asyncio.run(serve(config, args.host, args.port))
    return ExitStatus.SUCCESS

"""The command line: one module per command, the parser, logging and progress on their own.

`batch_cancel.cli:console_main` is the `batch-cancel` script; `main(argv)` returns
the exit status (tests call it in this process).
"""

from .main import console_main, main
from .parser import build_parser

__all__ = ["build_parser", "console_main", "main"]

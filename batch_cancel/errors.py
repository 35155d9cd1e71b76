"""The exceptions batch-cancel raises; a failed *row* is a RowResult, never an exception.

BatchCancelError            anything that stops the whole command
├── ConfigError             bad flags or environment (exit 2, nothing sent)
├── InputFileError          the input file cannot be read as a CSV of orders (exit 2)
│   └── MissingColumnsError required columns absent after --map and defaults
└── AuthRefusedError        the API refused the key (exit 3); raised by nobody, reported
                            by the runner through RunSummary.aborted
"""

from __future__ import annotations


class BatchCancelError(Exception):
    """Base class: a problem that stops the whole command, with a message for the operator."""


class ConfigError(BatchCancelError):
    """Flags or environment are wrong; nothing was read or sent."""


class InputFileError(BatchCancelError):
    """The input file cannot be read as a CSV of orders."""


class MissingColumnsError(InputFileError):
    """A required field has no column (after --map) and no default (--warehouse-id, ...)."""

    def __init__(self, missing: list[str], found: list[str]) -> None:
        self.missing = missing
        self.found = found
        super().__init__(
            f"missing required column(s): {', '.join(missing)}; columns found: "
            f"{', '.join(repr(name) for name in found) or '(none)'}. "
            "Use --map FIELD=HEADER to map a column, or --warehouse-id / --cancel-reason "
            "to give a value for every row."
        )

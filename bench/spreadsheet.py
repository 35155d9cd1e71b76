"""The .xlsx reader against the one it replaced (pandas' read_excel, calamine engine).

`python -m bench.spreadsheet [ROWS ...]` writes a marketplace-style export of
ROWS rows (default 10,000 and 100,000) with tests/workbooks.py (shared strings,
numeric order numbers, a `#,##0` total, a date-time column) and reads it in a
fresh process per reading, alternately, three times each: the time of the read
inside the process, and the process's peak RSS. Not part of `make bench`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.workbooks import Formatted, Sheet, write_workbook

READERS = {
    # What spreadsheet.read_sheet did before "Spreadsheets as shown" (issue 21).
    "calamine (pandas.read_excel)": """
import pandas as pd
from batch_cancel.spreadsheet import general
frame = pd.read_excel(PATH, sheet_name=0, header=None, dtype="object",
                      keep_default_na=False, na_filter=False, engine="calamine")
rows = [[general(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
         for v in record] for record in frame.itertuples(index=False)]
""",
    "stdlib (spreadsheet.read_sheet)": """
from batch_cancel.spreadsheet import read_sheet
rows = read_sheet(PATH, None).rows
""",
}

MEASURE = """
import resource, sys, time
from pathlib import Path
PATH = Path(sys.argv[1])
started = time.perf_counter()
{code}
seconds = time.perf_counter() - started
print(json.dumps([seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(rows)]))
"""

REASONS = ("Stok habis", "Pembeli membatalkan", "Salah alamat", "Tidak dibayar")


def export(path: Path, rows: int) -> Path:
    header = ["No. Pesanan", "Status", "Alasan Pembatalan", "Gudang", "Waktu Pesanan", "Total"]
    body = [
        [
            2412010000000 + number,
            "Batal",
            f"{REASONS[number % len(REASONS)]} #{number % 97}",
            "WH-TGR04",
            Formatted(46000 + number / 1000, 22),  # m/d/yy h:mm
            Formatted(15000 + number % 500 * 1000, "#,##0"),
        ]
        for number in range(rows)
    ]
    return write_workbook(path, [Sheet("Sheet1", [header, *body])])


def measure(reader: str, path: Path) -> tuple[float, float, int]:
    code = "import json\n" + MEASURE.format(code=READERS[reader])
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    seconds, peak_mib, count = json.loads(done.stdout)
    return seconds, peak_mib, count


def main(argv: list[str]) -> None:
    sizes = [int(arg) for arg in argv] or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            path = export(Path(folder) / f"export-{rows}.xlsx", rows)
            print(f"{rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB .xlsx")
            results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in READERS}
            for _ in range(3):
                for name in READERS:
                    results[name].append(measure(name, path))
            for name, runs in results.items():
                times = ", ".join(f"{seconds:.2f}" for seconds, _, _ in runs)
                peak = max(peak for _, peak, _ in runs)
                print(f"  {name}: {times} s; peak RSS {peak:.0f} MiB; {runs[0][2]:,} rows")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The demo runs from an installed package: the samples ship inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from .helpers import ROOT, SAMPLES


def test_the_wheel_carries_the_samples_the_demo_reads(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    [wheel] = tmp_path.glob("batch_cancel-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"batch_cancel/samples/{path.relative_to(SAMPLES)}"
        for path in SAMPLES.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }
    assert expected <= names
    assert "batch_cancel/demo.py" in names

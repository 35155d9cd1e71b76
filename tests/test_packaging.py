"""The demo runs from an installed package (the samples ship inside the wheel); CI runs
every test (a missing root or chromium skips here, fails there)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .helpers import ROOT, SAMPLES, lacking


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


def test_a_test_lacking_root_or_chromium_skips_with_its_reason_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        lacking("needs chromium")
    assert skipped.value.msg == "needs chromium"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        lacking("needs chromium")
    assert failed.value.msg == "needs chromium (CI=true: CI must run this test)"


def test_ci_runs_make_test_with_ci_true() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in script.splitlines()]
    assert "export CI=true" in lines
    assert lines.index("export CI=true") < lines.index("make test")

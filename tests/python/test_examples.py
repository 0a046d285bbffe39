"""The example notebook runs top to bottom (with its table and chart), the quickstart prints its report, and the
national / DRG / history example runs with streaming equal to bulk."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLES = ROOT / "examples" / "python"


def test_notebook_executes_with_table_and_chart():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    nb = nbformat.read(EXAMPLES / "inspect_facilities.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("By facility" in h for h in html)  # the summary rendered as HTML
    assert any("share_at_risk" in h for h in html)  # the ranked facilities table
    assert any("findings added" in h for h in html)  # the what-if
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the chart
    assert any("recall 100.0%" in o.get("text", "") for o in outputs)


def test_quickstart_runs():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), "--encounters", "3000"],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    assert "facilities to inspect first" in out
    assert "recall 100.0%, precision 100.0%" in out


def test_national_drg_history_example_runs():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "national_drg_history.py"), "--persons", "300"],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    assert "provider indicators" in out
    streamed, bulk = (int(x) for x in re.search(r"(\d+) findings streamed in 10 batches, (\d+) in one check", out).groups())
    assert streamed == bulk > 0
    if "national knowledge" in out:
        assert "艾附暖宫丸限女性使用" in out
    if "DRG/DIP rules" in out:
        found, truth = (int(x) for x in re.search(r"DRG/DIP rules: (\d+) findings \(generator truth: (\d+)\)", out).groups())
        assert found == truth > 0

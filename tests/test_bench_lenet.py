"""`python -m book.bench lenet --quick` runs both recipes and ends with one JSON line holding the agreed keys."""
from __future__ import annotations

import json

import pytest

from book.bench import lenet

KEYS = {"device", "test_acc", "seconds", "seconds_to_99", "baseline_test_acc", "baseline_seconds",
        "baseline_seconds_to_99", "speedup_to_99"}


@pytest.mark.slow
@pytest.mark.usefixtures("mnist_dir")   # skips when the MNIST files are missing
def test_quick_run_prints_a_summary_then_one_json_line(capsys) -> None:
    assert lenet.main(["--quick", "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert KEYS <= summary.keys()
    assert summary["device"] == "cpu" and summary["quick"] is True
    assert 0.5 < summary["test_acc"] <= 1 and 0 <= summary["baseline_test_acc"] <= 1
    assert 0 < summary["seconds"] and 0 < summary["baseline_seconds"]
    assert len(summary["test_acc_per_epoch"]) == 2 and len(summary["baseline_test_acc_per_epoch"]) == 1
    if summary["seconds_to_99"] is None:
        assert summary["speedup_to_99"] is None
    assert any("book recipe" in line for line in lines[:-1]) and any("seed recipe" in line for line in lines[:-1])


def test_bad_epoch_counts_are_refused() -> None:
    with pytest.raises(SystemExit):
        lenet.main(["--baseline-epochs", "0"])

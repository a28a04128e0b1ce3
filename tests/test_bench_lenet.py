"""`python -m book.bench lenet --quick` runs the three recipes and ends with one JSON line holding the agreed keys."""
from __future__ import annotations

import json
import time

import pytest
import torch

from book import train
from book.bench import lenet
from book.shapes import trace

KEYS = {"device", "threads", "load_average_1min", "test_acc", "seconds", "seconds_to_99", "test_acc_by_seed",
        "test_acc_mean", "test_acc_min", "seconds_to_99_by_seed", "baseline_test_acc", "baseline_seconds",
        "baseline_seconds_to_99", "baseline_reached_99", "speedup_to_99", "pytorch_example_test_acc",
        "pytorch_example_seconds", "pytorch_example_seconds_to_99", "pytorch_example_reached_99",
        "speedup_vs_pytorch_example", "cpu_seconds_to_99", "speedup_to_99_cpu", "speedup_vs_pytorch_example_cpu"}


@pytest.mark.slow
@pytest.mark.usefixtures("mnist_dir")   # skips when the MNIST files are missing
def test_quick_run_prints_a_summary_then_one_json_line(capsys) -> None:
    assert lenet.main(["--quick", "--device", "cpu", "--seeds", "0", "1", "--threads", "1", "--ablation"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert KEYS <= summary.keys()
    assert summary["device"] == "cpu" and summary["quick"] is True and summary["threads"] == 1
    assert set(summary["test_acc_by_seed"]) == {"0", "1"} and summary["test_acc"] == summary["test_acc_by_seed"]["0"]
    accuracies = list(summary["test_acc_by_seed"].values())
    assert summary["test_acc_min"] == min(accuracies)
    assert summary["test_acc_mean"] == pytest.approx(sum(accuracies) / 2)
    assert 0.5 < summary["test_acc"] <= 1
    assert 0 <= summary["baseline_test_acc"] <= 1 and 0 <= summary["pytorch_example_test_acc"] <= 1
    assert 0 < summary["seconds"] and 0 < summary["baseline_seconds"] and 0 < summary["pytorch_example_seconds"]
    assert len(summary["test_acc_per_epoch"]) == 2 and len(summary["baseline_test_acc_per_epoch"]) == 1
    assert len(summary["pytorch_example_test_acc_per_epoch"]) == 1
    if summary["seconds_to_99"] is None:
        assert summary["speedup_to_99"] is None and summary["speedup_vs_pytorch_example"] is None
    ablation = summary["ablation"]
    assert ablation["changes"] == {"label_smoothing": 0.0, "max_shift": 0}
    assert set(ablation["test_acc_by_seed"]) == set(ablation["train_acc_by_seed"]) == {"0", "1"}
    assert ablation["test_acc_mean"] == pytest.approx(sum(ablation["test_acc_by_seed"].values()) / 2)
    assert all(0 < a <= 1 for a in [*ablation["train_acc_by_seed"].values(), *summary["train_acc_by_seed"].values()])
    text = "\n".join(lines[:-1])
    assert "book recipe" in text and "Net2" in text and "PyTorch example" in text


def test_bad_arguments_are_refused() -> None:
    for argv in (["--baseline-epochs", "0"], ["--pytorch-epochs", "-1"], ["--threads", "0"], ["--jobs", "0"]):
        with pytest.raises(SystemExit):
            lenet.main(argv)


def test_the_pytorch_example_net_has_its_published_shape() -> None:
    result = trace(lenet.PytorchExampleNet(), (2, 1, 28, 28))
    assert result.output_shape == (2, 10) and result.total_parameters == 1_199_882
    assert (2, 64, 24, 24) in [row.output_shape for row in result.rows]
    log_probabilities = lenet.PytorchExampleNet().eval()(torch.randn(3, 1, 28, 28))
    assert torch.allclose(log_probabilities.exp().sum(dim=1), torch.ones(3))


def test_a_curve_counts_only_the_recipes_own_measurements_towards_99_percent() -> None:
    curve = lenet.Curve("x")
    curve.add(0.5, 1.0, 0.995, counted=False, cpu_seconds=0.5)  # a probe, taken with the clock stopped
    curve.add(1, 2.0, 0.985, cpu_seconds=1.0)
    assert curve.seconds_to_99 is None and curve.charged_seconds == 2.0 and curve.charged_cpu_seconds == 1.0
    curve.add(2, 4.0, 0.991, cpu_seconds=2.0)
    curve.add(3, 6.0, 0.993, cpu_seconds=3.0)
    assert curve.seconds_to_99 == 4.0 and curve.charged_seconds == 4.0 and curve.charged_cpu_seconds == 2.0


def test_the_stopwatch_leaves_out_paused_time() -> None:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    clock = lenet.Stopwatch()
    resume = clock.pause()
    paused_wall, paused_cpu = time.perf_counter(), time.process_time()
    time.sleep(0.05)
    sum(i * i for i in range(200_000))  # processor time too
    paused_wall, paused_cpu = time.perf_counter() - paused_wall, time.process_time() - paused_cpu
    resume()
    wall, cpu = clock(), clock.cpu()
    assert 0 <= wall <= time.perf_counter() - wall0 - paused_wall
    assert cpu <= time.process_time() - cpu0 - paused_cpu


@pytest.mark.slow
@pytest.mark.usefixtures("mnist_dir")   # skips when the MNIST files are missing
def test_a_reference_stops_at_its_time_limit_with_an_uncounted_test() -> None:
    curve = lenet.notes_recipe(seed=0, device=torch.device("cpu"), quick=True, time_limit=0.5, threads=1,
                               verbose=False)
    assert curve.stopped.startswith("time limit") and curve.counted == [False]
    assert 0 <= curve.test_acc[0] <= 1 and 0 < curve.epochs[0] < 1
    assert curve.seconds[-1] < 5  # the clock stops during the test; the limit is checked after every batch


def test_a_missing_or_foreign_record_is_refused_in_one_line(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="--save"):
        lenet.load_record(tmp_path / "absent.json")
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"summary": {}}))
    with pytest.raises(ValueError, match="not a benchmark record"):
        lenet.load_record(foreign)


def test_the_committed_record_holds_the_chapters_figures_for_todays_recipe() -> None:
    record = lenet.load_record()
    summary = record["summary"]
    assert summary["recipe"] == train.RECIPE and summary["quick"] is False
    assert set(summary["test_acc_by_seed"]) == {"0", "1", "2", "3"}
    assert summary["test_acc_min"] == min(summary["test_acc_by_seed"].values())
    assert {"book_seed_0", "notes", "pytorch_example"} <= record["curves"].keys()

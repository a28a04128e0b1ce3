"""book.train: the models' shapes, a short run that learns, seeded reproducibility, and the device choice."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from book import data, train
from book.shapes import trace


@pytest.mark.parametrize("make, parameters", [(lambda: train.lenet(), 61_706),
                                              (lambda: train.lenet(classic=True), 61_706),
                                              (train.net2, 8_490),
                                              (train.mlp, 575_050)])
def test_models_map_a_batch_of_digits_to_ten_logits(make, parameters: int) -> None:
    model = make()
    result = trace(model, (3, 1, 28, 28))
    assert result.output_shape == (3, 10)
    assert result.total_parameters == parameters


def test_lenet_variants_differ_only_in_activation_and_pooling() -> None:
    kinds = lambda model: [type(m).__name__ for m in model]  # noqa: E731
    assert kinds(train.lenet()).count("ReLU") == 4 and kinds(train.lenet()).count("MaxPool2d") == 2
    assert kinds(train.lenet(classic=True)).count("Sigmoid") == 4
    assert kinds(train.lenet(classic=True)).count("AvgPool2d") == 2
    shapes = [r.output_shape for r in trace(train.lenet(), (2, 1, 28, 28)).rows]
    assert shapes[:3] == [(2, 6, 28, 28)] * 2 + [(2, 6, 14, 14)] and (2, 16, 5, 5) in shapes


def test_default_device_is_the_cpu_without_an_accelerator(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert train.default_device() == torch.device("cpu")


def test_batches_cover_every_example_once_in_shuffled_order() -> None:
    images, labels = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    seen = [y for _, y in train.batches(images, labels, 4, torch.Generator().manual_seed(0))]
    assert [len(y) for y in seen] == [4, 4, 2]
    assert sorted(torch.cat(seen).tolist()) == list(range(10)) and torch.cat(seen).tolist() != list(range(10))
    with pytest.raises(ValueError, match="batch_size"):
        next(train.batches(images, labels, 0))


@pytest.fixture(scope="module")
def small(mnist: data.MNIST) -> data.MNIST:
    return mnist.subset(train=2000, test=500, seed=1)


@pytest.mark.slow  # trains
def test_a_short_run_learns(small: data.MNIST) -> None:
    history = train.fit(train.lenet(), small, epochs=3, batch_size=64, lr=0.1, device="cpu",
                        progress=False, plot=False, verbose=False)
    assert history.epochs == 3 and len(history.seconds) == 3
    assert history.train_loss[-1] < history.train_loss[0] < 2.31  # chance is ln 10 = 2.30
    assert history.test_acc[-1] > 0.8  # chance is 0.1
    assert history.seconds == sorted(history.seconds)
    assert history.seconds_to(0.0) == history.seconds[0] and history.seconds_to(1.01) is None


@pytest.mark.slow  # trains
def test_the_same_seed_gives_the_same_run(small: data.MNIST) -> None:
    runs = [train.fit(train.net2(), small, epochs=1, batch_size=64, lr=0.05, seed=seed, device="cpu",
                      progress=False, plot=False, verbose=False) for seed in (7, 7, 8)]
    assert runs[0].train_loss == runs[1].train_loss and runs[0].test_acc == runs[1].test_acc
    assert runs[0].train_loss != runs[2].train_loss


@pytest.mark.slow  # trains
def test_a_constant_learning_rate_run_and_evaluate_agree(small: data.MNIST) -> None:
    model = train.mlp()
    history = train.fit(model, small, epochs=1, batch_size=64, lr=0.01, momentum=0.5, weight_decay=0.0,
                        one_cycle=False, device="cpu", progress=False, plot=False, verbose=False)
    assert history.test_acc[-1] == pytest.approx(train.evaluate(model, small.test_images, small.test_labels))
    predictions = train.predict(model, small.test_images)
    assert predictions.shape == (500,) and predictions.dtype == torch.int64


@pytest.mark.parametrize("static_site, bar_shown", [("", True), ("1", False)])
def test_the_progress_bar_is_off_only_while_the_static_site_is_built(monkeypatch, capsys, static_site: str,
                                                                     bar_shown: bool) -> None:
    monkeypatch.setenv("BOOK_STATIC_SITE", static_site)
    images = torch.randn(32, 1, 28, 28)
    labels = torch.arange(32) % 10
    tiny = data.MNIST(images, labels, images[:8], labels[:8], mean=0.0, std=1.0)
    train.fit(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), tiny, epochs=1, batch_size=16, device="cpu",
              plot=False, verbose=False)
    assert ("training on cpu" in capsys.readouterr().err) == bar_shown


def test_fit_refuses_a_non_positive_epoch_count() -> None:
    tiny = data.MNIST(torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.int64), torch.zeros(2, 1, 28, 28),
                      torch.zeros(2, dtype=torch.int64), 0.1307, 0.3081)
    with pytest.raises(ValueError, match="epochs must be positive"):
        train.fit(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), tiny, epochs=0, progress=False)


def test_the_animator_keeps_every_point_it_is_given() -> None:
    animator = train.Animator(epochs=2)
    animator.add(0.5, train_loss=1.2, train_acc=0.6)
    animator.add(1.0, train_loss=0.8, train_acc=0.8, test_acc=0.85)
    assert animator.points["train loss"] == ([0.5, 1.0], [1.2, 0.8])
    assert animator.points["test acc"] == ([1.0], [0.85])
    assert [line.get_label() for line in animator.acc_ax.get_lines()] == ["train acc", "test acc"]

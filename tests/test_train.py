"""book.train: the models' shapes, a short run that learns, seeded reproducibility, and the device choice."""
from __future__ import annotations

import inspect
import os
import re
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from book import data, train
from book.shapes import trace


@pytest.mark.parametrize("make, parameters", [(lambda: train.lenet(), 61_706),
                                              (lambda: train.lenet(classic=True), 61_706),
                                              # + a scale and a shift per normalised channel, - the biases they replace
                                              (lambda: train.lenet(batch_norm=True), 61_706 + 2 * 226 - 226),
                                              (train.net2, 8_490),
                                              (train.mlp, 575_050),
                                              (lambda: train.mlp(batch_norm=True), 575_050 + 960)])
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


def _trained_batch_norm_statistics(model: nn.Sequential) -> nn.Sequential:
    """`model` with every batch norm's statistics and affine map drawn at random, as training leaves them."""
    generator = torch.Generator().manual_seed(3)
    for layer in model:
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            n = layer.num_features
            layer.running_mean.copy_(torch.randn(n, generator=generator))
            layer.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            layer.weight.data.copy_(torch.rand(n, generator=generator) + 0.2)
            layer.bias.data.copy_(torch.randn(n, generator=generator))
    return model


def test_the_batch_norm_lenet_folds_into_the_layers_of_lenet() -> None:
    kinds = lambda model: [type(m).__name__ for m in model]  # noqa: E731
    normalised = _trained_batch_norm_statistics(train.lenet(batch_norm=True)).eval()
    assert kinds(normalised)[:4] == ["Conv2d", "MaxPool2d", "BatchNorm2d", "ReLU"]
    folded = train.fold_batch_norm(normalised)
    assert kinds(folded) == kinds(train.lenet()) and trace(folded, (1, 1, 28, 28)).total_parameters == 61_706
    digits = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(folded(digits), normalised(digits), atol=1e-5)
    assert normalised.training is False and any(isinstance(m, nn.BatchNorm2d) for m in normalised)  # untouched
    plain = train.lenet().eval()
    with torch.no_grad():
        assert torch.equal(train.fold_batch_norm(plain)(digits), plain(digits))   # nothing to fold


def test_fold_batch_norm_refuses_what_it_cannot_fold_in_one_line() -> None:
    negative = _trained_batch_norm_statistics(train.lenet(batch_norm=True))
    negative[2].weight.data[4] = -0.5   # a negative scale would turn the max pooling before it into a minimum
    with pytest.raises(ValueError, match=r"negative scale \(channels \[4\]\)"):
        train.fold_batch_norm(negative)
    with pytest.raises(ValueError, match="follows ReLU"):
        train.fold_batch_norm(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(2)))
    with pytest.raises(TypeError, match="nn.Sequential"):
        train.fold_batch_norm(nn.Conv2d(1, 2, 3))
    with pytest.raises(ValueError, match="classic=True"):
        train.lenet(classic=True, batch_norm=True)


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
    assert len(history.cpu_seconds) == 3 and history.cpu_seconds == sorted(history.cpu_seconds)
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


def _tiny() -> data.MNIST:
    images = torch.randn(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(32) % 10
    return data.MNIST(images, labels, images[:8], labels[:8], mean=0.0, std=1.0)


def _linear() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


@pytest.mark.parametrize("static_site", ["", "1"])
@pytest.mark.parametrize("progress", [False, True])
def test_the_progress_bar_follows_the_argument_and_nothing_else(monkeypatch, capsys, static_site: str,
                                                                progress: bool) -> None:
    monkeypatch.setenv("BOOK_STATIC_SITE", static_site)  # the site build's variable must play no part
    train.fit(_linear(), _tiny(), epochs=1, batch_size=16, device="cpu", plot=False, verbose=False,
              progress=progress)
    assert ("training on cpu" in capsys.readouterr().err) == progress


def test_fit_leaves_the_global_random_state_and_thread_count_as_it_found_them() -> None:
    model, tiny = _linear(), _tiny()  # built first: making a layer draws from the global generator
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    train.fit(model, tiny, epochs=1, batch_size=16, device="cpu", seed=5, threads=1, max_shift=1,
              progress=False, plot=False, verbose=False)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_num_threads_restores_the_count_even_after_an_error() -> None:
    threads = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with train.num_threads(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert torch.get_num_threads() == threads
    with pytest.raises(ValueError, match="threads must be positive"):
        with train.num_threads(0):
            pass
    with pytest.raises(TypeError, match="threads must be an int"):
        with train.num_threads(1.5):
            pass


def test_free_cpu_threads_is_between_one_and_the_number_of_cores() -> None:
    assert 1 <= train.free_cpu_threads() <= (os.cpu_count() or 1)


def test_free_cpu_threads_counts_the_cores_other_processes_keep_busy(monkeypatch) -> None:
    import psutil

    cores = len(os.sched_getaffinity(0))
    monkeypatch.setattr(psutil, "cpu_count", lambda: cores)
    for busy_cores, expected in [(0.0, cores), (cores, 1), (0.9, max(1, cores - 1))]:
        monkeypatch.setattr(psutil, "cpu_percent", lambda interval, busy=busy_cores: 100.0 * busy / cores)
        assert train.free_cpu_threads(interval=0.01) == expected
    with pytest.raises(ValueError, match="interval must be positive"):
        train.free_cpu_threads(interval=0)


def test_evaluation_starts_at_the_requested_epoch_and_the_last_is_always_measured() -> None:
    history = train.fit(_linear(), _tiny(), epochs=3, batch_size=16, device="cpu", evaluate_from=3,
                        progress=False, plot=False, verbose=False)
    assert history.test_acc[:2] == [None, None] and history.test_acc[2] is not None
    assert history.seconds_to(0.0) == history.seconds[2]
    assert "test acc" in str(history)
    for bad in ({"evaluate_from": 0}, {"evaluate_from": 4}, {"label_smoothing": 1.0}, {"average": 1.0},
                {"average": -0.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            train.fit(_linear(), _tiny(), epochs=3, device="cpu", progress=False, plot=False, **bad)


def test_random_shift_moves_each_image_by_at_most_max_shift_pixels() -> None:
    image = torch.zeros(1, 1, 6, 6)
    image[0, 0, 2:4, 2:4] = 1.0  # a 2x2 blob in the middle of a blank image
    shifted = train.random_shift(image.repeat(200, 1, 1, 1), 1, torch.Generator().manual_seed(0))
    assert shifted.shape == (200, 1, 6, 6) and torch.all(shifted.sum(dim=(1, 2, 3)) == 4)  # moved, never cut
    corners = {tuple((s[0] == 1).nonzero()[0].tolist()) for s in shifted}
    assert corners == {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)}  # every offset in [-1, 1]^2 occurs
    assert torch.equal(train.random_shift(image, 0), image)
    edge = torch.ones(1, 1, 4, 4)
    edge[0, 0, 0] = -1.0  # the smallest value fills the border that moves in
    assert set(train.random_shift(edge.repeat(50, 1, 1, 1), 2).unique().tolist()) <= {-1.0, 1.0}
    with pytest.raises(ValueError, match="max_shift"):
        train.random_shift(image, -1)


def test_seconds_per_epoch_times_a_copy_and_leaves_the_model_alone() -> None:
    model, tiny = _linear(), _tiny()
    before = [p.clone() for p in model.parameters()]
    seconds = train.seconds_per_epoch(model, tiny, batch_size=8, steps=3, channels_last=True, threads=1,
                                      device="cpu")
    assert seconds > 0 and all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    with pytest.raises(ValueError, match="steps must be positive"):
        train.seconds_per_epoch(model, tiny, batch_size=8, steps=0)


def test_the_weight_average_mixes_every_step_into_the_initial_weights() -> None:
    model = _linear()
    average = train.weight_average(model, 0.75)
    expected = [p.detach().clone() for p in model.parameters()]
    for step in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0 + step)
        average.update_parameters(model)
        expected = [0.75 * e + 0.25 * p.detach() for e, p in zip(expected, model.parameters())]
    assert all(torch.allclose(w, e) for w, e in zip(average.module.parameters(), expected))
    assert not any(torch.allclose(w, p) for w, p in zip(average.module.parameters(), model.parameters()))


def test_fit_with_an_average_evaluates_it_and_leaves_it_in_the_model() -> None:
    runs = {}
    for decay in (0.0, 0.9):
        model = _linear()
        history = train.fit(model, _tiny(), epochs=2, batch_size=8, device="cpu", average=decay, progress=False,
                            plot=False, verbose=False)
        assert history.test_acc[-1] == pytest.approx(train.evaluate(model, _tiny().test_images, _tiny().test_labels))
        runs[decay] = [p.detach().clone() for p in model.parameters()]
    assert not all(torch.allclose(a, b) for a, b in zip(runs[0.0], runs[0.9]))
    # compare_latest evaluates the latest weights of the same run: the accuracies of a run without the average
    model = _linear()
    both = train.fit(model, _tiny(), epochs=2, batch_size=8, device="cpu", average=0.9, compare_latest=True,
                     progress=False, plot=False, verbose=False)
    plain = train.fit(_linear(), _tiny(), epochs=2, batch_size=8, device="cpu", progress=False, plot=False,
                      verbose=False)
    assert both.latest_test_acc == plain.test_acc and both.train_loss == plain.train_loss
    assert all(torch.allclose(p, r) for p, r in zip(model.parameters(), runs[0.9]))
    with pytest.raises(ValueError, match="compare_latest"):
        train.fit(_linear(), _tiny(), epochs=1, device="cpu", compare_latest=True, progress=False, plot=False)


def _learning_rates(**arguments) -> list:
    """The learning rate of every step of a `fit` run on the tiny data (4 steps an epoch), read from the optimiser."""
    rates = []
    original = torch.optim.SGD.step

    def step(self, *args, **kwargs):
        rates.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.optim.SGD, "step", step)
        train.fit(_linear(), _tiny(), batch_size=8, device="cpu", progress=False, plot=False, verbose=False,
                  **arguments)
    return rates


def test_cycles_restart_the_one_cycle_schedule_from_the_weights_reached() -> None:
    one = _learning_rates(epochs=1, lr=0.8)
    three = _learning_rates(epochs=3, lr=0.2)
    both = _learning_rates(epochs=4, cycles=(1, 3), lr=(0.8, 0.2))
    assert both == pytest.approx(one + three)   # the second schedule starts over, warm-up included
    assert both[0] == pytest.approx(0.8 / 25) and both[4] == pytest.approx(0.2 / 25)   # OneCycleLR's start
    for warmup, peak_step in ((0.2, 3), (0.3, 5)):   # 20 steps: the peak ends the first 20 % (or 30 %) of them
        rates = _learning_rates(epochs=5, lr=0.5, warmup=warmup)
        assert rates.index(max(rates)) == peak_step and max(rates) == pytest.approx(0.5)
    assert _learning_rates(epochs=4, cycles=(2, 2), lr=0.5) == pytest.approx(2 * _learning_rates(epochs=2, lr=0.5))
    # the first cycle is exactly a one-epoch run from the same seed; the second goes on from its weights
    model = _linear()
    restarted = train.fit(model, _tiny(), epochs=2, cycles=(1, 1), batch_size=8, device="cpu", progress=False,
                          plot=False, verbose=False)
    fresh = train.fit(_linear(), _tiny(), epochs=1, batch_size=8, device="cpu", progress=False, plot=False,
                      verbose=False)
    assert restarted.train_loss[0] == fresh.train_loss[0] and restarted.epochs == 2


@pytest.mark.parametrize("bad, error, message", [
    ({"epochs": 4, "cycles": (1, 2)}, ValueError, "add up to epochs=4"),
    ({"epochs": 2, "cycles": (0, 2)}, ValueError, "positive epoch counts"),
    ({"epochs": 2, "cycles": (1, 1), "one_cycle": False}, ValueError, "needs one_cycle=True"),
    ({"epochs": 3, "cycles": (1, 1, 1), "lr": (0.1, 0.2)}, ValueError, "2 learning rates for 3 cycles"),
    ({"epochs": 2, "lr": (0.1, 0.2)}, ValueError, "one per cycle with cycles="),
    ({"epochs": 1, "lr": "0.1"}, TypeError, "lr must be a number"),
    ({"epochs": 1, "warmup": 1.0}, ValueError, "warmup must be a share of the steps in (0, 1), got 1.0"),
])
def test_fit_refuses_cycles_and_rates_that_do_not_match_in_one_line(bad: dict, error, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        train.fit(_linear(), _tiny(), device="cpu", progress=False, plot=False, **bad)


def test_the_recipe_is_a_set_of_fit_arguments() -> None:
    parameters = inspect.signature(train.fit).parameters
    assert set(train.RECIPE) <= set(parameters) and "seed" not in train.RECIPE


@pytest.mark.slow   # trains; skips without MNIST through the `small` fixture
def test_the_recipe_trains_with_every_ingredient_on(small: data.MNIST) -> None:
    # 2,000 images make few steps: smaller batches and shorter cycles, every other ingredient as in the recipe
    changes = {"epochs": 3, "cycles": [1, 2], "batch_size": 32}
    history = train.fit(train.lenet(batch_norm=True), small, **{**train.RECIPE, **changes}, device="cpu",
                        progress=False, plot=False, verbose=False)
    assert history.train_loss[-1] < history.train_loss[0] and history.test_acc[-1] > 0.5


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


def test_the_chapters_batch_of_seven_colour_images_through_one_block() -> None:
    # chapter 7's worked example of NCHW shapes: (7, 3, 60, 60) -> conv 3->10, 3x3, padding 1 -> 2x2 max pool
    block = nn.Sequential(nn.Conv2d(3, 10, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    result = trace(block, (7, 3, 60, 60))
    assert result.rows[0].output_shape == (7, 10, 60, 60) and result.rows[0].weight_shape == (10, 3, 3, 3)
    assert result.output_shape == (7, 10, 30, 30) and result.total_parameters == 280


@pytest.mark.parametrize("model, data, message", [
    ("lenet", "tensor", "fit() expects data with tensors train_images, train_labels, test_images, test_labels"),
    ("tensor", "mnist", "fit() expects an nn.Module to train, got Tensor"),
])
def test_fit_refuses_what_it_cannot_train_on_in_one_line(model: str, data: str, message: str) -> None:
    """A tensor passed as the data, or as the model, is named in one line, not an AttributeError from deep in the
    loop."""
    arguments = {"lenet": train.lenet(), "tensor": torch.zeros(3, 1, 28, 28),
                 "mnist": SimpleNamespace(**{name: torch.zeros(1) for name in
                                             ("train_images", "train_labels", "test_images", "test_labels")})}
    with pytest.raises(TypeError, match=re.escape(message)):
        train.fit(arguments[model], arguments[data], epochs=1)

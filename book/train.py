"""Train small image classifiers on in-memory tensors: the book's models, `fit`, and a live learning-curve plot.

`fit` follows d2l's `train_ch6` (one loop: shuffle, forward, loss, backward, step; test accuracy per epoch) with
changes that make LeNet on MNIST fast on a laptop CPU: the whole data set lives in one tensor, so a batch is an
index into it rather than 64 decoded PIL images; the learning rate follows one-cycle schedules, with warm restarts
if asked; and, as `RECIPE` sets them, label smoothing, random shifts of a pixel, and the channels-last layout. A
moving average of the weights and fewer test evaluations are options the recipe does without. The run is seeded,
so the same call gives the same numbers.
"""
from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from book._ipython import in_kernel
from book.threads import free_cpu_threads, num_threads

__all__ = ["default_device", "lenet", "fold_batch_norm", "net2", "mlp", "History", "Animator", "batches",
           "random_shift", "evaluate", "predict", "weight_average", "free_cpu_threads", "num_threads",
           "seconds_per_epoch", "RECIPE", "fit"]

Device = Union[str, torch.device]


def default_device() -> torch.device:
    """The fastest device present: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def lenet(classic: bool = False, batch_norm: bool = False) -> nn.Sequential:
    """A simplified LeNet-5 for 28x28 digits: two 5x5 convolutions with pooling, then three dense layers.

    Neither form is LeCun et al.'s 1998 network, which used a scaled tanh, trainable subsampling layers (an average
    with a learned weight and bias), a sparse connection table into C3, a C5 layer that is a 5x5 convolution, and
    radial-basis-function output units. `classic=True` is d2l 1.0.3's `LeNet`: sigmoid and average pooling. The
    default swaps those for ReLU and max pooling. Both have every C3 map connected to every
    S2 map, C5 as a dense layer, and a dense output of 10 logits, and so the same parameters. The first convolution
    pads by 2 so 28x28 inputs see the 32x32 field LeCun used.

    `batch_norm=True` (the modern form only) puts a batch normalisation before each ReLU: convolution, max pooling,
    `BatchNorm2d`, ReLU in each block, and dense, `BatchNorm1d`, ReLU in the hidden dense layers, whose biases it
    makes redundant, so those layers have none. The pooling comes first because ReLU and max pooling commute, so the
    order changes nothing but the cost: the normalisation then works on maps a quarter of the size.
    `fold_batch_norm` turns the trained network back into the layers of `lenet()`. This is the form the book trains.
    """
    if classic and batch_norm:
        raise ValueError("batch_norm=True builds the modern LeNet (ReLU, max pooling); classic=True is d2l's "
                         "LeNet as it is: pass one of them")
    if batch_norm:
        return nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2, bias=False), nn.MaxPool2d(kernel_size=2, stride=2),
            nn.BatchNorm2d(6), nn.ReLU(),
            nn.Conv2d(6, 16, kernel_size=5, bias=False), nn.MaxPool2d(kernel_size=2, stride=2),
            nn.BatchNorm2d(16), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120, bias=False), nn.BatchNorm1d(120), nn.ReLU(),
            nn.Linear(120, 84, bias=False), nn.BatchNorm1d(84), nn.ReLU(),
            nn.Linear(84, 10))
    activation, pool = (nn.Sigmoid, nn.AvgPool2d) if classic else (nn.ReLU, nn.MaxPool2d)
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), activation(), pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), activation(), pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), activation(),
        nn.Linear(120, 84), activation(),
        nn.Linear(84, 10))


@torch.no_grad()
def fold_batch_norm(model: nn.Sequential) -> nn.Sequential:
    """A copy of `model` for inference with every batch normalisation folded into the layer that feeds it.

    In evaluation mode a `BatchNorm` is a fixed affine map per channel, `scale * x + shift` with
    `scale = weight / sqrt(running_var + eps)` and `shift = bias - running_mean * scale`, so a convolution or dense
    layer followed by it equals one layer with its weights times `scale` and its bias times `scale` plus `shift`
    (PyTorch's `fuse_conv_bn_eval` and `fuse_linear_bn_eval`). A max pooling between the two is allowed where every
    `scale` is positive, since a positive affine map commutes with a maximum; and a ReLU after such a pooling is
    moved before it, since ReLU and max pooling commute. So `fold_batch_norm(lenet(batch_norm=True))` has exactly the
    layers of `lenet()`, and computes what the trained network computes, up to rounding. `model` is left as it is.
    """
    import copy

    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"fold_batch_norm() expects an nn.Sequential, got {type(model).__name__}")
    layers: List[nn.Module] = []
    folded_across_pool = False   # the last layer was a batch norm folded across the pooling before it
    for layer in copy.deepcopy(model).eval():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            pooled = [layers.pop()] if layers and isinstance(layers[-1], nn.MaxPool2d) else []
            if not layers or not isinstance(layers[-1], (nn.Conv2d, nn.Linear)):
                raise ValueError(f"fold_batch_norm() folds a {type(layer).__name__} into the convolution or dense "
                                 "layer just before it (a max pooling may come between); this one follows "
                                 f"{type(layers[-1]).__name__ if layers else 'nothing'}")
            scale = layer.weight / torch.sqrt(layer.running_var + layer.eps)
            if pooled and not bool((scale > 0).all()):
                raise ValueError(f"fold_batch_norm() cannot move a {type(layer).__name__} with a negative scale "
                                 f"(channels {(scale <= 0).nonzero().flatten().tolist()}) across a max pooling: "
                                 "a negative scale turns the maximum into a minimum")
            fuse = fuse_conv_bn_eval if isinstance(layers[-1], nn.Conv2d) else fuse_linear_bn_eval
            layers[-1] = fuse(layers[-1], layer)
            layers += pooled
            folded_across_pool = bool(pooled)
        elif isinstance(layer, nn.ReLU) and folded_across_pool:
            layers.insert(-1, layer)   # before that pooling, where lenet() has it
            folded_across_pool = False
        else:
            layers.append(layer)
            folded_across_pool = False
    return nn.Sequential(*layers).eval()


def net2() -> nn.Sequential:
    """The source notes' `Net2`: conv 1->10 (5x5), max pool, ReLU, conv 10->20 (5x5), max pool, ReLU, dense 320->10."""
    return nn.Sequential(
        nn.Conv2d(1, 10, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(10, 20, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(320, 10))


def mlp(batch_norm: bool = False) -> nn.Sequential:
    """The source notes' fully connected baseline: 784 -> 512 -> 256 -> 128 -> 64 -> 10 with ReLU.

    `batch_norm=True` puts a `BatchNorm1d` between each hidden layer and its ReLU, as `lenet(batch_norm=True)` does,
    so that the two networks can be trained with the same recipe."""
    widths = [28 * 28, 512, 256, 128, 64]
    layers: List[nn.Module] = [nn.Flatten()]
    for n_in, n_out in zip(widths, widths[1:]):
        layers += ([nn.Linear(n_in, n_out, bias=False), nn.BatchNorm1d(n_out), nn.ReLU()] if batch_norm
                   else [nn.Linear(n_in, n_out), nn.ReLU()])
    return nn.Sequential(*layers, nn.Linear(widths[-1], 10))


@dataclass
class History:
    """What `fit` measured, one entry per epoch; `seconds` is wall time since the start of `fit`, evaluation included.

    `cpu_seconds` is the processor time the process used over the same span (`time.process_time`, all threads): on a
    machine shared with other work it is steadier than the wall clock, which counts the time spent waiting for a core.

    `test_acc` is None for an epoch after which the test set was not evaluated (see `fit`'s `evaluate_from`).
    `latest_test_acc` is filled only by `fit(..., average=..., compare_latest=True)`: the accuracy of the latest
    weights, where `test_acc` is that of their moving average.
    """
    device: str
    train_loss: List[float] = field(default_factory=list)
    train_acc: List[float] = field(default_factory=list)
    test_acc: List[Optional[float]] = field(default_factory=list)
    seconds: List[float] = field(default_factory=list)
    cpu_seconds: List[float] = field(default_factory=list)
    latest_test_acc: List[Optional[float]] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.test_acc)

    def seconds_to(self, accuracy: float) -> Optional[float]:
        """Wall time until a measured test accuracy first reached `accuracy`; None if none did."""
        return next((s for a, s in zip(self.test_acc, self.seconds) if a is not None and a >= accuracy), None)

    def __str__(self) -> str:
        if not self.epochs:
            return f"History(no epochs, device {self.device})"
        test = "not measured" if self.test_acc[-1] is None else f"{self.test_acc[-1]:.4f}"
        return (f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.4f}, test acc {test}"
                f" after {self.epochs} epochs in {self.seconds[-1]:.1f} s on {self.device}")


def _in_notebook() -> bool:
    return in_kernel()


class Animator:
    """Learning curves that redraw in place in Jupyter: loss on the left, accuracies on the right.

    Like d2l's `Animator`, but it updates one display (so a progress bar above it survives) and leaves the final
    figure as the cell's output, which is what an executed, static page shows.
    """

    def __init__(self, epochs: int):
        import matplotlib.pyplot as plt
        from IPython.display import display

        self.fig, (self.loss_ax, self.acc_ax) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
        self.points: dict = {"train loss": ([], []), "train acc": ([], []), "test acc": ([], [])}
        self.epochs = epochs
        self._draw()
        self.handle = display(self.fig, display_id=True)
        plt.close(self.fig)  # the handle shows it; stop the inline backend showing it a second time

    def add(self, x: float, **values: float) -> None:
        for name, value in values.items():
            xs, ys = self.points[name.replace("_", " ")]
            xs.append(x)
            ys.append(value)
        self._draw()
        if self.handle is not None:  # None outside Jupyter, where the figure is only kept in `self.fig`
            self.handle.update(self.fig)

    def _draw(self) -> None:
        for ax, names, ylabel in ((self.loss_ax, ["train loss"], "loss"),
                                  (self.acc_ax, ["train acc", "test acc"], "accuracy")):
            ax.cla()
            for name in names:
                ax.plot(*self.points[name], "o-" if name == "test acc" else "-", label=name, markersize=4)
            ax.set(xlabel="epoch", ylabel=ylabel, xlim=(0, self.epochs))
            ax.grid(alpha=0.3)
            ax.legend(loc="upper right" if ylabel == "loss" else "lower right")


def batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int,
            generator: Optional[torch.Generator] = None) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
    """Minibatches of in-memory tensors, shuffled by `generator` (in order when it is None); the last may be short."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(labels)
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    order = order.to(labels.device)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        yield images[index], labels[index]


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Predicted class of every image, in evaluation mode (batched, so the whole test set fits in memory)."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model(images[i:i + batch_size].to(device)).argmax(dim=1).cpu()
                      for i in range(0, len(images), batch_size)])


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 2000) -> float:
    """Fraction of `images` that `model` classifies as `labels`."""
    return (predict(model, images, batch_size) == labels.cpu()).float().mean().item()


def random_shift(images: torch.Tensor, max_shift: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Each image moved by its own random whole-pixel offset in [-max_shift, max_shift] along each axis.

    The border that moves in is filled with the batch's smallest value (blank paper after standardisation). One
    gather does the whole batch, so this is cheap next to a training step; `generator` makes it repeatable.
    """
    if max_shift < 0:
        raise ValueError(f"max_shift must be 0 or more, got {max_shift}")
    if max_shift == 0:
        return images
    n, channels, height, width = images.shape
    s = max_shift
    padded = F.pad(images, (s, s, s, s), value=float(images.min()))
    offsets = torch.randint(0, 2 * s + 1, (2, n), generator=generator).to(images.device)
    rows = (torch.arange(height, device=images.device) + offsets[0, :, None])[:, None, :, None]
    cols = (torch.arange(width, device=images.device) + offsets[1, :, None])[:, None, None, :]
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    return padded[batch, torch.arange(channels, device=images.device)[None, :, None, None], rows, cols]


def weight_average(model: nn.Module, decay: float) -> AveragedModel:
    """An exponential moving average of `model`'s weights (and buffers), with `decay` the share each step keeps.

    `torch.optim.swa_utils.AveragedModel` with `get_ema_multi_avg_fn(decay)`, started at `model`'s current weights:
    its first update copies instead of mixing, so it is given the initial weights, and every training step after
    that is mixed in with weight `1 - decay`.
    """
    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    averaged.update_parameters(model)
    return averaged


def _reset_parameters(model: nn.Module) -> None:
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()


def seconds_per_epoch(model: nn.Module, data, batch_size: int, steps: int = 20, channels_last: bool = False,
                      threads: Optional[int] = None, device: Optional[Device] = None) -> float:
    """Wall time one training epoch over `data.train_images` would take, timed over `steps` SGD steps of a copy.

    A cheap way to compare settings that change speed but not arithmetic (batch size per image, memory layout,
    threads) without training to the end. `torch.utils.benchmark.Timer` times the steps (it waits for a GPU
    before reading the clock) after two untimed warm-up steps. `model` itself is left untouched.
    """
    import copy

    from torch.utils import benchmark

    if steps <= 0:
        raise ValueError(f"steps must be positive, got {steps}")
    device = torch.device(device) if device is not None else default_device()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    with torch.random.fork_rng(devices=[]), num_threads(threads):
        model = copy.deepcopy(model).to(device=device, memory_format=memory_format).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        n = len(data.train_labels)
        images, labels = data.train_images.to(device), data.train_labels.to(device)
        starts = iter(range(0, 10**9, batch_size))

        def step() -> None:
            first = next(starts) % max(1, n - batch_size)
            X = images[first:first + batch_size].contiguous(memory_format=memory_format)
            loss = F.cross_entropy(model(X), labels[first:first + batch_size])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        step(), step()
        timer = benchmark.Timer(stmt="step()", globals={"step": step}, num_threads=torch.get_num_threads())
        return timer.timeit(steps).mean / batch_size * n


# The book's recipe for `lenet(batch_norm=True)` on MNIST, as `fit` arguments: one epoch of its own one-cycle
# schedule reaches 99 %, and a warm restart of three more epochs at a lower peak goes on from there. Chapter 7 explains
# each entry; Appendix B measures what each buys.
RECIPE = dict(epochs=4, cycles=[1, 3], lr=[0.8, 0.2], warmup=0.2, batch_size=128, momentum=0.9, nesterov=True,
              weight_decay=5e-4, one_cycle=True, label_smoothing=0.1, max_shift=1, channels_last=True)


def fit(model: nn.Module, data, epochs: int = 5, batch_size: int = 128, lr: Union[float, Sequence[float]] = 0.1,
        momentum: float = 0.9, weight_decay: float = 5e-4, one_cycle: bool = True, warmup: float = 0.3,
        cycles: Optional[Sequence[int]] = None, seed: int = 0, device: Optional[Device] = None,
        progress: bool = False, plot: Optional[bool] = None, verbose: bool = True, updates_per_epoch: int = 4,
        nesterov: bool = False, label_smoothing: float = 0.0, max_shift: int = 0, channels_last: bool = False,
        evaluate_from: int = 1, threads: Optional[int] = None, average: float = 0.0,
        compare_latest: bool = False) -> History:
    """Train `model` on `data` (an `book.data.MNIST`-like object) with SGD, reporting test accuracy per epoch.

    The model is re-initialised from `seed` first (as d2l's `train_ch6` re-initialises its weights), so the same
    arguments give the same run on the same machine; the seeding happens inside `torch.random.fork_rng`, so the
    caller's global random state is left as it was. `one_cycle=True` uses `torch.optim.lr_scheduler.OneCycleLR`
    with its defaults but one: the learning rate rises from `lr / 25` to `lr` over the first `warmup` share of the
    steps (OneCycleLR's `pct_start`, 0.3 by default) and anneals to nearly zero by cosine over the rest, while the
    momentum cycles the other way, 0.95 down to 0.85 and back (so `momentum` is overridden); False keeps `lr` and
    `momentum` constant, as the source notes do. `cycles`
    splits the epochs into several one-cycle schedules run one after another, each restarting from the weights the
    last one left (a warm restart), with `lr` then giving each its peak: `cycles=(1, 3), lr=(0.8, 0.2)` is one
    epoch up to 0.8 and down, then three epochs up to 0.2 and down.
    `label_smoothing` is `F.cross_entropy`'s; `max_shift` moves each training image by up to that many pixels
    (`random_shift`); `channels_last` stores the model's weights and activations pixel-major
    (`torch.channels_last`), the layout the CPU's convolution kernels prefer. Test accuracy is measured on the whole
    test set after every epoch from `evaluate_from` (1-based; the last epoch always), and is None for the epochs
    before. `average` (a decay such as 0.99; 0 turns it off) keeps an exponential moving average of the weights over
    the steps, and that average is what gets evaluated and left in `model` at the end: the late, noisy steps of a
    high learning rate cancel out in it; `compare_latest=True` also evaluates the latest weights each time, into
    `History.latest_test_acc`, to show what the average buys (same run, one more evaluation). `threads` sets
    `torch.set_num_threads` for the run only (None leaves it). `plot` (default: only inside Jupyter) draws live
    learning curves, `progress` shows a tqdm bar and `verbose` prints one line per epoch.
    """
    from tqdm.auto import tqdm

    _check_fit_arguments(model, data, epochs, evaluate_from, label_smoothing, warmup, average, compare_latest)
    schedules = _schedules(epochs, lr, cycles, one_cycle)
    device = torch.device(device) if device is not None else default_device()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    with torch.random.fork_rng(devices=[]), num_threads(threads):
        torch.manual_seed(seed)
        _reset_parameters(model.cpu())  # on the CPU, so the CPU generator seeded above draws the weights
        model.to(device=device, memory_format=memory_format)
        train_images, train_labels = data.train_images.to(device), data.train_labels.to(device)
        test_images, test_labels = data.test_images.to(device), data.test_labels.to(device)
        steps_per_epoch = -(-len(train_labels) // batch_size)
        optimizer = torch.optim.SGD(model.parameters(), lr=schedules[1][1], momentum=momentum,
                                    weight_decay=weight_decay, nesterov=nesterov)
        scheduler = None
        generator = torch.Generator().manual_seed(seed)
        averaged = weight_average(model, average) if average else None
        animator = Animator(epochs) if (_in_notebook() if plot is None else plot) else None
        history = History(device=str(device))
        bar = tqdm(total=epochs * steps_per_epoch, desc=f"training on {device}", unit="batch", disable=not progress,
                   leave=True)
        redraw_every = max(1, steps_per_epoch // max(1, updates_per_epoch))

        def after_step(epoch: int, step: int, loss_sum: torch.Tensor, correct: torch.Tensor, seen: int) -> None:
            bar.update()
            if animator is not None and (step % redraw_every == 0 and step < steps_per_epoch):
                animator.add(epoch - 1 + step / steps_per_epoch, train_loss=float(loss_sum / seen),
                             train_acc=float(correct / seen))

        start, cpu_start = time.perf_counter(), time.process_time()
        for epoch in range(1, epochs + 1):
            if one_cycle and epoch in schedules:
                cycle_epochs, peak = schedules[epoch]
                scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak, pct_start=warmup,
                                                                total_steps=cycle_epochs * steps_per_epoch)
            loss, accuracy = train_epoch(model, train_images, train_labels, optimizer, batch_size, generator,
                                         scheduler=scheduler, averaged=averaged, label_smoothing=label_smoothing,
                                         max_shift=max_shift, memory_format=memory_format,
                                         after_step=functools.partial(after_step, epoch))
            history.train_loss.append(loss)
            history.train_acc.append(accuracy)
            tested = epoch >= evaluate_from or epoch == epochs
            _test_epoch(model, averaged, test_images, test_labels, history, tested, compare_latest)
            history.seconds.append(time.perf_counter() - start)
            history.cpu_seconds.append(time.process_time() - cpu_start)
            _report_epoch(history, epoch, tested, bar if verbose else None, animator)
        bar.close()
        if averaged is not None:
            model.load_state_dict(averaged.module.state_dict())
    return history


def train_epoch(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, optimizer: torch.optim.Optimizer,
                batch_size: int, generator: torch.Generator, scheduler=None, averaged=None,
                label_smoothing: float = 0.0, max_shift: int = 0, memory_format=torch.contiguous_format,
                after_step=None) -> Tuple[float, float]:
    """One pass over the training set in shuffled mini-batches, the loop `fit` runs every epoch: (mean loss, accuracy)
    on the batches as they were trained. `after_step(step, loss_sum, correct, seen)` is called after each step."""
    model.train()
    loss_sum = correct = seen = 0.0
    for step, (X, y) in enumerate(batches(images, labels, batch_size, generator), start=1):
        X = random_shift(X, max_shift, generator).contiguous(memory_format=memory_format)
        logits = model(X)
        loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if averaged is not None:
            averaged.update_parameters(model)
        # .item() would wait for the device after every batch; accumulate tensors and read them per epoch
        loss_sum += loss.detach() * len(y)
        correct += (logits.argmax(dim=1) == y).sum()
        seen += len(y)
        if after_step is not None:
            after_step(step, loss_sum, correct, seen)
    return float(loss_sum / seen), float(correct / seen)


def _schedules(epochs: int, lr: Union[float, Sequence[float]], cycles: Optional[Sequence[int]],
               one_cycle: bool) -> dict:
    """{first epoch of each learning-rate schedule: (its epochs, its peak learning rate)}, or a one-line error."""
    peaks = [lr] if isinstance(lr, (int, float)) else list(lr) if isinstance(lr, (list, tuple)) else None
    if peaks is None or any(isinstance(peak, bool) or not isinstance(peak, (int, float)) for peak in peaks):
        raise TypeError(f"lr must be a number, or a list or tuple of numbers (one per cycle), got {lr!r}")
    if cycles is None:
        if len(peaks) != 1:
            raise ValueError(f"lr gives {len(peaks)} learning rates; give one, or one per cycle with cycles=")
        return {1: (epochs, float(peaks[0]))}
    cycles = list(cycles)
    if not one_cycle:
        raise ValueError("cycles splits the epochs into one-cycle schedules: it needs one_cycle=True")
    if not cycles or any(not isinstance(n, int) or n <= 0 for n in cycles) or sum(cycles) != epochs:
        raise ValueError(f"cycles must be positive epoch counts that add up to epochs={epochs}, got {cycles}")
    if len(peaks) not in (1, len(cycles)):
        raise ValueError(f"lr gives {len(peaks)} learning rates for {len(cycles)} cycles: give one, or one per cycle")
    peaks = peaks * len(cycles) if len(peaks) == 1 else peaks
    starts = itertools.accumulate([1] + cycles[:-1])
    return {start: (n, float(peak)) for start, n, peak in zip(starts, cycles, peaks)}


def _check_fit_arguments(model: nn.Module, data, epochs: int, evaluate_from: int, label_smoothing: float,
                         warmup: float, average: float, compare_latest: bool) -> None:
    """`fit`'s refusals, one line each, with the exception torch raises for the same kind of mistake."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"fit() expects an nn.Module to train, got {type(model).__name__}")
    missing = [name for name in ("train_images", "train_labels", "test_images", "test_labels")
               if not isinstance(getattr(data, name, None), torch.Tensor)]
    if missing:
        raise TypeError(f"fit() expects data with tensors {', '.join(missing)} (e.g. book.data.load_mnist()), "
                        f"got {type(data).__name__}")
    if epochs <= 0:
        raise ValueError(f"epochs must be positive, got {epochs}")
    if not 1 <= evaluate_from <= epochs:
        raise ValueError(f"evaluate_from must be an epoch between 1 and {epochs}, got {evaluate_from}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    if not 0.0 < warmup < 1.0:
        raise ValueError(f"warmup must be a share of the steps in (0, 1), got {warmup}")
    if not 0.0 <= average < 1.0:
        raise ValueError(f"average must be a decay in [0, 1), 0 for none, got {average}")
    if compare_latest and not average:
        raise ValueError("compare_latest compares the latest weights with their average: give average a decay too")


def _test_epoch(model: nn.Module, averaged, images: torch.Tensor, labels: torch.Tensor, history: "History",
                tested: bool, compare_latest: bool) -> None:
    """Test accuracy after an epoch (None where not measured), of the weight average when there is one."""
    if not tested:
        history.test_acc.append(None)
    elif averaged is None:
        history.test_acc.append(evaluate(model, images, labels))
    else:
        if compare_latest:
            history.latest_test_acc.append(evaluate(model, images, labels))
        history.test_acc.append(evaluate(averaged.module, images, labels))


def _report_epoch(history: "History", epoch: int, tested: bool, bar, animator) -> None:
    """One line per epoch (through the progress bar, `bar`, when given) and the live curves' epoch point."""
    if bar is not None:
        test = "not measured" if not tested else f"{history.test_acc[-1]:.4f}"
        bar.write(f"epoch {epoch}: train loss {history.train_loss[-1]:.4f}, train acc "
                  f"{history.train_acc[-1]:.4f}, test acc {test} ({history.seconds[-1]:.1f} s)")
    if animator is not None:
        animator.add(epoch, train_loss=history.train_loss[-1], train_acc=history.train_acc[-1],
                     **({"test_acc": history.test_acc[-1]} if tested else {}))

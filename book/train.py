"""Train small image classifiers on in-memory tensors: the book's models, `fit`, and a live learning-curve plot.

`fit` follows d2l's `train_ch6` (one loop: shuffle, forward, loss, backward, step; test accuracy after each epoch)
with three changes that make LeNet on MNIST fast on a laptop CPU: the whole data set lives in one tensor, so a batch
is an index into it rather than 64 decoded PIL images; the learning rate follows a one-cycle schedule; and the run is
seeded, so the same call gives the same numbers.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from book._ipython import in_kernel

__all__ = ["default_device", "lenet", "net2", "mlp", "History", "Animator", "batches", "evaluate", "predict", "fit"]

Device = Union[str, torch.device]


def default_device() -> torch.device:
    """The fastest device present: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def lenet(classic: bool = False) -> nn.Sequential:
    """LeNet-5 for 28x28 digits: two 5x5 convolutions with pooling, then three dense layers (61,706 parameters).

    The default is the modern form (ReLU, max pooling); `classic=True` gives the 1998 form as d2l writes it
    (sigmoid, average pooling). The first convolution pads by 2 so 28x28 inputs see the 32x32 field LeCun used.
    """
    activation, pool = (nn.Sigmoid, nn.AvgPool2d) if classic else (nn.ReLU, nn.MaxPool2d)
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), activation(), pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), activation(), pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), activation(),
        nn.Linear(120, 84), activation(),
        nn.Linear(84, 10))


def net2() -> nn.Sequential:
    """The source notes' `Net2`: conv 1->10 (5x5), max pool, ReLU, conv 10->20 (5x5), max pool, ReLU, dense 320->10."""
    return nn.Sequential(
        nn.Conv2d(1, 10, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(10, 20, kernel_size=5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(320, 10))


def mlp() -> nn.Sequential:
    """The source notes' fully connected baseline: 784 -> 512 -> 256 -> 128 -> 64 -> 10 with ReLU."""
    widths = [28 * 28, 512, 256, 128, 64]
    layers: List[nn.Module] = [nn.Flatten()]
    for n_in, n_out in zip(widths, widths[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], 10))


@dataclass
class History:
    """What `fit` measured, one entry per epoch; `seconds` is wall time since the start of `fit`, evaluation included."""
    device: str
    train_loss: List[float] = field(default_factory=list)
    train_acc: List[float] = field(default_factory=list)
    test_acc: List[float] = field(default_factory=list)
    seconds: List[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.test_acc)

    def seconds_to(self, accuracy: float) -> Optional[float]:
        """Wall time until test accuracy first reached `accuracy` at the end of an epoch; None if it never did."""
        return next((s for a, s in zip(self.test_acc, self.seconds) if a >= accuracy), None)

    def __str__(self) -> str:
        if not self.epochs:
            return f"History(no epochs, device {self.device})"
        return (f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.4f}, test acc {self.test_acc[-1]:.4f}"
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


def _reset_parameters(model: nn.Module) -> None:
    for module in model.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()


def fit(model: nn.Module, data, epochs: int = 5, batch_size: int = 128, lr: float = 0.1, momentum: float = 0.9,
        weight_decay: float = 5e-4, one_cycle: bool = True, seed: int = 0, device: Optional[Device] = None,
        progress: Optional[bool] = None, plot: Optional[bool] = None, verbose: bool = True,
        updates_per_epoch: int = 4) -> History:
    """Train `model` on `data` (an `book.data.MNIST`-like object) with SGD, reporting accuracy after every epoch.

    The model is re-initialised from `seed` first (as d2l's `train_ch6` re-initialises its weights), so the same
    arguments give the same run on the same machine. `one_cycle=True` warms the learning rate up to `lr` and anneals
    it to nearly zero over the run (`torch.optim.lr_scheduler.OneCycleLR`); False keeps `lr` constant, as the
    source notes do. `plot` (default: only inside Jupyter) draws live learning curves, `progress` shows a tqdm bar and
    `verbose` prints one line per epoch. The bar is off by default while the static site is built (`make book` sets
    BOOK_STATIC_SITE): a page without a kernel could only show it frozen at 0 %.
    """
    from tqdm.auto import tqdm

    if epochs <= 0:
        raise ValueError(f"epochs must be positive, got {epochs}")
    device = torch.device(device) if device is not None else default_device()
    torch.manual_seed(seed)
    _reset_parameters(model)
    model.to(device)
    train_images, train_labels = data.train_images.to(device), data.train_labels.to(device)
    test_images, test_labels = data.test_images.to(device), data.test_labels.to(device)
    steps_per_epoch = -(-len(train_labels) // batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
                 if one_cycle else None)
    shuffle = torch.Generator().manual_seed(seed)
    animator = Animator(epochs) if (_in_notebook() if plot is None else plot) else None
    history = History(device=str(device))
    if progress is None:
        progress = not os.environ.get("BOOK_STATIC_SITE")
    bar = tqdm(total=epochs * steps_per_epoch, desc=f"training on {device}", unit="batch", disable=not progress,
               leave=True)
    redraw_every = max(1, steps_per_epoch // max(1, updates_per_epoch))
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        loss_sum = correct = seen = 0.0
        for step, (X, y) in enumerate(batches(train_images, train_labels, batch_size, shuffle), start=1):
            logits = model(X)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            # .item() would wait for the device after every batch; accumulate tensors and read them per epoch
            loss_sum += loss.detach() * len(y)
            correct += (logits.argmax(dim=1) == y).sum()
            seen += len(y)
            bar.update()
            if animator is not None and (step % redraw_every == 0 and step < steps_per_epoch):
                animator.add(epoch + step / steps_per_epoch, train_loss=float(loss_sum / seen),
                             train_acc=float(correct / seen))
        history.train_loss.append(float(loss_sum / seen))
        history.train_acc.append(float(correct / seen))
        history.test_acc.append(evaluate(model, test_images, test_labels))
        history.seconds.append(time.perf_counter() - start)
        if verbose:
            bar.write(f"epoch {epoch + 1}: train loss {history.train_loss[-1]:.4f}, train acc "
                      f"{history.train_acc[-1]:.4f}, test acc {history.test_acc[-1]:.4f} ({history.seconds[-1]:.1f} s)")
        if animator is not None:
            animator.add(epoch + 1, train_loss=history.train_loss[-1], train_acc=history.train_acc[-1],
                         test_acc=history.test_acc[-1])
    bar.close()
    return history


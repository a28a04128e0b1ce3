"""`python -m book.bench lenet`: the book's LeNet recipe against the source notes' recipe, in one run.

(a) the book: `book.train.lenet()` trained by `book.train.fit` on in-memory tensors from `book.data.load_mnist`
    (batch 128, SGD with momentum 0.9 and a one-cycle learning rate);
(b) the source notes: `Net2` trained by a plain loop over `torchvision.datasets.MNIST` through a `DataLoader` with
    `ToTensor` + `Normalize` (batch 64, SGD lr 0.01, momentum 0.5, constant).

Both are evaluated on the 10,000 test images after every epoch. Both clocks start before the data is loaded and
include that loading and every evaluation, so "seconds to 99 %" is what a reader waits for. The ratio of the two
times is the figure to compare across machines; the absolute seconds depend on the machine and on its load.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import List, Optional

import torch
import torch.nn.functional as F

from book import data as book_data
from book import train

TARGET = 0.99


def _book_recipe(args) -> dict:
    start = time.perf_counter()
    mnist = book_data.load_mnist()
    if args.quick:
        mnist = mnist.subset(train=args.quick_train, test=args.quick_test)
    load_seconds = time.perf_counter() - start
    print(f"book recipe: LeNet, in-memory batches of 128, one-cycle SGD, {args.epochs} epochs", flush=True)
    history = train.fit(train.lenet(), mnist, epochs=args.epochs, seed=args.seed, device=args.device,
                        progress=False, plot=False, verbose=True)
    to_target = history.seconds_to(TARGET)
    return {"test_acc": history.test_acc, "seconds": [load_seconds + s for s in history.seconds],
            "seconds_to_99": None if to_target is None else load_seconds + to_target}


def _seed_recipe(args, device: torch.device) -> dict:
    """The source notes' training script, kept as they wrote it apart from timing and per-epoch evaluation."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    start = time.perf_counter()
    torch.manual_seed(args.seed)
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((book_data.MNIST_MEAN,), (book_data.MNIST_STD,))])
    root = str(book_data.data_root())
    train_set = datasets.MNIST(root=root, train=True, download=False, transform=transform)
    test_set = datasets.MNIST(root=root, train=False, download=False, transform=transform)
    if args.quick:
        train_set, test_set = Subset(train_set, range(args.quick_train)), Subset(test_set, range(args.quick_test))
    train_loader = DataLoader(train_set, shuffle=True, batch_size=64)
    test_loader = DataLoader(test_set, shuffle=False, batch_size=64)
    print(f"seed recipe: Net2, DataLoader batches of 64, SGD 0.01/0.5, up to {args.baseline_epochs} epochs", flush=True)
    model = train.net2().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    accuracies, seconds = [], []
    for _ in range(args.baseline_epochs):
        model.train()
        for inputs, target in train_loader:
            inputs, target = inputs.to(device), target.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(inputs), target)
            loss.backward()
            optimizer.step()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for inputs, labels in test_loader:
                predicted = model(inputs.to(device)).argmax(dim=1).cpu()
                correct += (predicted == labels).sum().item()
                total += labels.size(0)
        accuracies.append(correct / total)
        seconds.append(time.perf_counter() - start)
        print(f"seed recipe epoch {len(accuracies)}: test acc {accuracies[-1]:.4f} ({seconds[-1]:.1f} s)", flush=True)
    to_target = next((s for a, s in zip(accuracies, seconds) if a >= TARGET), None)
    return {"test_acc": accuracies, "seconds": seconds, "seconds_to_99": to_target}


def _curve(result: dict) -> str:
    return ", ".join(f"{a:.4f}@{s:.0f}s" for a, s in zip(result["test_acc"], result["seconds"]))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.bench lenet", description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="cpu, cuda, mps (default: book.train.default_device())")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the book's recipe (default 5)")
    parser.add_argument("--baseline-epochs", type=int, default=15,
                        help="epoch cap of the source notes' recipe (default 15)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test on 10,000 training and 2,000 test images: 2 epochs of ours, 1 of the notes'")
    args = parser.parse_args(argv)
    if args.epochs <= 0 or args.baseline_epochs <= 0:
        parser.error("--epochs and --baseline-epochs must be positive")
    if args.quick:
        args.epochs, args.baseline_epochs, args.quick_train, args.quick_test = 2, 1, 10000, 2000
    device = torch.device(args.device) if args.device else train.default_device()
    args.device = device
    book_data.fetch(quiet=True)

    ours = _book_recipe(args)
    seed = _seed_recipe(args, device)
    baseline_time = seed["seconds_to_99"] if seed["seconds_to_99"] is not None else seed["seconds"][-1]
    speedup = None if ours["seconds_to_99"] is None else baseline_time / ours["seconds_to_99"]

    print(f"LeNet on MNIST on {device} with {torch.get_num_threads()} threads; clocks include data loading and a "
          f"test-set evaluation after every epoch, for both recipes")
    print(f"  book recipe  (LeNet, in-memory, one-cycle, {args.epochs} epochs): test acc {ours['test_acc'][-1]:.4f} "
          f"in {ours['seconds'][-1]:.1f} s; per epoch {_curve(ours)}")
    print(f"  seed recipe  (Net2, DataLoader, SGD 0.01/0.5, cap {args.baseline_epochs} epochs): test acc "
          f"{seed['test_acc'][-1]:.4f} in {seed['seconds'][-1]:.1f} s; per epoch {_curve(seed)}")
    def reached(result: dict) -> str:
        seconds = result["seconds_to_99"]
        return "never reached 99 %" if seconds is None else f"reached 99 % after {seconds:.1f} s"

    print(f"  book recipe {reached(ours)}; seed recipe {reached(seed)}"
          + (" within its cap (so its whole run is the numerator)" if seed["seconds_to_99"] is None else "")
          + ("" if speedup is None else f": the book's recipe is {speedup:.1f}x faster to 99 %"))
    summary = {
        "device": str(device), "threads": torch.get_num_threads(), "quick": args.quick,
        "timing": "wall clock from before loading the data, evaluation after every epoch included, both recipes",
        "epochs": args.epochs, "test_acc": ours["test_acc"][-1], "seconds": ours["seconds"][-1],
        "seconds_to_99": ours["seconds_to_99"],
        "baseline_epochs": args.baseline_epochs, "baseline_test_acc": seed["test_acc"][-1],
        "baseline_seconds": seed["seconds"][-1], "baseline_seconds_to_99": seed["seconds_to_99"],
        "speedup_to_99": speedup,
        "test_acc_per_epoch": ours["test_acc"], "baseline_test_acc_per_epoch": seed["test_acc"],
    }
    print(json.dumps(summary))
    return 0

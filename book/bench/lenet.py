"""`python -m book.bench lenet`: the book's LeNet recipe against two reference recipes, in one run.

(a) the book: `book.train.lenet(batch_norm=True)` (`MODEL`) trained by `book.train.fit(**book.train.RECIPE)` on
    in-memory tensors from `book.data.load_mnist`, once per seed (`--seeds`);
(b) the source notes: `Net2` trained by a plain loop over `torchvision.datasets.MNIST` through a `DataLoader` with
    `ToTensor` + `Normalize` (batch 64, SGD lr 0.01, momentum 0.5, constant), test accuracy after every epoch;
(c) PyTorch's own MNIST example (github.com/pytorch/examples, mnist/main.py): its `Net` (conv 1->32 and 32->64,
    3x3, max pool, dropout, dense 9216->128->10, log-softmax), Adadelta lr 1.0 with StepLR gamma 0.7 per epoch,
    batch 64 through a `DataLoader`, the same normalisation, test accuracy after every epoch.

Every clock starts before the data is loaded and includes that loading and every evaluation that decides whether
99 % test accuracy was reached, so "seconds to 99 %" is what a reader waits for. A reference stops at the end of the
first epoch that reaches 99 % (nothing after it changes its time to 99 %) or at its epoch cap; one that never gets
there is charged its whole run, a lower bound on its time. References run once, with the first seed. The ratios of
the times are the figures to compare across machines; the absolute seconds depend on the machine and on its load.
"""
from __future__ import annotations

import argparse
import functools
import importlib.resources as resources
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from book import data as book_data
from book import train

TARGET = 0.99
# The network the book's recipe trains (chapter 7's), and its name in the record.
MODEL, MODEL_NAME = functools.partial(train.lenet, batch_norm=True), "lenet(batch_norm=True)"
QUICK_TRAIN, QUICK_TEST = 10_000, 2_000
# Package data, read through importlib.resources so the pages that read them (chapter 7, Appendix B) find them in an
# installed wheel as in the checkout.
RECORDS = resources.files("book.bench") / "records"
RECORD = RECORDS / "lenet.json"
# `--ablation`: the recipe without its two regularisers, which only whole runs over several seeds can measure.
ABLATION = {"label_smoothing": 0.0, "max_shift": 0}
ABLATION_RECORD = RECORDS / "lenet_ablation.json"


def load_record(path: Union[str, os.PathLike, resources.abc.Traversable, None] = None) -> dict:
    """The saved result of a full run (`--save`), which the book reads instead of training four seeds itself:
    `RECORD` in chapter 7 and Appendix B, `ABLATION_RECORD` (the run with `--ablation`) in Appendix B."""
    path = RECORD if path is None else Path(path) if isinstance(path, (str, os.PathLike)) else path
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m book.bench lenet --seeds 0 1 2 3 --save {path}`")
    record = json.loads(path.read_text())
    missing = {"summary", "machine", "curves"} - record.keys()
    if missing:
        raise ValueError(f"{path} is not a benchmark record (it lacks {sorted(missing)}); write it again with --save")
    return record


class PytorchExampleNet(nn.Module):
    """The `Net` of PyTorch's MNIST example, layer for layer (1,199,882 parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = self.dropout2(F.relu(self.fc1(torch.flatten(x, 1))))
        return F.log_softmax(self.fc2(x), dim=1)


@dataclass
class Curve:
    """Test accuracy of one run against wall-clock seconds since before its data was loaded.

    `counted` marks the measurements the recipe itself makes (their time is on the clock); the one that ends a run
    stopped by its time limit is taken with the clock stopped, and does not count towards reaching 99 %.
    """
    name: str
    epochs: List[float] = field(default_factory=list)
    seconds: List[float] = field(default_factory=list)
    test_acc: List[float] = field(default_factory=list)
    counted: List[bool] = field(default_factory=list)
    cpu_seconds: List[float] = field(default_factory=list)
    stopped: str = ""
    train_acc: Optional[float] = None   # the last epoch's training accuracy (the book's recipe only)

    def add(self, epoch: float, seconds: float, accuracy: float, counted: bool = True,
            cpu_seconds: float = float("nan")) -> None:
        self.epochs.append(epoch)
        self.seconds.append(seconds)
        self.test_acc.append(accuracy)
        self.counted.append(counted)
        self.cpu_seconds.append(cpu_seconds)

    def _first_99(self) -> Optional[int]:
        return next((i for i, (a, c) in enumerate(zip(self.test_acc, self.counted)) if c and a >= TARGET), None)

    @property
    def seconds_to_99(self) -> Optional[float]:
        first = self._first_99()
        return None if first is None else self.seconds[first]

    @property
    def charged_seconds(self) -> float:
        """Seconds to 99 %, or the whole run (a lower bound) when it never got there."""
        return self.seconds_to_99 if self.seconds_to_99 is not None else self.seconds[-1]

    @property
    def charged_cpu_seconds(self) -> float:
        """The same in processor seconds (`time.process_time`), steadier than the wall clock on a busy machine."""
        first = self._first_99()
        return self.cpu_seconds[-1 if first is None else first]


class Stopwatch:
    """Wall-clock seconds since it was made, minus the time spent inside `paused()` blocks."""

    def __init__(self) -> None:
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        self.excluded = self.cpu_excluded = 0.0

    def __call__(self) -> float:
        return time.perf_counter() - self.start - self.excluded

    def cpu(self) -> float:
        """Processor seconds this process used since the start, paused blocks left out."""
        return time.process_time() - self.cpu_start - self.cpu_excluded

    def pause(self) -> Callable[[], None]:
        began, cpu_began = time.perf_counter(), time.process_time()

        def resume() -> None:
            self.excluded += time.perf_counter() - began
            self.cpu_excluded += time.process_time() - cpu_began
        return resume


def book_recipe(seed: int = 0, device: Optional[torch.device] = None, quick: bool = False,
                threads: Optional[int] = None, verbose: bool = True, **changes) -> Curve:
    """The book's recipe for one seed, clock from before `load_mnist`; `changes` override `train.RECIPE` entries."""
    clock = Stopwatch()
    mnist = book_data.load_mnist()
    if quick:
        mnist = mnist.subset(train=QUICK_TRAIN, test=QUICK_TEST)
    recipe = {**train.RECIPE, **changes}
    if quick:
        recipe.update(epochs=2, cycles=[1, 1], evaluate_from=1)
    load_seconds, load_cpu = clock(), clock.cpu()
    history = train.fit(MODEL(), mnist, seed=seed, device=device, threads=threads, progress=False, plot=False,
                        verbose=verbose, **recipe)
    curve = Curve(f"book recipe, seed {seed}")
    for epoch, (accuracy, seconds, cpu) in enumerate(zip(history.test_acc, history.seconds, history.cpu_seconds),
                                                     start=1):
        if accuracy is not None:
            curve.add(epoch, load_seconds + seconds, accuracy, cpu_seconds=load_cpu + cpu)
    curve.stopped = f"{history.epochs} epochs"
    curve.train_acc = history.train_acc[-1]
    return curve


def _loaders(batch_size: int, test_batch_size: int, quick: bool):
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((book_data.MNIST_MEAN,), (book_data.MNIST_STD,))])
    root = str(book_data.data_root())
    train_set = datasets.MNIST(root=root, train=True, download=False, transform=transform)
    test_set = datasets.MNIST(root=root, train=False, download=False, transform=transform)
    if quick:
        train_set, test_set = Subset(train_set, range(QUICK_TRAIN)), Subset(test_set, range(QUICK_TEST))
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True),
            DataLoader(test_set, batch_size=test_batch_size, shuffle=False))


@torch.no_grad()
def _loader_accuracy(model: nn.Module, loader, device: torch.device) -> float:
    model.eval()
    correct = total = 0
    for inputs, labels in loader:
        correct += (model(inputs.to(device)).argmax(dim=1).cpu() == labels).sum().item()
        total += labels.size(0)
    return correct / total


def _reference(name: str, make_model: Callable[[], nn.Module], make_optimizer, make_scheduler, loss_fn,
               batch_size: int, test_batch_size: int, seed: int, device: torch.device, max_epochs: int,
               quick: bool, time_limit: Optional[float], threads: Optional[int], verbose: bool) -> Curve:
    """A reference script's loop: train an epoch, test, repeat; stops at 99 %, at `max_epochs` or at `time_limit`.

    A run stopped by `time_limit` (seconds, checked after every batch) ends with a test on the whole test set,
    measured with the clock stopped and not counted towards reaching 99 %.
    """
    curve = Curve(name)
    with torch.random.fork_rng(devices=[]), train.num_threads(threads):
        clock = Stopwatch()
        torch.manual_seed(seed)
        train_loader, test_loader = _loaders(batch_size, test_batch_size, quick)
        model = make_model().to(device)
        optimizer = make_optimizer(model)
        scheduler = make_scheduler(optimizer)
        steps = len(train_loader)
        for epoch in range(1, max_epochs + 1):
            model.train()
            for step, (inputs, target) in enumerate(train_loader, start=1):
                inputs, target = inputs.to(device), target.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(inputs), target)
                loss.backward()
                optimizer.step()
                if time_limit is not None and clock() >= time_limit:
                    now, cpu, resume = clock(), clock.cpu(), clock.pause()  # read before pausing: monotonic
                    curve.add(epoch - 1 + step / steps, now, _loader_accuracy(model, test_loader, device), False, cpu)
                    resume()
                    curve.stopped = f"time limit {time_limit:.0f} s, in epoch {epoch}"
                    return curve
            if scheduler is not None:
                scheduler.step()
            accuracy = _loader_accuracy(model, test_loader, device)
            curve.add(epoch, clock(), accuracy, cpu_seconds=clock.cpu())  # after the evaluation: its time counts
            if verbose:
                print(f"{name} epoch {epoch}: test acc {curve.test_acc[-1]:.4f} ({curve.seconds[-1]:.1f} s)",
                      flush=True)
            if curve.test_acc[-1] >= TARGET:
                curve.stopped = f"reached 99 % in epoch {epoch}"
                return curve
    curve.stopped = f"epoch cap {max_epochs}, never reached 99 %"
    return curve


def notes_recipe(seed: int = 0, device: Optional[torch.device] = None, max_epochs: int = 15, quick: bool = False,
                 time_limit: Optional[float] = None, threads: Optional[int] = None, verbose: bool = True) -> Curve:
    """The source notes' script: Net2, `DataLoader` batches of 64, SGD lr 0.01 momentum 0.5, constant."""
    return _reference("notes' Net2 recipe", train.net2,
                      lambda model: torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5),
                      lambda optimizer: None, F.cross_entropy, 64, 64, seed, device or train.default_device(),
                      max_epochs, quick, time_limit, threads, verbose)


def pytorch_example_recipe(seed: int = 0, device: Optional[torch.device] = None, max_epochs: int = 14,
                           quick: bool = False, time_limit: Optional[float] = None,
                           threads: Optional[int] = None, verbose: bool = True) -> Curve:
    """PyTorch's MNIST example: its `Net`, Adadelta lr 1.0, StepLR(step_size=1, gamma=0.7), batches of 64."""
    return _reference("PyTorch example recipe", PytorchExampleNet,
                      lambda model: torch.optim.Adadelta(model.parameters(), lr=1.0),
                      lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7),
                      F.nll_loss, 64, 1000, seed, device or train.default_device(), max_epochs, quick, time_limit,
                      threads, verbose)


def _curve(curve: Curve) -> str:
    return ", ".join(f"{a:.4f}@{s:.0f}s" for a, s, c in zip(curve.test_acc, curve.seconds, curve.counted) if c)


def _reached(curve: Curve) -> str:
    if curve.seconds_to_99 is None:
        return f"never reached 99 % ({curve.stopped}: its whole {curve.seconds[-1]:.1f} s, a lower bound, counts)"
    return f"reached 99 % after {curve.seconds_to_99:.1f} s"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m book.bench lenet", description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="cpu, cuda, mps (default: book.train.default_device())")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of the book's recipe (default 0)")
    parser.add_argument("--baseline-epochs", type=int, default=15,
                        help="epoch cap of the source notes' recipe (default 15)")
    parser.add_argument("--pytorch-epochs", type=int, default=14,
                        help="epoch cap of PyTorch's example (default 14, its own)")
    parser.add_argument("--threads", type=int,
                        help="torch threads for every recipe (default: book.train.free_cpu_threads() at the start)")
    parser.add_argument("--no-references", action="store_true", help="run only the book's recipe")
    parser.add_argument("--ablation", action="store_true",
                        help=f"also train each seed without label smoothing and random shifts ({ABLATION})")
    parser.add_argument("--reference-cap", type=float, metavar="SECONDS",
                        help="also stop each reference after this many wall-clock seconds (default: only its epoch "
                             "cap); one stopped short of 99 %% is charged the seconds it ran, a lower bound")
    parser.add_argument("--jobs", type=int, default=1,
                        help="recipes run side by side in this many processes (default 1, one after another: the "
                             "right choice on an idle machine; on one shared with other work, side by side gives "
                             "each recipe the same share of the CPU, and the CPU-time figures stay comparable)")
    parser.add_argument("--save", metavar="PATH",
                        help="also write the summary, every curve and the machine to PATH as JSON (the records "
                             "the book reads: book/bench/records/lenet.json, in chapter 7 and Appendix B; "
                             "with --ablation, lenet_ablation.json, in Appendix B)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke test on {QUICK_TRAIN:,} training and {QUICK_TEST:,} test images: 2 epochs "
                             "of ours, 1 of each reference")
    return parser


def _arguments(argv: Optional[List[str]]) -> argparse.Namespace:
    """The command line, checked: a bad value is the parser's one-line error (exit status 2)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.baseline_epochs <= 0 or args.pytorch_epochs <= 0:
        parser.error("--baseline-epochs and --pytorch-epochs must be positive")
    if args.threads is not None and args.threads <= 0:
        parser.error("--threads must be positive")
    if args.jobs <= 0:
        parser.error("--jobs must be positive")
    if args.reference_cap is not None and args.reference_cap <= 0:
        parser.error("--reference-cap must be positive")
    if args.quick:
        args.baseline_epochs = args.pytorch_epochs = 1
    return args


@dataclass
class Results:
    """The curves of one benchmark run: the book's recipe by seed, the ablation by seed, the references by name."""
    ours: dict
    plain: dict
    references: dict

    @property
    def median_to_99(self) -> Optional[float]:
        to_99 = [curve.seconds_to_99 for curve in self.ours.values()]
        return statistics.median(to_99) if None not in to_99 else None

    @property
    def median_cpu_to_99(self) -> Optional[float]:
        if self.median_to_99 is None:
            return None
        return statistics.median(curve.charged_cpu_seconds for curve in self.ours.values())

    def speedup(self, reference: str, cpu: bool = False) -> Optional[float]:
        """How many times longer the reference took to 99 % than the median seed of the book's recipe."""
        if reference not in self.references or self.median_to_99 is None:
            return None
        if cpu:
            return self.references[reference].charged_cpu_seconds / self.median_cpu_to_99
        return self.references[reference].charged_seconds / self.median_to_99


def _run_all(args: argparse.Namespace, device: torch.device, threads: int) -> Results:
    """Every recipe the arguments ask for, one after another or in `--jobs` processes."""
    runs = [("book", seed, book_recipe, dict(seed=seed, device=device, quick=args.quick, threads=threads))
            for seed in args.seeds]
    if args.ablation:
        runs += [("plain", seed, book_recipe, dict(seed=seed, device=device, quick=args.quick, threads=threads,
                                                   **ABLATION)) for seed in args.seeds]
    if not args.no_references:
        common = dict(seed=args.seeds[0], device=device, quick=args.quick, threads=threads)
        runs += [("notes", None, notes_recipe,
                  dict(common, max_epochs=args.baseline_epochs, time_limit=args.reference_cap)),
                 ("pytorch_example", None, pytorch_example_recipe,
                  dict(common, max_epochs=args.pytorch_epochs, time_limit=args.reference_cap))]
    if args.jobs == 1:
        curves = [run(**kwargs) for _, _, run, kwargs in runs]
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            pending = [pool.apply_async(run, kwds=kwargs) for _, _, run, kwargs in runs]
            curves = [job.get() for job in pending]
    kinds = [(kind, seed) for kind, seed, _, _ in runs]
    return Results(ours={seed: c for (kind, seed), c in zip(kinds, curves) if kind == "book"},
                   plain={seed: c for (kind, seed), c in zip(kinds, curves) if kind == "plain"},
                   references={kind: c for (kind, _), c in zip(kinds, curves) if kind not in ("book", "plain")})


def _print_results(results: Results, device: torch.device, threads: int, load: Optional[float]) -> None:
    print(f"LeNet on MNIST on {device} with {threads} threads (1-minute load average {load}); clocks include data "
          "loading and every evaluation that decides whether 99 % was reached")
    ours, references = results.ours, results.references
    for seed, curve in ours.items():
        print(f"  book recipe, seed {seed}: test acc {curve.test_acc[-1]:.4f} in {curve.seconds[-1]:.1f} s, "
              f"{_reached(curve)}; measured {_curve(curve)}")
    for seed, curve in results.plain.items():
        print(f"  without label smoothing and shifts, seed {seed}: test acc {curve.test_acc[-1]:.4f}, train acc "
              f"{curve.train_acc:.4f} (with them: {ours[seed].test_acc[-1]:.4f}, {ours[seed].train_acc:.4f})")
    for curve in references.values():
        print(f"  {curve.name}: test acc {curve.test_acc[-1]:.4f} in {curve.seconds[-1]:.1f} s ({curve.stopped}), "
              f"{_reached(curve)}; per epoch {_curve(curve)}")
    if results.median_to_99 is not None:
        print(f"  median over seeds of the book recipe's time to 99 %: {results.median_to_99:.1f} s"
              + "".join(f"; {results.speedup(key):.1f}x faster than the {references[key].name}"
                        for key in references))
        print(f"  in processor seconds (time.process_time): {results.median_cpu_to_99:.1f} s"
              + "".join(f"; {results.speedup(key, cpu=True):.1f}x faster than the {references[key].name}"
                        for key in references))


def _reference_summary(prefix: str, curve: Optional[Curve]) -> dict:
    """A reference recipe's figures under the record's keys (`baseline_...` for the notes' recipe)."""
    return {f"{prefix}_test_acc": curve.test_acc[-1] if curve else None,
            f"{prefix}_seconds": curve.seconds[-1] if curve else None,
            f"{prefix}_seconds_to_99": curve.seconds_to_99 if curve else None,
            f"{prefix}_reached_99": None if curve is None else curve.seconds_to_99 is not None,
            f"{prefix}_stopped": curve.stopped if curve else None,
            f"{prefix}_cpu_seconds_charged": curve.charged_cpu_seconds if curve else None,
            f"{prefix}_test_acc_per_epoch": curve.test_acc if curve else None}


def _summary(results: Results, args: argparse.Namespace, device: torch.device, threads: int,
             load: Optional[float]) -> dict:
    """The run's figures as one JSON object: the line the command ends with and the record's `summary`."""
    ours, plain = results.ours, results.plain
    first, finals = ours[args.seeds[0]], [curve.test_acc[-1] for curve in ours.values()]
    return {
        "device": str(device), "threads": threads, "load_average_1min": load, "quick": args.quick,
        "timing": "wall clock from before loading the data, every evaluation that decides 99 % included, "
                  "all recipes; a reference that never reached 99 % is charged its whole run (a lower bound)",
        "model": MODEL_NAME, "recipe": train.RECIPE, "seeds": args.seeds, "epochs": 2 if args.quick else train.RECIPE["epochs"],
        "test_acc": first.test_acc[-1], "seconds": first.seconds[-1],
        "test_acc_by_seed": {str(seed): curve.test_acc[-1] for seed, curve in ours.items()},
        "train_acc_by_seed": {str(seed): curve.train_acc for seed, curve in ours.items()},
        "seconds_by_seed": {str(seed): curve.seconds[-1] for seed, curve in ours.items()},
        "seconds_to_99_by_seed": {str(seed): curve.seconds_to_99 for seed, curve in ours.items()},
        "test_acc_mean": statistics.fmean(finals), "test_acc_min": min(finals),
        "seconds_to_99": results.median_to_99, "cpu_seconds_to_99": results.median_cpu_to_99,
        "test_acc_per_epoch": first.test_acc,
        "baseline_epochs": args.baseline_epochs, "pytorch_example_epochs": args.pytorch_epochs,
        "reference_cap_seconds": args.reference_cap, "jobs": args.jobs,
        **_reference_summary("baseline", results.references.get("notes")),
        **_reference_summary("pytorch_example", results.references.get("pytorch_example")),
        "speedup_to_99": results.speedup("notes"),
        "speedup_vs_pytorch_example": results.speedup("pytorch_example"),
        "speedup_to_99_cpu": results.speedup("notes", cpu=True),
        "speedup_vs_pytorch_example_cpu": results.speedup("pytorch_example", cpu=True),
        "ablation": None if not plain else {
            "changes": ABLATION,
            "test_acc_by_seed": {str(seed): curve.test_acc[-1] for seed, curve in plain.items()},
            "train_acc_by_seed": {str(seed): curve.train_acc for seed, curve in plain.items()},
            "test_acc_mean": statistics.fmean(curve.test_acc[-1] for curve in plain.values()),
            "train_acc_mean": statistics.fmean(curve.train_acc for curve in plain.values())},
    }


def _save(path: str, summary: dict, results: Results, argv: Optional[List[str]]) -> None:
    curves = ([(f"book_seed_{seed}", c) for seed, c in results.ours.items()]
              + [(f"plain_seed_{seed}", c) for seed, c in results.plain.items()] + list(results.references.items()))
    record = {"summary": summary, "machine": machine(),
              "command": "python -m book.bench lenet " + " ".join(argv if argv is not None else sys.argv[2:]),
              "curves": {name: asdict(curve) for name, curve in curves}}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1) + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    args = _arguments(argv)
    device = torch.device(args.device) if args.device else train.default_device()
    threads = args.threads or train.free_cpu_threads()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    book_data.fetch(quiet=True)
    print(f"book recipe: {MODEL_NAME}, {train.RECIPE}, seeds {args.seeds}", flush=True)
    results = _run_all(args, device, threads)
    _print_results(results, device, threads, load)
    summary = _summary(results, args, device, threads, load)
    print(json.dumps(summary))
    if args.save:
        _save(args.save, summary, results, argv)
    return 0


def machine() -> dict:
    """Where and when a benchmark ran: date (UTC), CPU model, cores, torch version, and the load on the machine."""
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu, "cores": os.cpu_count(),
            "torch": torch.__version__, "load_average_1min_at_end": os.getloadavg()[0]
            if hasattr(os, "getloadavg") else None}

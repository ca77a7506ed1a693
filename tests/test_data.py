"""Loading MNIST / CIFAR-10 from torchvision's on-disk layout, and batch helpers.

The fixture files (conftest.py) are full size, because gen_core.data checks the official
counts, but zero except for a few planted pixels and labels.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torchvision.datasets

from conftest import write_cifar_batch, write_mnist_images, write_mnist_labels
from gen_core.data import (HOW_TO_GET, DataError, Split, epoch_batches, held_out_split,
                           load_split, subset_indices, to_signed, to_unit)


@pytest.fixture(scope="module")
def mnist_train(mnist_root):
    return load_split("mnist", mnist_root, train=True)


@pytest.fixture(scope="module")
def cifar_train(cifar_root):
    return load_split("cifar10", cifar_root, train=True)


@pytest.fixture
def no_download(monkeypatch):
    """torchvision's dataset classes fail as they would offline; record that they were asked."""
    calls = []

    class Offline:
        def __init__(self, root, train=True, download=False, **kw):
            calls.append((root, train, download))
            raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", Offline)
    return calls


def link_all(src_dir, dst_dir, skip=()):
    dst_dir.mkdir(parents=True)
    for p in src_dir.iterdir():
        if p.name not in skip:
            os.symlink(p, dst_dir / p.name)


# ---- MNIST ----------------------------------------------------------------------------------

def test_mnist_train_shapes_and_dtypes(mnist_train):
    assert mnist_train.images.shape == (60000, 1, 28, 28)
    assert mnist_train.images.dtype == torch.uint8
    assert mnist_train.labels.shape == (60000,)
    assert mnist_train.labels.dtype == torch.int64
    assert len(mnist_train) == 60000
    assert mnist_train.images.is_contiguous()


def test_mnist_known_pixels_and_labels(mnist_train, mnist_root):
    # planted in conftest: train image 0 (3, 5) = 200, image 59999 (27, 27) = 255, rest 0
    assert mnist_train.images[0, 0, 3, 5] == 200
    assert mnist_train.images[59999, 0, 27, 27] == 255
    # and nothing else is non-zero (count_nonzero/nonzero are fast; a uint8 sum is not)
    assert torch.nonzero(mnist_train.images).tolist() == [[0, 0, 3, 5], [59999, 0, 27, 27]]
    # label i = i % 10
    assert mnist_train.labels[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert mnist_train.labels[59999] == 9
    test = load_split("mnist", mnist_root, train=False)
    assert test.images.shape == (10000, 1, 28, 28)
    assert test.images[9999, 0, 0, 0] == 7 and torch.nonzero(test.images).tolist() == [[9999, 0, 0, 0]]
    # label i = (3 i) % 10: 0, 3, 6, 9, 2, 5
    assert test.labels[:6].tolist() == [0, 3, 6, 9, 2, 5]


def test_mnist_size_keeps_a_seeded_random_subset(mnist_root):
    """size keeps subset_indices(n, size): seeded, sorted, the same every call, not the first images."""
    whole = load_split("mnist", mnist_root, train=True)
    split = load_split("mnist", mnist_root, train=True, size=5)
    keep = subset_indices(len(whole), 5)
    assert split.images.shape == (5, 1, 28, 28) and split.images.is_contiguous()
    assert torch.equal(split.images, whole.images[keep]) and torch.equal(split.labels, whole.labels[keep])
    assert torch.equal(load_split("mnist", mnist_root, train=True, size=5).labels, split.labels)
    assert keep.tolist() != [0, 1, 2, 3, 4] and keep.tolist() == sorted(keep.tolist())


def test_subset_indices_are_seeded_distinct_and_spread():
    keep = subset_indices(10000, 2000)
    assert len(set(keep.tolist())) == 2000 and torch.equal(keep, subset_indices(10000, 2000))
    # a random subset reaches the end of the split: the first 2,000 images would stop at index 1999
    assert keep.max() > 9000 and keep.min() < 1000
    assert torch.equal(subset_indices(50, 0), torch.arange(50)) and torch.equal(subset_indices(50, 80), torch.arange(50))


def test_held_out_split_is_disjoint_and_complete():
    kept, held = held_out_split(1000, 100)
    assert len(held) == 100 and len(kept) == 900
    assert set(kept.tolist()).isdisjoint(held.tolist()) and set(kept.tolist()) | set(held.tolist()) == set(range(1000))


# ---- CIFAR-10 -------------------------------------------------------------------------------

def test_cifar_train_shapes_and_dtypes(cifar_train):
    assert cifar_train.images.shape == (50000, 3, 32, 32)
    assert cifar_train.images.dtype == torch.uint8
    assert cifar_train.labels.shape == (50000,) and cifar_train.labels.dtype == torch.int64


def test_cifar_planes_land_in_channels(cifar_train):
    # data_batch_1 row 0, G plane (channel 1), pixel (3, 5) = 77
    assert cifar_train.images[0, 1, 3, 5] == 77
    assert cifar_train.images[0, 0, 3, 5] == 0 and cifar_train.images[0, 2, 3, 5] == 0
    # data_batch_1 row 1, R plane (channel 0), pixel (0, 0) = 11
    assert cifar_train.images[1, 0, 0, 0] == 11
    # data_batch_5 row 9999 is image 4 * 10000 + 9999 = 49999; B plane (31, 31) = 250
    assert cifar_train.images[49999, 2, 31, 31] == 250
    assert torch.nonzero(cifar_train.images).tolist() == [[0, 1, 3, 5], [1, 0, 0, 0], [49999, 2, 31, 31]]


def test_cifar_labels_follow_batch_order(cifar_train):
    # row i of data_batch_b has label (i + b) % 10
    assert cifar_train.labels[:3].tolist() == [1, 2, 3]             # batch 1
    assert cifar_train.labels[10000:10003].tolist() == [2, 3, 4]    # batch 2
    assert cifar_train.labels[49999].item() == (9999 + 5) % 10      # = 4


def test_cifar_test_split_and_size(cifar_root):
    whole = load_split("cifar10", cifar_root, train=False)
    assert whole.images[0, 2, 10, 20] == 99          # test_batch row 0, B plane (10, 20)
    assert whole.labels[:4].tolist() == [0, 7, 4, 1]     # (7 i) % 10 for i = 0..3
    test = load_split("cifar10", cifar_root, train=False, size=4)
    keep = subset_indices(10000, 4)
    assert test.images.shape == (4, 3, 32, 32)
    assert test.labels.tolist() == [(7 * i) % 10 for i in keep.tolist()]


# ---- missing and broken files ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_missing_data_gives_data_error(name, tmp_path, no_download):
    root = tmp_path / "nowhere"
    with pytest.raises(DataError) as e:
        load_split(name, root, train=True)
    msg = str(e.value)
    assert str(root) in msg
    assert '"Offline use"' in msg and "../shared" not in msg
    assert "OSError" in msg                 # the download failure's type is reported
    assert len(no_download) == 1            # it did try torchvision (which failed offline)
    assert no_download[0][2] is True


def test_a_missing_mnist_file_is_named_and_nothing_is_downloaded(tmp_path, mnist_root, no_download):
    """A copy lacking one file: the split that has its files loads, the other names the file."""
    root = tmp_path / "partial"
    link_all(mnist_root / "MNIST" / "raw", root / "MNIST" / "raw", skip={"t10k-labels-idx1-ubyte"})
    assert len(load_split("mnist", root, train=True, size=1)) == 1
    with pytest.raises(DataError) as e:
        load_split("mnist", root, train=False)
    assert str(e.value) == (f"mnist in {root} is incomplete: {root / 'MNIST' / 'raw' / 't10k-labels-idx1-ubyte'} "
                            f"is missing; {HOW_TO_GET}")
    assert no_download == []                # offline, a download attempt would hide the file behind OSError


def test_a_missing_cifar_batch_is_named_and_nothing_is_downloaded(tmp_path, cifar_root, no_download):
    folder = tmp_path / "cifar-10-batches-py"
    link_all(cifar_root / "cifar-10-batches-py", folder, skip={"data_batch_3"})
    with pytest.raises(DataError) as e:
        load_split("cifar10", tmp_path, train=True)
    assert str(e.value) == f"cifar10 in {tmp_path} is incomplete: {folder / 'data_batch_3'} is missing; {HOW_TO_GET}"
    assert "\n" not in str(e.value) and no_download == []
    assert load_split("cifar10", tmp_path, train=False).images[0, 2, 10, 20] == 99     # test_batch is there


def test_every_missing_cifar_batch_is_named(tmp_path, cifar_root, no_download):
    folder = tmp_path / "cifar-10-batches-py"
    link_all(cifar_root / "cifar-10-batches-py", folder, skip={"data_batch_2", "data_batch_5"})
    with pytest.raises(DataError) as e:
        load_split("cifar10", tmp_path, train=True)
    assert str(e.value) == (f"cifar10 in {tmp_path} is incomplete: {folder / 'data_batch_2'}, "
                            f"{folder / 'data_batch_5'} are missing; {HOW_TO_GET}")
    assert no_download == []


def test_the_check_before_anything_trains_names_a_missing_file_of_either_split(tmp_path, cifar_root, no_download):
    """runs.check_data, which the book's prepare, the pool and the CLI call: both splits, so a missing
    test_batch is named too."""
    from gen_core.runs import check_data

    folder = tmp_path / "cifar-10-batches-py"
    link_all(cifar_root / "cifar-10-batches-py", folder, skip={"test_batch"})
    with pytest.raises(DataError) as e:
        check_data({"cifar10"}, tmp_path)
    assert str(e.value) == f"cifar10 in {tmp_path} is incomplete: {folder / 'test_batch'} is missing; {HOW_TO_GET}"
    assert no_download == []
    check_data({"cifar10"}, cifar_root)          # complete: nothing to do, nothing downloaded
    assert no_download == []


def test_download_then_read(tmp_path, cifar_root, monkeypatch):
    """When files are missing, torchvision is asked to fetch them and the result is read."""
    calls = []

    class FakeCIFAR:
        def __init__(self, root, train=True, download=False):
            calls.append(root)
            link_all(cifar_root / "cifar-10-batches-py", tmp_path / "cifar-10-batches-py")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR)
    split = load_split("cifar10", tmp_path, train=False)
    assert calls == [str(tmp_path)]
    assert split.images[0, 2, 10, 20] == 99


def test_wrong_size_mnist_file(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist_images(raw / "train-images-idx3-ubyte", np.zeros((100, 28, 28), np.uint8))
    write_mnist_labels(raw / "train-labels-idx1-ubyte", np.zeros(100, np.uint8))
    with pytest.raises(DataError) as e:
        load_split("mnist", tmp_path, train=True)
    msg = str(e.value)
    # the message names the folder holding the file, what it found and what it expected
    assert str(raw) in msg
    assert "(100, 28, 28)" in msg and "(60000, 28, 28)" in msg
    assert '"Offline use"' in msg and "../shared" not in msg and "\n" not in msg


def test_truncated_mnist_file(tmp_path, mnist_root):
    raw = tmp_path / "MNIST" / "raw"
    link_all(mnist_root / "MNIST" / "raw", raw, skip={"train-images-idx3-ubyte"})
    full = (mnist_root / "MNIST" / "raw" / "train-images-idx3-ubyte").read_bytes()
    (raw / "train-images-idx3-ubyte").write_bytes(full[: 16 + 1000 * 784 + 17])  # header says 60000
    with pytest.raises(DataError) as e:
        load_split("mnist", tmp_path, train=True)
    assert f"cannot read MNIST file {raw / 'train-images-idx3-ubyte'} (" in str(e.value)  # the file, not its folder
    assert '"Offline use"' in str(e.value)


def test_truncated_cifar_batch(tmp_path, cifar_root):
    folder = tmp_path / "cifar-10-batches-py"
    link_all(cifar_root / "cifar-10-batches-py", folder, skip={"data_batch_3"})
    good = (cifar_root / "cifar-10-batches-py" / "data_batch_3").read_bytes()
    (folder / "data_batch_3").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError) as e:
        load_split("cifar10", tmp_path, train=True)
    msg = str(e.value)
    assert str(folder / "data_batch_3") in msg
    assert '"Offline use"' in msg and "../shared" not in msg


def test_wrong_shape_cifar_batch(tmp_path, cifar_root):
    folder = tmp_path / "cifar-10-batches-py"
    link_all(cifar_root / "cifar-10-batches-py", folder, skip={"test_batch"})
    write_cifar_batch(folder / "test_batch", np.zeros((100, 3072), np.uint8), [0] * 100)
    with pytest.raises(DataError) as e:
        load_split("cifar10", tmp_path, train=False)
    msg = str(e.value)
    assert str(folder / "test_batch") in msg and "(100, 3072)" in msg


def test_data_error_is_runtime_error():
    assert issubclass(DataError, RuntimeError)


# ---- conversions and batches ----------------------------------------------------------------

def test_to_unit_and_to_signed():
    x = torch.tensor([0, 51, 255], dtype=torch.uint8)
    # 51 / 255 = 0.2;  51 / 127.5 - 1 = 0.4 - 1 = -0.6
    assert torch.allclose(to_unit(x), torch.tensor([0.0, 0.2, 1.0]))
    assert torch.allclose(to_signed(x), torch.tensor([-1.0, -0.6, 1.0]))
    assert to_unit(x).dtype == torch.float32
    assert x.tolist() == [0, 51, 255]       # the uint8 source is untouched


def test_epoch_batches_are_a_partial_permutation():
    gen = torch.Generator().manual_seed(0)
    batches = epoch_batches(10, 3, gen, "cpu")
    # 10 // 3 = 3 full batches, the last image is dropped
    assert len(batches) == 3 and all(b.shape == (3,) for b in batches)
    flat = torch.cat(batches).tolist()
    assert len(set(flat)) == 9 and set(flat) <= set(range(10))


def test_epoch_batches_differ_between_epochs_and_repeat_with_the_seed():
    a = torch.cat(epoch_batches(50, 10, torch.Generator().manual_seed(1), "cpu"))
    gen = torch.Generator().manual_seed(1)
    b1 = torch.cat(epoch_batches(50, 10, gen, "cpu"))
    b2 = torch.cat(epoch_batches(50, 10, gen, "cpu"))
    assert torch.equal(a, b1)
    assert not torch.equal(b1, b2)
    assert sorted(b1.tolist()) == list(range(50))


def test_epoch_batches_needs_one_full_batch():
    with pytest.raises(DataError, match="5 images"):
        epoch_batches(5, 8, torch.Generator(), "cpu")


def test_split_len():
    split = Split(torch.zeros(7, 1, 28, 28, dtype=torch.uint8), torch.zeros(7, dtype=torch.long))
    assert len(split) == 7

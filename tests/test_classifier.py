"""The yardstick's classifiers: shapes, validation, augmentation, caching and a real accuracy floor."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from gen_core import ConfigError
from gen_core import classifier as clf_mod
from gen_core.classifier import (ACCURACY_FLOOR, ClassifierConfig, _augment, accuracy, classifier_config,
                                 load_or_train_classifier, train_classifier)
from gen_core.data import load_split
from gen_core.models.classifier import LeNet, SmallResNet

DATA_DIR = os.environ.get("GEN_DATA_DIR", str(Path(__file__).resolve().parent.parent / "data"))


def test_shapes():
    lenet, resnet = LeNet(width=8, num_features=32), SmallResNet(width=8, blocks=1)
    assert lenet.embed(torch.rand(5, 1, 28, 28)).shape == (5, 32) and lenet(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert resnet.embed(torch.rand(5, 3, 32, 32)).shape == (5, 32) and resnet(torch.rand(5, 3, 32, 32)).shape == (5, 10)
    assert (lenet.num_features, resnet.num_features) == (32, 32)          # 4 * width


@pytest.mark.parametrize("changes, message", [
    (dict(dataset="svhn"), "classifier dataset='svhn' is not allowed"),
    (dict(width=0), "classifier width=0 is not allowed; expected an integer >= 1"),
    (dict(epochs=0), "classifier epochs=0 is not allowed"),
    (dict(lr=-1.0), "classifier lr=-1.0 is not allowed; expected a learning rate > 0"),
])
def test_bad_classifier_config_is_one_line(changes, message):
    fields = dict(dataset="mnist", width=8, blocks=1, epochs=1, train_size=0, test_size=0) | changes
    with pytest.raises(ConfigError) as err:
        ClassifierConfig(**fields)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_unknown_profile():
    with pytest.raises(ConfigError, match="profile='huge' is not allowed; expected one of full, quick, smoke"):
        classifier_config("mnist", "huge")


def test_hash_follows_the_config():
    cfg = classifier_config("cifar10", "quick")
    assert cfg.run_hash() == classifier_config("cifar10", "quick").run_hash()
    assert cfg.run_hash() != ClassifierConfig(**{**cfg.__dict__, "epochs": cfg.epochs + 1}).run_hash()


def test_augment_crops_each_image_from_its_own_padded_window():
    x = torch.rand(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    out = _augment(x, torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4), mode="reflect")
    offsets = []
    for i in range(len(x)):
        found = [(dy, dx, flip) for dy in range(9) for dx in range(9) for flip in (False, True)
                 if torch.equal(out[i], (lambda w: w.flip(2) if flip else w)(padded[i, :, dy:dy + 32, dx:dx + 32]))]
        assert found, f"image {i} is not a 32x32 window of its padded input"
        offsets.append(found[0])
    assert len(set(offsets)) > 1                     # per image, not one crop for the batch


@pytest.fixture(scope="module")
def mnist_small():
    return load_split("mnist", DATA_DIR, True, "cpu", 1024), load_split("mnist", DATA_DIR, False, "cpu", 500)


def test_smoke_classifier_clears_a_loose_floor_on_real_mnist(mnist_small):
    torch.manual_seed(0)
    train, test = mnist_small
    model = train_classifier(classifier_config("mnist", "smoke"), train, "cpu", progress=False)
    assert accuracy(model, test) >= ACCURACY_FLOOR["smoke"]["mnist"]          # 50%; chance is 10%


def test_classifier_is_cached_and_a_truncated_checkpoint_retrains(tmp_path, monkeypatch):
    first = load_or_train_classifier("mnist", "smoke", DATA_DIR, tmp_path, "cpu", progress=False)
    (folder,) = tmp_path.glob("classifier-mnist-*")
    assert first.summary["test_accuracy"] == pytest.approx(accuracy(first.model, load_split("mnist", DATA_DIR, False, "cpu", 128)))
    real_train = clf_mod.train_classifier
    monkeypatch.setattr(clf_mod, "train_classifier", lambda *a, **k: pytest.fail("retrained a cached classifier"))
    again = load_or_train_classifier("mnist", "smoke", DATA_DIR, tmp_path, "cpu", progress=False)
    for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)
    # a checkpoint cut in half is detected and the classifier trained again
    data = (folder / "model.pt").read_bytes()
    (folder / "model.pt").write_bytes(data[: len(data) // 2])
    calls = []
    monkeypatch.setattr(clf_mod, "train_classifier", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    load_or_train_classifier("mnist", "smoke", DATA_DIR, tmp_path, "cpu", progress=False)
    assert calls == [1]

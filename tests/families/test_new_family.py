"""A family defined entirely here, registered, and taken through the whole library: grid,
config validation, training and saving, the yardstick, a chapter's tables, prose and curves.
Nothing in gen_core/ names it: this is what a researcher adding a family writes."""
from __future__ import annotations

import math

import matplotlib
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import make_split
from gen_core import families
from gen_core.classifier import Classifier, build_classifier, classifier_config, features_and_logits
from gen_core.config import ConfigError, RunConfig
from gen_core.data import to_unit
from gen_core.families import Family, Row
from gen_core.families.base import image_batch
from gen_core.grid import grid, override
from gen_core.report import experiment, findings, plots, session, tables
from gen_core.yardstick import RealSide

matplotlib.use("Agg")


def reconstruction_loss(x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """L = mean over pixels of (x - D(E(x)))^2."""
    return F.mse_loss(recon, x)


class TinyAE(Family):
    """A linear encoder, an MLP decoder, and a standard normal prior its samples are decoded from."""
    name, title = "tinyae", "Tiny AE"
    optimizer = dict(lr=1e-2, optimizer="adam", betas=(0.9, 0.999), batch_size=32)
    rows = {"mnist": [Row("Linear", "mlp", (4, 8), dict(hidden=(16,)), 1)]}
    curves = [("mse", "reconstruction MSE")]
    estimate = ("mse", "train MSE")
    watched = "mse"
    fields = ("hidden",)
    encodes = True

    def build_models(self, cfg: RunConfig) -> dict:
        pixels = math.prod(cfg.image_shape)
        return {"encoder": nn.Linear(pixels, cfg.latent_dim),
                "decoder": nn.Sequential(nn.Linear(cfg.latent_dim, cfg.hidden[0]), nn.ReLU(),
                                         nn.Linear(cfg.hidden[0], pixels))}

    def run_epoch(self, cfg, models, opts, train, batches, log, first_step):
        for idx in batches:
            x = image_batch(cfg, train, idx, signed=False)                      # (B, C, H, W) in [0, 1]
            recon = models["decoder"](self.encode(models, x)).sigmoid().view_as(x)
            loss = reconstruction_loss(x, recon)                                # minimise the MSE
            for opt in opts.values():
                opt.zero_grad(set_to_none=True)
            loss.backward()
            for opt in opts.values():
                opt.step()
            log.append({"mse": loss.detach()})

    @torch.inference_mode()
    def generate(self, cfg, models, z):
        return models["decoder"](z).sigmoid().view(-1, *cfg.image_shape)

    def encode(self, models, x):
        return models["encoder"](x.flatten(1))


@pytest.fixture
def tiny_ae(monkeypatch):
    family = families.register(TinyAE())
    yield family
    families.unregister("tinyae")


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    """A smoke context on synthetic MNIST-shaped images, with an untrained LeNet as the yardstick."""
    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(256 if train else 64, name, seed=int(train)))
    torch.manual_seed(0)
    cfg = classifier_config("mnist", "smoke")
    summary = {"arch": "LeNet", "test_accuracy": 0.1, "test_images": 64, "epochs": 0, "train_images": 0,
               "profile": "smoke", "floor": 0.5, "below_floor": True}
    clf = Classifier(cfg, build_classifier(cfg).eval(), summary)
    test_features = features_and_logits(clf.model, to_unit(make_split(64, "mnist", seed=0).images))[0]
    real = RealSide("mnist", 128, clf, test_features, {"fd": 1.0, "precision": 1.0, "recall": 1.0})
    monkeypatch.setattr("gen_core.runs._real_side", lambda *key: real)      # what runs.real_side builds and caches
    return session.setup("smoke", "unused", str(tmp_path / "runs"), False)


def test_the_registry_knows_it_and_the_grid_builds_its_rows(tiny_ae):
    assert families.names()[-1] == "tinyae" and families.get("tinyae") is tiny_ae
    configs = grid("tinyae", "mnist", "smoke")
    assert [(c.variant, c.latent_dim, c.epochs, c.lr, c.batch_size, c.train_size) for c in configs] == [
        ("Linear", 4, 1, 1e-2, 32, 256), ("Linear", 8, 1, 1e-2, 32, 256)]
    assert grid("tinyae", "cifar10", "smoke") == []
    assert configs[0].run_name().startswith("tinyae-mnist-linear-z4-")


def test_its_config_rules_come_from_the_family(tiny_ae):
    cfg = grid("tinyae", "mnist", "smoke")[0]
    with pytest.raises(ConfigError) as e:
        override(cfg, clip=0.01)
    assert str(e.value) == ("config clip=0.01 is not allowed; expected the default (0.0) for family 'tinyae', "
                            "which does not use it (used by wgan)")


def test_unregistered_it_is_an_unknown_family():
    with pytest.raises(ConfigError) as e:
        families.get("tinyae")
    assert str(e.value) == "family='tinyae' is not allowed; expected one of vae, gan, wgan"


def test_it_trains_saves_is_measured_and_fills_a_chapter(tiny_ae, ctx):
    exp = experiment.chapter("tinyae", "mnist", linear_latents=[4, 2])
    runs = session.chapter_runs(exp.configs("smoke"), exp.name, ctx)
    assert [r.config.label for r in runs] == ["Linear, z=4", "Linear, z=2"]
    for run in runs:
        assert run.summary["status"] == "complete" and run.summary["epochs_done"] == 1
        assert len(run.history["steps"]["mse"]) == 256 // 32                       # one entry per step
        assert (run.dir / "model.pt").exists() and 1 in run.sample_paths
        assert set(run.yardstick) >= {"fd", "precision", "recall", "classes_covered", "kl_to_uniform"}
        assert run.yardstick["fd"] >= 0 and 0 <= run.yardstick["precision"] <= 1
    # its own curve and estimate, by its own names
    table = tables.summary_table(runs)
    one = "seed 0 (one seed)"
    assert list(table.index) == [("Linear, z=4", one), ("Linear, z=2", one)]
    assert table.loc[("Linear, z=4", one), "train MSE"] == round(runs[0].summary["final_epoch"]["mse"], 3)
    fd, (lo, hi) = runs[1].yardstick["fd"], runs[1].yardstick["fd_ci"]
    assert table.loc[("Linear, z=2", one), "FD"] == f"{fd:.3g} [{lo:.3g}, {hi:.3g}]" and lo <= fd <= hi
    frame = tables.comparison_frame(runs, {"mnist": {"fd": 1.0, "fd_ci": [0.9, 1.1]}})
    assert set(frame["family"]) == {"Tiny AE"}
    assert "**Latent size.**" in findings.chapter_findings(runs, session.real_side("mnist", ctx), "smoke")
    figure = plots.plot_curves(runs)
    assert [ax.get_title() for ax in figure.axes] == ["reconstruction MSE"]
    # its yardstick over training: one point (a one-epoch run has no snapshot), drawn per run
    assert [p["epoch"] for p in runs[0].yardstick["over_training"]] == [1]
    assert len(plots.over_training_frame(runs)) == 2
    # cached: a second chapter run loads, it does not train
    again = session.chapter_runs(exp.configs("smoke"), exp.name, ctx)
    assert [r.dir for r in again] == [r.dir for r in runs] and again[0].history == runs[0].history

"""A chapter's parameters: the grid by default, changed runs labelled, every bad value one line."""
from __future__ import annotations

import ast
import re

import pytest

from gen_core.book import CHAPTERS, NOTEBOOK_DIR
from gen_core.config import ConfigError
from gen_core.grid import grid
from gen_core.report import experiment


@pytest.mark.parametrize("name", CHAPTERS)
def test_defaults_reproduce_the_grid(name):
    family, _, dataset = name.rpartition("_")
    for profile in ("smoke", "quick", "long", "full"):
        assert experiment.chapter(family, dataset).configs(profile) == grid(family, dataset, profile)


def test_a_row_trained_at_full_and_long_only_is_a_parameter_at_every_profile():
    assert experiment.parameter_names("vae_mnist") == experiment.COMMON + (
        "mlp_a_latents", "mlp_b_latents", "mlp_c_latents", "mlp_c_h64_latents") + experiment.EXPERIMENT
    assert experiment.parameter_names("wgan_mnist") == experiment.COMMON + (
        "mlp_a_latents", "mlp_b_latents", "dc_wgan_latents", "dc_wgan_gp_latents", "dc_wgan_adam_latents",
        "dc_wgan_clip_0_1_latents") + experiment.EXPERIMENT
    exp = experiment.chapter("wgan", "mnist", dc_wgan_clip_0_1_latents=[17])
    assert exp.parameters() == {"dc_wgan_clip_0_1_latents": [17]}
    # quick and smoke do not train the row: setting its latents there is refused in one line, not ignored
    for profile in ("quick", "smoke"):
        with pytest.raises(ConfigError, match=rf"^parameter dc_wgan_clip_0_1_latents is not allowed at "
                                              rf"PROFILE={profile}: the DC-WGAN clip 0.1 row trains at full and long "
                                              rf"only; leave it None, or run PROFILE=long$"):
            exp.configs(profile)
        # left None, quick and smoke keep their 6 runs (MLP A x2, MLP B, DC-WGAN x2, DC-WGAN-GP)
        assert len(experiment.chapter("wgan", "mnist").configs(profile)) == 6
    # long: (6 + DC-WGAN Adam + DC-WGAN clip 0.1) x 3 seeds = 24 runs; the clip row at z = 17 only, clip 0.1
    configs = exp.configs("long")
    assert len(configs) == 24
    clipped = [c for c in configs if c.variant == "DC-WGAN clip 0.1"]
    assert [(c.label, c.seed, c.clip) for c in clipped] == [("DC-WGAN clip 0.1, z=17", s, 0.1) for s in range(3)]


@pytest.mark.parametrize("name", CHAPTERS + ["comparison"])
def test_each_notebook_parameters_cell_holds_exactly_its_parameters(name):
    """The notebook a person edits and the names the CLI accepts are the same list, with None/{} defaults."""
    source = (NOTEBOOK_DIR / f"{name}.py").read_text()
    cell = re.search(r'# %% tags=\["parameters"\]\n(.*?)\n# %%', source, re.S).group(1)
    assigned = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cell).body}
    assert tuple(assigned) == experiment.parameter_names(name)
    for key, value in assigned.items():
        if key.endswith("_latents") or key == "epochs":
            assert value is None, key                       # None: grid.py stays the source of the defaults
    assert assigned.get("overrides", {}) == {}


def test_changed_latents_epochs_and_overrides():
    exp = experiment.chapter("gan", "mnist", mlp_a_latents=[17], epochs=2, overrides={"lr": 1e-4, "batch_size": 64})
    configs = exp.configs("smoke")
    assert [c.label for c in configs] == ["MLP A, z=17 (epochs=2, batch_size=64, lr=0.0001)",
                                          "MLP B, z=200 (epochs=2, batch_size=64, lr=0.0001)",
                                          "DCGAN, z=64 (epochs=2, batch_size=64, lr=0.0001)",
                                          "DCGAN, z=256 (epochs=2, batch_size=64, lr=0.0001)"]
    assert {(c.epochs, c.batch_size, c.lr) for c in configs} == {(2, 64, 1e-4)}
    assert exp.parameters() == {"mlp_a_latents": [17], "epochs": 2, "overrides": {"lr": 1e-4, "batch_size": 64}}
    default = {c.label: c for c in grid("gan", "mnist", "smoke")}
    assert not {c.run_name() for c in configs} & {c.run_name() for c in default.values()}


def test_an_override_equal_to_the_grid_changes_nothing():
    """GAN's lr is already 2e-4: the run is the grid's, with the grid's label and folder."""
    exp = experiment.chapter("gan", "mnist", overrides={"lr": 2e-4})
    assert exp.configs("smoke") == grid("gan", "mnist", "smoke")


def test_width_overrides_apply_to_the_rows_of_their_architecture():
    configs = experiment.chapter("gan", "mnist", overrides={"hidden": [32, 32], "d_hidden": [16],
                                                            "d_channels": [8, 8, 8, 8]}).configs("smoke")
    assert [(c.variant, c.hidden, c.d_hidden, c.d_channels) for c in configs] == [
        ("MLP A", (32, 32), (16,), ()), ("MLP A", (32, 32), (16,), ()), ("MLP B", (32, 32), (16,), ()),
        ("DCGAN", (), (), (8, 8, 8, 8)), ("DCGAN", (), (), (8, 8, 8, 8))]
    assert configs[0].label == "MLP A, z=100 (hidden=[32, 32], d_hidden=[16])"
    with pytest.raises(ConfigError) as e:
        experiment.chapter("vae", "mnist", overrides={"channels": [8]})
    assert str(e.value) == ("overrides key 'channels' is not allowed for vae_mnist: it sets conv widths and the "
                            "chapter has only mlp rows")


def test_a_batch_of_every_smoke_image_is_allowed():
    """256 is smoke's whole training set: one batch per epoch, on every profile."""
    for profile in ("smoke", "quick", "full"):
        assert {c.batch_size for c in experiment.chapter("gan", "mnist", overrides={"batch_size": 256}).configs(
            profile)} == {256}


def test_list_overrides_become_tuples():
    (cfg, *_) = experiment.chapter("vae", "mnist", overrides={"betas": [0.5, 0.9]}).configs("smoke")
    assert cfg.betas == (0.5, 0.9) and cfg.label == "MLP A, z=50 (betas=[0.5, 0.9])"


@pytest.mark.parametrize("params, message", [
    (dict(mlp_c_latents=[2]),
     "parameter 'mlp_c_latents' is not allowed for notebook gan_mnist; expected one of mlp_a_latents, "
     "mlp_b_latents, dcgan_latents, epochs, overrides"),
    (dict(mlp_a_latents=[0]),
     "mlp_a_latents=[0] is not allowed; expected None (the grid's sizes) or a list of distinct integers >= 1, e.g. [17]"),
    (dict(mlp_a_latents=17),
     "mlp_a_latents=17 is not allowed; expected None (the grid's sizes) or a list of distinct integers >= 1, e.g. [17]"),
    (dict(mlp_a_latents=[8, 8]),
     "mlp_a_latents=[8, 8] is not allowed; expected None (the grid's sizes) or a list of distinct integers >= 1, "
     "e.g. [17]"),
    (dict(epochs=0), "epochs=0 is not allowed; expected None (the profile's epochs) or an integer >= 1"),
    (dict(epochs="3"), "epochs='3' is not allowed; expected None (the profile's epochs) or an integer >= 1"),
    (dict(overrides=[("lr", 1)]),
     "overrides=[('lr', 1)] is not allowed; expected a dict of RunConfig fields, e.g. {\"lr\": 0.0001, \"batch_size\": 64}"),
    (dict(overrides={"lrr": 1e-4}),
     "overrides key 'lrr' is not a RunConfig field; allowed keys: hidden, d_hidden, channels, d_channels, dropout, "
     "batch_size, lr, optimizer, betas, clip, n_critic, gp, critic_norm, train_size, n_samples, amp, compile"),
    (dict(overrides={"latent_dim": 3}),
     "overrides key 'latent_dim' is not allowed; it is the <variant>_latents parameters' to set. Allowed keys: hidden, "
     "d_hidden, channels, d_channels, dropout, batch_size, lr, optimizer, betas, clip, n_critic, gp, critic_norm, "
     "train_size, n_samples, amp, compile"),
    (dict(overrides={"n_eval_samples": 50}),
     "overrides key 'n_eval_samples' is not allowed; it is the profile's to set. Allowed keys: hidden, d_hidden, "
     "channels, d_channels, dropout, batch_size, lr, optimizer, betas, clip, n_critic, gp, critic_norm, train_size, "
     "n_samples, amp, compile"),
    (dict(overrides={"lr": -1}),
     "overrides for MLP A, z=100: config lr=-1 is not allowed; expected a learning rate > 0"),
    (dict(overrides={"clip": 0.01}),
     "overrides for MLP A, z=100: config clip=0.01 is not allowed; expected the default (0.0) for family 'gan', "
     "which does not use it (used by wgan)"),
    (dict(overrides={"dropout": 0.1}),
     "overrides for MLP A, z=100: config dropout=0.1 is not allowed; expected the default (0.0) for family 'gan', "
     "which does not use it (used by vae)"),
    # smoke trains on 256 images: no batch of 1000. Full (all 60,000) accepts it, so the message names smoke
    (dict(overrides={"batch_size": 1000}),
     "overrides for MLP A, z=100 at PROFILE=smoke (a chapter's parameters must suit every profile): config "
     "batch_size=1000 is not allowed; expected at most 256, the run's training images (train_size=256)"),
    # 100 images, and GAN's batch of 128 (gan.py's optimizer): refused at the first profile checked
    (dict(overrides={"train_size": 100}),
     "overrides for MLP A, z=100: config batch_size=128 is not allowed; expected at most 100, the run's training "
     "images (train_size=100)"),
    (dict(overrides={"train_size": 100000}),
     "overrides for MLP A, z=100: config train_size=100000 is not allowed; expected 0 (all) or at most 60000 for "
     "mnist"),
])
def test_every_bad_parameter_is_one_line(params, message):
    with pytest.raises(ConfigError) as e:
        experiment.chapter("gan", "mnist", **params)
    assert str(e.value) == message

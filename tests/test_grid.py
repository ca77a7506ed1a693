"""The reports' grid: rows per chapter, the full profile's settings, and the shrunk profiles."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from gen_core import ConfigError, families
from gen_core import bf16
from gen_core import grid as grid_module
from gen_core.families.base import Bf16Evidence
from gen_core.grid import (data_dir_from_env, full_grid, grid, override, reports_config, resolve_profile, row_seeds,
                           rows, seeds, uses_bf16)

PROFILES = ("full", "long", "quick", "smoke")

# Runs per chapter = sum over the reference rows of their latent sizes:
#   vae/mnist:   MLP A z{50,100} + MLP B z{100} + MLP C z{2,32,128}  = 2 + 1 + 3 = 6
#   gan/mnist:   MLP A z{100,200} + MLP B z{200} + DCGAN z{64,256}   = 2 + 1 + 2 = 5
#   wgan/mnist:  MLP A z{100,200} + MLP B z{200} + DC-WGAN z{64,256} = 2 + 1 + 2 = 5, + DC-WGAN-GP z{64} = 6
#   vae/cifar10: MLP z{100} + MLP C z{2,128} + Conv z{2,128}         = 1 + 2 + 2 = 5
#   gan/cifar10: MLP z{100} + DCGAN z{64,256}                        = 1 + 2     = 3
#   wgan/cifar10: MLP z{200} + DC-WGAN z{64,256}                     = 1 + 2     = 3, + DC-WGAN-GP z{64} = 4
# The reports' 27 runs plus the two WGAN-GP rows this project adds = 29: every profile trains them.
# full and long add the three experiments the conv report describes in words only (DESIGN.md, C3, C6, C7):
#   vae/mnist: MLP C h64 z{32}; wgan/mnist: DC-WGAN Adam z{64} + DC-WGAN clip 0.1 z{64}  -> 29 + 3 = 32
EXPECTED_COUNTS = {("vae", "mnist"): 6, ("gan", "mnist"): 5, ("wgan", "mnist"): 6,
                   ("vae", "cifar10"): 5, ("gan", "cifar10"): 3, ("wgan", "cifar10"): 4}
EXPECTED_ROWS = {
    ("vae", "mnist"): [("MLP A", 50), ("MLP A", 100), ("MLP B", 100), ("MLP C", 2), ("MLP C", 32), ("MLP C", 128)],
    ("gan", "mnist"): [("MLP A", 100), ("MLP A", 200), ("MLP B", 200), ("DCGAN", 64), ("DCGAN", 256)],
    ("wgan", "mnist"): [("MLP A", 100), ("MLP A", 200), ("MLP B", 200), ("DC-WGAN", 64), ("DC-WGAN", 256),
                       ("DC-WGAN-GP", 64)],
    ("vae", "cifar10"): [("MLP", 100), ("MLP C", 2), ("MLP C", 128), ("Conv", 2), ("Conv", 128)],
    ("gan", "cifar10"): [("MLP", 100), ("DCGAN", 64), ("DCGAN", 256)],
    ("wgan", "cifar10"): [("MLP", 200), ("DC-WGAN", 64), ("DC-WGAN", 256), ("DC-WGAN-GP", 64)],
}
DESCRIBED_ONLY = {("vae", "mnist"): [("MLP C h64", 32)],
                  ("wgan", "mnist"): [("DC-WGAN Adam", 64), ("DC-WGAN clip 0.1", 64)]}


def find(cfgs, variant, latent):
    (cfg,) = [c for c in cfgs if c.variant == variant and c.latent_dim == latent and c.seed == 0]
    return cfg


@pytest.mark.parametrize("profile", PROFILES)
def test_full_grid_has_the_reference_rows(profile):
    extra = profile in ("full", "long")
    runs = [c for c in full_grid(profile) if c.seed == 0]
    assert len(runs) == (32 if extra else 29)  # 6 + 5 + 6 + 5 + 3 + 4, and 1 + 2 at full and long
    assert Counter((c.family, c.dataset) for c in runs) == \
        {**EXPECTED_COUNTS, **({("vae", "mnist"): 7, ("wgan", "mnist"): 8} if extra else {})}
    for key, expected in EXPECTED_ROWS.items():
        expected = expected + (DESCRIBED_ONLY.get(key, []) if extra else [])
        assert [(c.variant, c.latent_dim) for c in grid(*key, profile) if c.seed == 0] == expected
    # every run (every seed) lands in its own folder
    assert len({c.run_name() for c in full_grid(profile)}) == len(full_grid(profile))


@pytest.mark.parametrize("profile, n_seeds, n_configs", [("full", 3, 32), ("long", 3, 32), ("quick", 1, 29),
                                                          ("smoke", 1, 29)])
def test_full_and_long_repeat_every_configuration_over_three_seeds(profile, n_seeds, n_configs):
    runs = full_grid(profile)
    assert len(runs) == n_configs * n_seeds      # long and full: 32 x 3 = 96 (87 before the three rows)
    per_config = Counter(json.dumps({**c.to_dict(), "seed": None}, sort_keys=True) for c in runs)
    assert set(per_config.values()) == {n_seeds}
    assert sorted({c.seed for c in runs}) == list(range(n_seeds))


def test_full_profile_keeps_the_reports_architectures():
    gan_mnist = grid("gan", "mnist", "full")
    dcgan = find(gan_mnist, "DCGAN", 64)
    assert dcgan.arch == "conv"
    assert dcgan.channels == (512, 256, 128, 64)
    assert dcgan.d_channels == (64, 128, 256, 512)
    mlp_b = find(gan_mnist, "MLP B", 200)
    assert mlp_b.hidden == (128, 256, 512, 768, 1024) and mlp_b.d_hidden == (512, 256, 128)
    vae_c = find(grid("vae", "mnist", "full"), "MLP C", 2)
    assert vae_c.hidden == (512, 512) and vae_c.dropout == 0.2
    conv_vae = find(grid("vae", "cifar10", "full"), "Conv", 128)
    assert conv_vae.channels == (32, 64, 128)
    assert find(grid("vae", "cifar10", "full"), "MLP", 100).hidden == (1536, 768, 512)
    dcw = find(grid("wgan", "mnist", "full"), "DC-WGAN", 64)
    assert dcw.channels == (128, 64, 32, 16) and dcw.d_channels == (16, 32, 64, 128)
    dcw = find(grid("wgan", "cifar10", "full"), "DC-WGAN", 256)
    assert dcw.channels == (256, 128, 64, 32) and dcw.d_channels == (32, 64, 128, 256)
    # WGAN-GP keeps the DC-WGAN networks, so clipping and the penalty compare on one architecture
    for ds, clipped in (("mnist", 64), ("cifar10", 64)):
        gp, wc = find(grid("wgan", ds, "full"), "DC-WGAN-GP", 64), find(grid("wgan", ds, "full"), "DC-WGAN", clipped)
        assert (gp.channels, gp.d_channels) == (wc.channels, wc.d_channels)
        assert (gp.critic_norm, wc.critic_norm) == ("layer", "batch")


def test_full_profile_keeps_the_reports_epochs_and_data():
    epochs = {(c.family, c.dataset): c.epochs for c in full_grid("full")}
    assert epochs == {("vae", "mnist"): 15, ("gan", "mnist"): 15, ("wgan", "mnist"): 25,
                      ("vae", "cifar10"): 20, ("gan", "cifar10"): 25, ("wgan", "cifar10"): 25}
    for c in full_grid("full"):
        assert (c.train_size, c.test_size, c.n_eval_samples) == (0, 0, 10000)   # the N at full


def test_full_profile_optimizers():
    for c in full_grid("full"):
        if c.variant == "DC-WGAN Adam":      # the DC-WGAN row with DCGAN's Adam (the report gives no settings)
            assert (c.optimizer, c.lr, c.betas, c.clip, c.gp, c.n_critic, c.batch_size) == \
                ("adam", 2e-4, (0.5, 0.999), 0.01, 0.0, 5, 128)
        elif c.variant == "DC-WGAN clip 0.1":
            assert (c.optimizer, c.lr, c.clip, c.gp, c.n_critic, c.batch_size) == ("rmsprop", 2e-4, 0.1, 0.0, 5, 128)
        elif c.variant == "DC-WGAN-GP":      # Gulrajani et al. 2017, Alg. 1 defaults
            assert (c.optimizer, c.lr, c.betas, c.clip, c.gp, c.n_critic, c.batch_size, c.critic_norm) == \
                ("adam", 1e-4, (0.0, 0.9), 0.0, 10.0, 5, 64, "layer")
        elif c.variant == "DC-WGAN":       # the conv report's WGAN tables
            assert (c.optimizer, c.lr, c.clip, c.gp, c.n_critic, c.batch_size) == ("rmsprop", 2e-4, 0.01, 0.0, 5, 128)
        elif c.family == "wgan":
            assert (c.optimizer, c.lr, c.clip, c.gp, c.n_critic, c.batch_size) == ("rmsprop", 5e-5, 0.01, 0.0, 5, 64)
        elif c.family == "gan":
            assert (c.optimizer, c.lr, c.betas, c.clip, c.n_critic) == ("adam", 2e-4, (0.5, 0.999), 0.0, 1)
        else:
            assert (c.optimizer, c.lr, c.betas, c.batch_size) == ("adam", 1e-3, (0.9, 0.999), 128)


def test_quick_profile_shrinks_the_full_profile():
    # quick's sizes are a tunable budget, so check how it relates to full, not its numbers
    trained = [c for c in full_grid("full") if c.seed == 0 and c.variant not in ("MLP C h64", "DC-WGAN Adam",
                                                                                 "DC-WGAN clip 0.1")]
    assert len(full_grid("quick")) == len(trained) == 29
    for quick, full in zip(full_grid("quick"), trained):
        assert (quick.family, quick.dataset, quick.variant, quick.latent_dim) == \
            (full.family, full.dataset, full.variant, full.latent_dim)
        assert 1 <= quick.epochs <= full.epochs
        assert quick.train_size == 0 or quick.train_size <= {"mnist": 60000, "cifar10": 50000}[quick.dataset]
        assert 0 < quick.test_size <= 10000
        # optimizer settings and MLP widths are never shrunk
        for key in ("lr", "optimizer", "betas", "clip", "gp", "critic_norm", "n_critic", "batch_size", "hidden",
                    "d_hidden", "dropout"):
            assert getattr(quick, key) == getattr(full, key), key
        # conv stacks are divided by one common factor (at least 4 channels each)
        for key in ("channels", "d_channels"):
            q, f = getattr(quick, key), getattr(full, key)
            assert len(q) == len(f)
            if f:
                div = max(f) // max(q)
                assert div >= 1 and q == tuple(max(4, c // div) for c in f)


def test_smoke_profile_sizes():
    for c in full_grid("smoke"):
        assert (c.train_size, c.test_size, c.epochs, c.n_eval_samples) == (256, 128, 1, 128)
        assert max(c.channels + c.d_channels, default=0) <= 32
    # DCGAN 512..64 divided by 512 // 32 = 16 -> 32, 16, 8, 4; critic 64..512 -> 4, 8, 16, 32
    dcgan = find(grid("gan", "cifar10", "smoke"), "DCGAN", 256)
    assert dcgan.channels == (32, 16, 8, 4) and dcgan.d_channels == (4, 8, 16, 32)
    # Conv VAE 32, 64, 128 divided by 128 // 32 = 4 -> 8, 16, 32
    assert find(grid("vae", "cifar10", "smoke"), "Conv", 2).channels == (8, 16, 32)
    # MLP widths are not capped
    assert find(grid("vae", "cifar10", "smoke"), "MLP", 100).hidden == (1536, 768, 512)


def test_resolve_profile():
    assert resolve_profile("auto", cuda_available=True) == "full"
    assert resolve_profile("auto", cuda_available=False) == "quick"
    for p in PROFILES:
        assert resolve_profile(p, cuda_available=True) == p
        assert resolve_profile(p, cuda_available=False) == p


def test_resolve_profile_auto_asks_torch(monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_profile("auto") == "full"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_profile("auto") == "quick"


def test_bogus_profile():
    with pytest.raises(ConfigError) as e:
        resolve_profile("bogus")
    msg = str(e.value)
    assert "'bogus'" in msg and "\n" not in msg
    for allowed in ("auto", "full", "quick", "smoke"):
        assert allowed in msg


@pytest.mark.parametrize("args, shown", [
    (("vae", "mnist", "bogus"), "profile='bogus'"),
    (("vae", "svhn", "full"), "dataset='svhn'"),
    (("vqvae", "mnist", "full"), "family='vqvae'"),
])
def test_grid_rejects_unknown_choices(args, shown):
    with pytest.raises(ConfigError, match=shown):
        grid(*args)


def test_override_changes_one_field_and_revalidates():
    cfg = grid("vae", "mnist", "smoke")[0]
    changed = override(cfg, epochs=3)
    assert changed.epochs == 3 and cfg.epochs == 1
    assert {k: v for k, v in changed.to_dict().items() if k != "epochs"} == \
        {k: v for k, v in cfg.to_dict().items() if k != "epochs"}
    with pytest.raises(ConfigError, match="lr=-1.0"):
        override(cfg, lr=-1.0)
    with pytest.raises(ConfigError, match="unknown config key 'epoch'"):
        override(cfg, epoch=3)


def test_dataset_sizes_stay_importable_from_grid():
    """config checks sizes against DATASET_SIZES; cost, bench and findings still read it from grid."""
    from gen_core import config

    assert grid_module.DATASET_SIZES is config.DATASET_SIZES
    assert grid_module.DATASET_SIZES == {"mnist": 60000, "cifar10": 50000}
    assert config.TEST_SIZES == {"mnist": 10000, "cifar10": 10000}


def test_data_dir_from_env(monkeypatch):
    monkeypatch.delenv("GEN_DATA_DIR", raising=False)
    assert data_dir_from_env() == "data"
    monkeypatch.setenv("GEN_DATA_DIR", "/somewhere/else")
    assert data_dir_from_env() == "/somewhere/else"


# ---- long: the reports' training on a CPU with hours ----------------------------------------------

def test_long_profile_trains_as_the_reports_with_conv_widths_capped():
    full = {(c.family, c.dataset, c.variant, c.latent_dim): c for c in full_grid("full") if c.seed == 0}
    for c in full_grid("long"):
        f = full[(c.family, c.dataset, c.variant, c.latent_dim)]
        # the whole training and test sets, the reports' epochs, every MLP width and optimizer setting
        for key in ("train_size", "test_size", "epochs", "hidden", "d_hidden", "dropout", "lr", "optimizer", "betas",
                    "clip", "gp", "n_critic", "batch_size", "critic_norm"):
            assert getattr(c, key) == getattr(f, key), (c.label, key)
        assert (c.train_size, c.test_size, c.n_eval_samples) == (0, 0, 5000)
        assert max(c.channels + c.d_channels, default=0) <= 64
    # the reports' epochs, by hand from DESIGN.md: MNIST VAE/GAN 15, MNIST WGAN 25, CIFAR-10 VAE 20, GANs 25
    assert {(c.family, c.dataset, c.epochs) for c in full_grid("long")} == {
        ("vae", "mnist", 15), ("gan", "mnist", 15), ("wgan", "mnist", 25),
        ("vae", "cifar10", 20), ("gan", "cifar10", 25), ("wgan", "cifar10", 25)}
    # DCGAN 512..64 divided by 512 // 64 = 8 -> 64, 32, 16, 8; the conv VAE's 32..128 by 2 -> 16, 32, 64
    assert find(grid("gan", "mnist", "long"), "DCGAN", 64).channels == (64, 32, 16, 8)
    assert find(grid("vae", "cifar10", "long"), "Conv", 2).channels == (16, 32, 64)


def test_every_row_of_a_profile_trains_its_seeds():
    assert seeds("long") == 3 and row_seeds("long", "wgan", "mnist", "mlp") == 3
    assert row_seeds("long", "gan", "cifar10", "conv") == 3 and row_seeds("quick", "vae", "mnist", "mlp") == 1


def test_the_dc_wgan_rows_train_as_the_conv_report_did():
    """Its WGAN tables: RMSprop at 2e-4 with batch 128 and clipping at 0.01, 5 critic steps; the MLP WGAN
    keeps 5e-5 and batch 64, and the gradient-penalty row Gulrajani et al.'s Adam 1e-4 with batch 64."""
    for dataset in ("mnist", "cifar10"):
        by_variant = {c.variant: c for c in grid("wgan", dataset, "full") if c.seed == 0}
        dc = by_variant["DC-WGAN"]
        assert (dc.optimizer, dc.lr, dc.batch_size, dc.clip, dc.n_critic) == ("rmsprop", 2e-4, 128, 0.01, 5)
        mlp = next(c for v, c in by_variant.items() if v.startswith("MLP"))
        assert (mlp.optimizer, mlp.lr, mlp.batch_size) == ("rmsprop", 5e-5, 64)
        gp = by_variant["DC-WGAN-GP"]
        assert (gp.optimizer, gp.lr, gp.batch_size, gp.clip, gp.gp) == ("adam", 1e-4, 64, 0.0, 10.0)


def test_the_rows_the_conv_report_describes_in_words_train_at_full_and_long_only():
    """C3: MLP C at hidden width 64 (z = 32); C6: the DC-WGAN with Adam; C7: the DC-WGAN clipped at 0.1
    (both on MNIST at z = 64): each the reports' row with one change."""
    for profile in ("full", "long"):
        h64 = find(grid("vae", "mnist", profile), "MLP C h64", 32)
        assert (h64.hidden, h64.dropout) == ((64, 64), 0.2)
        assert override(h64, hidden=(512, 512), variant="MLP C") == find(grid("vae", "mnist", profile), "MLP C", 32)
        wgan = grid("wgan", "mnist", profile)
        for variant, change in (("DC-WGAN Adam", dict(optimizer="adam")), ("DC-WGAN clip 0.1", dict(clip=0.1))):
            assert find(wgan, variant, 64) == override(find(wgan, "DC-WGAN", 64), variant=variant, **change), variant
    # long: the same conv cap as the DC-WGAN, 128 // 64 = 2 -> (64, 32, 16, 8), critic (8, 16, 32, 64)
    adam = find(grid("wgan", "mnist", "long"), "DC-WGAN Adam", 64)
    assert (adam.channels, adam.d_channels) == ((64, 32, 16, 8), (8, 16, 32, 64))
    # quick and smoke: exactly their 29 runs as before, none of the three
    for profile in ("quick", "smoke"):
        variants = {c.variant for c in full_grid(profile)}
        assert not variants & {"MLP C h64", "DC-WGAN Adam", "DC-WGAN clip 0.1"}
        assert [v for v, _ in EXPECTED_ROWS[("wgan", "mnist")]] == \
            [r.variant for r in rows("wgan", "mnist", profile) for _ in r.latents]


def test_rows_without_a_profile_are_every_row_and_reports_config_finds_each():
    # the notebooks' parameters: the same rows at every profile, 4 + 2 on wgan/mnist and 3 + 1 on vae/mnist
    assert [r.variant for r in rows("wgan", "mnist")] == ["MLP A", "MLP B", "DC-WGAN", "DC-WGAN-GP", "DC-WGAN Adam",
                                                          "DC-WGAN clip 0.1"]
    assert [r.variant for r in rows("vae", "mnist")] == ["MLP A", "MLP B", "MLP C", "MLP C h64"]
    assert [r.variant for r in rows("vae", "mnist", "quick")] == ["MLP A", "MLP B", "MLP C"]
    clip = find(grid("wgan", "mnist", "long"), "DC-WGAN clip 0.1", 64)
    full = reports_config(clip)
    assert (full.variant, full.clip, full.channels, full.epochs, full.train_size) == \
        ("DC-WGAN clip 0.1", 0.1, (128, 64, 32, 16), 25, 0)
    with pytest.raises(ConfigError, match="profile='fast'"):
        rows("vae", "mnist", "fast")
    # every row names known profiles, so none is silently never trained; 3 rows skip quick and smoke
    every = [r for fam in families.names() for ds in ("mnist", "cifar10") for r in rows(fam, ds)]
    assert all(r.profiles is None or (r.profiles and set(r.profiles) <= set(PROFILES)) for r in every)
    assert sorted(r.variant for r in every if not r.trained_at("quick")) == ["DC-WGAN Adam", "DC-WGAN clip 0.1",
                                                                              "MLP C h64"]


def test_auto_stays_quick_on_a_cpu_and_long_is_chosen_by_name():
    assert resolve_profile("auto", cuda_available=False) == "quick"
    assert resolve_profile("long", cuda_available=False) == "long"


# ---- bf16: on where measured faster and indistinguishable, per row -----------------------------------

def test_bf16_needs_overlapping_intervals_and_a_speedup():
    assert Bf16Evidence((10, 9, 11), (10.5, 10.9, 12), 1.2).use               # 10.9 <= 11: they overlap
    assert Bf16Evidence((10, 9, 11), (10.5, 11, 12), 1.2).use                 # touching counts as overlapping
    assert not Bf16Evidence((10, 9, 11), (12, 11.1, 13), 1.2).use             # apart
    assert not Bf16Evidence((10, 9, 11), (8, 7, 8.9), 1.2).use                # apart, lower: still not the same
    assert not Bf16Evidence((10, 9, 11), (10, 9, 11), 0.95).use               # the same, but slower


@pytest.fixture
def bf16_cpu(monkeypatch):
    """A CPU with bf16 in hardware, as the families' measurements were made on."""
    monkeypatch.setattr(grid_module, "cpu_has_native_bf16", lambda: True)


def test_bf16_decisions_follow_the_recorded_measurements(bf16_cpu):
    # by hand from the families' bf16 measurements: the rows whose fp32 and bf16 FD intervals are apart stay fp32
    apart = {("gan", "mnist", "DCGAN"), ("wgan", "mnist", "DC-WGAN"), ("gan", "cifar10", "MLP"),
             ("gan", "cifar10", "DCGAN"), ("wgan", "cifar10", "DC-WGAN")}
    # the two new DC-WGAN rows were never measured: no evidence, so fp32 (MLP C h64 follows the MNIST MLPs')
    never = {("wgan", "mnist", "DC-WGAN Adam"), ("wgan", "mnist", "DC-WGAN clip 0.1")}
    for profile in ("quick", "smoke"):
        for c in full_grid(profile):
            assert c.amp == ((c.family, c.dataset, c.variant) not in apart | never), (profile, c.label)
            assert c.amp == uses_bf16(profile, c.family, c.dataset, c.arch, c.variant)
    # the published book's profile trains every run in float32 on every CPU, as full does
    assert not any(c.amp or uses_bf16(p, c.family, c.dataset, c.arch, c.variant)
                   for p in ("long", "full") for c in full_grid(p))
    assert not any(c.amp for c in full_grid("full"))        # never measured on a GPU
    # every row of every family is covered: rows not named follow their architecture's measurement
    evidence = {name: families.get(name) for name in families.names()}
    assert all(evidence[c.family].bf16_evidence(c.dataset, c.arch, c.variant) is not None for c in full_grid("quick"))
    vae, wgan = evidence["vae"], evidence["wgan"]
    assert vae.bf16_evidence("mnist", "mlp", "MLP C") is vae.bf16[("mnist", "mlp", None)]
    assert wgan.bf16_evidence("mnist", "conv", "DC-WGAN-GP") is wgan.bf16[("mnist", "conv", "DC-WGAN-GP")]
    assert vae.bf16_evidence("mnist", "conv", "Conv") is None


def test_a_cpu_without_native_bf16_trains_every_row_in_fp32(monkeypatch):
    monkeypatch.setattr(grid_module, "cpu_has_native_bf16", lambda: False)
    assert not any(c.amp for profile in ("long", "quick", "smoke") for c in full_grid(profile))


@pytest.mark.parametrize("setting, cpu, used", [
    (None, True, True), (None, False, False), ("auto", False, False), (" AUTO ", True, True),
    ("1", False, True), ("0", True, False),
])
def test_gen_bf16_pins_the_choice_whatever_the_cpu(monkeypatch, setting, cpu, used):
    monkeypatch.setattr(grid_module, "cpu_has_native_bf16", lambda: cpu)
    if setting is None:
        monkeypatch.delenv("GEN_BF16", raising=False)
    else:
        monkeypatch.setenv("GEN_BF16", setting)
    assert grid_module.bf16_on_this_cpu() is used
    # a row whose measurement allows bf16 (the GAN MLP A on MNIST) follows it; one whose does not stays fp32
    assert uses_bf16("quick", "gan", "mnist", "mlp", "MLP A") is used
    assert uses_bf16("quick", "gan", "mnist", "conv", "DCGAN") is False


def test_gen_bf16_with_another_value_is_one_line_naming_the_choices(monkeypatch):
    monkeypatch.setenv("GEN_BF16", "yes")
    with pytest.raises(ConfigError, match=r"^GEN_BF16='yes' is not allowed; expected auto \(bf16 where this CPU "
                                          r"computes it natively\), 1 \(on every row whose measurement allows it\) or 0 "
                                          r"\(never\)$"):
        uses_bf16("quick", "gan", "mnist", "mlp", "MLP A")


@pytest.mark.parametrize("cpuinfo, native", [
    ("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile\n", True),        # Sapphire Rapids-like
    ("flags\t\t: fpu avx2 amx_bf16 amx_tile\n", True),
    ("flags\t\t: fpu avx2 avx512f avx512dq avx512bw avx512vl\n", True),                  # Skylake-SP: AVX-512 core
    ("flags\t\t: fpu avx2 avx512f avx512dq avx512vl\n", False),                          # no BW: not avx512_core
    ("flags\t\t: fpu sse avx2 fma vaes\n", False),                                     # AVX2-only EPYC
    ("model name\t: avx512_bf16 in a name\nflags\t\t: fpu avx2\n", False),               # only the flags line counts
    ("flags\t\t: fpu xavx512_bf16y\n", False),
    ("", False),
])
def test_native_bf16_reads_the_cpu_flags(cpuinfo, native):
    assert bf16.native_bf16(cpuinfo) is native


def test_the_cpu_model_names_its_family_model_and_vector_width_from_cpuinfo_text():
    from gen_core.bf16 import cpu_model

    epyc = ("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
            "model name\t: AMD EPYC   9R14\nflags\t\t: fpu avx2 avx512f avx512bw avx512vl avx512dq\n\n"
            "processor\t: 1\nmodel name\t: another\n")
    assert cpu_model(epyc) == "AMD EPYC 9R14 (family 25 model 17; AVX-512)"       # the first processor's only
    avx2 = "cpu family\t: 23\nmodel\t\t: 49\nmodel name\t: AMD EPYC 7B12\nflags\t\t: fpu avx2 fma\n"
    assert cpu_model(avx2) == "AMD EPYC 7B12 (family 23 model 49; AVX2, no AVX-512)"
    assert cpu_model("processor\t: 0\nModel\t\t: Raspberry Pi 4\n") == "Raspberry Pi 4"     # ARM: no flags
    assert cpu_model("processor\t: 0\nflags\t\t: fpu\n") is None

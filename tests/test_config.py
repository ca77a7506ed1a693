"""RunConfig: validation (one-line ConfigError naming key and value), hash and run name."""
from __future__ import annotations

import re

import pytest

import gen_core.config as config_mod
from gen_core import ConfigError, RunConfig

BASE = dict(family="vae", dataset="mnist", arch="mlp", variant="MLP A", latent_dim=8, hidden=(32,))
GAN_BASE = dict(family="gan", dataset="mnist", arch="mlp", variant="MLP A", latent_dim=8,
                hidden=(32,), d_hidden=(16,))
DCGAN_BASE = dict(family="gan", dataset="cifar10", arch="conv", variant="DCGAN", latent_dim=8,
                  channels=(16, 8, 4), d_channels=(4, 8, 16))


def make(base=BASE, **changes) -> RunConfig:
    return RunConfig(**{**base, **changes})


def assert_config_error(excinfo, *fragments):
    msg = str(excinfo.value)
    assert "\n" not in msg, f"ConfigError must be one line: {msg!r}"
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"


# ---- valid configs -------------------------------------------------------------------------

def test_valid_config_properties():
    cfg = make()
    assert cfg.image_shape == (1, 28, 28)
    assert make(DCGAN_BASE).image_shape == (3, 32, 32)
    assert cfg.label == "MLP A, z=8"
    # defaults documented in the dataclass
    assert (cfg.clip, cfg.n_critic, cfg.optimizer, cfg.dropout) == (0.0, 1, "adam", 0.0)


def test_config_is_frozen():
    cfg = make()
    with pytest.raises(Exception):
        cfg.lr = 0.5  # type: ignore[misc]


def test_from_dict_round_trip_and_list_coercion():
    cfg = make(GAN_BASE, betas=(0.5, 0.9))
    as_json_like = {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.to_dict().items()}
    back = RunConfig.from_dict(as_json_like)
    assert back == cfg
    assert back.hidden == (32,) and isinstance(back.hidden, tuple)
    assert back.betas == (0.5, 0.9) and isinstance(back.betas, tuple)


def test_wgan_may_clip_and_run_several_critic_steps():
    cfg = make(GAN_BASE, family="wgan", clip=0.01, n_critic=5, optimizer="rmsprop")
    assert (cfg.clip, cfg.n_critic) == (0.01, 5)


def test_float_fields_accept_ints():
    assert make(lr=1).lr == 1


# ---- validation errors ---------------------------------------------------------------------

def test_unknown_key_from_dict():
    with pytest.raises(ConfigError) as e:
        RunConfig.from_dict({**BASE, "learning_rate": 0.1})
    assert_config_error(e, "unknown config key 'learning_rate'", "latent_dim")


@pytest.mark.parametrize("key, value, shown", [
    ("latent_dim", "8", "latent_dim='8'"),
    ("lr", True, "lr=True"),
    ("epochs", 2.0, "epochs=2.0"),
    ("variant", 3, "variant=3"),
    ("hidden", [32], "hidden=[32]"),          # lists are only turned into tuples by from_dict
])
def test_wrong_type(key, value, shown):
    with pytest.raises(ConfigError) as e:
        make(**{key: value})
    assert_config_error(e, shown, "type")


@pytest.mark.parametrize("changes, shown", [
    (dict(lr=-0.001), "lr=-0.001"),
    (dict(lr=0.0), "lr=0.0"),
    (dict(latent_dim=0), "latent_dim=0"),
    (dict(epochs=0), "epochs=0"),
    (dict(batch_size=0), "batch_size=0"),
    (dict(train_size=-1), "train_size=-1"),
    (dict(seed=-3), "seed=-3"),
    (dict(dropout=1.0), "dropout=1.0"),
    (dict(dropout=-0.1), "dropout=-0.1"),
    (dict(betas=(0.9,)), "betas=(0.9,)"),
    (dict(betas=(0.9, 1.0)), "betas=(0.9, 1.0)"),
    (dict(hidden=()), "hidden=()"),
    (dict(hidden=(32, 0)), "hidden=(32, 0)"),
    (dict(hidden=(32, True)), "hidden=(32, True)"),
])
def test_out_of_range_values(changes, shown):
    with pytest.raises(ConfigError) as e:
        make(**changes)
    assert_config_error(e, shown)


# The whole splits, written out here rather than read from config: MNIST has 60,000 training and
# 10,000 test images, CIFAR-10 50,000 and 10,000 (the datasets' own documentation).
@pytest.mark.parametrize("base, changes, message", [
    (BASE, dict(train_size=100000),
     "config train_size=100000 is not allowed; expected 0 (all) or at most 60000 for mnist"),
    (BASE, dict(train_size=60001), "config train_size=60001 is not allowed; expected 0 (all) or at most 60000 for mnist"),
    (DCGAN_BASE, dict(train_size=50001),
     "config train_size=50001 is not allowed; expected 0 (all) or at most 50000 for cifar10"),
    (BASE, dict(test_size=10001), "config test_size=10001 is not allowed; expected 0 (all) or at most 10000 for mnist"),
    (DCGAN_BASE, dict(test_size=10001),
     "config test_size=10001 is not allowed; expected 0 (all) or at most 10000 for cifar10"),
    # the smoke profile's 256 training images cannot fill one batch of 1000: every run would fail
    (BASE, dict(train_size=256, batch_size=1000),
     "config batch_size=1000 is not allowed; expected at most 256, the run's training images (train_size=256)"),
    (BASE, dict(train_size=256, batch_size=257),
     "config batch_size=257 is not allowed; expected at most 256, the run's training images (train_size=256)"),
    (DCGAN_BASE, dict(batch_size=50001),
     "config batch_size=50001 is not allowed; expected at most 50000, the run's training images "
     "(train_size=0: all of cifar10)"),
])
def test_sizes_beyond_the_dataset_are_refused(base, changes, message):
    with pytest.raises(ConfigError) as e:
        make(base, **changes)
    assert str(e.value) == message


def test_sizes_up_to_the_whole_dataset_are_allowed():
    """The limits are inclusive: a whole split, and one batch of every training image."""
    assert make(train_size=60000, test_size=10000).train_size == 60000
    assert make(DCGAN_BASE, train_size=50000, test_size=10000).train_size == 50000
    assert make(train_size=256, batch_size=256).batch_size == 256
    assert make(batch_size=60000).batch_size == 60000                       # train_size=0: all 60,000


@pytest.mark.parametrize("key, value, allowed", [
    ("family", "diffusion", "vae, gan, wgan"),
    ("dataset", "svhn", "mnist, cifar10"),
    ("arch", "transformer", "mlp, conv"),
    ("optimizer", "sgd", "adam, rmsprop"),
])
def test_unknown_choices(key, value, allowed):
    with pytest.raises(ConfigError) as e:
        make(**{key: value})
    assert_config_error(e, f"{key}={value!r}", allowed)


def test_clip_on_a_gan_is_rejected():
    with pytest.raises(ConfigError) as e:
        make(GAN_BASE, clip=0.01)
    assert_config_error(e, "clip=0.01", "'gan'")


def test_n_critic_on_a_vae_is_rejected():
    with pytest.raises(ConfigError) as e:
        make(n_critic=5)
    assert_config_error(e, "n_critic=5", "'vae'")


DCWGAN_GP = dict(DCGAN_BASE, family="wgan", gp=10.0, critic_norm="layer", n_critic=5)


def test_wgan_gp_config_is_valid_and_hashes_apart_from_clipping():
    gp = make(DCWGAN_GP)
    assert (gp.gp, gp.critic_norm, gp.clip) == (10.0, "layer", 0.0)
    assert gp.run_hash() != make(DCWGAN_GP, gp=0.0, critic_norm="batch", clip=0.01).run_hash()
    assert make(DCWGAN_GP, critic_norm="none").critic_norm == "none"


@pytest.mark.parametrize("changes, message", [
    (dict(gp=-1.0), "config gp=-1.0 is not allowed; expected a gradient penalty weight >= 0 (0 means none)"),
    (dict(clip=0.01), "config clip=0.01 is not allowed; expected 0 when gp is set: weight clipping and the "
                      "gradient penalty are alternatives"),
    (dict(critic_norm="batch"), "config critic_norm='batch' is not allowed; expected 'layer' or 'none' with a "
                                "gradient penalty: BatchNorm mixes the examples whose gradients are penalised one by one"),
    (dict(critic_norm="instance"), "config critic_norm='instance' is not allowed; expected one of batch, layer, none"),
    (dict(compile=True), "config compile=True is not allowed; expected False with a gradient penalty "
                         "(torch.compile has no double backward)"),
    (dict(family="gan", n_critic=1), "config gp=10.0 is not allowed; expected the default (0.0) for family 'gan', "
                                     "which does not use it (used by wgan)"),
])
def test_wgan_gp_bad_settings_are_named(changes, message):
    with pytest.raises(ConfigError) as e:
        make(DCWGAN_GP, **changes)
    assert str(e.value) == message


def test_critic_norm_needs_a_conv_critic():
    with pytest.raises(ConfigError) as e:
        make(GAN_BASE, critic_norm="layer")
    assert str(e.value) == ("config critic_norm='layer' is not allowed; expected 'batch' (the default) unless "
                            "the model has a conv critic")


def test_negative_clip_is_rejected_even_for_wgan():
    with pytest.raises(ConfigError) as e:
        make(GAN_BASE, family="wgan", clip=-0.01)
    assert_config_error(e, "clip=-0.01")


def test_mlp_gan_needs_discriminator_widths():
    with pytest.raises(ConfigError) as e:
        make(GAN_BASE, d_hidden=())
    assert_config_error(e, "d_hidden=()")


def test_d_channels_length_must_match_channels():
    with pytest.raises(ConfigError) as e:
        make(DCGAN_BASE, d_channels=(8, 16))
    # 3 generator widths -> 3 critic widths expected
    assert_config_error(e, "d_channels=(8, 16)", "3 widths")


@pytest.mark.parametrize("channels", [(), (4, 4, 4, 4, 4, 4)])
def test_conv_vae_needs_one_to_five_widths(channels):
    with pytest.raises(ConfigError) as e:
        make(BASE, arch="conv", hidden=(), channels=channels)
    assert_config_error(e, f"channels={channels!r}", "1 to 5")


@pytest.mark.parametrize("channels", [(4, 4), (4, 4, 4, 4, 4)])
def test_conv_gan_needs_three_or_four_widths(channels):
    with pytest.raises(ConfigError) as e:
        make(DCGAN_BASE, channels=channels, d_channels=channels)
    assert_config_error(e, f"channels={channels!r}", "3 or 4")


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


# ---- hash and run name -------------------------------------------------------------------

def test_equal_configs_have_equal_hash():
    a, b = make(), make()
    assert a is not b and a == b
    assert a.run_hash() == b.run_hash()
    assert re.fullmatch(r"[0-9a-f]{12}", a.run_hash())
    assert RunConfig.from_dict(a.to_dict()).run_hash() == a.run_hash()


@pytest.mark.parametrize("changes", [
    dict(latent_dim=9), dict(lr=2e-3), dict(seed=1), dict(epochs=2), dict(hidden=(32, 16)),
    dict(variant="MLP B"), dict(dataset="cifar10"), dict(train_size=200), dict(dropout=0.2),   # 200: one batch of 128
])
def test_changing_one_field_changes_the_hash(changes):
    assert make(**changes).run_hash() != make().run_hash()


def test_hash_depends_on_training_source(monkeypatch):
    cfg = make()
    before = cfg.run_hash()
    monkeypatch.setattr(config_mod, "training_digest", lambda family: "edited training code")
    assert cfg.run_hash() != before


def test_numerically_equal_values_give_equal_hash():
    # Regression (fixed): lr=1 and lr=1.0 make equal RunConfigs (1 == 1.0, and the
    # validator accepts ints for float fields), but json.dumps writes "1" vs "1.0", so the
    # run hash differs and an identical run is retrained under a second folder.
    # Same for clip=0 / 0.0, dropout=0 / 0.0 (e.g. override(cfg, dropout=0)).
    a, b = make(lr=1), make(lr=1.0)
    assert a == b
    assert a.run_hash() == b.run_hash()


def test_run_name_format():
    cfg = make(DCGAN_BASE, family="wgan", variant="DC-WGAN", latent_dim=64)
    assert cfg.run_name() == f"wgan-cifar10-dcwgan-z64-{cfg.run_hash()}"
    cfg = make(variant="MLP A", latent_dim=50)
    assert cfg.run_name() == f"vae-mnist-mlpa-z50-{cfg.run_hash()}"


@pytest.mark.parametrize("family, arch, changes, message", [
    ("vae", "mlp", dict(channels=(32, 64)),
     "config channels=(32, 64) is not allowed; expected empty for arch='mlp' (set hidden/d_hidden)"),
    ("gan", "conv", dict(hidden=(128,)),
     "config hidden=(128,) is not allowed; expected empty for arch='conv' (set channels/d_channels)"),
    ("vae", "mlp", dict(d_hidden=(256,)),
     "config d_hidden=(256,) is not allowed; expected empty for family 'vae', which does not use it (used by gan, wgan)"),
])
def test_widths_that_no_network_of_the_config_uses_are_rejected(family, arch, changes, message):
    from gen_core.grid import grid, override

    base = next(c for ds in ("mnist", "cifar10") for c in grid(family, ds, "smoke") if c.arch == arch)
    with pytest.raises(ConfigError) as e:
        override(base, **changes)
    assert str(e.value) == message


@pytest.mark.parametrize("key", ["amp", "compile"])
def test_speed_switches_are_booleans(key):
    with pytest.raises(ConfigError) as e:
        make(**{key: 1})
    assert str(e.value) == f"config {key}=1 is not allowed; expected a value of type bool"

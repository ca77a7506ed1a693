"""Interpolation paths, the 2-D latent grid and nearest neighbours, against values worked out by hand."""
from __future__ import annotations

import math

import pytest
import torch

from gen_core import latent
from gen_core.train import build_models


def test_lerp_is_the_straight_line():
    z0, z1 = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    path = latent.lerp(z0, z1, torch.tensor([0.0, 0.25, 1.0]))
    assert torch.allclose(path, torch.tensor([[0.0, 2.0], [1.0, 1.0], [4.0, -2.0]]))


def test_slerp_walks_the_great_circle():
    # between (1, 0) and (0, 1) the angle is 90 degrees: t = 1/3 is 30 degrees, t = 1/2 is 45
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    path = latent.slerp(z0, z1, torch.tensor([0.0, 1 / 3, 0.5, 1.0]))
    h = math.sqrt(0.5)
    expected = torch.tensor([[1.0, 0.0], [math.cos(math.pi / 6), 0.5], [h, h], [0.0, 1.0]])
    assert torch.allclose(path, expected, atol=1e-6)
    # every point keeps the unit norm; the straight line's midpoint has norm sqrt(1/2)
    assert torch.allclose(path.norm(dim=1), torch.ones(4), atol=1e-6)
    assert latent.lerp(z0, z1, torch.tensor([0.5])).norm().item() == pytest.approx(h)


def test_slerp_of_parallel_ends_falls_back_to_the_line():
    z0 = torch.tensor([1.0, 1.0])
    path = latent.slerp(z0, 3 * z0, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.allclose(path, torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]))


def test_interpolation_latents_run_between_random_ends():
    z = latent.interpolation_latents(latent_dim=8, pairs=3, steps=5, kind="spherical", seed=1)
    assert z.shape == (15, 8)
    ends = torch.randn(3, 2, 8, generator=torch.Generator().manual_seed(1))
    for p in range(3):
        assert torch.allclose(z[5 * p], ends[p, 0], atol=1e-5) and torch.allclose(z[5 * p + 4], ends[p, 1], atol=1e-5)
    with pytest.raises(ValueError) as err:
        latent.interpolation_latents(8, 1, 5, "cubic", 0)
    assert str(err.value) == "interpolation kind='cubic' is not allowed; expected linear or spherical"


def test_interpolations_give_gans_both_paths_and_vaes_the_line(tiny_cfg):
    for family, kinds in (("vae", ["linear"]), ("gan", ["linear", "spherical"]), ("wgan", ["linear", "spherical"])):
        cfg = tiny_cfg(family)
        paths = latent.interpolations(cfg, build_models(cfg), "cpu", pairs=2, steps=3)
        assert list(paths) == kinds
        for images in paths.values():
            assert images.shape == (6, 1, 28, 28) and 0 <= images.min() and images.max() <= 1


@pytest.mark.parametrize("family, arch, changes", [("gan", "conv", {}), ("gan", "mlp", {}),
                                                   ("vae", "mlp", {"dropout": 0.5})])
def test_interpolation_images_do_not_depend_on_the_surrounding_batch(tiny_cfg, family, arch, changes):
    """A path's images are the same alone and inside two different random batches: sampling is in
    eval mode, so BatchNorm and dropout never mix the latents of one batch. The generator first runs
    a few train-mode passes, so BatchNorm's running statistics are not their initial 0 and 1."""
    from gen_core.train import generate

    cfg = tiny_cfg(family, "mnist", arch, **changes)
    models = build_models(cfg)
    torch.manual_seed(0)
    if family == "gan":
        with torch.no_grad():                            # train-mode passes move the running statistics
            for _ in range(3):
                models["generator"](torch.randn(16, cfg.latent_dim) * 2 + 1)
    path = latent.interpolation_latents(cfg.latent_dim, pairs=2, steps=10, kind="linear", seed=7)     # (20, D)
    alone = generate(cfg, models, path)
    inside = [generate(cfg, models, torch.cat([torch.randn(200, cfg.latent_dim, generator=torch.Generator().manual_seed(s)),
                                               path]))[-len(path):] for s in (1, 2)]
    for images in inside:
        assert torch.equal(images, alone)
    # in train mode, BatchNorm would make them differ (the check above can fail)
    if family == "gan":
        G = models["generator"].train()
        with torch.no_grad():
            a = G(path)
            b = G(torch.cat([torch.randn(200, cfg.latent_dim), path]))[-len(path):]
        assert not torch.allclose(a, b, atol=1e-3)


def test_manifold_latents_sit_at_normal_quantiles():
    # N(0, 1) quantiles at 5%, 50%, 95%: -1.6449, 0, 1.6449; rows run z_2 from top (high) to bottom
    z = latent.manifold_latents(3)
    q = 1.6448536
    expected = torch.tensor([[-q, q], [0, q], [q, q], [-q, 0], [0, 0], [q, 0], [-q, -q], [0, -q], [q, -q]])
    assert torch.allclose(z, expected, atol=1e-4)


def test_manifold_needs_a_two_dimensional_latent(tiny_cfg):
    cfg = tiny_cfg("vae", latent_dim=2)
    images, values = latent.manifold(cfg, build_models(cfg), "cpu", n=4)
    assert images.shape == (16, 1, 28, 28) and values.shape == (4,)
    with pytest.raises(ValueError) as err:
        latent.manifold(tiny_cfg("vae", latent_dim=3), {}, "cpu")
    assert str(err.value) == "MLP A, z=3: the manifold needs a 2-dimensional latent"


def test_latent_means_are_the_encoder_means_without_dropout(tiny_cfg, split_factory):
    cfg = tiny_cfg("vae", latent_dim=2, dropout=0.5)
    models = build_models(cfg)
    vae = models["vae"].train()
    split = split_factory(20)
    means = latent.latent_means(cfg, models, split, batch=7)     # 3 uneven batches
    vae.eval()
    with torch.no_grad():
        expected = vae.encode(split.images.float() / 255)[0]
    assert torch.allclose(means, expected, atol=1e-6)
    assert means.shape == (20, 2)


def test_latent_means_restore_training_mode(tiny_cfg, split_factory):
    cfg = tiny_cfg("vae", latent_dim=2)
    models = build_models(cfg)
    vae = models["vae"].train()
    latent.latent_means(cfg, models, split_factory(4))
    assert vae.training


def test_latent_means_need_an_encoder(tiny_cfg, split_factory):
    cfg = tiny_cfg("gan", latent_dim=2)
    with pytest.raises(ValueError) as err:
        latent.latent_means(cfg, build_models(cfg), split_factory(4))
    assert str(err.value) == "MLP A, z=2: latent means need a family with an encoder; GAN has none"


def test_nearest_neighbours_across_chunks():
    points = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 5.0]])
    queries = torch.tensor([[9.0, 1.0], [0.0, 4.0], [0.0, 0.0]])
    dist, idx = latent.nearest_neighbours(queries, points, chunk=1)     # one point per chunk
    assert idx.tolist() == [1, 2, 0]
    assert torch.allclose(dist, torch.tensor([math.sqrt(2), 1.0, 0.0]), atol=1e-3)

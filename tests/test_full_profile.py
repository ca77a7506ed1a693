"""The full profile has never run here (no GPU): every one of its configurations is built at the
reports' widths and takes real training steps on CPU, so a shape or config error at full width
cannot hide behind the capped quick and smoke profiles."""
from __future__ import annotations

import pytest
import torch

from conftest import make_split
from gen_core import families
from gen_core.grid import full_grid, override, rows
from gen_core.train import generate_many, snapshot_epochs, train

FULL = {(c.family, c.dataset, c.variant, c.latent_dim): c for c in full_grid("full")}     # seeds share a config


def test_the_full_grid_is_the_reports_grid_at_their_widths_and_epochs():
    assert len(full_grid("full")) == 3 * len(FULL) == 96      # 3 seeds x (29 + the 3 rows described in words)
    for cfg in FULL.values():
        row = next(r for r in rows(cfg.family, cfg.dataset) if r.variant == cfg.variant)
        for key, widths in row.fields.items():
            assert getattr(cfg, key) == widths, (cfg.label, key)           # nothing capped
        assert cfg.epochs == row.full_epochs and cfg.train_size == 0 and cfg.n_eval_samples == 10000


@pytest.mark.parametrize("key", sorted(FULL), ids=lambda k: "-".join(map(str, k)))
def test_every_full_configuration_trains_and_samples_at_full_width(key):
    """Batches of 4 for n_critic steps (so a WGAN's generator steps too), then 8 samples in eval mode."""
    cfg = FULL[key]
    steps = max(2, cfg.n_critic)
    small = override(cfg, epochs=1, batch_size=4, n_samples=4)
    result = train(small, make_split(4 * steps, cfg.dataset), "cpu", progress=False)
    assert result.status == "complete" and result.images_seen == 4 * steps
    watched = families.get(cfg.family).watched
    assert len(result.history[watched]) == steps and all(torch.isfinite(torch.tensor(result.history[watched])))
    if "g_loss" in result.history:                               # the generator took its steps too
        assert len(result.history["g_loss"]) == families.get(cfg.family).generator_steps(small, steps) >= 1
    samples = generate_many(small, result.models, 8, seed=0, device="cpu")
    assert samples.shape == (8, *cfg.image_shape) and 0 <= samples.min() and samples.max() <= 1
    assert snapshot_epochs(cfg.epochs)[-1] == cfg.epochs

"""The yardstick's intervals and k-NN measures against hand values and independent computations:
bootstrap FD interval coverage on Gaussians with a known FD, FD against torchmetrics, the moment and
interval helpers, density and coverage by hand, the fixed-ball bootstrap, and the collapse rule."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gen_core.feature_measures import (bootstrap_counts, density_coverage, frechet_distance, frechet_from_moments,
                                       interval, neighbour_balls, prdc, precision_recall, psd_sqrt, weighted_moments)
from gen_core.yardstick import (COLLAPSE_STATES, COLLAPSED_MAX, CONFIDENT, COUNTED_MIN, ON_DATA_MIN, RealSide,
                                collapse_state, sample_measures)


def gaussian_pair(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """real ~ N(0, I_4), fake ~ N((2, 0, 0, 0), I_4), n each, float64.
    True FD = |delta|^2 + Tr(I) + Tr(I) - 2 Tr((I I)^1/2) = 4 + 4 + 4 - 8 = 4."""
    g = torch.Generator().manual_seed(seed)
    real = torch.randn(n, 4, generator=g, dtype=torch.float64)
    fake = torch.randn(n, 4, generator=g, dtype=torch.float64)
    fake[:, 0] += 2.0
    return real, fake


def measure(real: torch.Tensor, fake: torch.Tensor, logits: torch.Tensor | None = None, labels: bool = False,
            **kwargs) -> dict:
    real_side = RealSide("mnist", len(fake), None, real, {})
    if logits is None:
        logits = torch.zeros(len(fake), 10)
    return sample_measures(fake, logits, real_side, labels=labels, **kwargs)


# ---- a. the bootstrap FD interval ---------------------------------------------------------------

def test_fd_interval_covers_the_true_fd():
    """A 95% interval on FD covers the true value 4 in about 95 of 100 independent experiments.
    (Over 1,000 seeds this interval covers 93%; 100 seeds give 92. A real-side-only or fake-side-only
    bootstrap is sqrt(2) too narrow, covering about 83%, and fails.)"""
    covered = 0
    for seed in range(100):
        real, fake = gaussian_pair(1000, seed)
        out = measure(real, fake)
        lo, hi = out["fd_ci"]
        assert lo <= out["fd"] <= hi
        covered += lo <= 4.0 <= hi
    assert covered >= 90, covered


def test_fd_interval_point_is_the_fd_of_all_features():
    real, fake = gaussian_pair(300, seed=123)
    out = measure(real, fake, replicates=20)
    assert out["fd"] == pytest.approx(frechet_distance(real, fake), rel=1e-9)
    assert out["n_generated"] == 300 and out["n_real"] == 300


def test_fd_interval_narrows_with_four_times_the_samples():
    """FD's spread is dominated by |mu_g - mu_r|^2, whose sd is 2 |delta| sqrt(2 / n): width ~ 1/sqrt(n),
    so 4x the samples halves the interval (0.48 measured here); an n-blind interval would give 1."""
    widths = {1000: [], 4000: []}
    for seed in range(4):
        for n in widths:
            real, fake = gaussian_pair(n, 1000 + seed)
            lo, hi = measure(real, fake, replicates=100)["fd_ci"]
            widths[n].append(hi - lo)
    ratio = sum(widths[4000]) / sum(widths[1000])
    assert 0.35 < ratio < 0.7, ratio


# ---- b. FD against torchmetrics ---------------------------------------------------------------------

class Identity(nn.Module):
    num_features = 6

    def forward(self, x):
        return x


def test_frechet_distance_matches_torchmetrics():
    from torchmetrics.image.fid import FrechetInceptionDistance

    g = torch.Generator().manual_seed(7)
    mix = torch.randn(6, 6, generator=g, dtype=torch.float64)
    real = torch.randn(500, 6, generator=g, dtype=torch.float64) @ mix
    fake = torch.randn(400, 6, generator=g, dtype=torch.float64) @ (mix + 0.3 * torch.eye(6, dtype=torch.float64)) + 0.5
    fid = FrechetInceptionDistance(feature=Identity(), normalize=True)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    expected = float(fid.compute())
    assert expected > 1.0                                # a non-trivial distance
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=1e-6)


# ---- moment and interval helpers by hand ---------------------------------------------------------

def test_weighted_moments_by_hand():
    # x = 0, 1, 2, 3. All ones: mean 1.5, var = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3.
    # Counts (2, 0, 0, 1): the multiset {0, 0, 3}: mean 1, var = (1 + 1 + 4) / 2 = 3.
    x = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    mu, cov = weighted_moments(x, torch.tensor([[1.0, 1, 1, 1], [2, 0, 0, 1]]))
    assert mu.dtype == torch.float64
    assert mu[:, 0].tolist() == pytest.approx([1.5, 1.0])
    assert cov[:, 0, 0].tolist() == pytest.approx([5 / 3, 3.0])


def test_weighted_moments_2d_covariance_and_chunking():
    # points (1, 1), (-1, -1), (1, -1), (-1, 1), (2, 2): mean (0.4, 0.4);
    # sum x x^T = [[8, 4], [4, 8]]; cov = (sum x x^T - 5 mu mu^T) / 4 = ([[8, 4], [4, 8]] - 0.8) / 4
    #           = [[1.8, 0.8], [0.8, 1.8]]
    x = torch.tensor([[1.0, 1], [-1, -1], [1, -1], [-1, 1], [2, 2]])
    counts = torch.ones(3, 5)
    for chunk in (2 ** 24, 1):                           # one chunk, or one count row per chunk
        mu, cov = weighted_moments(x, counts, chunk_elements=chunk)
        for b in range(3):
            assert mu[b].tolist() == pytest.approx([0.4, 0.4])
            assert cov[b].flatten().tolist() == pytest.approx([1.8, 0.8, 0.8, 1.8])


def test_psd_sqrt_by_hand():
    # diag(4, 9) -> diag(2, 3); [[2, 1], [1, 2]] has eigenvalues 3 (along (1, 1)) and 1 (along (1, -1)):
    # sqrt = [[(sqrt3 + 1) / 2, (sqrt3 - 1) / 2], [(sqrt3 - 1) / 2, (sqrt3 + 1) / 2]]
    assert psd_sqrt(torch.tensor([[4.0, 0], [0, 9]], dtype=torch.float64)).flatten().tolist() == \
        pytest.approx([2, 0, 0, 3], abs=1e-12)
    s3 = math.sqrt(3)
    root = psd_sqrt(torch.tensor([[2.0, 1], [1, 2]], dtype=torch.float64))
    assert root.flatten().tolist() == pytest.approx([(s3 + 1) / 2, (s3 - 1) / 2, (s3 - 1) / 2, (s3 + 1) / 2])
    # a slightly negative eigenvalue (round-off) is clamped to 0, not turned into NaN
    clamped = psd_sqrt(torch.tensor([[1.0, 0], [0, -1e-12]], dtype=torch.float64))
    assert clamped.flatten().tolist() == pytest.approx([1, 0, 0, 0], abs=1e-12)


def test_frechet_from_moments_by_hand_in_a_batch():
    # row 0: mu_r 0, S_r diag(1, 4); mu_g (3, 4), S_g diag(4, 1):
    #   |(3, 4)|^2 = 25; trace term for commuting diagonals = sum (sqrt a - sqrt b)^2 = (1 - 2)^2 + (2 - 1)^2 = 2
    #   FD = 27
    # row 1: the same Gaussian on both sides: FD = 0
    s_r = torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64))
    s_g = torch.diag(torch.tensor([4.0, 1.0], dtype=torch.float64))
    mu_r = torch.zeros(2, 2, dtype=torch.float64)
    mu_g = torch.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=torch.float64)
    sqrt_r = psd_sqrt(s_r).expand(2, 2, 2)
    fd = frechet_from_moments(mu_r, sqrt_r, mu_g, torch.stack([s_g, s_r]))
    assert fd.tolist() == pytest.approx([27.0, 0.0], abs=1e-9)


def test_bootstrap_counts_are_resamples_of_size_n():
    counts = bootstrap_counts(50, 30, seed=1)
    assert counts.shape == (30, 50) and counts.dtype == torch.float64
    assert (counts.sum(1) == 50).all()                   # each resample draws n rows
    assert (counts >= 0).all() and (counts == counts.round()).all()
    assert torch.equal(counts, bootstrap_counts(50, 30, seed=1))
    assert not torch.equal(counts, bootstrap_counts(50, 30, seed=2))
    # about 1 - 1/e = 63% of rows drawn at least once (over 1,500 row slots: well within 0.55..0.71)
    assert 0.55 < float((counts > 0).double().mean()) < 0.71


def test_interval_by_hand():
    # replicates 0, 1, ..., 100: mean 50; 2.5% and 97.5% quantiles (linear, position q * 100) = 2.5, 97.5.
    # estimate 60: shift +10 -> [12.5, 107.5], clipped at high = 100 -> [12.5, 100]
    reps = torch.arange(101, dtype=torch.float64)
    assert interval(reps, 60.0, high=100.0) == pytest.approx([12.5, 100.0])
    # estimate 40: shift -10 -> [-7.5, 87.5], clipped at low = 0 -> [0, 87.5]
    assert interval(reps, 40.0) == pytest.approx([0.0, 87.5])
    # level 0.5: quantiles 25, 75; estimate 50: no shift
    assert interval(reps, 50.0, level=0.5) == pytest.approx([25.0, 75.0])


# ---- c. density and coverage by hand --------------------------------------------------------------

def test_density_coverage_of_identical_sets():
    x = torch.randn(100, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    density, coverage = density_coverage(x, x.clone())
    # every real ball holds its own fake twin (distance 0 <= radius)
    assert coverage == 1.0
    assert density > 0.5
    assert precision_recall(x, x.clone()) == (1.0, 1.0)


def test_density_coverage_of_far_apart_sets():
    x = torch.randn(100, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert density_coverage(x, x + 1000.0) == (0.0, 0.0)


# real = 0, 1, 3, 7; fake = 0.5, 0.8, 6.5, 20 (M = N = 4). No distance below lies on a ball's edge.
#
# k = 1: the radius of each real point is the distance to its nearest other real point:
#   0 -> 1 (r 1), 1 -> 0 (r 1), 3 -> 1 (r 2), 7 -> 3 (r 4);  balls [-1, 1], [0, 2], [1, 5], [3, 11]
#   0.5 in balls 0, 1 (|0.5 - 3| = 2.5 > 2, |0.5 - 7| = 6.5 > 4)   -> 2 balls
#   0.8 in balls 0, 1 (|0.8 - 3| = 2.2 > 2)                        -> 2 balls
#   6.5 in ball 7 only (|6.5 - 3| = 3.5 > 2, |6.5 - 7| = 0.5 <= 4) -> 1 ball
#   20  in none                                                     -> 0 balls
#   density  = (2 + 2 + 1 + 0) / (k M) = 5 / (1 * 4) = 1.25
#   coverage: balls 0 (0.5), 1 (0.5), 7 (6.5) hold a fake; ball 3 = [1, 5] none  -> 3 / 4
#   precision: 0.5, 0.8, 6.5 inside some real ball, 20 not                       -> 3 / 4
#   recall: fake radii 0.5 -> 0.3, 0.8 -> 0.3, 6.5 -> 5.7, 20 -> 13.5; fake balls [0.2, 0.8], [0.5, 1.1],
#           [0.8, 12.2], [6.5, 33.5]: real 0 in none, 1 in [0.5, 1.1], 3 and 7 in [0.8, 12.2] -> 3 / 4
#
# k = 2: the radius is the distance to the 2nd nearest other real point:
#   0 -> (1, 3, 7): r 3;  1 -> (1, 2, 6): r 2;  3 -> (2, 3, 4): r 3;  7 -> (4, 6, 7): r 6
#   balls [-3, 3], [-1, 3], [0, 6], [1, 13]
#   0.5 in balls 0, 1, 3 (|0.5 - 7| = 6.5 > 6)  -> 3;   0.8 in 0, 1, 3 (6.2 > 6) -> 3
#   6.5 in ball 7 only (|6.5 - 3| = 3.5 > 3)     -> 1;   20 in none (13 > 6)     -> 0
#   density  = (3 + 3 + 1 + 0) / (k M) = 7 / (2 * 4) = 0.875
#   coverage: every ball holds a fake (0 and 1 and 3: 0.5; 7: 6.5)                -> 1
REAL_1D = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
FAKE_1D = torch.tensor([[0.5], [0.8], [6.5], [20.0]])


def test_density_coverage_on_hand_computed_1d_points():
    density, coverage = density_coverage(REAL_1D, FAKE_1D, k=1)
    assert density == pytest.approx(1.25)
    assert coverage == pytest.approx(0.75)
    density, coverage = density_coverage(REAL_1D, FAKE_1D, k=2)
    assert density == pytest.approx(0.875)                 # divided by k M = 8, not by M
    assert coverage == pytest.approx(1.0)


def test_precision_recall_on_hand_computed_1d_points():
    assert precision_recall(REAL_1D, FAKE_1D, k=1) == pytest.approx((0.75, 0.75))


def test_prdc_uses_each_measure_s_own_balls():
    # precision and recall from the k = 1 balls, density and coverage from the k = 2 balls (comment above)
    balls = neighbour_balls(REAL_1D, FAKE_1D, k_precision=1, k_density=2)
    out = {k: float(v[0]) for k, v in prdc(balls, torch.ones(1, 4), torch.ones(1, 4)).items()}
    assert out == pytest.approx({"precision": 0.75, "recall": 0.75, "density": 0.875, "coverage": 1.0})


def test_hand_computed_balls_and_weighted_prdc():
    balls = neighbour_balls(REAL_1D, FAKE_1D, k_precision=1, k_density=1)
    # (M, N): rows are fakes 0.5, 0.8, 6.5, 20; columns the balls of reals 0, 1, 3, 7 (from the comment above)
    expected = [[True, True, False, False], [True, True, False, False],
                [False, False, False, True], [False, False, False, False]]
    assert balls.fake_in_real_d.tolist() == expected
    assert balls.fake_in_real.tolist() == expected
    # real_in_fake (N, M): rows are reals 0, 1, 3, 7; columns the k = 1 balls of fakes 0.5 [0.2, 0.8],
    # 0.8 [0.5, 1.1], 6.5 [0.8, 12.2], 20 [6.5, 33.5]: real 0 in none; 1 in 0.8's and 6.5's (|1 - 6.5| = 5.5
    # <= 5.7); 3 in 6.5's; 7 in 6.5's and 20's (|7 - 20| = 13 <= 13.5)
    assert balls.real_in_fake.tolist() == [[False, False, False, False], [False, True, True, False],
                                           [False, False, True, False], [False, False, True, True]]
    # counts move only the query points; the balls stay. Two count rows:
    #   row 0: w_fake (0, 0, 1, 3): precision = (1*1 + 3*0) / 4 = 0.25;
    #          density = (1*1 [6.5 is in 1 ball] + 3*0) / (1 * 4) = 0.25
    #          w_real (0, 0, 2, 2): coverage = (2*0 [ball 3 empty] + 2*1 [ball 7]) / 4 = 0.5;
    #          recall = (2*1 + 2*1) / 4 = 1
    #   row 1: w_fake (1, 1, 1, 1): precision 3/4, density 5/4 (the unweighted values)
    #          w_real (3, 1, 0, 0): coverage = (3*1 + 1*1) / 4 = 1; recall = (3*0 [real 0 in no fake ball]
    #          + 1*1) / 4 = 0.25
    out = prdc(balls, torch.tensor([[0.0, 0, 2, 2], [3, 1, 0, 0]]), torch.tensor([[0.0, 0, 1, 3], [1, 1, 1, 1]]))
    assert out["precision"].tolist() == pytest.approx([0.25, 0.75])
    assert out["density"].tolist() == pytest.approx([0.25, 1.25])
    assert out["coverage"].tolist() == pytest.approx([0.5, 1.0])
    assert out["recall"].tolist() == pytest.approx([1.0, 0.25])


def test_neighbour_balls_need_more_than_k_samples():
    with pytest.raises(ValueError, match="more than 1"):
        neighbour_balls(REAL_1D[:1], FAKE_1D, k_precision=1, k_density=1)
    with pytest.raises(ValueError, match="more than 5"):
        density_coverage(REAL_1D, FAKE_1D)              # k = 5 with 4 points each


# ---- d. the k-NN bootstrap keeps the balls fixed ------------------------------------------------------

def test_knn_intervals_of_identical_sets_are_exactly_one():
    """With fake = real every fake sits at the centre of a real ball and every real at the centre of a fake
    ball, whichever points a resample draws: precision, recall and coverage are 1 in every replicate.
    Balls rebuilt from the resampled ~63% of points would leave some twins outside and lo < 1."""
    x = torch.randn(200, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    out = measure(x, x.clone())
    for key in ("precision", "recall", "coverage"):
        assert out[key] == 1.0, key
        assert out[f"{key}_ci"] == [1.0, 1.0], key
    assert out["fd"] == pytest.approx(0.0, abs=1e-9)


# ---- e. the collapse rule ------------------------------------------------------------------------------

def test_collapse_state_on_hand_values():
    # collapse_state(on_data = share on the real manifold, counted = share on it and confidently labelled,
    #                classes covered by the counted ones)
    assert COLLAPSE_STATES == ("not yet on the data", "collapsed", "not collapsed")
    assert collapse_state(0.3, 0.3, 10) == "not yet on the data"
    assert collapse_state(0.9, 0.9, 1) == "collapsed"
    assert collapse_state(0.9, 0.9, 10) == "not collapsed"
    assert collapse_state(0.9, 0.9, COLLAPSED_MAX) == "collapsed"
    assert collapse_state(0.9, 0.9, COLLAPSED_MAX + 1) == "not collapsed"
    assert collapse_state(0.0, 0.0, 0) == "not yet on the data"


def test_collapse_state_thresholds_on_both_shares():
    # on the manifold: ON_DATA_MIN itself is enough, just below is not (whatever the classes)
    assert collapse_state(ON_DATA_MIN, ON_DATA_MIN, 10) == "not collapsed"
    assert collapse_state(ON_DATA_MIN - 0.01, ON_DATA_MIN - 0.01, 1) == "not yet on the data"
    # counted: COUNTED_MIN itself is enough, just below is "not yet on the data" even with all samples on it
    assert collapse_state(1.0, COUNTED_MIN, 10) == "not collapsed"
    assert collapse_state(1.0, COUNTED_MIN, 1) == "collapsed"
    assert collapse_state(1.0, COUNTED_MIN - 0.01, 10) == "not yet on the data"
    assert 0 < COUNTED_MIN <= ON_DATA_MIN < 1


N_LABELLED = 50


def labelled_setup() -> torch.Tensor:
    return torch.randn(N_LABELLED, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)


def one_hot_logits(classes, scale: float = 100.0) -> torch.Tensor:
    return scale * nn.functional.one_hot(torch.as_tensor(classes), 10).float()


def test_one_class_generator_on_the_data_is_collapsed():
    real = labelled_setup()
    out = measure(real, real.clone(), one_hot_logits([4] * N_LABELLED), labels=True)
    # every sample confident and on the data (it is a real point): on_data = counted = 50/50; one class
    assert out["on_data"] == 1.0
    assert out["counted"] == 1.0
    assert out["classes_covered"] == 1
    assert out["label_histogram"][4] == 1.0
    assert out["kl_to_uniform"] == pytest.approx(math.log(10))
    assert out["collapse"] == "collapsed"


def test_noise_generator_is_not_yet_on_the_data():
    real = labelled_setup()
    labels = [i % 10 for i in range(N_LABELLED)]
    out = measure(real, real + 1000.0, one_hot_logits(labels), labels=True)
    # confident, but no sample lies in a real ball: none on the data, none counts
    assert out["on_data"] == 0.0
    assert out["counted"] == 0.0
    assert out["classes_covered"] == 0
    assert out["collapse"] == "not yet on the data"


def test_uniform_generator_on_the_data_is_not_collapsed():
    real = labelled_setup()
    labels = [i % 10 for i in range(N_LABELLED)]             # 5 of each class
    out = measure(real, real.clone(), one_hot_logits(labels), labels=True)
    assert out["on_data"] == 1.0 and out["counted"] == 1.0
    assert out["classes_covered"] == 10
    assert out["label_histogram"] == pytest.approx([0.1] * 10)
    assert out["collapse"] == "not collapsed"


def test_only_confident_samples_count():
    # one class at logit a, nine at 0: top probability e^a / (e^a + 9) >= 0.9 <=> e^a >= 81 <=> a >= 4.394
    #   a = 4: 54.598 / 63.598 = 0.858 < CONFIDENT -> all 50 on the data, none counted -> not yet on the data
    #   a = 5: 148.41 / 157.41 = 0.943 >= CONFIDENT -> every sample counts, 10 classes -> not collapsed
    assert CONFIDENT == 0.9
    real = labelled_setup()
    labels = [i % 10 for i in range(N_LABELLED)]
    unsure = measure(real, real.clone(), one_hot_logits(labels, scale=4.0), labels=True)
    assert (unsure["on_data"], unsure["counted"], unsure["classes_covered"]) == (1.0, 0.0, 0)
    assert unsure["collapse"] == "not yet on the data"
    sure = measure(real, real.clone(), one_hot_logits(labels, scale=5.0), labels=True)
    assert (sure["on_data"], sure["counted"]) == (1.0, 1.0)
    assert sure["collapse"] == "not collapsed"


@pytest.mark.parametrize("n_confident, counted, state", [
    (10, 0.2, "not yet on the data"),     # 10 / 50 = 0.2 < COUNTED_MIN = 0.25
    (15, 0.3, "not collapsed"),           # 15 / 50 = 0.3: classes 0-4 twice, 5-9 once: shares 2/15, 1/15,
])                                        # all >= 0.5 / 10 = 0.05 -> 10 classes covered
def test_too_few_confident_samples_is_not_yet_on_the_data(n_confident, counted, state):
    # all 50 samples on the data; the first n_confident with logit 100 on class i % 10, the rest flat logits
    # (top probability 0.1 < CONFIDENT)
    real = labelled_setup()
    logits = one_hot_logits([i % 10 for i in range(N_LABELLED)])
    logits[n_confident:] = 0.0
    out = measure(real, real.clone(), logits, labels=True)
    assert out["on_data"] == 1.0
    assert out["counted"] == pytest.approx(counted)
    assert out["collapse"] == state


def test_labels_off_the_data_do_not_count():
    # first 25 samples: real points, all labelled class 0; last 25: far away, labelled 0..9.
    # on the data and counted: the first 25 -> on_data = counted = 25/50 = 0.5 (>= ON_DATA_MIN, COUNTED_MIN);
    # histogram all class 0 -> 1 class covered -> collapsed (the far samples' ten classes must not lift it to 10)
    real = labelled_setup()
    fake = torch.cat([real[:25], real[25:] + 1000.0])
    labels = [0] * 25 + [i % 10 for i in range(25)]
    out = measure(real, fake, one_hot_logits(labels), labels=True)
    assert out["on_data"] == 0.5 and out["counted"] == 0.5
    assert out["classes_covered"] == 1
    assert out["collapse"] == "collapsed"


def test_moments_follow_the_features_device():
    """Resample counts are made on the CPU; features may live on CUDA. On the shape-only "meta"
    device a mismatch would raise, as it does between CPU and CUDA."""
    x = torch.empty(50, 4, device="meta")
    mu, cov = weighted_moments(x, bootstrap_counts(50, 3, seed=0))
    assert mu.device.type == cov.device.type == "meta" and tuple(cov.shape) == (3, 4, 4)

"""Measures between a real and a generated set of features (N, F) and (M, F), and their bootstrap
replicates; yardstick.py applies them in a classifier's feature space.

- Frechet distance between the Gaussians fitted to the two sets, in float64, for one set of
  moments or a batch of resampled ones.
- k-nearest-neighbour manifolds: precision and recall (Kynkaanniemi et al. 2019, k = 3), density
  and coverage (Naeem et al. 2020, k = 5), under count vectors that redraw the query points.
- Kernel Inception Distance (Binkowski et al. 2018): the unbiased MMD^2 under a cubic polynomial
  kernel, for one set of points or under bootstrap count vectors.
- Bootstrap counts, and the interval every yardstick number carries.
- The Wilson interval of a share (a count of successes out of n).
"""
from __future__ import annotations

from dataclasses import dataclass

import math

import torch

K_PRECISION = 3          # Kynkaanniemi et al. 2019
K_DENSITY = 5            # Naeem et al. 2020
LEVEL = 0.95


# ---- Frechet distance, for one set of moments or a batch of bootstrap moments ----------------

def weighted_moments(x: torch.Tensor, counts: torch.Tensor, chunk_elements: int = 2 ** 24):
    """Means (B, F) and unbiased covariances (B, F, F) of x (N, F) under B count vectors (B, N)
    (each a multiset of the rows: a bootstrap resample, or all ones for the sample itself)."""
    x = x.double()
    counts = counts.to(x.device, torch.float64)                       # resample counts are made on the CPU
    n = counts.sum(1)                                                  # (B,)
    mu = counts @ x / n[:, None]                                       # (B, F)
    per = max(1, chunk_elements // x.numel())
    second = torch.cat([torch.einsum("bn,nf,ng->bfg", c, x, x) for c in counts.split(per)])   # (B, F, F)
    cov = (second - n[:, None, None] * mu[:, :, None] * mu[:, None, :]) / (n - 1)[:, None, None]
    return mu, cov


def psd_sqrt(cov: torch.Tensor) -> torch.Tensor:
    """Symmetric square roots (..., F, F) of covariance matrices (eigenvalues clamped at 0)."""
    values, vectors = torch.linalg.eigh(cov)
    return vectors @ torch.diag_embed(values.clamp(min=0).sqrt()) @ vectors.mT


def frechet_from_moments(mu_r, sqrt_r, mu_g, cov_g) -> torch.Tensor:
    """FD per batch row: |mu_g - mu_r|^2 + Tr(S_g) + Tr(S_r) - 2 Tr((S_r^1/2 S_g S_r^1/2)^1/2).

    Tr((S_g S_r)^1/2) is computed from the symmetric S_r^1/2 S_g S_r^1/2, which has the same
    eigenvalues, so eigvalsh applies. mu: (B, F); sqrt_r, cov_g: (B, F, F) -> (B,)."""
    cross = torch.linalg.eigvalsh(sqrt_r @ cov_g @ sqrt_r).clamp(min=0).sqrt().sum(-1)
    trace_r = (sqrt_r * sqrt_r).sum((-2, -1))                           # Tr(S_r) = |S_r^1/2|_F^2
    return ((mu_g - mu_r) ** 2).sum(-1) + cov_g.diagonal(dim1=-2, dim2=-1).sum(-1) + trace_r - 2 * cross


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FD between Gaussians fitted to real (N, F) and fake (M, F) features, in float64."""
    mu_r, cov_r = weighted_moments(real, torch.ones(1, len(real)))
    mu_g, cov_g = weighted_moments(fake, torch.ones(1, len(fake)))
    return float(frechet_from_moments(mu_r, psd_sqrt(cov_r), mu_g, cov_g)[0])


def bootstrap_counts(n: int, replicates: int, seed: int) -> torch.Tensor:
    """(replicates, n) float counts: how often each of n rows is drawn in each resample of size n."""
    draws = torch.randint(n, (replicates, n), generator=torch.Generator().manual_seed(seed))
    return torch.zeros(replicates, n, dtype=torch.float64).scatter_add_(1, draws, torch.ones_like(draws, dtype=torch.float64))


def interval(replicates: torch.Tensor, estimate: float, level: float = LEVEL, low: float = 0.0,
             high: float = float("inf")) -> list[float]:
    """The 95% bootstrap interval of `estimate`: the replicates' central `level` range, moved so that
    their mean sits on the estimate, clipped to the measure's range [low, high].

    Moved, because resampling with replacement biases FD upward once more (fewer distinct points);
    the interval carries the spread of the number at this N, not the finite-N bias that every run
    measured at the same N shares (the floor included)."""
    q = torch.quantile(replicates.double(), torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64))
    shift = estimate - float(replicates.double().mean())
    return [min(max(float(v) + shift, low), high) for v in q]


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of the share successes / n, inside [0, 1] by construction:
    (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), p = successes / n."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"a share needs 0 <= successes <= n and n >= 1; got {successes} of {n}")
    p, z2 = successes / n, z ** 2
    centre, half = p + z2 / (2 * n), z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max((centre - half) / (1 + z2 / n), 0.0), min((centre + half) / (1 + z2 / n), 1.0)


# ---- Kernel Inception Distance: unbiased MMD^2, cubic polynomial kernel ------------------------
#
# KID (Binkowski et al. 2018, "Demystifying MMD GANs") between real features X (n, d) and generated
# Y (m, d), with k(a, b) = (a.b / d + 1)^3:
#   KID = 1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j) - 2/(nm) sum_{i,j} k(x_i, y_j)
# The within-set sums leave out i = j (the U-statistic), so KID is unbiased for MMD^2 at any n, m >= 2:
# about 0 on average for two samples of one distribution, and negative for some of them.
#
# Bootstrap: a resample is a count vector w (how often each point was drawn). A point drawn twice is
# still one point, so the within-set mean leaves out every pair of a point with itself, copies included:
#   within_w = sum_{i != j} w_i w_j k_ij / (W^2 - sum_i w_i^2),  W = sum_i w_i,
# the U-statistic over distinct original points weighted by their counts (all counts 1: the formula
# above). Keeping the copies' pairs would add k(x_i, x_i) terms (n - 1 ordered pairs on average:
# E sum_i w_i (w_i - 1) = n Var(w_i)) and bias every replicate upward; the cross term has no diagonal: sum_ij w_i v_j k_ij / (W V).

def polynomial_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """k(a_i, b_j) = (a_i . b_j / d + 1)^3 for a (n, d) and b (m, d): (n, m)."""
    return (a @ b.T / a.shape[1] + 1) ** 3


def kernel_sums(a: torch.Tensor, b: torch.Tensor, wa: torch.Tensor, wb: torch.Tensor,
                chunk_elements: int = 2 ** 23) -> torch.Tensor:
    """sum_ij wa_i wb_j k(a_i, b_j) for each row of the count vectors wa (B, n), wb (B, m): (B,), in
    float64; the kernel is built a block of a's rows at a time, so no (n, m) matrix is held whole."""
    a, b = a.double(), b.double()
    wa, wb = wa.to(a.device, torch.float64), wb.to(a.device, torch.float64)
    per = max(1, chunk_elements // max(len(b), 1))
    total = torch.zeros(len(wa), dtype=torch.float64, device=a.device)
    for start in range(0, len(a), per):
        block = polynomial_kernel(a[start:start + per], b)                      # (c, m)
        total += ((block @ wb.T) * wa[:, start:start + per].T).sum(0)           # (c, B) -> (B,)
    return total


def kernel_within(x: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """The within-set mean of k over pairs of distinct points of x (n, d), under count vectors (B, n):
    sum_{i != j} w_i w_j k_ij / (W^2 - sum_i w_i^2), (B,). Needs two distinct points in every resample."""
    counts = counts.to(x.device, torch.float64)
    x = x.double()
    self_k = (((x * x).sum(1) / x.shape[1] + 1) ** 3)                           # k(x_i, x_i): (n,)
    square = counts ** 2
    pairs = counts.sum(1) ** 2 - square.sum(1)                                    # W^2 - sum w_i^2
    if bool((pairs <= 0).any()):
        raise ValueError(f"KID's within-set mean needs at least 2 distinct points; got {x.shape[0]} points, "
                         f"or a resample holding one")
    return (kernel_sums(x, x, counts, counts) - square @ self_k) / pairs


def kernel_cross(x: torch.Tensor, y: torch.Tensor, wx: torch.Tensor, wy: torch.Tensor) -> torch.Tensor:
    """The mean of k between x (n, d) and y (m, d) under count vectors wx (B, n), wy (B, m): (B,)."""
    wx, wy = wx.to(torch.float64), wy.to(torch.float64)
    return kernel_sums(x, y, wx, wy) / (wx.sum(1) * wy.sum(1)).to(x.device)


def kid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """The unbiased KID between real (n, d) and fake (m, d) features (see above); n, m >= 2."""
    ones_r, ones_f = torch.ones(1, len(real)), torch.ones(1, len(fake))
    return float(kernel_within(real, ones_r) + kernel_within(fake, ones_f) - 2 * kernel_cross(real, fake, ones_r, ones_f))


# ---- k-NN manifolds: precision, recall, density, coverage ----------------------------------

def _kth_neighbour_radius(points: torch.Tensor, k: int, chunk: int = 1000) -> torch.Tensor:
    """Distance of each point (N, F) to its k-th nearest other point: (N,)."""
    radii = [torch.cdist(block, points).kthvalue(k + 1, dim=1).values    # +1: the point itself is at 0
             for block in points.split(chunk)]
    return torch.cat(radii)


@dataclass
class Balls:
    """Who lies in whose k-NN ball, for real (N, F) and fake (M, F) features."""
    fake_in_real: torch.Tensor        # (M, N): fake j within real i's K_PRECISION radius
    real_in_fake: torch.Tensor        # (N, M): real i within fake j's K_PRECISION radius
    fake_in_real_d: torch.Tensor      # (M, N): fake j within real i's k_density radius
    k_density: int = K_DENSITY


def neighbour_balls(real: torch.Tensor, fake: torch.Tensor, k_precision: int = K_PRECISION,
                    k_density: int = K_DENSITY) -> Balls:
    k = max(k_precision, k_density)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision, recall, density and coverage with k={k} need more than {k} samples per "
                         f"set; got {len(real)} real and {len(fake)} generated")
    real, fake = real.double(), fake.double()
    dist = torch.cdist(fake, real)                                            # (M, N)
    r_real, r_fake = _kth_neighbour_radius(real, k_precision), _kth_neighbour_radius(fake, k_precision)
    return Balls(dist <= r_real[None, :], dist.T <= r_fake[None, :],
                 dist <= _kth_neighbour_radius(real, k_density)[None, :], k_density)


def prdc(balls: Balls, w_real: torch.Tensor, w_fake: torch.Tensor) -> dict[str, torch.Tensor]:
    """Precision, recall, density and coverage, each averaged over its query points under count
    vectors w_real (B, N), w_fake (B, M); the balls (the manifolds) are those of the whole sets.

    With all counts 1 these are the published definitions:
      precision = 1/M sum_j 1[fake_j in some real ball]   recall = 1/N sum_i 1[real_i in some fake ball]
      density   = 1/(kM) sum_j #{real balls holding fake_j}   coverage = 1/N sum_i 1[some fake_j in real ball i]
    A bootstrap resample redraws the query points (the fakes for precision and density, the reals for
    recall and coverage). It keeps every ball: a resample holds about 63% of the distinct points, and
    the union of their balls would shrink the manifold and bias both numbers down."""
    # float32 is exact here: every sum counts at most N * max count small integers
    in_real = balls.fake_in_real.any(dim=1).float()                             # (M,)
    in_fake = balls.real_in_fake.any(dim=1).float()                             # (N,)
    balls_holding = balls.fake_in_real_d.float().sum(dim=1)                     # (M,)
    covered = balls.fake_in_real_d.any(dim=0).float()                           # (N,)
    w_real, w_fake = w_real.float().to(in_real.device), w_fake.float().to(in_real.device)
    n, m = w_real.sum(1), w_fake.sum(1)
    return {"precision": w_fake @ in_real / m, "recall": w_real @ in_fake / n,
            "density": w_fake @ balls_holding / (balls.k_density * m), "coverage": w_real @ covered / n}


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = K_PRECISION) -> tuple[float, float]:
    """precision = share of fake inside the real k-NN manifold; recall = share of real inside the fake one."""
    out = prdc(neighbour_balls(real, fake, k, k), torch.ones(1, len(real)), torch.ones(1, len(fake)))
    return float(out["precision"][0]), float(out["recall"][0])


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = K_DENSITY) -> tuple[float, float]:
    """Naeem et al.'s density (may exceed 1) and coverage (in [0, 1])."""
    out = prdc(neighbour_balls(real, fake, k, k), torch.ones(1, len(real)), torch.ones(1, len(fake)))
    return float(out["density"][0]), float(out["coverage"][0])

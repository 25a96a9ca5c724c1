"""Bootstrap confidence intervals of a mean and of a difference of means (percentile or BCa).

:func:`bootstrap_ci_mean` resamples one sample (e.g. paired differences),
:func:`bootstrap_ci_mean_difference` two independent samples, each on its
own (stratified bootstrap). The formulas of the percentile and BCa intervals
are in :func:`bootstrap_ci_mean`.

The private helpers work on *blocks*: a block is given by the sum of its
values and the number of values in it, and whole blocks are resampled with
replacement (non-overlapping block bootstrap, Künsch 1989). Single values
are blocks of one. :func:`~harmonix.compare.permutation.window_permutation_test`
uses them for blocks of consecutive windows of one recording, and
:func:`~harmonix.compare.stats.paired_tests` /
:func:`~harmonix.compare.stats.unpaired_tests` for the CIs they report.
Resamples are drawn in chunks of bounded size, so memory stays flat however
many are asked for.

References
----------
Efron B. (1987). Better bootstrap confidence intervals. J Am Stat Assoc
82:171-185. Efron B., Tibshirani R. J. (1993). An Introduction to the
Bootstrap. Chapman & Hall (percentile and BCa intervals, ch. 13-14).
Künsch H. R. (1989). The jackknife and the bootstrap for general stationary
observations. Ann Stat 17:1217-1241 (block resampling of dependent data).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from harmonix.compare._checks import _CHUNK_ELEMENTS, _check_ci, _rng, _vector

__all__ = ["bootstrap_ci_mean", "bootstrap_ci_mean_difference"]


def _percentile_of_score(boot: np.ndarray, value: float) -> float:
    return (np.count_nonzero(boot < value) + np.count_nonzero(boot <= value)) / (2.0 * boot.size)


def _interval(
    boot: np.ndarray, theta: float, jack_groups: Sequence[np.ndarray], ci_level: float, ci_method: str
) -> tuple[float, float]:
    alpha = (1.0 - ci_level) / 2.0
    if ci_method == "percentile":
        levels = np.array([alpha, 1.0 - alpha])
    else:
        prop = _percentile_of_score(boot, theta)
        prop = min(max(prop, 0.5 / boot.size), 1.0 - 0.5 / boot.size)
        z0 = special.ndtri(prop)
        num = den = 0.0
        for jack in jack_groups:
            n = jack.size
            u = (n - 1) * (jack.mean() - jack)
            num += float(np.sum(u**3)) / n**3
            den += float(np.sum(u**2)) / n**2
        accel = num / (6.0 * den**1.5) if den > 0 else 0.0
        z = special.ndtri(np.array([alpha, 1.0 - alpha]))
        levels = special.ndtr(z0 + (z0 + z) / (1.0 - accel * (z0 + z)))
    lo, hi = np.quantile(boot, levels)
    return float(lo), float(hi)


def _boot_block_means(sums: np.ndarray, counts: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """Means over windows of ``n_bootstrap`` resamples of whole blocks (with replacement)."""
    nb = sums.size
    out = np.empty(n_bootstrap)
    chunk = max(1, _CHUNK_ELEMENTS // nb)
    for start in range(0, n_bootstrap, chunk):
        stop = min(n_bootstrap, start + chunk)
        idx = rng.integers(0, nb, size=(stop - start, nb))
        out[start:stop] = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    return out


def _jack_block_means(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Leave-one-block-out means."""
    return (sums.sum() - sums) / (counts.sum() - counts)


def bootstrap_ci_mean(
    values, *, n_bootstrap: int = 10000, ci_level: float = 0.95, ci_method: str = "bca", seed=0
) -> tuple[float, float]:
    """Bootstrap confidence interval of a mean (e.g. of paired differences).

    ``n_bootstrap`` resamples of the values with replacement give means
    :math:`\\hat\\theta^*_b`. The percentile interval is
    :math:`[\\hat\\theta^*_{(\\alpha/2)}, \\hat\\theta^*_{(1-\\alpha/2)}]`; the BCa
    interval (Efron 1987) uses the quantiles

    .. math:: \\alpha_{1,2} = \\Phi\\!\\left(\\hat z_0 + \\frac{\\hat z_0 + z_{\\alpha/2,\\,1-\\alpha/2}}
              {1 - \\hat a(\\hat z_0 + z_{\\alpha/2,\\,1-\\alpha/2})}\\right)

    with bias correction :math:`\\hat z_0 = \\Phi^{-1}(\\#\\{\\hat\\theta^* < \\hat\\theta\\}/B)`
    (ties counted half, clipped to :math:`[0.5/B, 1 - 0.5/B]`) and acceleration
    :math:`\\hat a = \\sum_i (\\bar\\theta_{(\\cdot)} - \\theta_{(i)})^3 / (6[\\sum_i
    (\\bar\\theta_{(\\cdot)} - \\theta_{(i)})^2]^{3/2})` from the jackknife
    (Efron & Tibshirani 1993, eq. 14.14-14.15), as :func:`scipy.stats.bootstrap`.

    Parameters
    ----------
    values : array_like, shape (n,)
        Finite values, ``n >= 2``.
    n_bootstrap : int
        Number of resamples (>= 100; 10000 keeps the Monte-Carlo error of a
        95 % interval's ends below ~2 % of the standard error).
    ci_level : float
        Coverage, e.g. 0.95.
    ci_method : {'bca', 'percentile'}
        Interval construction.
    seed : int, SeedSequence or Generator
        Source of the resampling.

    Returns
    -------
    (low, high) : tuple of float
    """
    v = _vector(values, "values")
    _check_ci(ci_level, ci_method, n_bootstrap)
    ones = np.ones_like(v)
    boot = _boot_block_means(v, ones, int(n_bootstrap), _rng(seed))
    return _interval(boot, float(v.mean()), [_jack_block_means(v, ones)], float(ci_level), ci_method)


def _two_sample_ci(
    sums_x: np.ndarray,
    counts_x: np.ndarray,
    sums_y: np.ndarray,
    counts_y: np.ndarray,
    n_bootstrap: int,
    ci_level: float,
    ci_method: str,
    rng: np.random.Generator,
) -> tuple[float, float]:
    theta = sums_y.sum() / counts_y.sum() - sums_x.sum() / counts_x.sum()
    boot = _boot_block_means(sums_y, counts_y, n_bootstrap, rng) - _boot_block_means(sums_x, counts_x, n_bootstrap, rng)
    jack_x = sums_y.sum() / counts_y.sum() - _jack_block_means(sums_x, counts_x)
    jack_y = _jack_block_means(sums_y, counts_y) - sums_x.sum() / counts_x.sum()
    return _interval(boot, float(theta), [jack_x, jack_y], ci_level, ci_method)


def bootstrap_ci_mean_difference(
    x, y, *, n_bootstrap: int = 10000, ci_level: float = 0.95, ci_method: str = "bca", seed=0
) -> tuple[float, float]:
    """Bootstrap CI of ``mean(y) - mean(x)`` for two independent samples.

    Each sample is resampled with replacement on its own (stratified
    bootstrap); the BCa acceleration uses the jackknife over both samples as
    in :func:`scipy.stats.bootstrap`. See :func:`bootstrap_ci_mean` for the formulas.
    """
    a = _vector(x, "x")
    b = _vector(y, "y")
    _check_ci(ci_level, ci_method, n_bootstrap)
    return _two_sample_ci(
        a, np.ones_like(a), b, np.ones_like(b), int(n_bootstrap), float(ci_level), ci_method, _rng(seed)
    )

"""Permutation tests of a mean difference: paired sign flips, group labels, blocks of windows.

Three designs, each with the mean difference ``post - pre`` as the statistic
(positive means the metric went up):

- **paired** (:func:`paired_permutation_test`): the same subjects measured
  before and after; the signs of the within-subject differences
  :math:`d_i = y_i - x_i` are flipped.
- **unpaired** (:func:`unpaired_permutation_test`): two independent groups;
  the group labels of the pooled observations are permuted.
- **within one recording** (:func:`window_permutation_test`): the pre and the
  post part of one subject's data are two sets of windows (or epochs).
  Windows of one recording are *not* independent: EEG features are
  autocorrelated over seconds to minutes, and a test that exchanges single
  windows then treats a handful of effectively independent observations as
  hundreds, so its p-values are too small (often much too small). Use
  ``block_size`` so that whole blocks of consecutive windows are exchanged
  (and resampled by the bootstrap); the result reports the lag-1
  autocorrelation of the windows as a diagnostic.

:func:`smallest_p` is the floor of the p-value a test of a given size can
return, and :func:`unreachable_note` the note a comparison table carries
when that floor is not below the significance level.

Conventions
-----------
- Permutation p-values. A Monte-Carlo test with :math:`B` random
  permutations counts :math:`b`, the number of permuted statistics at least
  as extreme as the observed one, and reports :math:`p = (b + 1)/(B + 1)`
  (Phipson & Smyth 2010): the observed labelling is itself one member of the
  permutation distribution, so the p-value is never 0 and the test is exact
  in level. When the whole permutation distribution is small enough
  (:math:`2^n` sign flips, or :math:`\\binom{n_x + n_y}{n_x}` relabellings,
  at most ``n_permutations``) it is enumerated and :math:`p = b / N` with the
  identity included in :math:`b`. Two-sided p-values are twice the smaller
  one-sided p-value, capped at 1 (as :func:`scipy.stats.permutation_test`);
  for the sign-flip distribution, which is symmetric about 0, this equals
  the fraction of :math:`|T^*| \\ge |T|` in exact mode. Ties within a
  relative tolerance of :math:`10^{-9}` count as "at least as extreme".
- Randomness only through ``seed`` (an ``int``, a
  :class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`);
  the same seed gives the same result.
- Bad input (NaN/Inf, mismatched lengths, fewer than 2 observations, zero
  variance) raises :class:`harmonix.errors.ParameterError`.

References
----------
Phipson B., Smyth G. K. (2010). Permutation p-values should never be zero:
calculating exact p-values when permutations are randomly drawn. Stat Appl
Genet Mol Biol 9(1):39.
Good P. (2005). Permutation, Parametric and Bootstrap Tests of Hypotheses,
3rd ed. Springer (sign-flip test for paired data, ch. 3).
Künsch H. R. (1989). The jackknife and the bootstrap for general stationary
observations. Ann Stat 17:1217-1241 (block resampling of dependent data).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np

from harmonix.compare._checks import (
    _CHUNK_ELEMENTS,
    _check_alternative,
    _check_ci,
    _check_permutations,
    _pair,
    _rng,
    _split_seed,
    _vector,
)
from harmonix.compare.bootstrap import _two_sample_ci
from harmonix.compare.effect_sizes import _pooled_sd, hedges_correction
from harmonix.errors import ParameterError

__all__ = [
    "PermutationTestResult",
    "WindowResult",
    "paired_permutation_test",
    "unpaired_permutation_test",
    "window_permutation_test",
    "smallest_p",
    "unreachable_note",
]

_TIE_RTOL = 1e-9


# ---------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class PermutationTestResult:
    """Outcome of a permutation test.

    Attributes
    ----------
    statistic : float
        Observed mean difference (``post - pre``), in the unit of the data.
    pvalue : float
        Permutation p-value (see the module notes for the +1 correction).
    n_permutations : int
        Size of the permutation distribution used: all of it when ``exact``,
        otherwise the number of random permutations drawn.
    exact : bool
        Whether the permutation distribution was enumerated completely.
    alternative : str
        ``'two-sided'``, ``'greater'`` (post > pre) or ``'less'``.
    """

    statistic: float
    pvalue: float
    n_permutations: int
    exact: bool
    alternative: str


@dataclass(frozen=True)
class WindowResult:
    """Pre vs post windows of one recording, see :func:`window_permutation_test`.

    Attributes
    ----------
    n_pre, n_post : int
        Number of windows.
    mean_pre, mean_post, difference : float
        Window means and ``mean_post - mean_pre``.
    hedges_g : float
        Hedges' g with the pooled SD of the windows (describes the size of
        the shift relative to window-to-window variability; it is not a
        between-subject effect size).
    ci_low, ci_high, ci_level, ci_method
        Bootstrap CI of the difference (blocks resampled when ``block_size > 1``).
    pvalue : float
        Permutation p-value (windows, or blocks of windows, exchanged).
    exact, n_permutations, alternative
        As in :class:`PermutationTestResult`.
    block_size : int
        Consecutive windows per exchangeable block (1 = single windows).
    n_blocks_pre, n_blocks_post : int
        Number of blocks per condition (the last one may be shorter).
    autocorrelation : float
        Lag-1 autocorrelation of the windows around their condition means,
        pooled over both conditions. Values well above 0 mean that single
        windows are not independent and ``block_size = 1`` is anti-conservative.
    """

    n_pre: int
    n_post: int
    mean_pre: float
    mean_post: float
    difference: float
    hedges_g: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    pvalue: float
    exact: bool
    n_permutations: int
    alternative: str
    block_size: int
    n_blocks_pre: int
    n_blocks_post: int
    autocorrelation: float

    def to_dict(self) -> dict:
        """The fields as a plain ``dict``."""
        return asdict(self)


# ---------------------------------------------------------------------------
# permutation tests


def _p_from_counts(n_ge: int, n_le: int, total: int, exact: bool, alternative: str) -> float:
    adj = 0 if exact else 1
    p_greater = (n_ge + adj) / (total + adj)
    p_less = (n_le + adj) / (total + adj)
    if alternative == "greater":
        return float(p_greater)
    if alternative == "less":
        return float(p_less)
    return float(min(1.0, 2.0 * min(p_greater, p_less)))


def smallest_p(n_permutations: int, exact: bool, alternative: str = "two-sided") -> float:
    """The smallest p-value a permutation test of this size can return.

    Exact enumeration of :math:`N` arrangements: :math:`1/N` one-sided,
    :math:`\\min(1, 2/N)` two-sided (the observed arrangement always counts).
    :math:`B` random arrangements: :math:`1/(B+1)` and :math:`2/(B+1)` (Phipson &
    Smyth 2010). A paired sign-flip test of :math:`n` subjects enumerates
    :math:`2^n`: 0.25 for 3 subjects, 0.0625 for 5, 0.00049 for 12, so with
    five or fewer subjects no row can reach :math:`p < 0.05`, hence no
    :math:`q < 0.05` either (BH never lowers a p-value below the smallest one).

    Examples
    --------
    >>> smallest_p(2**5, True), smallest_p(2**3, True), smallest_p(9999, False)
    (0.0625, 0.25, 0.0002)
    """
    one = 1.0 / n_permutations if exact else 1.0 / (n_permutations + 1)
    return float(min(1.0, 2.0 * one)) if alternative == "two-sided" else float(one)


def unreachable_note(p_min: float, alpha: float = 0.05) -> str:
    """The note for a row whose test cannot reach ``alpha``; empty when it can."""
    if not np.isfinite(p_min) or p_min < alpha:
        return ""
    return f"smallest attainable p is {p_min:.3g}: p < {alpha:g} (and q < {alpha:g}) impossible with this design"


def paired_permutation_test(
    pre, post, *, n_permutations: int = 10000, seed=0, alternative: str = "two-sided"
) -> PermutationTestResult:
    """Sign-flip permutation test of the mean paired difference.

    Under the null hypothesis that pre and post are exchangeable within each
    subject, every difference :math:`d_i = y_i - x_i` is equally likely to
    have either sign. The statistic :math:`T = \\frac1n\\sum_i d_i` is compared
    with :math:`T^* = \\frac1n\\sum_i s_i d_i`, :math:`s_i \\in \\{-1, +1\\}`:
    all :math:`2^n` sign vectors when :math:`2^n \\le` ``n_permutations``
    (exact, :math:`p = \\#\\{T^* \\ge T\\}/2^n`), otherwise ``n_permutations``
    random ones with :math:`p = (\\#\\{T^* \\ge T\\} + 1)/(B + 1)` (Phipson &
    Smyth 2010). Two-sided: twice the smaller one-sided p-value, capped at 1.
    Equivalent to :func:`scipy.stats.permutation_test` with
    ``permutation_type='samples'`` and the statistic ``mean(y - x)``.

    Parameters
    ----------
    pre, post : array_like, shape (n,)
        Values of the same ``n >= 2`` subjects before and after.
    n_permutations : int
        Random sign vectors to draw, and the size up to which the full
        distribution is enumerated instead.
    seed : int, SeedSequence or Generator
        Source of the random sign flips (unused when exact).
    alternative : {'two-sided', 'greater', 'less'}
        ``'greater'``: post > pre.

    Returns
    -------
    PermutationTestResult

    Raises
    ------
    ParameterError
        NaN values, mismatched lengths, ``n < 2``, all differences zero.

    Examples
    --------
    With 5 pairs all increasing, only the observed sign vector reaches the
    observed mean in the upper tail: :math:`p = 2 \\times 1/32`.

    >>> res = paired_permutation_test([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    >>> res.exact, res.n_permutations, res.pvalue
    (True, 32, 0.0625)
    """
    x, y = _pair(pre, post)
    _check_alternative(alternative)
    n_perm = _check_permutations(n_permutations)
    d = y - x
    if not np.any(d):
        raise ParameterError("all paired differences post - pre are zero; there is nothing to test")
    n = d.size
    observed = float(d.mean())
    tol = _TIE_RTOL * float(np.mean(np.abs(d)))
    n_ge = n_le = 0
    exact = n < 63 and 2**n <= n_perm
    total = 2**n if exact else n_perm
    rng = None if exact else _rng(seed)
    chunk = max(1, _CHUNK_ELEMENTS // n)
    bits = np.arange(n, dtype=np.int64)
    for start in range(0, total, chunk):
        stop = min(total, start + chunk)
        if exact:
            signs = 1.0 - 2.0 * ((np.arange(start, stop, dtype=np.int64)[:, None] >> bits) & 1)
        else:
            signs = np.where(rng.random((stop - start, n)) < 0.5, -1.0, 1.0)
        null = signs @ d / n
        n_ge += int(np.count_nonzero(null >= observed - tol))
        n_le += int(np.count_nonzero(null <= observed + tol))
    p = _p_from_counts(n_ge, n_le, total, exact, alternative)
    return PermutationTestResult(observed, p, total, exact, alternative)


def _two_sample_permutation(
    sums: np.ndarray,
    counts: np.ndarray,
    n_x: int,
    n_perm: int,
    rng_seed,
    alternative: str,
    scale: float,
) -> PermutationTestResult:
    """Exchange whole blocks (given by their sums and window counts) between x (first n_x) and y."""
    nb = sums.size
    n_y = nb - n_x
    total_s, total_c = float(sums.sum()), float(counts.sum())
    observed = float(sums[n_x:].sum() / counts[n_x:].sum() - sums[:n_x].sum() / counts[:n_x].sum())
    tol = _TIE_RTOL * (abs(observed) + scale)
    n_comb = math.comb(nb, n_y)
    exact = n_comb <= n_perm
    total = n_comb if exact else n_perm
    rng = None if exact else _rng(rng_seed)
    combos = itertools.combinations(range(nb), n_y) if exact else None
    chunk = max(1, _CHUNK_ELEMENTS // nb)
    n_ge = n_le = 0
    for start in range(0, total, chunk):
        stop = min(total, start + chunk)
        if exact:
            members = np.fromiter(
                itertools.chain.from_iterable(itertools.islice(combos, stop - start)),
                dtype=np.int64,
                count=(stop - start) * n_y,
            ).reshape(stop - start, n_y)
        else:
            members = np.argsort(rng.random((stop - start, nb)), axis=1)[:, :n_y]
        in_y = np.zeros((stop - start, nb))
        np.put_along_axis(in_y, members, 1.0, axis=1)
        s_y = in_y @ sums
        c_y = in_y @ counts
        null = s_y / c_y - (total_s - s_y) / (total_c - c_y)
        n_ge += int(np.count_nonzero(null >= observed - tol))
        n_le += int(np.count_nonzero(null <= observed + tol))
    p = _p_from_counts(n_ge, n_le, total, exact, alternative)
    return PermutationTestResult(observed, p, total, exact, alternative)


def unpaired_permutation_test(
    x, y, *, n_permutations: int = 10000, seed=0, alternative: str = "two-sided"
) -> PermutationTestResult:
    """Label-permutation test of the difference of means of two independent groups.

    The statistic :math:`T = \\bar y - \\bar x` is compared with its value
    over relabellings of the pooled :math:`n_x + n_y` observations into groups
    of the original sizes: all :math:`\\binom{n_x + n_y}{n_y}` of them when
    that is at most ``n_permutations`` (exact), else ``n_permutations`` random
    ones with the +1 correction (see the module notes). Equivalent to
    :func:`scipy.stats.permutation_test` with ``permutation_type='independent'``
    and the statistic ``mean(y) - mean(x)``. Exchangeability assumes equal
    distributions under the null; with very unequal variances *and* sizes
    prefer Welch's test (reported by :func:`~harmonix.compare.stats.unpaired_tests`).

    Parameters
    ----------
    x, y : array_like
        Reference (control / pre) and second (intervention / post) group, each with >= 2 values.
    n_permutations, seed, alternative
        As in :func:`paired_permutation_test` (``'greater'``: y > x).

    Examples
    --------
    >>> res = unpaired_permutation_test([1, 2, 3], [4, 5, 6])
    >>> res.exact, res.n_permutations, round(res.pvalue, 4)
    (True, 20, 0.1)
    """
    a = _vector(x, "x")
    b = _vector(y, "y")
    _check_alternative(alternative)
    n_perm = _check_permutations(n_permutations)
    pooled = np.concatenate([a, b])
    if not np.ptp(pooled) > 0:
        raise ParameterError("all values of both groups are equal; there is nothing to test")
    return _two_sample_permutation(
        pooled, np.ones_like(pooled), a.size, n_perm, seed, alternative, float(np.std(pooled))
    )


# ---------------------------------------------------------------------------
# within one recording


def _blocks(values: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    starts = np.arange(0, values.size, block_size)
    sums = np.add.reduceat(values, starts)
    counts = np.diff(np.append(starts, values.size)).astype(float)
    return sums, counts


def _lag1_autocorrelation(*series: np.ndarray) -> float:
    num = den = 0.0
    for s in series:
        e = s - s.mean()
        num += float(np.dot(e[:-1], e[1:]))
        den += float(np.dot(e, e))
    return num / den if den > 0 else float("nan")


def window_permutation_test(
    values_pre,
    values_post,
    *,
    block_size: int = 1,
    n_permutations: int = 10000,
    n_bootstrap: int = 10000,
    ci_level: float = 0.95,
    ci_method: str = "bca",
    seed=0,
    alternative: str = "two-sided",
) -> WindowResult:
    """Pre vs post within one recording: permutation test over windows (or blocks of windows).

    The statistic is the difference of window means
    :math:`T = \\bar v_{post} - \\bar v_{pre}`. With ``block_size = 1`` the
    window labels are permuted (:func:`unpaired_permutation_test`); with
    ``block_size = k`` each condition's windows, in time order, are cut into
    consecutive blocks of ``k`` (the last one may be shorter) and whole
    blocks are exchanged between pre and post, and resampled by the
    bootstrap (non-overlapping block bootstrap, Künsch 1989). The effect
    size is Hedges' g over windows (pooled SD, :func:`~harmonix.compare.effect_sizes.hedges_g`).

    **Windows are not independent.** Successive windows of an EEG feature are
    autocorrelated (slow drifts of vigilance, electrode impedance, state);
    exchanging single windows then ignores that the effective number of
    independent observations is much smaller than the number of windows, and
    the p-value and CI are too optimistic (the false-positive rate can
    exceed 50 % for strongly autocorrelated features). Choose ``block_size``
    well above the decorrelation time in windows — for an AR(1) process with
    lag-1 autocorrelation :math:`\\rho` the integrated autocorrelation time is
    :math:`(1+\\rho)/(1-\\rho)` windows — and look at ``autocorrelation`` in
    the result. Blocks reduce but do not remove the inflation, because
    neighbouring blocks still correlate: in simulations of an AR(1) series
    with :math:`\\rho = 0.9` (autocorrelation time 19 windows, 100 windows per
    condition, no change) the rate of p < 0.05 was about 60 % with single
    windows, 12 % with blocks of 20 and 6.5 % with blocks of 25; with
    :math:`\\rho = 0.8` and blocks of 20, 8 %. Aim for blocks of at least 2-3
    autocorrelation times while keeping >= 4 blocks per condition. Even then the test is about *this recording*: a significant
    window test shows that the two parts differ, not that an intervention
    works in people (that needs the across-subject :func:`~harmonix.compare.stats.paired_tests`).

    Parameters
    ----------
    values_pre, values_post : array_like
        One value per window, in time order (>= 2 blocks each).
    block_size : int
        Consecutive windows per exchangeable block (1 = single windows).
    n_permutations, seed, alternative
        As in :func:`paired_permutation_test`.
    n_bootstrap, ci_level, ci_method
        As in :func:`~harmonix.compare.bootstrap.bootstrap_ci_mean`.

    Returns
    -------
    WindowResult
    """
    x = _vector(values_pre, "values_pre")
    y = _vector(values_post, "values_post")
    _check_alternative(alternative)
    n_perm = _check_permutations(n_permutations)
    _check_ci(ci_level, ci_method, n_bootstrap)
    if int(block_size) != block_size or block_size < 1:
        raise ParameterError(f"block_size={block_size!r}: must be a positive integer (windows per block)")
    block_size = int(block_size)
    sx, cx = _blocks(x, block_size)
    sy, cy = _blocks(y, block_size)
    if sx.size < 2 or sy.size < 2:
        raise ParameterError(
            f"block_size={block_size} leaves {sx.size} pre and {sy.size} post blocks; "
            "each condition needs at least 2 blocks (use a smaller block_size or more windows)"
        )
    sp = _pooled_sd(x, y)
    if not sp > 0:
        raise ParameterError("all windows are constant within both conditions (pooled SD 0); nothing to compare")
    perm_seed, boot_rng = _split_seed(seed)
    perm = _two_sample_permutation(
        np.concatenate([sx, sy]), np.concatenate([cx, cy]), sx.size, n_perm, perm_seed, alternative, sp
    )
    lo, hi = _two_sample_ci(sx, cx, sy, cy, int(n_bootstrap), float(ci_level), ci_method, boot_rng)
    g = (float(y.mean()) - float(x.mean())) / sp * hedges_correction(x.size + y.size - 2)
    return WindowResult(
        n_pre=x.size,
        n_post=y.size,
        mean_pre=float(x.mean()),
        mean_post=float(y.mean()),
        difference=float(y.mean() - x.mean()),
        hedges_g=g,
        ci_low=lo,
        ci_high=hi,
        ci_level=float(ci_level),
        ci_method=ci_method,
        pvalue=perm.pvalue,
        exact=perm.exact,
        n_permutations=perm.n_permutations,
        alternative=alternative,
        block_size=block_size,
        n_blocks_pre=sx.size,
        n_blocks_post=sy.size,
        autocorrelation=_lag1_autocorrelation(x, y),
    )

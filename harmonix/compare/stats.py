"""Statistics for comparing sessions: permutation tests, effect sizes, bootstrap CIs, FDR.

Three designs are covered, each with the mean difference ``post - pre`` as
the quantity of interest (positive means the metric went up):

- **paired** (:func:`paired_permutation_test`, :func:`paired_tests`): the same
  subjects measured before and after an intervention. Everything is computed
  from the within-subject differences :math:`d_i = y_i - x_i`.
- **unpaired** (:func:`unpaired_permutation_test`, :func:`unpaired_tests`):
  two independent groups (intervention vs control, or pre and post sessions
  of different people).
- **within one recording** (:func:`window_permutation_test`): the pre and the
  post part of one subject's data are two sets of windows (or epochs).
  Windows of one recording are *not* independent: EEG features are
  autocorrelated over seconds to minutes, and a test that exchanges single
  windows then treats a handful of effectively independent observations as
  hundreds, so its p-values are too small (often much too small). Use
  ``block_size`` so that whole blocks of consecutive windows are exchanged
  (and resampled by the bootstrap); the result reports the lag-1
  autocorrelation of the windows as a diagnostic.

Across many metrics x bands x components, :func:`fdr_bh` controls the false
discovery rate (Benjamini-Hochberg, or Benjamini-Yekutieli under arbitrary
dependence), and :func:`harmonix.compare.tables.compare_tables` runs the whole comparison on tidy
metric tables (:data:`harmonix.tables.METRIC_COLUMNS` plus a subject column).

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
Efron B. (1987). Better bootstrap confidence intervals. J Am Stat Assoc
82:171-185. Efron B., Tibshirani R. J. (1993). An Introduction to the
Bootstrap. Chapman & Hall (percentile and BCa intervals, ch. 13-14).
Künsch H. R. (1989). The jackknife and the bootstrap for general stationary
observations. Ann Stat 17:1217-1241 (block resampling of dependent data).
Cohen J. (1988). Statistical Power Analysis for the Behavioral Sciences,
2nd ed. Hedges L. V., Olkin I. (1985). Statistical Methods for
Meta-Analysis, Academic Press (g and its correction J). Lakens D. (2013).
Calculating and reporting effect sizes to facilitate cumulative science.
Front Psychol 4:863 (d_z and g for within-subject designs).
Benjamini Y., Hochberg Y. (1995). Controlling the false discovery rate.
J R Stat Soc B 57:289-300. Benjamini Y., Yekutieli D. (2001). The control of
the false discovery rate in multiple testing under dependency. Ann Stat
29:1165-1188.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats

from harmonix.errors import ParameterError

__all__ = [
    "PermutationTestResult",
    "PairedResult",
    "UnpairedResult",
    "WindowResult",
    "hedges_correction",
    "cohens_dz",
    "hedges_g_paired",
    "hedges_g",
    "bootstrap_ci_mean",
    "bootstrap_ci_mean_difference",
    "paired_permutation_test",
    "unpaired_permutation_test",
    "window_permutation_test",
    "smallest_p",
    "unreachable_note",
    "paired_tests",
    "unpaired_tests",
    "fdr_bh",
]

_ALTERNATIVES = ("two-sided", "greater", "less")
_CI_METHODS = ("bca", "percentile")
_TIE_RTOL = 1e-9
_CHUNK_ELEMENTS = 1 << 21  # entries of one permutation / bootstrap matrix chunk



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
class PairedResult:
    """Paired (within-subject) comparison of ``n`` subjects, see :func:`paired_tests`.

    Attributes
    ----------
    n : int
        Number of pairs.
    mean_pre, mean_post : float
        Means of the pre and post values.
    difference : float
        Mean difference :math:`\\bar d = \\overline{y - x}` (= mean_post - mean_pre).
    sd_difference : float
        Sample SD of the differences (ddof = 1).
    cohens_dz : float
        :math:`d_z = \\bar d / s_d`.
    hedges_g : float
        :math:`g_z = J(n - 1)\\, d_z` (NaN for ``n < 3``).
    ci_low, ci_high : float
        Bootstrap confidence interval of the mean difference.
    ci_level : float
        Coverage of the interval (e.g. 0.95).
    ci_method : str
        ``'bca'`` or ``'percentile'``.
    p_permutation : float
        Sign-flip permutation p-value of the mean difference.
    p_wilcoxon : float
        Wilcoxon signed-rank p-value (:func:`scipy.stats.wilcoxon`; NaN when
        it cannot be computed, e.g. all differences zero).
    p_ttest : float
        Paired t-test p-value (as :func:`scipy.stats.ttest_rel`).
    exact : bool
        Whether the permutation distribution was enumerated.
    n_permutations : int
        Size of the permutation distribution used.
    alternative : str
        Alternative hypothesis of all three tests.
    """

    n: int
    mean_pre: float
    mean_post: float
    difference: float
    sd_difference: float
    cohens_dz: float
    hedges_g: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    p_permutation: float
    p_wilcoxon: float
    p_ttest: float
    exact: bool
    n_permutations: int
    alternative: str

    def to_dict(self) -> dict:
        """The fields as a plain ``dict``."""
        return asdict(self)


@dataclass(frozen=True)
class UnpairedResult:
    """Comparison of two independent groups, see :func:`unpaired_tests`.

    Attributes
    ----------
    n_pre, n_post : int
        Group sizes (``pre`` = control / first group, ``post`` = intervention / second group).
    mean_pre, mean_post : float
        Group means.
    difference : float
        ``mean_post - mean_pre``.
    sd_pooled : float
        Pooled SD :math:`s_p`.
    cohens_d : float
        :math:`d = (\\bar y - \\bar x)/s_p` (not bias corrected).
    hedges_g : float
        :math:`g = J(n_x + n_y - 2)\\, d`.
    ci_low, ci_high, ci_level, ci_method
        Bootstrap CI of the difference of means (each group resampled separately).
    p_permutation : float
        Label-permutation p-value of the difference of means.
    p_mannwhitney : float
        Mann-Whitney U (Wilcoxon rank-sum) p-value (:func:`scipy.stats.mannwhitneyu`).
    p_welch : float
        Welch's unequal-variance t-test p-value (as :func:`scipy.stats.ttest_ind`, ``equal_var=False``).
    exact, n_permutations, alternative
        As in :class:`PermutationTestResult`.
    """

    n_pre: int
    n_post: int
    mean_pre: float
    mean_post: float
    difference: float
    sd_pooled: float
    cohens_d: float
    hedges_g: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    p_permutation: float
    p_mannwhitney: float
    p_welch: float
    exact: bool
    n_permutations: int
    alternative: str

    def to_dict(self) -> dict:
        """The fields as a plain ``dict``."""
        return asdict(self)


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
# validation helpers


def _vector(values, name: str, *, min_n: int = 2) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name}: expected a sequence of numbers ({err})") from err
    if arr.ndim != 1:
        raise ParameterError(f"{name}: expected a 1-D sequence of values, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ParameterError(
            f"{name}: {int(bad.sum())} of {arr.size} values are NaN or infinite "
            f"(first at index {int(np.flatnonzero(bad)[0])}); drop or impute them first"
        )
    if arr.size < min_n:
        raise ParameterError(f"{name}: needs at least {min_n} values, got {arr.size}")
    return arr


def _pair(pre, post) -> tuple[np.ndarray, np.ndarray]:
    x = _vector(pre, "pre")
    y = _vector(post, "post")
    if x.shape != y.shape:
        raise ParameterError(
            f"pre and post must have the same length for a paired design (got {x.size} and {y.size}); "
            "match them by subject, or use an unpaired test"
        )
    return x, y


def _check_alternative(alternative: str) -> str:
    if alternative not in _ALTERNATIVES:
        raise ParameterError(f"alternative={alternative!r}: use one of {', '.join(_ALTERNATIVES)}")
    return alternative


def _check_ci(ci_level: float, ci_method: str, n_bootstrap: int) -> None:
    if not 0.0 < float(ci_level) < 1.0:
        raise ParameterError(f"ci_level={ci_level!r}: must lie strictly between 0 and 1 (e.g. 0.95)")
    if ci_method not in _CI_METHODS:
        raise ParameterError(f"ci_method={ci_method!r}: use 'bca' or 'percentile'")
    if int(n_bootstrap) < 100:
        raise ParameterError(f"n_bootstrap={n_bootstrap!r}: use at least 100 resamples (2000 or more for a 95 % CI)")


def _check_permutations(n_permutations: int) -> int:
    if int(n_permutations) != n_permutations or int(n_permutations) < 1:
        raise ParameterError(f"n_permutations={n_permutations!r}: must be a positive integer")
    return int(n_permutations)


def _rng(seed) -> np.random.Generator:
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"seed={seed!r}: use an int, a numpy SeedSequence or Generator ({err})") from err


# ---------------------------------------------------------------------------
# effect sizes


def hedges_correction(df: float) -> float:
    """Small-sample bias correction :math:`J(\\nu)` of a standardized mean difference.

    .. math:: J(\\nu) = \\frac{\\Gamma(\\nu/2)}{\\sqrt{\\nu/2}\\,\\Gamma((\\nu - 1)/2)}
              \\approx 1 - \\frac{3}{4\\nu - 1}

    (Hedges & Olkin 1985, eq. 5.10), the exact form is used. :math:`E[J d] = \\delta`
    for normal data with :math:`\\nu` degrees of freedom of the SD.

    Parameters
    ----------
    df : float
        Degrees of freedom :math:`\\nu` of the standardizer (``n - 1`` for
        paired data, ``n_x + n_y - 2`` for two groups).

    Returns
    -------
    float
        :math:`J(\\nu)`, or NaN when ``df < 2`` (the correction is 0 at 1).

    Examples
    --------
    >>> round(hedges_correction(4), 6)
    0.797885
    >>> round(hedges_correction(1000), 6)
    0.99925
    """
    df = float(df)
    if not np.isfinite(df) or df < 2:
        return float("nan")
    return float(np.exp(special.gammaln(df / 2) - 0.5 * np.log(df / 2) - special.gammaln((df - 1) / 2)))


def cohens_dz(pre, post) -> float:
    """Cohen's :math:`d_z` of paired data: mean difference over SD of the differences.

    .. math:: d_z = \\frac{\\bar d}{s_d}, \\quad d_i = y_i - x_i, \\quad
              s_d^2 = \\frac{1}{n-1}\\sum_i (d_i - \\bar d)^2

    (Cohen 1988; Lakens 2013, eq. 6). Equals :math:`t / \\sqrt n` of the paired t-test.

    Raises
    ------
    ParameterError
        NaN values, mismatched lengths, ``n < 2``, or all differences equal.

    Examples
    --------
    >>> round(cohens_dz([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]), 4)
    1.8974
    """
    x, y = _pair(pre, post)
    d = y - x
    sd = float(np.std(d, ddof=1))
    if not sd > 0:
        raise ParameterError("the paired differences post - pre have zero variance; d_z is undefined")
    return float(np.mean(d)) / sd


def hedges_g_paired(pre, post) -> float:
    """Hedges' :math:`g_z` of paired data: :math:`d_z` with the correction :math:`J(n-1)`.

    .. math:: g_z = J(n - 1)\\, \\frac{\\bar d}{s_d}

    This is the bias-corrected :math:`d_z` (standardized by the SD of the
    *differences*, Lakens 2013 calls it Hedges' :math:`g_z`), not
    :math:`g_{av}` (standardized by the average SD of pre and post); it
    answers "how consistent is the change across subjects", and is what a
    power analysis for a paired test needs. NaN for ``n < 3``.

    Examples
    --------
    >>> round(hedges_g_paired([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]), 4)
    1.5139
    """
    x, _ = _pair(pre, post)
    return cohens_dz(pre, post) * hedges_correction(x.size - 1)


def _pooled_sd(x: np.ndarray, y: np.ndarray) -> float:
    nx, ny = x.size, y.size
    return float(np.sqrt(((nx - 1) * np.var(x, ddof=1) + (ny - 1) * np.var(y, ddof=1)) / (nx + ny - 2)))


def hedges_g(x, y) -> float:
    """Hedges' g of two independent groups, ``(mean(y) - mean(x))`` over the pooled SD, bias corrected.

    .. math:: g = J(n_x + n_y - 2)\\,\\frac{\\bar y - \\bar x}{s_p}, \\quad
              s_p^2 = \\frac{(n_x - 1)s_x^2 + (n_y - 1)s_y^2}{n_x + n_y - 2}

    (Hedges & Olkin 1985). ``x`` is the reference (control, pre) group.

    Raises
    ------
    ParameterError
        NaN values, fewer than 2 values in a group, or zero pooled variance.

    Examples
    --------
    >>> round(hedges_g([1, 2, 3, 4, 5], [3, 4, 5, 6, 7]), 4)
    1.1418
    """
    a = _vector(x, "x")
    b = _vector(y, "y")
    sp = _pooled_sd(a, b)
    if not sp > 0:
        raise ParameterError("both groups are constant (pooled SD is 0); Hedges' g is undefined")
    return (float(b.mean()) - float(a.mean())) / sp * hedges_correction(a.size + b.size - 2)


# ---------------------------------------------------------------------------
# bootstrap


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
    prefer Welch's test (reported by :func:`unpaired_tests`).

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
    size is Hedges' g over windows (pooled SD, :func:`hedges_g`).

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
    works in people (that needs the across-subject :func:`paired_tests`).

    Parameters
    ----------
    values_pre, values_post : array_like
        One value per window, in time order (>= 2 blocks each).
    block_size : int
        Consecutive windows per exchangeable block (1 = single windows).
    n_permutations, seed, alternative
        As in :func:`paired_permutation_test`.
    n_bootstrap, ci_level, ci_method
        As in :func:`bootstrap_ci_mean`.

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


# ---------------------------------------------------------------------------
# bundles of tests


def _split_seed(seed) -> tuple:
    """Independent streams for the permutation test and the bootstrap."""
    if isinstance(seed, np.random.Generator):
        return seed, seed
    try:
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"seed={seed!r}: use an int, a numpy SeedSequence or Generator ({err})") from err
    a, b = seq.spawn(2)
    return a, np.random.default_rng(b)


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    try:
        return np.random.SeedSequence(seed)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"seed={seed!r}: use an int, a numpy SeedSequence or Generator ({err})") from err


def _t_pvalue(t: float, df: float, alternative: str) -> float:
    if not np.isfinite(t) or not df > 0:
        return float("nan")
    if alternative == "greater":
        return float(special.stdtr(df, -t))
    if alternative == "less":
        return float(special.stdtr(df, t))
    return float(min(1.0, 2.0 * special.stdtr(df, -abs(t))))


def _paired_t_pvalue(d: np.ndarray, alternative: str) -> float:
    """Paired t-test p-value, :math:`t = \\bar d / (s_d/\\sqrt n)` with ``n - 1`` df (= ``scipy.stats.ttest_rel``)."""
    n = d.size
    sd = float(np.std(d, ddof=1))
    return _t_pvalue(float(np.mean(d)) / (sd / math.sqrt(n)) if sd > 0 else float("nan"), n - 1, alternative)


def _welch_pvalue(x: np.ndarray, y: np.ndarray, alternative: str) -> float:
    """Welch's t-test p-value for ``mean(y) - mean(x)`` (= ``scipy.stats.ttest_ind(y, x, equal_var=False)``).

    :math:`t = (\\bar y - \\bar x)/\\sqrt{s_x^2/n_x + s_y^2/n_y}` with the
    Welch-Satterthwaite degrees of freedom
    :math:`\\nu = (v_x + v_y)^2 / (v_x^2/(n_x-1) + v_y^2/(n_y-1))`, :math:`v = s^2/n`.
    """
    vx = float(np.var(x, ddof=1)) / x.size
    vy = float(np.var(y, ddof=1)) / y.size
    if not vx + vy > 0:
        return float("nan")
    t = (float(y.mean()) - float(x.mean())) / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    return _t_pvalue(t, df, alternative)


def _scipy_p(func, *args, **kwargs) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            p = float(func(*args, **kwargs).pvalue)
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return float("nan")
    return p if np.isfinite(p) else float("nan")


def paired_tests(
    pre,
    post,
    *,
    n_permutations: int = 10000,
    n_bootstrap: int = 10000,
    ci_level: float = 0.95,
    ci_method: str = "bca",
    seed=0,
    alternative: str = "two-sided",
) -> PairedResult:
    """All paired statistics of one metric: means, d_z, g_z, bootstrap CI and three p-values.

    With :math:`d_i = y_i - x_i` (post - pre) of ``n`` subjects:

    - difference :math:`\\bar d` and its bootstrap CI (:func:`bootstrap_ci_mean` on :math:`d`);
    - Cohen's :math:`d_z = \\bar d / s_d` (:func:`cohens_dz`) and Hedges'
      :math:`g_z = J(n-1)\\,d_z` (:func:`hedges_g_paired`; the correction uses
      the :math:`n - 1` degrees of freedom of :math:`s_d`);
    - p-values of the sign-flip permutation test (:func:`paired_permutation_test`),
      the Wilcoxon signed-rank test (:func:`scipy.stats.wilcoxon`, zero
      differences dropped, exact distribution for small n as scipy chooses)
      and the paired t-test (:math:`t = \\bar d\\sqrt n / s_d`, ``n - 1`` df; computed
      directly, identical to :func:`scipy.stats.ttest_rel`).

    Parameters
    ----------
    pre, post : array_like, shape (n,)
        The same subjects, in the same order.
    n_permutations, alternative
        See :func:`paired_permutation_test`.
    n_bootstrap, ci_level, ci_method
        See :func:`bootstrap_ci_mean`.
    seed : int, SeedSequence or Generator
        Split into independent streams for the permutation test and the bootstrap.

    Returns
    -------
    PairedResult

    Raises
    ------
    ParameterError
        NaN values, mismatched lengths, ``n < 2``, or zero variance of the differences.

    Examples
    --------
    >>> res = paired_tests([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], n_bootstrap=1000)
    >>> res.n, res.difference, round(res.cohens_dz, 4), res.p_permutation
    (5, 3.0, 1.8974, 0.0625)
    """
    x, y = _pair(pre, post)
    _check_alternative(alternative)
    _check_ci(ci_level, ci_method, n_bootstrap)
    d = y - x
    sd = float(np.std(d, ddof=1))
    if not sd > 0:
        raise ParameterError(
            "the paired differences post - pre have zero variance (every subject changed by exactly "
            f"{float(d[0]):g}); effect size and tests are undefined"
        )
    perm_seed, boot_rng = _split_seed(seed)
    perm = paired_permutation_test(x, y, n_permutations=n_permutations, seed=perm_seed, alternative=alternative)
    ones = np.ones_like(d)
    boot = _boot_block_means(d, ones, int(n_bootstrap), boot_rng)
    lo, hi = _interval(boot, float(d.mean()), [_jack_block_means(d, ones)], float(ci_level), ci_method)
    dz = float(d.mean()) / sd
    return PairedResult(
        n=d.size,
        mean_pre=float(x.mean()),
        mean_post=float(y.mean()),
        difference=float(d.mean()),
        sd_difference=sd,
        cohens_dz=dz,
        hedges_g=dz * hedges_correction(d.size - 1),
        ci_low=lo,
        ci_high=hi,
        ci_level=float(ci_level),
        ci_method=ci_method,
        p_permutation=perm.pvalue,
        p_wilcoxon=_scipy_p(stats.wilcoxon, d, alternative=alternative),
        p_ttest=_paired_t_pvalue(d, alternative),
        exact=perm.exact,
        n_permutations=perm.n_permutations,
        alternative=alternative,
    )


def unpaired_tests(
    x,
    y,
    *,
    n_permutations: int = 10000,
    n_bootstrap: int = 10000,
    ci_level: float = 0.95,
    ci_method: str = "bca",
    seed=0,
    alternative: str = "two-sided",
) -> UnpairedResult:
    """All statistics of two independent groups (``x`` = control / pre, ``y`` = intervention / post).

    - difference :math:`\\bar y - \\bar x` and its stratified bootstrap CI
      (:func:`bootstrap_ci_mean_difference`);
    - Hedges' :math:`g = J(n_x + n_y - 2)\\,(\\bar y - \\bar x)/s_p` with the
      pooled SD (:func:`hedges_g`), and the uncorrected Cohen's d;
    - p-values of the label-permutation test (:func:`unpaired_permutation_test`),
      the Mann-Whitney U test (:func:`scipy.stats.mannwhitneyu`) and Welch's
      t-test (Welch-Satterthwaite df; computed directly, identical to
      :func:`scipy.stats.ttest_ind` with ``equal_var=False``).

    Raises
    ------
    ParameterError
        NaN values, fewer than 2 values in a group, or zero pooled variance.

    Examples
    --------
    >>> res = unpaired_tests([1, 2, 3, 4, 5], [3, 4, 5, 6, 7], n_bootstrap=1000)
    >>> res.difference, round(res.hedges_g, 4), round(res.p_welch, 4)
    (2.0, 1.1418, 0.0805)
    """
    a = _vector(x, "x")
    b = _vector(y, "y")
    _check_alternative(alternative)
    _check_ci(ci_level, ci_method, n_bootstrap)
    sp = _pooled_sd(a, b)
    if not sp > 0:
        raise ParameterError("both groups are constant (pooled SD is 0); effect size and tests are undefined")
    perm_seed, boot_rng = _split_seed(seed)
    perm = unpaired_permutation_test(a, b, n_permutations=n_permutations, seed=perm_seed, alternative=alternative)
    lo, hi = _two_sample_ci(
        a, np.ones_like(a), b, np.ones_like(b), int(n_bootstrap), float(ci_level), ci_method, boot_rng
    )
    d = (float(b.mean()) - float(a.mean())) / sp
    return UnpairedResult(
        n_pre=a.size,
        n_post=b.size,
        mean_pre=float(a.mean()),
        mean_post=float(b.mean()),
        difference=float(b.mean() - a.mean()),
        sd_pooled=sp,
        cohens_d=d,
        hedges_g=d * hedges_correction(a.size + b.size - 2),
        ci_low=lo,
        ci_high=hi,
        ci_level=float(ci_level),
        ci_method=ci_method,
        p_permutation=perm.pvalue,
        p_mannwhitney=_scipy_p(stats.mannwhitneyu, b, a, alternative=alternative),
        p_welch=_welch_pvalue(a, b, alternative),
        exact=perm.exact,
        n_permutations=perm.n_permutations,
        alternative=alternative,
    )


# ---------------------------------------------------------------------------
# multiple comparisons


def fdr_bh(p_values, *, method: str = "bh") -> np.ndarray:
    """False-discovery-rate adjusted p-values (q-values), Benjamini-Hochberg or -Yekutieli.

    With the :math:`m` finite p-values sorted, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`,

    .. math:: q_{(i)} = \\min\\Big(1,\\; \\min_{j \\ge i} \\frac{c(m)\\, m}{j}\\, p_{(j)}\\Big),
              \\qquad c(m) = 1 \\text{ (BH)}, \\quad c(m) = \\sum_{k=1}^m \\frac1k \\text{ (BY)}

    (the monotone step-up procedure). Rejecting every hypothesis with
    :math:`q \\le \\alpha` controls the FDR at :math:`\\alpha` for independent or
    positively dependent tests (BH, Benjamini & Hochberg 1995) or under any
    dependence (BY, Benjamini & Yekutieli 2001). Under the complete null
    (no true effects) the FDR equals the family-wise error rate. Matches
    :func:`scipy.stats.false_discovery_control`.

    Parameters
    ----------
    p_values : array_like
        p-values in [0, 1], any shape. NaN entries (tests that could not be
        run) are returned as NaN and do not count in :math:`m`.
    method : {'bh', 'by'}
        Benjamini-Hochberg or Benjamini-Yekutieli.

    Returns
    -------
    ndarray
        q-values, same shape as ``p_values``.

    Examples
    --------
    >>> fdr_bh([0.01, 0.04, 0.03, 0.2]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.2]
    >>> fdr_bh([0.01, float("nan"), 0.02]).tolist()
    [0.02, nan, 0.02]
    """
    try:
        p = np.asarray(p_values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"p_values: expected numbers ({err})") from err
    if method not in ("bh", "by"):
        raise ParameterError(f"method={method!r}: use 'bh' (Benjamini-Hochberg) or 'by' (Benjamini-Yekutieli)")
    flat = p.ravel()
    ok = ~np.isnan(flat)
    valid = flat[ok]
    if np.any((valid < 0) | (valid > 1)):
        raise ParameterError(
            f"p_values: {int(np.sum((valid < 0) | (valid > 1)))} values lie outside [0, 1] (e.g. "
            f"{valid[(valid < 0) | (valid > 1)][0]!r}); pass p-values, not statistics"
        )
    q = np.full(flat.shape, np.nan)
    m = valid.size
    if m:
        order = np.argsort(valid, kind="mergesort")
        ranked = valid[order] * m / np.arange(1, m + 1)
        if method == "by":
            ranked *= float(np.sum(1.0 / np.arange(1, m + 1)))
        adjusted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
        out = np.empty(m)
        out[order] = adjusted
        q[ok] = out
    return q.reshape(p.shape)

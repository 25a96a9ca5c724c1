"""Statistics for comparing sessions: all tests of one metric at once, and FDR across metrics.

:func:`paired_tests` and :func:`unpaired_tests` give everything a comparison
table reports for one metric — means, effect sizes, a bootstrap CI and three
p-values (permutation, rank and t-test) — and :func:`fdr_bh` corrects the
p-values of many metrics. The building blocks live in their own modules:

- :mod:`harmonix.compare.effect_sizes`: Cohen's :math:`d_z`, Hedges' :math:`g`
  and the correction :math:`J`;
- :mod:`harmonix.compare.bootstrap`: percentile and BCa intervals of a mean
  and of a difference of means;
- :mod:`harmonix.compare.permutation`: the sign-flip, label and window
  permutation tests, with the conventions of their p-values (+1 correction,
  exact enumeration, ties) and the smallest p a design can reach.

Three designs are covered, each with the mean difference ``post - pre`` as
the quantity of interest (positive means the metric went up):

- **paired** (:func:`~harmonix.compare.permutation.paired_permutation_test`,
  :func:`paired_tests`): the same subjects measured before and after an
  intervention. Everything is computed from the within-subject differences
  :math:`d_i = y_i - x_i`.
- **unpaired** (:func:`~harmonix.compare.permutation.unpaired_permutation_test`,
  :func:`unpaired_tests`): two independent groups (intervention vs control,
  or pre and post sessions of different people).
- **within one recording**
  (:func:`~harmonix.compare.permutation.window_permutation_test`): the pre and
  the post part of one subject's data are two sets of windows (or epochs),
  exchanged in blocks because neighbouring windows are not independent.

Across many metrics x bands x components, :func:`fdr_bh` controls the false
discovery rate (Benjamini-Hochberg, or Benjamini-Yekutieli under arbitrary
dependence), and :func:`harmonix.compare.tables.compare_tables` runs the whole comparison on tidy
metric tables (:data:`harmonix.tables.METRIC_COLUMNS` plus a subject column).

Conventions
-----------
- Randomness only through ``seed`` (an ``int``, a
  :class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`),
  split into independent streams for the permutation test and the
  bootstrap; the same seed gives the same result.
- Bad input (NaN/Inf, mismatched lengths, fewer than 2 observations, zero
  variance) raises :class:`harmonix.errors.ParameterError`.

References
----------
Benjamini Y., Hochberg Y. (1995). Controlling the false discovery rate.
J R Stat Soc B 57:289-300. Benjamini Y., Yekutieli D. (2001). The control of
the false discovery rate in multiple testing under dependency. Ann Stat
29:1165-1188.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats

from harmonix.compare._checks import _check_alternative, _check_ci, _pair, _split_seed, _vector
from harmonix.compare.bootstrap import _boot_block_means, _interval, _jack_block_means, _two_sample_ci
from harmonix.compare.effect_sizes import _pooled_sd, hedges_correction
from harmonix.compare.permutation import paired_permutation_test, unpaired_permutation_test
from harmonix.errors import ParameterError

__all__ = [
    "PairedResult",
    "UnpairedResult",
    "paired_tests",
    "unpaired_tests",
    "fdr_bh",
]


# ---------------------------------------------------------------------------
# results


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
        As in :class:`~harmonix.compare.permutation.PermutationTestResult`.
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


# ---------------------------------------------------------------------------
# bundles of tests


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

    - difference :math:`\\bar d` and its bootstrap CI
      (:func:`~harmonix.compare.bootstrap.bootstrap_ci_mean` on :math:`d`);
    - Cohen's :math:`d_z = \\bar d / s_d` (:func:`~harmonix.compare.effect_sizes.cohens_dz`)
      and Hedges' :math:`g_z = J(n-1)\\,d_z`
      (:func:`~harmonix.compare.effect_sizes.hedges_g_paired`; the correction uses
      the :math:`n - 1` degrees of freedom of :math:`s_d`);
    - p-values of the sign-flip permutation test (:func:`~harmonix.compare.permutation.paired_permutation_test`),
      the Wilcoxon signed-rank test (:func:`scipy.stats.wilcoxon`, zero
      differences dropped, exact distribution for small n as scipy chooses)
      and the paired t-test (:math:`t = \\bar d\\sqrt n / s_d`, ``n - 1`` df; computed
      directly, identical to :func:`scipy.stats.ttest_rel`).

    Parameters
    ----------
    pre, post : array_like, shape (n,)
        The same subjects, in the same order.
    n_permutations, alternative
        See :func:`~harmonix.compare.permutation.paired_permutation_test`.
    n_bootstrap, ci_level, ci_method
        See :func:`~harmonix.compare.bootstrap.bootstrap_ci_mean`.
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
      (:func:`~harmonix.compare.bootstrap.bootstrap_ci_mean_difference`);
    - Hedges' :math:`g = J(n_x + n_y - 2)\\,(\\bar y - \\bar x)/s_p` with the
      pooled SD (:func:`~harmonix.compare.effect_sizes.hedges_g`), and the uncorrected Cohen's d;
    - p-values of the label-permutation test (:func:`~harmonix.compare.permutation.unpaired_permutation_test`),
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

"""Effect sizes of a mean difference: Cohen's :math:`d_z`, Hedges' :math:`g` and its correction.

Standardized mean differences for the two designs of
:mod:`harmonix.compare`, each with ``post - pre`` (or ``y - x``) in the
numerator, so that positive means the metric went up:

- paired data (:func:`cohens_dz`, :func:`hedges_g_paired`): the mean of the
  within-subject differences :math:`d_i = y_i - x_i` over their SD
  :math:`s_d`;
- two independent groups (:func:`hedges_g`): the difference of means over
  the pooled SD :math:`s_p`.

:func:`hedges_correction` is the small-sample bias correction
:math:`J(\\nu)` both use (exact gamma-function form).

References
----------
Cohen J. (1988). Statistical Power Analysis for the Behavioral Sciences,
2nd ed. Hedges L. V., Olkin I. (1985). Statistical Methods for
Meta-Analysis, Academic Press (g and its correction J). Lakens D. (2013).
Calculating and reporting effect sizes to facilitate cumulative science.
Front Psychol 4:863 (d_z and g for within-subject designs).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from harmonix.compare._checks import _pair, _vector
from harmonix.errors import ParameterError

__all__ = ["hedges_correction", "cohens_dz", "hedges_g_paired", "hedges_g"]


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

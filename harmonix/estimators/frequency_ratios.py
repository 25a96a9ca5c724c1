"""Frequency-ratio decoupling: how far the ratio of two frequencies is from locking.

Two oscillations can lock only near small-integer frequency ratios; the
golden ratio :math:`\\varphi = (1 + \\sqrt 5)/2` is the ratio farthest from
all of them, the most decoupled (Pletzer, Kerschbaum & Klimesch 2010).

References
----------
Pletzer B., Kerschbaum H., Klimesch W. (2010). When frequencies never
synchronize: the golden mean and the resting EEG. Brain Res 1335:91-102.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harmonix.errors import DataQualityError, ParameterError
from harmonix.estimators.locking import GOLDEN_RATIO



@dataclass(frozen=True)
class FrequencyRatioDecoupling:
    """Result of :func:`frequency_ratio_decoupling` (arrays broadcast from the inputs).

    Attributes
    ----------
    ratio : ndarray
        :math:`r = \\max(f_1, f_2)/\\min(f_1, f_2) \\ge 1`.
    golden_distance : ndarray
        :math:`d_\\varphi = |r - \\varphi|`.
    p, q : ndarray of int
        Nearest small-integer ratio p/q (reduced, q <= max_denominator).
    integer_distance : ndarray
        :math:`d_{\\mathbb Q} = |r - p/q|`.
    decoupling_index : ndarray
        :math:`(d_{\\mathbb Q} - d_\\varphi) / (d_{\\mathbb Q} + d_\\varphi)` in
        [-1, 1]: +1 at the golden ratio (maximally non-interacting), -1 on a
        small-integer ratio (resonant, interacting), 0 equidistant.
    max_denominator : int
    """

    ratio: np.ndarray
    golden_distance: np.ndarray
    p: np.ndarray
    q: np.ndarray
    integer_distance: np.ndarray
    decoupling_index: np.ndarray
    max_denominator: int

    @property
    def regime(self) -> np.ndarray:
        """``'golden'`` where the index is positive, else ``'integer'``."""
        return np.where(np.asarray(self.decoupling_index) > 0, "golden", "integer")


def _small_ratios(max_ratio: float, max_denominator: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted reduced fractions p/q >= 1 with q <= max_denominator, up to past ``max_ratio`` (Farey-style)."""
    top = int(math.ceil(max_ratio)) + 1
    values, ps, qs = [], [], []
    for q in range(1, max_denominator + 1):
        for p in range(q, top * q + 1):
            if math.gcd(p, q) == 1:
                values.append(p / q)
                ps.append(p)
                qs.append(q)
    order = np.lexsort((np.array(qs), np.array(values)))
    return np.array(values)[order], np.array(ps)[order], np.array(qs)[order]


def frequency_ratio_decoupling(
    f1: np.ndarray | float,
    f2: np.ndarray | float,
    *,
    max_denominator: int = 5,
) -> FrequencyRatioDecoupling:
    """Golden-ratio vs small-integer-ratio position of two frequencies.

    Two oscillators interact (can lock, exchange energy) when their frequency
    ratio is near a ratio of small integers p/q, and least when it is the
    golden ratio :math:`\\varphi = (1+\\sqrt5)/2`, the number worst
    approximated by rationals (Pletzer et al. 2010). With
    :math:`r = \\max(f_1,f_2)/\\min(f_1,f_2)`:

    .. math::

        d_\\varphi = |r - \\varphi|, \\qquad
        d_{\\mathbb Q} = \\min_{p/q,\\; q \\le Q} |r - p/q|, \\qquad
        \\mathrm{index} = \\frac{d_{\\mathbb Q} - d_\\varphi}{d_{\\mathbb Q} + d_\\varphi} \\in [-1, 1].

    The nearest ratio is searched among the reduced fractions p/q >= 1 with
    q <= ``max_denominator`` (a Farey sequence; ties go to the smaller q).
    Note that :math:`\\varphi` itself lies 0.018 from 8/5 and 0.049 from 5/3
    (Fibonacci ratios converge to it), so the index saturates only very close
    to :math:`\\varphi`; a larger ``max_denominator`` narrows the golden zone.
    Ratios far above :math:`\\varphi` (r > 2) are simply far from it.

    Parameters
    ----------
    f1, f2 : array_like
        Frequencies in Hz (> 0), broadcast together; e.g. ``f[:, None]`` and
        ``f[None, :]`` give the matrix over all region pairs.
    max_denominator : int
        Largest q of the "small-integer" ratios (default 5).

    Returns
    -------
    result : FrequencyRatioDecoupling

    Examples
    --------
    >>> res = frequency_ratio_decoupling(10.0, 15.0)
    >>> int(res.p), int(res.q), float(res.decoupling_index)
    (3, 2, -1.0)
    """
    if int(max_denominator) != max_denominator or max_denominator < 1:
        raise ParameterError(f"max_denominator must be a positive integer, got {max_denominator}")
    a = np.asarray(f1, dtype=np.float64)
    b = np.asarray(f2, dtype=np.float64)
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError as err:
        raise ParameterError(f"f1 {a.shape} and f2 {b.shape} cannot be broadcast together") from err
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise DataQualityError("frequencies contain NaN or Inf")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ParameterError("frequencies must be positive (Hz)")
    ratio = np.maximum(a, b) / np.minimum(a, b)
    values, ps, qs = _small_ratios(float(ratio.max()) if ratio.size else 1.0, int(max_denominator))
    idx = np.clip(np.searchsorted(values, ratio), 1, len(values) - 1)
    lower, upper = idx - 1, idx
    use_upper = np.abs(values[upper] - ratio) < np.abs(ratio - values[lower])
    # exact ties: prefer the smaller denominator
    tie = np.isclose(np.abs(values[upper] - ratio), np.abs(ratio - values[lower]), rtol=0, atol=1e-15)
    use_upper = np.where(tie, qs[upper] < qs[lower], use_upper)
    nearest = np.where(use_upper, upper, lower)
    d_int = np.abs(ratio - values[nearest])
    d_gold = np.abs(ratio - GOLDEN_RATIO)
    index = (d_int - d_gold) / (d_int + d_gold)  # d_gold > 0 always (phi irrational)

    def out(x):
        return x[()] if np.ndim(x) == 0 else x

    return FrequencyRatioDecoupling(
        ratio=out(ratio),
        golden_distance=out(d_gold),
        p=out(ps[nearest]),
        q=out(qs[nearest]),
        integer_distance=out(d_int),
        decoupling_index=out(index),
        max_denominator=int(max_denominator),
    )


__all__ = ["FrequencyRatioDecoupling", "frequency_ratio_decoupling"]

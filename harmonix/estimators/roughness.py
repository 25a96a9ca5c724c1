r"""Sensory roughness of a set of partials: Hutchinson & Knopoff (1978) and Sethares.

Both models sum a Plomp & Levelt (1965) dissonance curve over every pair of
pure-tone partials. They differ in the curve, in how its width grows with
frequency and in how amplitudes enter.

Hutchinson & Knopoff (the default of :func:`~harmonix.estimators.consonance.cdns`)
    Critical bandwidth :math:`\mathrm{CBW}(\bar f) = 1.72\,\bar f^{0.65}` Hz
    at the pair's mean frequency, distance :math:`y = |f_i - f_j| / \mathrm{CBW}`,
    dissonance factor

    .. math:: g(y) = \Bigl(\frac{y}{0.25}\,e^{\,1 - y/0.25}\Bigr)^2 \ (y \le 1.2), \qquad g(y) = 0 \ (y > 1.2),

    which is 1 at a quarter of a critical band (Plomp & Levelt's maximum) and
    is cut off beyond 1.2 bandwidths: the parametric form of Plomp & Levelt's
    curve by Mashinter (2006), with the 1.2 cut-off of Mashinter's and
    Bigand et al.'s (1996) implementations, as in Harrison & Pearce's
    ``incon`` package (``hutch_78_roughness``). Roughness
    :math:`R = \sum_{i<j} a_i a_j\, g(y_{ij}) / \sum_i a_i^2`.
Sethares
    The constants of Sethares' ``dissmeasure.m`` (Sethares 2005, appendix E;
    the program on his web page), used together and nowhere mixed with the
    1993 paper's rounded values: :math:`b_1 = 3.51`, :math:`b_2 = 5.75`,
    :math:`d^* = 0.24`, :math:`s_1 = 0.0207`, :math:`s_2 = 18.96` Hz,
    :math:`c = 5`, pair amplitude :math:`\min(a_i, a_j)`.

References
----------
.. [1] Plomp, R. & Levelt, W. J. M. (1965). Tonal consonance and critical
   bandwidth. J. Acoust. Soc. Am. 38:548-560.
.. [2] Hutchinson, W. & Knopoff, L. (1978). The acoustic component of Western
   consonance. Interface 7:1-29.
.. [3] Mashinter, K. (2006). Calculating sensory dissonance: some discrepancies
   arising from the models of Kameoka & Kuriyagawa, and Hutchinson & Knopoff.
   Empirical Musicology Review 1:65-84.
.. [4] Bigand, E., Parncutt, R. & Lerdahl, F. (1996). Perception of musical
   tension in short chord sequences. Perception & Psychophysics 58:125-141.
.. [5] Sethares, W. A. (2005). Tuning, Timbre, Spectrum, Scale, 2nd ed.
   Springer (appendix E, ``dissmeasure.m``).
.. [6] Zwicker, E. & Terhardt, E. (1980). Analytical expressions for
   critical-band rate and critical bandwidth as a function of frequency.
   J. Acoust. Soc. Am. 68:1523-1525.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harmonix.estimators.tones import peaks

__all__ = [
    "HK_CUTOFF",
    "HK_PEAK",
    "SETHARES",
    "critical_bandwidth",
    "hk_critical_bandwidth",
    "hk_dissonance_factor",
    "hutchinson_knopoff_roughness",
    "sethares_dissonance",
    "sethares_peak",
]

HK_PEAK = 0.25
"""Distance (critical bandwidths) at which the Hutchinson-Knopoff factor g(y) is largest (g = 1)."""

HK_CUTOFF = 1.2
"""Distance (critical bandwidths) beyond which g(y) is taken as 0 (Mashinter 2006; Bigand et al. 1996)."""

SETHARES: dict[str, float] = {"b1": 3.51, "b2": 5.75, "d_star": 0.24, "s1": 0.0207, "s2": 18.96, "c": 5.0}
r"""Constants of Sethares' ``dissmeasure.m`` (Sethares 2005, appendix E), one consistent set.

``b1``, ``b2`` (dimensionless) are the decay rates of the two exponentials
(``A1 = -3.51``, ``A2 = -5.75`` in the program), ``d_star`` = 0.24 places the
peak, ``s1`` = 0.0207 and ``s2`` = 18.96 Hz make the scale grow with the lower
frequency, ``s = d_star / (s1 f1 + s2)``, and ``c`` = 5 is the program's
``C1 = -C2`` factor.
"""


def critical_bandwidth(freq: Any) -> np.ndarray:
    r"""Critical bandwidth in Hz after Zwicker & Terhardt (1980).

    .. math:: \mathrm{CB}(f) = 25 + 75\,\bigl(1 + 1.4\,(f / 1\,\mathrm{kHz})^2\bigr)^{0.69}\ \mathrm{Hz}

    The classical (Bark-scale) bandwidth. Hutchinson & Knopoff's own
    approximation is :func:`hk_critical_bandwidth` (narrower below 500 Hz).

    Examples
    --------
    >>> round(float(critical_bandwidth(500.0)), 1)
    117.3
    """
    f = np.asarray(freq, dtype=float)
    return 25.0 + 75.0 * (1.0 + 1.4 * (f / 1000.0) ** 2) ** 0.69


def hk_critical_bandwidth(mean_freq: Any) -> np.ndarray:
    r"""Critical bandwidth of Hutchinson & Knopoff (1978): :math:`1.72\,\bar f^{\,0.65}` Hz.

    Parameters
    ----------
    mean_freq : float or array
        Mean frequency :math:`\bar f = (f_1 + f_2)/2` of a pair, Hz.

    Examples
    --------
    >>> round(float(hk_critical_bandwidth(261.63)), 1)
    64.1
    """
    return 1.72 * np.asarray(mean_freq, dtype=float) ** 0.65


def hk_dissonance_factor(y: Any, cutoff: float = HK_CUTOFF) -> np.ndarray:
    r"""Hutchinson-Knopoff dissonance factor of a pair ``y`` critical bandwidths apart.

    .. math:: g(y) = \Bigl(\frac{y}{0.25}\,e^{\,1 - y/0.25}\Bigr)^2 \ (y \le y_c), \qquad 0 \ (y > y_c)

    with :math:`y_c` = ``cutoff`` = 1.2. :math:`g(0) = 0`, :math:`g(0.25) = 1`
    (the maximum), :math:`g(1.2) = 0.0024` before the cut-off.

    Examples
    --------
    >>> float(hk_dissonance_factor(0.25)), float(hk_dissonance_factor(1.3))
    (1.0, 0.0)
    """
    x = np.abs(np.asarray(y, dtype=float)) / HK_PEAK
    g = (x * np.exp(1.0 - x)) ** 2
    return np.where(np.abs(np.asarray(y, dtype=float)) > float(cutoff), 0.0, g)


def _pairs(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(f.size, k=1)
    return i, j


def hutchinson_knopoff_roughness(freqs: Any, amps: Any, *, cutoff: float = HK_CUTOFF) -> float:
    r"""Roughness of a set of partials after Hutchinson & Knopoff (1978).

    .. math::

        R = \frac{\sum_{i<j} a_i a_j\, g(y_{ij})}{\sum_i a_i^2}, \qquad
        y_{ij} = \frac{|f_i - f_j|}{1.72\,\bigl((f_i + f_j)/2\bigr)^{0.65}},

    with :math:`g` = :func:`hk_dissonance_factor`. Dimensionless and
    independent of level; two equal pure tones a quarter of a critical band
    apart give the largest value a pair can have, :math:`R = 1/2`.

    Parameters
    ----------
    freqs : array_like
        Partial frequencies in Hz (NaN entries are ignored).
    amps : array_like
        Linear amplitudes (>= 0).
    cutoff : float
        :math:`y_c` of :func:`hk_dissonance_factor`.

    Returns
    -------
    roughness : float
        0 for fewer than two partials.

    Examples
    --------
    >>> cb = float(hk_critical_bandwidth(500.0))
    >>> round(hutchinson_knopoff_roughness([500 - cb / 8, 500 + cb / 8], [1.0, 1.0]), 6)
    0.5
    """
    f, a = peaks(freqs, amps, "hutchinson_knopoff_roughness")
    if f.size < 2:
        return 0.0
    i, j = _pairs(f)
    y = np.abs(f[i] - f[j]) / hk_critical_bandwidth(0.5 * (f[i] + f[j]))
    return float(np.sum(a[i] * a[j] * hk_dissonance_factor(y, cutoff)) / np.sum(a * a))


def sethares_dissonance(freqs: Any, amps: Any) -> float:
    r"""Sensory dissonance of a set of partials, Sethares' ``dissmeasure.m``.

    For every pair with :math:`f_1 \le f_2`,

    .. math::

        s = \frac{d^*}{s_1 f_1 + s_2}, \qquad x = s\,(f_2 - f_1), \qquad
        d = \min(a_1, a_2)\; c\,\bigl(e^{-b_1 x} - e^{-b_2 x}\bigr),

    with the constants of :data:`SETHARES`; :math:`R = \sum_{i<j} d_{ij}`,
    linear in the amplitudes. A pair peaks at
    :math:`x^* = \ln(b_2/b_1)/(b_2 - b_1)` = 0.2204.

    Parameters
    ----------
    freqs, amps : array_like
        Partial frequencies (Hz) and linear amplitudes (>= 0).

    Returns
    -------
    roughness : float
        In units of amplitude; 0 for fewer than two partials.

    Examples
    --------
    >>> sethares_dissonance([440.0, 440.0], [1.0, 1.0])
    0.0
    >>> round(sethares_dissonance([500.0, 527.0], [1.0, 1.0]), 3)
    0.899
    """
    f, a = peaks(freqs, amps, "sethares_dissonance")
    if f.size < 2:
        return 0.0
    i, j = _pairs(f)
    f1 = np.minimum(f[i], f[j])
    x = SETHARES["d_star"] / (SETHARES["s1"] * f1 + SETHARES["s2"]) * np.abs(f[i] - f[j])
    curve = SETHARES["c"] * (np.exp(-SETHARES["b1"] * x) - np.exp(-SETHARES["b2"] * x))
    return float(np.sum(np.minimum(a[i], a[j]) * curve))


def sethares_peak() -> float:
    r"""Largest value of one Sethares pair of unit amplitudes, :math:`c(e^{-b_1 x^*} - e^{-b_2 x^*})`."""
    b1, b2 = SETHARES["b1"], SETHARES["b2"]
    x = math.log(b2 / b1) / (b2 - b1)
    return SETHARES["c"] * (math.exp(-b1 * x) - math.exp(-b2 * x))

r"""Harmonicity of a set of partials: Gill & Purves (2009) and Harrison & Pearce (2018).

Gill & Purves harmonic-series similarity (default)
    Tones whose frequencies are whole multiples :math:`n_1, n_2, \ldots` of an
    implied fundamental :math:`F_0` have harmonics at the multiples of the
    :math:`n_i`; over one period :math:`L = \mathrm{lcm}(n_i)` of the
    combined series, the share of :math:`F_0`'s harmonics :math:`1..L` they
    occupy is

    .. math:: G = \frac{|\{h \le L : n_i \mid h \text{ for some } i\}|}{L},

    which for a dyad :math:`p{:}q` (coprime) is Gill & Purves' :math:`(p + q - 1)/(pq)`:
    octave 1, fifth 2/3, fourth 1/2, major third 2/5. :func:`harmonicity`
    finds :math:`F_0` and the :math:`n_i` from measured or expanded partials
    (see there), so it works on symbols and on audio alike.
Harrison & Pearce periodicity (option)
    The pitch-class spectrum of the partials (1200 one-cent bins on a circle,
    each partial a Gaussian of :math:`\sigma` = 6.83 cents weighted by its
    amplitude) is cross-correlated with the pitch-class spectrum of an
    idealised harmonic tone (12 harmonics, weights :math:`k^{-0.75}`); the
    cosine similarity at every rotation is a virtual-pitch profile, and its
    Kullback-Leibler divergence from a uniform profile, in bits, measures how
    clearly one virtual pitch stands out (:func:`periodicity`).

References
----------
.. [1] Gill, K. Z. & Purves, D. (2009). A biological rationale for musical
   scales. PLoS ONE 4:e8144.
.. [2] Harrison, P. M. C. & Pearce, M. T. (2018). An energy-based generative
   sequence model for testing sensory theories of Western harmony. Proc.
   ISMIR 2018, 160-167.
.. [3] Harrison, P. M. C. & Pearce, M. T. (2020). Simultaneous consonance in
   music perception and composition. Psychological Review 127:216-244.
.. [4] Milne, A. J. (2013). A computational model of the cognition of
   tonality. PhD thesis, The Open University.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from harmonix.errors import ParameterError
from harmonix.estimators.tones import peaks

__all__ = ["HarmonicFit", "harmonic_series_similarity", "harmonicity", "periodicity"]

_LCM_CAP = 10**7
"""Subsets whose lcm exceeds this add under 1e-7 each to G and are dropped."""


@dataclass(frozen=True)
class HarmonicFit:
    """Best harmonic-series fit of a set of peaks (see :func:`harmonicity`).

    Attributes
    ----------
    harmonicity : float
        :math:`H = E^{\\gamma} G` at the best fundamental, in [0, 1].
    f0 : float
        Implied fundamental :math:`F_0` in Hz.
    explained : float
        :math:`E`: amplitude-weighted match of the peaks to the series, in [0, 1].
    coverage : float
        :math:`G`: Gill & Purves share of the combined series' period occupied.
    top_harmonic : int
        Highest harmonic number (of :math:`F_0`) a strong peak matches.
    generators : tuple of int
        Harmonic numbers :math:`n_i` of the implied tones (the matched
        harmonics that are not multiples of a lower matched one).
    period : int
        :math:`L = \\mathrm{lcm}(n_i)` (0 when there is no match).
    """

    harmonicity: float
    f0: float
    explained: float
    coverage: float
    top_harmonic: int
    generators: tuple[int, ...] = ()
    period: int = 0


def harmonic_series_similarity(numbers: Any) -> float:
    r"""Gill & Purves' harmonic-series similarity of tones at harmonic numbers :math:`n_i` of :math:`F_0`.

    :math:`G` = density of the integers divisible by at least one :math:`n_i`
    (= the share of :math:`1..\mathrm{lcm}(n_i)` they occupy), by
    inclusion-exclusion over subsets: :math:`G = \sum_{S \ne \emptyset}
    (-1)^{|S|+1} / \mathrm{lcm}(S)`.

    Examples
    --------
    >>> harmonic_series_similarity([2, 3])  # a fifth, 3:2
    0.6666666666666666
    >>> round(harmonic_series_similarity([4, 5, 6]), 4)  # just major triad
    0.4667
    """
    gens = _sieve(sorted({int(n) for n in numbers}))
    if not gens:
        return math.nan
    total = 0.0
    stack = [(0, 1, 1.0)]  # (next index, lcm so far, sign of the next term)
    while stack:
        start, lcm, sign = stack.pop()
        for i in range(start, len(gens)):
            m = lcm * gens[i] // math.gcd(lcm, gens[i])
            if m > _LCM_CAP:
                continue
            total += sign / m
            stack.append((i + 1, m, -sign))
    return min(1.0, total)


def _sieve(sorted_numbers: list[int]) -> list[int]:
    """Numbers that are not multiples of a smaller one in the list (they generate the same union of multiples)."""
    gens: list[int] = []
    for n in sorted_numbers:
        if n >= 1 and all(n % g for g in gens):
            gens.append(n)
    return gens


def harmonicity(
    freqs: Any,
    amps: Any,
    *,
    tolerance_cents: float = 20.0,
    max_harmonic: int = 32,
    precision_exponent: float = 4.0,
    extent_db: float = 30.0,
) -> HarmonicFit:
    r"""Gill & Purves harmonic-series similarity of a set of partials, with a search for :math:`F_0`.

    For a candidate fundamental :math:`F_0`, peak :math:`j` is assigned to
    harmonic :math:`h_j = \max(1, \mathrm{round}(f_j / F_0))` with mistuning
    :math:`c_j = 1200 \log_2(f_j / (h_j F_0))` cents and match
    :math:`m_j = \exp(-c_j^2 / (2\sigma^2))`, :math:`\sigma` = ``tolerance_cents``.

    - explained share :math:`E = \sum_j a_j m_j / \sum_j a_j`;
    - similarity :math:`G` = :func:`harmonic_series_similarity` of the
      harmonics matched (:math:`m_j \ge 1/2`) by strong peaks (within
      ``extent_db`` of the strongest). The union of the multiples of the
      matched harmonics is the union of the tones' series, so for harmonic
      tones with their fundamentals present :math:`G` is exactly Gill &
      Purves' value whatever the number of partials per tone:
      :math:`(p + q - 1)/(pq)` for a just dyad :math:`p{:}q`.

    :math:`H = \max_{F_0} E^{\gamma} G`, :math:`\gamma` = ``precision_exponent``.
    :math:`E^{4}` makes a fit that leaves half the amplitude unexplained
    worth 1/16, so the winner is the highest :math:`F_0` under which nearly
    all the amplitude is harmonic (Gill & Purves' implied fundamental, the
    approximate greatest common divisor); with :math:`\gamma = 1` the series
    of one tone of a fifth (:math:`E \approx 0.69`, :math:`G = 1`) would beat
    the fifth's true :math:`F_0`. For just intervals :math:`E = 1` and
    :math:`H = G` exactly; a 12-TET interval keeps the value of its nearest
    simple ratio times :math:`E^{4}` (fifth 0.663, major third 0.32).

    Candidates: :math:`F_0 = f_j / n` for every strong peak and :math:`n = 1..`
    ``max_harmonic``, evaluated from the best upper bound
    :math:`E^{\gamma} \min(1, \sum 1/h)` down; the best few are refined to
    the amplitude-weighted geometric mean of :math:`f_j / h_j` (the mistuning
    of tempered intervals is shared between the tones). Only ratios enter,
    so :math:`H` does not change when all frequencies are scaled (octave
    shifts).

    Parameters
    ----------
    freqs, amps : array_like
        Peak frequencies (Hz) and linear amplitudes (>= 0); NaN entries and
        zero amplitudes are ignored.
    tolerance_cents : float
        :math:`\sigma`. 20 cents admits the 12-TET approximations of the
        5-limit intervals (thirds and sixths 14-16 cents from 5:4, 6:5, 5:3,
        8:5, about 8 cents per tone once shared) at a match of about 0.93.
    max_harmonic : int
        Largest :math:`n` (32 reaches a minor second's 16:15 and 17:16).
    precision_exponent : float
        :math:`\gamma` >= 0.
    extent_db : float
        Only peaks within this many dB of the strongest can be tones'
        harmonics in :math:`G` (weaker ones still count in :math:`E`); keeps
        a faint stray peak from adding a series. 30 dB keeps the 11th
        harmonic of a 1/k tone (-20.8 dB) with margin.

    Returns
    -------
    fit : HarmonicFit
        NaN fields when no peak has positive amplitude.

    Examples
    --------
    >>> fit = harmonicity([200.0, 400.0, 600.0, 800.0], [1.0, 0.5, 0.3, 0.2])
    >>> round(fit.harmonicity, 6), round(fit.f0, 3)
    (1.0, 200.0)
    >>> round(harmonicity([200.0, 300.0], [1.0, 1.0]).harmonicity, 3)  # 3:2
    0.667
    """
    sigma = float(tolerance_cents)
    if not (math.isfinite(sigma) and sigma > 0):
        raise ParameterError(f"tolerance_cents must be a positive number of cents, got {tolerance_cents!r}")
    if int(max_harmonic) != max_harmonic or max_harmonic < 1:
        raise ParameterError(f"max_harmonic must be a positive integer, got {max_harmonic!r}")
    delta = float(extent_db)
    if not (math.isfinite(delta) and delta >= 0):
        raise ParameterError(f"extent_db must be a non-negative number of dB, got {extent_db!r}")
    gamma = float(precision_exponent)
    if not (math.isfinite(gamma) and gamma >= 0):
        raise ParameterError(f"precision_exponent must be >= 0, got {precision_exponent!r}")
    f, a = peaks(freqs, amps, "harmonicity")
    if f.size == 0:
        return HarmonicFit(math.nan, math.nan, math.nan, math.nan, 0)
    strong = a >= a.max() * 10.0 ** (-delta / 20.0)
    n = np.arange(1, int(max_harmonic) + 1, dtype=float)
    exact = (f[strong][:, None] / n).ravel()
    _, first = np.unique(np.round(np.log2(exact) * 1200.0), return_index=True)  # 1-cent dedupe
    cand = exact[first]

    h = np.maximum(1.0, np.round(f[None, :] / cand[:, None]))
    m = np.exp(-0.5 * (1200.0 * np.log2(f[None, :] / (h * cand[:, None])) / sigma) ** 2)
    explained = (m * a).sum(axis=1) / a.sum()
    cap = int(max_harmonic)
    hm = np.sort(np.where((m >= 0.5) & strong[None, :] & (h <= cap), h, cap + 1.0), axis=1)
    distinct = (hm <= cap) & np.concatenate([np.ones((hm.shape[0], 1), bool), np.diff(hm, axis=1) > 0], axis=1)
    bound = explained**gamma * np.minimum(1.0, np.where(distinct, 1.0 / hm, 0.0).sum(axis=1))

    fits: list[HarmonicFit] = []
    best = -1.0
    for k in np.argsort(bound)[::-1]:
        if bound[k] <= best or len(fits) >= 64:
            break
        fit = _evaluate(f, a, strong, float(cand[k]), sigma, gamma, cap)
        fits.append(fit)
        best = max(best, fit.harmonicity)
    fits.sort(key=lambda r: r.harmonicity, reverse=True)
    for fit in fits[:5]:
        fits.append(_evaluate(f, a, strong, _refine(f, a, strong, fit, sigma), sigma, gamma, cap))
    return max(fits, key=lambda r: r.harmonicity)


def _match(f: np.ndarray, f0: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    h = np.maximum(1.0, np.round(f / f0))
    return h, np.exp(-0.5 * (1200.0 * np.log2(f / (h * f0)) / sigma) ** 2)


def _refine(f: np.ndarray, a: np.ndarray, strong: np.ndarray, fit: HarmonicFit, sigma: float) -> float:
    """Amplitude-weighted geometric mean of f_j / h_j over the strong peaks explained by the fit's tones."""
    h, m = _match(f, fit.f0, sigma)
    w = a * m * ((m >= 0.5) & strong & _multiple(h, fit.generators))
    if w.sum() <= 0:
        return fit.f0
    return float(np.exp(np.sum(w * np.log(f / h)) / w.sum()))


def _multiple(h: np.ndarray, gens: tuple[int, ...]) -> np.ndarray:
    """Whether each harmonic number is a multiple of one of ``gens``."""
    if not gens:
        return np.zeros(h.shape, dtype=bool)
    return np.any(np.mod(h[:, None], np.asarray(gens, dtype=float)[None, :]) == 0, axis=1)


def _evaluate(
    f: np.ndarray, a: np.ndarray, strong: np.ndarray, f0: float, sigma: float, gamma: float, cap: int
) -> HarmonicFit:
    """Fit at one fundamental: tones = sieve of matched strong harmonics <= cap; E counts their multiples only."""
    h, m = _match(f, f0, sigma)
    ok = (m >= 0.5) & strong
    gens = tuple(_sieve(sorted({int(v) for v in h[ok & (h <= cap)]})))
    explained = float((m * a * _multiple(h, gens)).sum() / a.sum())
    if not gens:
        return HarmonicFit(0.0, f0, explained, 0.0, 0)
    matched = h[ok & _multiple(h, gens)]
    period = 1
    for g in gens:
        period = period * g // math.gcd(period, g)
    g_share = harmonic_series_similarity(gens)
    return HarmonicFit(explained**gamma * g_share, f0, explained, g_share, int(matched.max()), gens, period)


# --------------------------------------------------------------------------- Harrison & Pearce


_PC_BINS = 1200


def _pc_spectrum(cents: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """Circular pitch-class spectrum: Gaussians (sd ``sigma`` cents) of mass ``weights`` on 1200 one-cent bins."""
    grid = np.arange(_PC_BINS, dtype=float)
    d = (grid[None, :] - np.mod(cents, 1200.0)[:, None] + 600.0) % 1200.0 - 600.0
    return (weights[:, None] * np.exp(-0.5 * (d / sigma) ** 2)).sum(axis=0)


@lru_cache(maxsize=8)
def _template(n_harmonics: int, rho: float, sigma: float) -> np.ndarray:
    k = np.arange(1, n_harmonics + 1, dtype=float)
    return _pc_spectrum(1200.0 * np.log2(k), k**-rho, sigma)


def _profile_kl(spectrum: np.ndarray, template: np.ndarray) -> float:
    """KL divergence (bits) from uniform of the cosine-similarity profile of ``template`` swept over ``spectrum``."""
    corr = np.fft.irfft(np.fft.rfft(spectrum) * np.conj(np.fft.rfft(template)), n=_PC_BINS)
    profile = np.maximum(corr, 0.0) / (np.linalg.norm(spectrum) * np.linalg.norm(template))
    p = profile / profile.sum()
    p = p[p > 0]
    return float(np.sum(p * np.log2(p * _PC_BINS)))


def periodicity(
    freqs: Any,
    amps: Any,
    *,
    sigma_cents: float = 6.83,
    n_harmonics: int = 12,
    rho: float = 0.75,
    normalise: bool = True,
) -> float:
    r"""Periodicity / harmonicity after Harrison & Pearce (2018), from partials.

    1. Pitch-class spectrum :math:`X`: 1200 one-cent bins on the pitch-class
       circle; partial :math:`j` adds :math:`a_j \exp(-d^2 / 2\sigma^2)` at
       circular distance :math:`d` cents from its pitch class
       (:math:`\sigma` = 6.83 cents, after Milne 2013).
    2. Template :math:`T`: the same spectrum of one idealised harmonic tone
       at pitch class 0 (``n_harmonics`` = 12, weights :math:`k^{-\rho}`,
       :math:`\rho` = 0.75).
    3. Virtual-pitch profile :math:`P(r) = \langle X, T_r\rangle / (\|X\|\|T\|)`,
       the cosine similarity with the template rotated by :math:`r` cents.
    4. :math:`K = \sum_r p_r \log_2(1200\,p_r)`, :math:`p = P / \sum P`: the
       Kullback-Leibler divergence of the profile from uniform, in bits.

    With ``normalise`` (default) :math:`K` is divided by :math:`K` of the
    template tone itself, so that one idealised harmonic tone scores 1 (the
    scale of Gill & Purves' measure, used in :func:`~harmonix.estimators.consonance.cdns`).
    Pitch classes discard octaves, so an octave scores like a single tone.
    Measured partials are weighted by their amplitudes (Harrison & Pearce
    weight idealised tones' harmonics by :math:`k^{-\rho}`).

    Returns
    -------
    value : float
        :math:`K / K_{tone}` (or :math:`K` in bits); NaN without peaks.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.arange(1, 13)
    >>> round(periodicity(220.0 * k, k ** -0.75), 6)
    1.0
    """
    sigma = float(sigma_cents)
    if not (math.isfinite(sigma) and sigma > 0):
        raise ParameterError(f"sigma_cents must be a positive number of cents, got {sigma_cents!r}")
    if int(n_harmonics) != n_harmonics or n_harmonics < 1:
        raise ParameterError(f"n_harmonics must be a positive integer, got {n_harmonics!r}")
    f, a = peaks(freqs, amps, "periodicity")
    if f.size == 0:
        return math.nan
    template = _template(int(n_harmonics), float(rho), sigma)
    kl = _profile_kl(_pc_spectrum(1200.0 * np.log2(f / f.min()), a, sigma), template)
    return kl / _profile_kl(template, template) if normalise else kl

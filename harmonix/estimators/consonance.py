r"""Consonance, dissonance and noise of a set of spectral peaks (a CDNS-style signature).

The Consonance-Dissonance-Noise Signature (CDNS, Gómez Emilsson 2017)
describes a spectrum by three numbers: how *consonant* its peaks are (how
well they fit one harmonic series), how *dissonant* they are (sensory
roughness of neighbouring peaks), and how much of the power is *noise* (not
in any peak). No public specification of CDNS exists, so harmonix defines its
own CDNS-style signature; every choice is stated here and in the functions.

Dissonance :math:`D`
    Pairwise Plomp-Levelt roughness in Sethares' parameterisation
    (:func:`sethares_dissonance`), of the peaks expanded into harmonic
    partials (:func:`expand_harmonics`), with amplitudes normalised to unit
    sum and divided by a reference: :math:`D = R / (\kappa R_{\mathrm{m2}})`,
    where :math:`R_{\mathrm{m2}}` is the roughness of a minor second of two
    6-partial harmonic tones on middle C (261.63 and 277.18 Hz, the same
    amplitude normalisation, the same amplitude model) and
    :math:`\kappa` = ``dissonance_scale`` = 4. So that middle-C minor second
    has :math:`D = 0.25`; a unison of pure tones has :math:`D = 0`.
Consonance :math:`C`
    Harmonicity (:func:`harmonicity`): the harmonic-series similarity of
    Gill & Purves (2009) — the share of the harmonics of the implied
    fundamental that the peaks occupy — generalised to measured peaks with a
    tolerance in cents and a search for the fundamental. 1 for one complete
    harmonic series, 0.75 for an octave of 6-partial tones, 0.12 for a minor
    second.
Noise :math:`N`
    Share of the power not in peaks, ``1 - peak power / total power``
    (:func:`noise_share`): from the specparam model for brain spectra
    (aperiodic power over total model power in the band), from the partials
    against the frame power for music.
Valence
    :math:`V = C - D`, the Symmetry-Theory-of-Valence proxy.

Why both terms, and the scale :math:`\kappa = 4`
-----------------------------------------------
At the middle-C register, roughness alone ranks the thirds as rougher than
the tritone and the sevenths (a 262 Hz tone and its third lie within a
critical band of each other's low partials), and harmonicity alone puts the
tritone (heard as 7:5) above the minor sixth (8:5) and the minor seventh
(9:5) level with it. The sum :math:`C - D` orders the twelve dyads of
6-partial harmonic tones (12-TET, root 261.63 Hz) in the tiers

    {octave, fifth} > {fourth, thirds, sixths} > {tritone, major second,
    minor and major sevenths} > minor second, and major second > major seventh

for :math:`2.65 \le \kappa \le 7.75` (and for :math:`2.85 \le \kappa \le 7.0`
with any root between 240 and 285 Hz); :math:`\kappa = 4` sits inside that
range where the smallest gap between tiers is largest (0.017 in valence;
the optimum is 4.05 on middle C). That gap is small: consonance judgements of the middle tiers are
close in listening experiments too (e.g. Bowling, Purves & Gill 2018), and
the valence of neighbouring interval classes should not be over-read.

Octave shifting of brain spectra
--------------------------------
Brain rhythms (1-45 Hz) lie below the range where the Plomp-Levelt curve was
measured. :func:`cdns_of_aperiodic_fit` multiplies peak frequencies by
:math:`2^k` so that the band's reference frequency lands near middle C
(``octave_shift=None``: :math:`k = \mathrm{round}(\log_2(261.63 / f_{ref}))`
with :math:`f_{ref}` the band's geometric centre), or by a user-given
:math:`2^k`. Octave shifts keep every frequency ratio, so :math:`C` does not
change (it depends on ratios only); roughness depends on the register, so
:math:`D` does, and every brain result carries the spread of :math:`D` and
of :math:`C - D` over the shifts :math:`k-1, k, k+1`
(:func:`octave_shift_sensitivity`).

References
----------
.. [1] Plomp, R. & Levelt, W. J. M. (1965). Tonal consonance and critical
   bandwidth. J. Acoust. Soc. Am. 38:548-560.
.. [2] Sethares, W. A. (1993). Local consonance and the relationship between
   timbre and scale. J. Acoust. Soc. Am. 94:1218-1228.
.. [3] Sethares, W. A. (2005). Tuning, Timbre, Spectrum, Scale, 2nd ed.
   Springer (appendix E: the dissonance measure and its constants).
.. [4] Gill, K. Z. & Purves, D. (2009). A biological rationale for musical
   scales. PLoS ONE 4:e8144.
.. [5] Zwicker, E. & Terhardt, E. (1980). Analytical expressions for
   critical-band rate and critical bandwidth as a function of frequency.
   J. Acoust. Soc. Am. 68:1523-1525.
.. [6] Gómez Emilsson, A. (2017). Quantifying bliss: consonance, dissonance,
   noise signatures (CDNS). Qualia Research Institute.
.. [7] Bowling, D. L., Purves, D. & Gill, K. Z. (2018). Vocal similarity
   predicts the relative attraction of musical chords. PNAS 115:216-221.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from harmonix.errors import DataQualityError, ParameterError
from harmonix.spectral.aperiodic import AperiodicFit
from harmonix.spectral.audio import Partials
from harmonix.spectral.bands import Band

__all__ = [
    "CDNS",
    "CDNSSeries",
    "HarmonicFit",
    "MIDDLE_C",
    "OctaveSensitivity",
    "SETHARES",
    "auto_octave_shift",
    "cdns",
    "cdns_of_aperiodic_fit",
    "cdns_of_audio",
    "cdns_of_partials",
    "cdns_over_windows",
    "critical_bandwidth",
    "expand_harmonics",
    "harmonicity",
    "noise_share",
    "octave_shift_sensitivity",
    "sethares_dissonance",
]

MIDDLE_C = 261.6255653005986
"""Middle C (C4) in Hz, 12-TET with A4 = 440 Hz: the target register of octave shifts."""

SETHARES: dict[str, float] = {"b1": 3.5, "b2": 5.75, "d_star": 0.24, "s1": 0.0207, "s2": 18.96}
r"""Constants of Sethares' fit to the Plomp-Levelt curve (Sethares 1993, 2005 app. E).

``b1``, ``b2`` (dimensionless) are the decay rates of the two exponentials;
``d_star`` = 0.24 is the interval (in the scaled unit ``x``) at which the
curve peaks, and ``s1`` = 0.0207, ``s2`` = 18.96 Hz make the scale grow with
the lower frequency like the critical bandwidth: ``s = d_star / (s1 f1 + s2)``.
"""

_X_PEAK = math.log(SETHARES["b2"] / SETHARES["b1"]) / (SETHARES["b2"] - SETHARES["b1"])
"""Scaled interval x at which exp(-b1 x) - exp(-b2 x) is largest (0.2206)."""

_MODELS = ("min", "product")

# Defaults shared by every entry point (documented in cdns()).
_N_PARTIALS = 6
_ROLLOFF = 0.88
_TOLERANCE_CENTS = 20.0
_MAX_HARMONIC = 32
_PRECISION_EXPONENT = 4.0
_DISSONANCE_SCALE = 4.0
_EXTENT_DB = 20.0


# --------------------------------------------------------------------------- helpers


def _peaks(freqs: Any, amps: Any, what: str = "peaks") -> tuple[np.ndarray, np.ndarray]:
    """Finite peaks with positive frequency and amplitude, as float arrays (NaN padding dropped)."""
    f = np.asarray(freqs, dtype=float).ravel()
    a = np.asarray(amps, dtype=float).ravel()
    if f.shape != a.shape:
        raise ParameterError(f"{what}: freqs and amps must have the same length, got {f.size} and {a.size}")
    keep = np.isfinite(f) & np.isfinite(a)
    f, a = f[keep], a[keep]
    if np.any(f <= 0):
        raise ParameterError(f"{what}: peak frequencies must be positive Hz, got {f[f <= 0][:3].tolist()}")
    if np.any(a < 0):
        raise ParameterError(f"{what}: peak amplitudes must be >= 0, got {a[a < 0][:3].tolist()}")
    nz = a > 0
    return f[nz], a[nz]


def _check_model(model: str) -> str:
    if model not in _MODELS:
        raise ParameterError(f"unknown amplitude model {model!r}; use 'min' (Sethares 2005) or 'product'")
    return model


def critical_bandwidth(freq: Any) -> np.ndarray:
    r"""Critical bandwidth in Hz after Zwicker & Terhardt (1980).

    .. math:: \mathrm{CB}(f) = 25 + 75\,\bigl(1 + 1.4\,(f / 1\,\mathrm{kHz})^2\bigr)^{0.69}\ \mathrm{Hz}

    This is the classical (Bark-scale) bandwidth to which Plomp & Levelt
    related roughness; it is wider than Glasberg & Moore's ERB below 500 Hz
    (117 vs 79 Hz at 500 Hz).

    Parameters
    ----------
    freq : float or array
        Centre frequency in Hz.

    Returns
    -------
    cb : ndarray
        Critical bandwidth in Hz, same shape as ``freq``.

    Examples
    --------
    >>> round(float(critical_bandwidth(500.0)), 1)
    117.3
    """
    f = np.asarray(freq, dtype=float)
    return 25.0 + 75.0 * (1.0 + 1.4 * (f / 1000.0) ** 2) ** 0.69


# --------------------------------------------------------------------------- dissonance


def sethares_dissonance(freqs: Any, amps: Any, *, model: str = "min") -> float:
    r"""Sensory dissonance (roughness) of a set of partials, after Sethares.

    For every pair of partials :math:`(f_1, a_1), (f_2, a_2)` with
    :math:`f_1 \le f_2`,

    .. math::

        s = \frac{d^*}{s_1 f_1 + s_2}, \qquad x = s\,(f_2 - f_1), \qquad
        d = a_{12}\,\bigl(e^{-b_1 x} - e^{-b_2 x}\bigr),

    with :math:`b_1 = 3.5`, :math:`b_2 = 5.75`, :math:`d^* = 0.24`,
    :math:`s_1 = 0.0207`, :math:`s_2 = 18.96` Hz (:data:`SETHARES`), and the
    total is :math:`R = \sum_{i<j} d_{ij}`. The curve of one pair rises from 0
    at unison to its maximum at :math:`x^* = \ln(b_2/b_1)/(b_2 - b_1) = 0.2206`,
    i.e. :math:`f_2 - f_1 = 0.919\,(0.0207 f_1 + 18.96)` Hz (27 Hz above 500 Hz,
    0.23 of the Zwicker critical bandwidth: Plomp & Levelt's quarter of a
    critical band), and decays towards 0 for wide intervals.

    Parameters
    ----------
    freqs : array_like
        Partial frequencies in Hz (any order; NaN entries are ignored).
    amps : array_like
        Partial amplitudes, linear (>= 0), in any consistent unit.
    model : {'min', 'product'}
        Amplitude of a pair: ``'min'`` uses :math:`a_{12} = \min(a_1, a_2)`
        (Sethares 2005, the "min-amplitude form": a loud partial cannot make
        a faint one rough), linear in the amplitudes; ``'product'`` uses
        :math:`a_{12} = a_1 a_2` (Sethares 1993), quadratic.

    Returns
    -------
    roughness : float
        :math:`R` in units of amplitude (``'min'``) or amplitude squared
        (``'product'``). 0 for fewer than two partials.

    Notes
    -----
    All :math:`n(n-1)/2` pairs are evaluated in one vectorised pass (memory
    :math:`O(n^2)`; a few MB for 1000 partials).

    References
    ----------
    Sethares, W. A. (1993). J. Acoust. Soc. Am. 94:1218-1228; Sethares (2005),
    Tuning, Timbre, Spectrum, Scale, appendix E; Plomp & Levelt (1965).

    Examples
    --------
    >>> sethares_dissonance([440.0, 440.0], [1.0, 1.0])
    0.0
    >>> round(sethares_dissonance([500.0, 527.0], [1.0, 1.0]), 3)
    0.181
    """
    _check_model(model)
    f, a = _peaks(freqs, amps, "sethares_dissonance")
    if f.size < 2:
        return 0.0
    i, j = np.triu_indices(f.size, k=1)
    f1 = np.minimum(f[i], f[j])
    f2 = np.maximum(f[i], f[j])
    s = SETHARES["d_star"] / (SETHARES["s1"] * f1 + SETHARES["s2"])
    x = s * (f2 - f1)
    a12 = np.minimum(a[i], a[j]) if model == "min" else a[i] * a[j]
    return float(np.sum(a12 * (np.exp(-SETHARES["b1"] * x) - np.exp(-SETHARES["b2"] * x))))


def expand_harmonics(
    freqs: Any, amps: Any, n_partials: int = _N_PARTIALS, rolloff: float | str = _ROLLOFF
) -> tuple[np.ndarray, np.ndarray]:
    r"""Expand each tone into a harmonic complex: partials :math:`k f` for :math:`k = 1..n`.

    Partial :math:`k` of a tone :math:`(f, a)` has frequency :math:`k f` and
    amplitude :math:`a\,r^{k-1}` for a numeric ``rolloff`` :math:`r`
    (Sethares 2005 uses :math:`r = 0.88`, about -1.1 dB per harmonic, a
    bright instrument-like spectrum), or :math:`a / k` for
    ``rolloff='inverse'`` (a sawtooth's spectrum, darker). Roughness of
    complex tones depends mostly on the lowest 6 partials, which hold the
    pairs within a critical band of each other (Plomp & Levelt 1965 used 6).

    Parameters
    ----------
    freqs, amps : array_like
        Fundamental frequencies (Hz) and amplitudes of the tones.
    n_partials : int
        Partials per tone, including the fundamental (1 = no expansion).
    rolloff : float in (0, 1] or 'inverse'
        Amplitude ratio between successive partials, or ``'inverse'``.

    Returns
    -------
    freqs, amps : ndarray, shape (n_tones * n_partials,)
        Tone-major order: the partials of tone 0, then tone 1, ...

    Examples
    --------
    >>> f, a = expand_harmonics([100.0], [1.0], n_partials=3)
    >>> f.tolist(), np.round(a, 4).tolist()
    ([100.0, 200.0, 300.0], [1.0, 0.88, 0.7744])
    """
    if int(n_partials) != n_partials or n_partials < 1:
        raise ParameterError(f"n_partials must be a positive integer, got {n_partials!r}")
    k = np.arange(1, int(n_partials) + 1, dtype=float)
    if isinstance(rolloff, str):
        if rolloff != "inverse":
            raise ParameterError(f"rolloff must be a number in (0, 1] or 'inverse', got {rolloff!r}")
        weights = 1.0 / k
    else:
        r = float(rolloff)
        if not (0 < r <= 1):
            raise ParameterError(f"rolloff must be a number in (0, 1] or 'inverse', got {rolloff!r}")
        weights = r ** (k - 1.0)
    f, a = _peaks(freqs, amps, "expand_harmonics")
    return (f[:, None] * k).ravel(), (a[:, None] * weights).ravel()


# --------------------------------------------------------------------------- consonance


@dataclass(frozen=True)
class HarmonicFit:
    """Best harmonic-series fit of a set of peaks (see :func:`harmonicity`).

    Attributes
    ----------
    harmonicity : float
        :math:`H = E^{\\gamma} \\cdot \\mathrm{Cov}` at the best fundamental, in [0, 1].
    f0 : float
        Implied fundamental in Hz.
    explained : float
        :math:`E`: amplitude-weighted share of the peaks on the series, in [0, 1].
    coverage : float
        :math:`\\mathrm{Cov}`: share of harmonics 1..top occupied by peaks, in [0, 1].
    top_harmonic : int
        Highest harmonic number a peak matches.
    """

    harmonicity: float
    f0: float
    explained: float
    coverage: float
    top_harmonic: int


def harmonicity(
    freqs: Any,
    amps: Any,
    *,
    tolerance_cents: float = _TOLERANCE_CENTS,
    max_harmonic: int = _MAX_HARMONIC,
    precision_exponent: float = _PRECISION_EXPONENT,
    extent_db: float = _EXTENT_DB,
) -> HarmonicFit:
    r"""How well a set of peaks forms one harmonic series (harmonic-series similarity).

    For a candidate fundamental :math:`f_0`, each peak :math:`i` is assigned
    to its nearest harmonic :math:`h_i = \max(1, \mathrm{round}(f_i / f_0))`,
    with mistuning :math:`c_i = 1200 \log_2(f_i / (h_i f_0))` cents and match
    :math:`m_i = \exp(-c_i^2 / (2\sigma^2))`, :math:`\sigma` =
    ``tolerance_cents``. Two scores:

    - explained share :math:`E = \sum_i a_i m_i / \sum_i a_i` (the template
      accounts for the spectrum);
    - coverage :math:`\mathrm{Cov} = \frac{1}{T} \sum_{h=1}^{T} \max_{i: h_i = h} m_i`
      with :math:`T = \max\{h_i : m_i \ge 1/2,\ a_i \ge 10^{-\delta/20} \max_j a_j\}`
      (:math:`\delta` = ``extent_db``; :math:`T = 1` if no peak qualifies), the share of the series
      up to its highest matched harmonic that is occupied (Gill & Purves
      2009's harmonic-series similarity: for a just ratio :math:`p{:}q` of
      two complete harmonic series it is :math:`(p + q - 1)/(pq)`).

    The harmonicity is :math:`H = \max_{f_0} E^{\gamma}\,\mathrm{Cov}`,
    :math:`\gamma` = ``precision_exponent``. :math:`\mathrm{Cov}` alone
    would prefer the series of one loud tone (a high, fully covered
    :math:`f_0` explaining half the spectrum); :math:`E^{4}` makes such a
    half fit worth 1/16, so the winner is in effect the highest fundamental
    under which nearly all the amplitude is harmonic (the approximate GCD of
    the peaks, Gill & Purves's implied fundamental), and :math:`H` is its
    coverage. Very low fundamentals explain anything (their harmonics are
    dense) but cover little, which is the penalty on subharmonic ambiguity.

    Candidates: :math:`f_0 = f_j / n` for every peak :math:`j` and
    :math:`n = 1..` ``max_harmonic``, then a 1-cent grid within
    :math:`\pm 2\sigma` of the five best (so the mistuning of tempered
    intervals is shared between the tones). Only ratios enter, so :math:`H`
    is unchanged when all frequencies are multiplied by a constant
    (octave shifts included).

    Parameters
    ----------
    freqs, amps : array_like
        Peak frequencies (Hz) and linear amplitudes (>= 0); NaN entries and
        zero amplitudes are ignored.
    tolerance_cents : float
        :math:`\sigma` in cents. 20 cents admits the 12-TET approximations of
        the 5-limit intervals (the thirds and sixths are 14-16 cents from
        5:4, 6:5, 5:3, 8:5) at a match of about 0.9 once the mistuning is
        shared, and is near the pitch-matching precision for complex tones.
    max_harmonic : int
        Largest :math:`n` in :math:`f_0 = f_j / n` (32 reaches the 16:15 of a
        minor second and the 45:32 tritone).
    precision_exponent : float
        :math:`\gamma` >= 0.
    extent_db : float
        :math:`\delta`: only peaks within this many dB of the strongest set
        the extent :math:`T` of the series. Weaker peaks (often noise, or a
        stray partial) still count in :math:`E` and as occupants below
        :math:`T`, but one faint peak that happens to sit near a high
        harmonic would otherwise lengthen the series and dilute the coverage
        of an otherwise clean tone. 20 dB keeps every partial of the
        6-partial, rolloff-0.88 tones (the 6th is -5.5 dB).

    Returns
    -------
    fit : HarmonicFit
        :math:`H`, the fundamental (Hz), :math:`E`, :math:`\mathrm{Cov}` and
        the top harmonic. NaN fields when no peak has positive amplitude.

    References
    ----------
    Gill, K. Z. & Purves, D. (2009). A biological rationale for musical
    scales. PLoS ONE 4:e8144.

    Examples
    --------
    >>> fit = harmonicity([200.0, 400.0, 600.0, 800.0], [1.0, 0.5, 0.3, 0.2])
    >>> round(fit.harmonicity, 6), round(fit.f0, 3)
    (1.0, 200.0)
    >>> round(harmonicity([200.0, 300.0], [1.0, 1.0]).harmonicity, 3)  # 3:2 with one partial each
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
    f, a = _peaks(freqs, amps, "harmonicity")
    if f.size == 0:
        return HarmonicFit(math.nan, math.nan, math.nan, math.nan, 0)

    n = np.arange(1, int(max_harmonic) + 1, dtype=float)
    exact = (f[:, None] / n).ravel()
    _, first = np.unique(np.round(np.log2(exact) * 1200.0), return_index=True)  # 1-cent dedupe
    coarse_f0 = exact[first]
    strong = a >= a.max() * 10.0 ** (-delta / 20.0)
    scores = _harmonic_scores(f, a, strong, coarse_f0, sigma, gamma)[0]
    best = coarse_f0[np.argsort(scores)[::-1][:5]]
    span = np.arange(-math.ceil(2 * sigma), math.ceil(2 * sigma) + 1, dtype=float)
    fine = (best[:, None] * 2.0 ** (span / 1200.0)).ravel()
    cand = np.concatenate([coarse_f0, fine])
    h_score, e_score, cov, top = _harmonic_scores(f, a, strong, cand, sigma, gamma)
    k = int(np.argmax(h_score))
    return HarmonicFit(float(h_score[k]), float(cand[k]), float(e_score[k]), float(cov[k]), int(top[k]))


def _harmonic_scores(
    f: np.ndarray, a: np.ndarray, strong: np.ndarray, f0: np.ndarray, sigma: float, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """H, E, Cov and top harmonic for every candidate fundamental, in blocks of candidates."""
    block = max(1, 2_000_000 // max(f.size, 1))
    parts = [
        _harmonic_scores_block(f, a, strong, f0[i : i + block], sigma, gamma) for i in range(0, f0.size, block)
    ]
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


def _harmonic_scores_block(
    f: np.ndarray, a: np.ndarray, strong: np.ndarray, f0: np.ndarray, sigma: float, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """H, E, Cov and top harmonic for every candidate fundamental (vectorised over candidates)."""
    h = np.maximum(1.0, np.round(f[None, :] / f0[:, None]))
    cents = 1200.0 * np.log2(f[None, :] / (h * f0[:, None]))
    m = np.exp(-0.5 * (cents / sigma) ** 2)
    explained = (m * a).sum(axis=1) / a.sum()
    matched = (m >= 0.5) & strong[None, :]
    top = np.where(matched, h, 0.0).max(axis=1)
    top = np.maximum(top, 1.0)
    # Best match per (candidate, harmonic), harmonics above `top` ignored.
    hi = int(top.max())
    hh = np.minimum(h, hi + 1).astype(np.intp)
    occupied = np.zeros((f0.size, hi + 2))
    rows = np.repeat(np.arange(f0.size), f.size)
    np.maximum.at(occupied, (rows, hh.ravel()), m.ravel())
    harm_idx = np.arange(hi + 2)
    in_series = (harm_idx[None, :] >= 1) & (harm_idx[None, :] <= top[:, None])
    coverage = (occupied * in_series).sum(axis=1) / top
    return explained**gamma * coverage, explained, coverage, top.astype(int)


# --------------------------------------------------------------------------- noise


def noise_share(total_power: Any, peak_power: Any) -> np.ndarray | float:
    r"""Share of the power not in spectral peaks: :math:`N = 1 - P_{peaks} / P_{total}`.

    Parameters
    ----------
    total_power : float or array
        Total power (any unit, e.g. V^2 or full-scale^2), > 0.
    peak_power : float or array
        Power in the peaks, same unit, >= 0.

    Returns
    -------
    noise : float or ndarray
        :math:`N` clipped to [0, 1] (peak power estimates can exceed a noisy
        total slightly); NaN where the total is not positive or not finite.

    Examples
    --------
    >>> noise_share(4.0, 3.0)
    0.25
    """
    total = np.asarray(total_power, dtype=float)
    peak = np.asarray(peak_power, dtype=float)
    if np.any(peak < 0):
        raise ParameterError("peak_power must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.isfinite(total) & (total > 0), np.clip(1.0 - peak / total, 0.0, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- signature


@dataclass(frozen=True)
class CDNS:
    """Consonance-dissonance-noise signature of one set of peaks (see :func:`cdns`).

    Attributes
    ----------
    consonance : float
        :math:`C`, harmonicity in [0, 1].
    dissonance : float
        :math:`D = R / (\\kappa R_{m2})`, dimensionless, >= 0 (0.25 for a
        middle-C minor second of 6-partial tones).
    noise : float
        :math:`N` in [0, 1]; NaN when not given.
    valence : float
        :math:`C - D` (research proxy for valence, Symmetry Theory of Valence).
    roughness : float
        :math:`R`, Sethares roughness of the normalised (unit-sum) partials.
    f0 : float
        Fundamental of the best harmonic fit, Hz (after any octave shift).
    params : dict
        Every setting used.
    """

    consonance: float
    dissonance: float
    noise: float
    valence: float
    roughness: float
    f0: float
    params: dict = field(default_factory=dict)


@lru_cache(maxsize=8)
def _reference_roughness(model: str) -> float:
    """Roughness of the middle-C minor second of two 6-partial tones (rolloff 0.88), unit-sum amplitudes."""
    f, a = expand_harmonics([MIDDLE_C, MIDDLE_C * 2.0 ** (1.0 / 12.0)], [1.0, 1.0], _N_PARTIALS, _ROLLOFF)
    return _normalised_roughness(f, a, model)


def _normalised_roughness(f: np.ndarray, a: np.ndarray, model: str) -> float:
    if f.size == 0:
        return 0.0
    return sethares_dissonance(f, a / a.sum(), model=model)


def cdns(
    freqs: Any,
    amps: Any,
    *,
    noise: float = math.nan,
    expand: bool = True,
    n_partials: int = _N_PARTIALS,
    rolloff: float | str = _ROLLOFF,
    model: str = "min",
    tolerance_cents: float = _TOLERANCE_CENTS,
    max_harmonic: int = _MAX_HARMONIC,
    precision_exponent: float = _PRECISION_EXPONENT,
    extent_db: float = _EXTENT_DB,
    dissonance_scale: float = _DISSONANCE_SCALE,
    octave_shift: int = 0,
) -> CDNS:
    r"""CDNS signature of a set of spectral peaks.

    Steps: (1) multiply frequencies by :math:`2^k`, :math:`k` =
    ``octave_shift``; (2) with ``expand``, replace each peak by a harmonic
    complex (:func:`expand_harmonics`); (3) consonance :math:`C` =
    :func:`harmonicity` of the (expanded) peaks; (4) roughness :math:`R` =
    :func:`sethares_dissonance` of the partials with amplitudes divided by
    their sum, and :math:`D = R / (\kappa R_{m2})`, where :math:`R_{m2}` is
    the same quantity for a minor second of two 6-partial, rolloff-0.88
    tones on middle C (with the same ``model``; fixed whatever the other
    settings, so that :math:`D` stays comparable between calls) and
    :math:`\kappa` = ``dissonance_scale``; (5) valence :math:`C - D`.

    Dividing the amplitudes by their sum makes :math:`D` independent of
    level (for ``model='min'``, :math:`R` is linear in the amplitudes; for
    ``'product'`` the normalisation removes the square as well) while still
    growing with the number of rough pairs. :math:`\kappa = 4` is the
    weight that makes :math:`C - D` rank the twelve dyads of harmonic tones
    on middle C in the tiers of the module docstring (admissible range
    2.65-7.75; see there for why both terms are needed).

    Parameters
    ----------
    freqs, amps : array_like
        Peak (tone) frequencies in Hz and linear amplitudes (e.g. the
        amplitude of a sinusoid, or the square root of a peak's power).
        NaN entries (padding) and zero amplitudes are ignored.
    noise : float
        :math:`N` computed elsewhere (:func:`noise_share`); stored as given.
    expand : bool
        Expand every peak into ``n_partials`` harmonics. Use for tones given
        by their fundamentals (dyads, brain rhythms heard as tones); not for
        measured partials, which already are the harmonics.
    n_partials, rolloff
        See :func:`expand_harmonics`.
    model : {'min', 'product'}
        Pair amplitude in :func:`sethares_dissonance`.
    tolerance_cents, max_harmonic, precision_exponent, extent_db
        See :func:`harmonicity`.
    dissonance_scale : float
        :math:`\kappa` > 0.
    octave_shift : int
        :math:`k`; frequencies are multiplied by :math:`2^k`.

    Returns
    -------
    signature : CDNS
        NaN consonance, dissonance and valence when there is no peak.

    Examples
    --------
    >>> fifth = cdns([261.63, 392.44], [1.0, 1.0])
    >>> second = cdns([261.63, 277.18], [1.0, 1.0])
    >>> fifth.valence > second.valence
    True
    >>> round(second.dissonance, 3)
    0.25
    """
    _check_model(model)
    kappa = float(dissonance_scale)
    if not (math.isfinite(kappa) and kappa > 0):
        raise ParameterError(f"dissonance_scale must be a positive number, got {dissonance_scale!r}")
    if int(octave_shift) != octave_shift:
        raise ParameterError(f"octave_shift must be a whole number of octaves, got {octave_shift!r}")
    params = {
        "expand": bool(expand),
        "n_partials": int(n_partials) if expand else 1,
        "rolloff": rolloff,
        "model": model,
        "tolerance_cents": float(tolerance_cents),
        "max_harmonic": int(max_harmonic),
        "precision_exponent": float(precision_exponent),
        "extent_db": float(extent_db),
        "dissonance_scale": kappa,
        "octave_shift": int(octave_shift),
    }
    f, a = _peaks(freqs, amps, "cdns")
    f = f * 2.0 ** int(octave_shift)
    if expand:
        f, a = expand_harmonics(f, a, n_partials, rolloff)
    if f.size == 0:
        return CDNS(math.nan, math.nan, float(noise), math.nan, math.nan, math.nan, params)
    fit = harmonicity(
        f,
        a,
        tolerance_cents=tolerance_cents,
        max_harmonic=max_harmonic,
        precision_exponent=precision_exponent,
        extent_db=extent_db,
    )
    rough = _normalised_roughness(f, a, model)
    dis = rough / (kappa * _reference_roughness(model))
    return CDNS(fit.harmonicity, dis, float(noise), fit.harmonicity - dis, rough, fit.f0, params)


# --------------------------------------------------------------------------- octave shifts


def auto_octave_shift(reference_freq: float, target: float = MIDDLE_C) -> int:
    r"""Whole octaves that bring ``reference_freq`` nearest to ``target`` on a log scale.

    :math:`k = \mathrm{round}(\log_2(f_{target} / f_{ref}))`, so
    :math:`f_{ref} 2^k` lies within half an octave of the target (middle C,
    261.63 Hz, by default).

    Examples
    --------
    >>> auto_octave_shift(10.0)  # alpha: 10 Hz * 2**5 = 320 Hz
    5
    """
    ref = float(reference_freq)
    if not (math.isfinite(ref) and ref > 0):
        raise ParameterError(f"reference frequency must be a positive number of Hz, got {reference_freq!r}")
    return int(round(math.log2(float(target) / ref)))


@dataclass(frozen=True)
class OctaveSensitivity:
    """CDNS recomputed for neighbouring octave shifts (see :func:`octave_shift_sensitivity`).

    Attributes
    ----------
    shifts : ndarray of int
        The shifts evaluated, ``k-1, k, k+1``.
    consonance, dissonance, valence : ndarray
        Values at each shift.
    dissonance_spread, valence_spread : float
        ``max - min`` over the shifts (the sensitivity to the choice of ``k``).
    """

    shifts: np.ndarray
    consonance: np.ndarray
    dissonance: np.ndarray
    valence: np.ndarray
    dissonance_spread: float
    valence_spread: float


def octave_shift_sensitivity(
    freqs: Any, amps: Any, *, octave_shift: int, radius: int = 1, **kwargs: Any
) -> OctaveSensitivity:
    r"""Recompute the signature for shifts :math:`k - r .. k + r` and report the spread.

    The consonance depends only on frequency ratios and does not change
    (within the 1-cent search grid); the dissonance does, because the
    critical band is not a constant ratio. The spreads quantify how much a
    result owes to the (conventional) choice of register.

    Parameters
    ----------
    freqs, amps : array_like
        Peaks before shifting (Hz, linear amplitude).
    octave_shift : int
        Central shift :math:`k`.
    radius : int
        :math:`r` >= 1.
    **kwargs
        Passed to :func:`cdns` (not ``octave_shift`` or ``noise``).

    Returns
    -------
    sensitivity : OctaveSensitivity

    Examples
    --------
    >>> s = octave_shift_sensitivity([10.0, 12.6], [1.0, 1.0], octave_shift=5)
    >>> s.shifts.tolist(), bool(s.dissonance_spread > 0)
    ([4, 5, 6], True)
    """
    if int(radius) != radius or radius < 1:
        raise ParameterError(f"radius must be a positive integer, got {radius!r}")
    shifts = np.arange(int(octave_shift) - int(radius), int(octave_shift) + int(radius) + 1)
    sigs = [cdns(freqs, amps, octave_shift=int(k), **kwargs) for k in shifts]
    c = np.array([s.consonance for s in sigs])
    d = np.array([s.dissonance for s in sigs])
    v = np.array([s.valence for s in sigs])
    return OctaveSensitivity(shifts, c, d, v, float(np.ptp(d)), float(np.ptp(v)))


# --------------------------------------------------------------------------- many signatures


@dataclass(frozen=True)
class CDNSSeries:
    """Many CDNS signatures: per frame (music), per channel (EEG), or per window x channel.

    Attributes
    ----------
    consonance, dissonance, noise, valence : ndarray
        Same shape: ``(n_frames,)``, ``(n_channels,)`` or
        ``(n_windows, n_channels)``. NaN where there were no peaks.
    f0 : ndarray
        Fundamental of the best harmonic fit (Hz, after octave shift).
    n_peaks : ndarray of int
        Peaks (before expansion) that entered each signature.
    times : ndarray | None
        Frame or window centres in seconds (None per channel).
    ch_names : tuple of str | None
        Channel names (None for music frames).
    octave_shift : int
        Shift :math:`k` applied (0 for music).
    dissonance_spread, valence_spread : ndarray | None
        Spread of D and C - D over the shifts k-1, k, k+1 (brain spectra).
    params : dict
        Every setting used, including ``label`` ("research proxy" wording).
    """

    consonance: np.ndarray
    dissonance: np.ndarray
    noise: np.ndarray
    valence: np.ndarray
    f0: np.ndarray
    n_peaks: np.ndarray
    times: np.ndarray | None = None
    ch_names: tuple[str, ...] | None = None
    octave_shift: int = 0
    dissonance_spread: np.ndarray | None = None
    valence_spread: np.ndarray | None = None
    params: dict = field(default_factory=dict)


_LABEL = "CDNS-style signature (harmonix definition; valence = C - D is a research proxy)"


def _signature_kwargs(kwargs: dict) -> dict:
    allowed = {
        "expand",
        "n_partials",
        "rolloff",
        "model",
        "tolerance_cents",
        "max_harmonic",
        "precision_exponent",
        "extent_db",
        "dissonance_scale",
    }
    unknown = set(kwargs) - allowed
    if unknown:
        raise ParameterError(f"unknown CDNS setting(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    return kwargs


def cdns_of_partials(partials: Partials, *, frame_power: Any = None, **kwargs: Any) -> CDNSSeries:
    r"""CDNS signature of every frame of measured partials (music).

    The partials are the harmonics already, so by default they are not
    expanded (``expand=False``). The noise share of frame :math:`t` is
    :math:`N_t = 1 - \sum_i a_{ti}^2/2 \,/\, P_t` (a sinusoid of amplitude
    :math:`a` has power :math:`a^2/2`) when the frame power :math:`P_t` is
    given (:func:`cdns_of_audio` computes it), else NaN.

    Parameters
    ----------
    partials : Partials
        From :func:`harmonix.spectral.audio.spectral_partials`.
    frame_power : array_like, shape (n_frames,) | None
        Mean-square power of each frame, in full-scale^2.
    **kwargs
        Settings of :func:`cdns` (``expand``, ``model``, ``tolerance_cents``, ...).

    Returns
    -------
    series : CDNSSeries
        Per frame, with ``times``; frames without partials are NaN.
    """
    if not isinstance(partials, Partials):
        raise ParameterError(f"expected harmonix.spectral.audio.Partials, got {type(partials).__name__}")
    kwargs = {"expand": False, **_signature_kwargs(kwargs)}
    n = partials.n_frames
    if frame_power is None:
        noise = np.full(n, np.nan)
    else:
        power = np.asarray(frame_power, dtype=float)
        if power.shape != (n,):
            raise ParameterError(f"frame_power must have one value per frame ({n}), got shape {power.shape}")
        peak = np.nansum(partials.amplitudes**2, axis=1) / 2.0
        noise = np.asarray(noise_share(power, peak), dtype=float).reshape(n)
    sigs = [cdns(partials.freqs[t], partials.amplitudes[t], noise=noise[t], **kwargs) for t in range(n)]
    counts = np.sum(np.isfinite(partials.freqs) & (np.nan_to_num(partials.amplitudes) > 0), axis=1)
    return _series(sigs, counts, times=np.asarray(partials.times, dtype=float), params=sigs[0].params if sigs else {})


def cdns_of_audio(
    audio: Any,
    *,
    frame_seconds: float = 0.1,
    hop_seconds: float = 0.05,
    n_partials: int = 20,
    fmin: float = 20.0,
    fmax: float = 5000.0,
    **kwargs: Any,
) -> CDNSSeries:
    r"""Partials, frame power and CDNS of every frame of an audio signal.

    Runs :func:`~harmonix.spectral.audio.spectral_partials` and measures
    each frame's power with the same frames and Blackman-Harris window
    :math:`w`: :math:`P_t = \sum_n w_n x_{t,n}^2 / \sum_n w_n` (a sinusoid
    of amplitude :math:`a` gives :math:`a^2/2`), so that the noise share is
    the power outside the partials, including everything below ``fmin`` and
    above ``fmax``.

    Parameters
    ----------
    audio : Audio
        The signal (mono mixdown is analysed).
    frame_seconds, hop_seconds, n_partials, fmin, fmax
        See :func:`~harmonix.spectral.audio.spectral_partials`.
    **kwargs
        Settings of :func:`cdns`.

    Returns
    -------
    series : CDNSSeries
    """
    from scipy import signal

    from harmonix.spectral.audio import _mono, spectral_partials

    partials = spectral_partials(
        audio, frame_seconds=frame_seconds, hop_seconds=hop_seconds, n_partials=n_partials, fmin=fmin, fmax=fmax
    )
    x = _mono(audio)
    n_win = int(round(frame_seconds * audio.sfreq))
    hop = max(1, int(round(hop_seconds * audio.sfreq)))
    window = signal.get_window("blackmanharris", n_win, fftbins=False)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_win)[::hop]
    power = (frames**2) @ window / window.sum()
    return cdns_of_partials(partials, frame_power=power, **kwargs)


def _series(sigs: Sequence[CDNS], counts: Any, **extra: Any) -> CDNSSeries:
    def col(name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in sigs], dtype=float)

    params = dict(extra.pop("params", {}))
    params["label"] = _LABEL
    return CDNSSeries(
        consonance=col("consonance"),
        dissonance=col("dissonance"),
        noise=col("noise"),
        valence=col("valence"),
        f0=col("f0"),
        n_peaks=np.asarray(counts, dtype=int),
        params=params,
        **extra,
    )


def _band_limits(band: Band | tuple[float, float] | None, freq_range: Sequence[float]) -> tuple[float, float]:
    """``(fmin, fmax)`` of a band in Hz; the fitted range when ``band`` is None."""
    if band is None:
        return float(freq_range[0]), float(freq_range[1])
    if isinstance(band, Band):
        return band.fmin, band.fmax
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"band must be a Band, (fmin, fmax) in Hz or None, got {band!r}") from err
    if not (0 <= lo < hi):
        raise ParameterError(f"band needs 0 <= fmin < fmax Hz, got {band!r}")
    return lo, hi


def _model_power(fit: AperiodicFit, ch: int, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aperiodic PSD, full model PSD and per-peak Gaussian heights (log10) of one channel on ``grid``."""
    knee = 0.0 if fit.knee is None else fit.knee[ch]
    ap = 10.0 ** (fit.offset[ch] - np.log10(knee + grid ** fit.exponent[ch]))  # this channel only
    pk = fit.peaks[ch]
    if pk.size == 0:
        return ap, ap.copy(), np.zeros((0, grid.size))
    sd = pk[:, 2:3] / 2.0  # specparam 2.x bandwidth = 2 sd
    g = pk[:, 1:2] * np.exp(-0.5 * ((grid[None, :] - pk[:, 0:1]) / sd) ** 2)
    return ap, ap * 10.0 ** g.sum(axis=0), g


def cdns_of_aperiodic_fit(
    fit: AperiodicFit,
    band: Band | tuple[float, float] | None = None,
    *,
    octave_shift: int | None = None,
    reference_freq: float | None = None,
    **kwargs: Any,
) -> CDNSSeries:
    r"""CDNS of each channel's specparam peaks in a band (EEG), octave-shifted to middle C.

    Peaks: the specparam peaks whose centre lies in ``[fmin, fmax)``
    (``band=None``: the whole fitted range, the "overall" signature). Each
    peak is a tone at its centre frequency with the amplitude of a sinusoid
    of the same power, :math:`a_i = \sqrt{2 P_i}` (V), where

    .. math::

        P_i = \int \bigl(S(f) - L(f)\bigr)\,\frac{g_i(f)}{\sum_j g_j(f)}\,df,
        \qquad S(f) = L(f)\,10^{\sum_j g_j(f)},

    over the fitted range: :math:`L` is the aperiodic PSD, :math:`g_j` the
    Gaussian of peak :math:`j` in log10 power (height, centre, sd =
    bandwidth/2), so overlapping peaks share their periodic power in
    proportion to their log heights. Noise: the aperiodic share of the model
    power in the band,

    .. math:: N = \int_{band} L(f)\,df \Big/ \int_{band} S(f)\,df,

    i.e. :math:`1 - P_{periodic}/P_{total}` in linear units (the model, not
    the raw PSD, so estimation noise of the PSD is not counted as noise).
    Integrals use a 0.01 Hz grid (trapezoid rule).

    Frequencies are multiplied by :math:`2^k`: ``octave_shift=None`` takes
    :math:`k` = :func:`auto_octave_shift` of ``reference_freq``, by default
    the band's geometric centre :math:`\sqrt{f_{min} f_{max}}` (arithmetic
    centre if :math:`f_{min} = 0`): alpha 8-13 Hz -> 10.2 Hz -> k = 5 (326 Hz).
    Each tone is expanded into harmonics by default (``expand=True``: brain
    rhythms heard as complex tones, as in CDNS sonification). The spreads of
    :math:`D` and :math:`C - D` over :math:`k \pm 1` are reported per channel.

    Parameters
    ----------
    fit : AperiodicFit
        From :func:`harmonix.spectral.aperiodic.fit_aperiodic`.
    band : Band | (fmin, fmax) | None
        Band in Hz; None for all peaks in the fitted range.
    octave_shift : int | None
        :math:`k`, or None for the automatic choice.
    reference_freq : float | None
        Frequency (Hz) brought near middle C when ``octave_shift`` is None.
    **kwargs
        Settings of :func:`cdns`.

    Returns
    -------
    series : CDNSSeries
        Per channel (``ch_names``), with ``octave_shift`` and the spreads.
        Channels without a peak in the band have NaN C, D, valence and
        spreads (no tonal content) and their noise share (1 when the model
        has no peak at all in the band); unfitted channels are NaN throughout.
    """
    if not isinstance(fit, AperiodicFit):
        raise ParameterError(f"expected harmonix.spectral.aperiodic.AperiodicFit, got {type(fit).__name__}")
    kwargs = {"expand": True, **_signature_kwargs(kwargs)}
    lo, hi = _band_limits(band, fit.freq_range)
    if octave_shift is None:
        ref = reference_freq if reference_freq is not None else (math.sqrt(lo * hi) if lo > 0 else 0.5 * (lo + hi))
        k = auto_octave_shift(ref)
    else:
        if int(octave_shift) != octave_shift:
            raise ParameterError(f"octave_shift must be a whole number of octaves, got {octave_shift!r}")
        k = int(octave_shift)

    f_lo, f_hi = fit.freq_range
    grid = np.arange(f_lo, f_hi + 1e-9, 0.01)
    in_band = (grid >= lo) & (grid < hi)
    n_ch = len(fit.ch_names)
    sigs: list[CDNS] = []
    d_spread = np.full(n_ch, np.nan)
    v_spread = np.full(n_ch, np.nan)
    counts = np.zeros(n_ch, dtype=int)
    for ch in range(n_ch):
        if not np.isfinite(fit.offset[ch]):
            sigs.append(CDNS(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan))
            continue
        ap, total, g = _model_power(fit, ch, grid)
        noise = math.nan
        if in_band.sum() >= 2:
            noise = float(noise_share(np.trapezoid(total[in_band], grid[in_band]),
                                      np.trapezoid((total - ap)[in_band], grid[in_band])))
        pk = fit.peaks[ch]
        sel = (pk[:, 0] >= lo) & (pk[:, 0] < hi) if pk.size else np.zeros(0, dtype=bool)
        counts[ch] = int(sel.sum())
        if not sel.any():
            sigs.append(CDNS(math.nan, math.nan, noise, math.nan, math.nan, math.nan))
            continue
        gsum = g.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(gsum > 0, g / gsum, 0.0)
        power = np.trapezoid((total - ap)[None, :] * share, grid, axis=1)[sel]
        freqs, amps = pk[sel, 0], np.sqrt(2.0 * np.maximum(power, 0.0))
        sigs.append(cdns(freqs, amps, noise=noise, octave_shift=k, **kwargs))
        sens = octave_shift_sensitivity(freqs, amps, octave_shift=k, **kwargs)
        d_spread[ch], v_spread[ch] = sens.dissonance_spread, sens.valence_spread
    params = dict(next((s.params for s in sigs if s.params), {}))
    params.update(band=(lo, hi), octave_shift=k)
    return _series(
        sigs,
        counts,
        ch_names=tuple(fit.ch_names),
        octave_shift=k,
        dissonance_spread=d_spread,
        valence_spread=v_spread,
        params=params,
    )


def cdns_over_windows(
    data: Any,
    sfreq: float,
    band: Band | tuple[float, float] | None = None,
    *,
    window_seconds: float = 10.0,
    step_seconds: float = 5.0,
    ch_names: Sequence[str] | None = None,
    psd_kwargs: dict | None = None,
    fit_kwargs: dict | None = None,
    octave_shift: int | None = None,
    **kwargs: Any,
) -> CDNSSeries:
    r"""CDNS per analysis window over time (EEG): PSD, specparam fit and signature per window.

    Windows of ``window_seconds`` start every ``step_seconds``; each is
    passed to :func:`~harmonix.spectral.psd.compute_psd` (Welch, 2-s
    segments by default) and :func:`~harmonix.spectral.aperiodic.fit_aperiodic`,
    then to :func:`cdns_of_aperiodic_fit`. The octave shift is chosen once
    (from the band) so that windows stay comparable.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Signals in V.
    sfreq : float
        Sampling rate in Hz.
    band : Band | (fmin, fmax) | None
        Band in Hz; None for all peaks in the fitted range.
    window_seconds, step_seconds : float
        Window length and step in s. 10 s windows give Welch averages of 9
        half-overlapping 2-s segments, smooth enough for specparam.
    ch_names : sequence of str | None
        Channel names (default ``ch0, ch1, ...``).
    psd_kwargs, fit_kwargs : dict | None
        Extra arguments of ``compute_psd`` and ``fit_aperiodic``
        (default fit range 1-45 Hz).
    octave_shift : int | None
        As in :func:`cdns_of_aperiodic_fit`.
    **kwargs
        Settings of :func:`cdns`.

    Returns
    -------
    series : CDNSSeries
        Arrays shaped ``(n_windows, n_channels)``; ``times`` are window
        centres in s.
    """
    from harmonix.spectral.aperiodic import fit_aperiodic
    from harmonix.spectral.psd import compute_psd

    x = np.asarray(data, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ParameterError(f"data must be shaped (n_channels, n_times), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise DataQualityError("data contain NaN/Inf samples; clean or interpolate them first")
    sfreq = float(sfreq)
    n_win = int(round(float(window_seconds) * sfreq))
    step = int(round(float(step_seconds) * sfreq))
    if n_win < 2 or step < 1:
        raise ParameterError(f"window_seconds and step_seconds must be positive, got {window_seconds}, {step_seconds}")
    if x.shape[1] < n_win:
        raise ParameterError(
            f"the recording ({x.shape[1] / sfreq:.1f} s) is shorter than one {window_seconds:g} s window"
        )
    fit_kw = {"freq_range": (1.0, 45.0), **(fit_kwargs or {})}
    psd_kw = {"fmin": 0.0, "fmax": min(sfreq / 2.0, fit_kw["freq_range"][1] + 5.0), **(psd_kwargs or {})}
    names = tuple(ch_names) if ch_names is not None else tuple(f"ch{i}" for i in range(x.shape[0]))
    if octave_shift is None:
        lo, hi = _band_limits(band, fit_kw["freq_range"])
        octave_shift = auto_octave_shift(math.sqrt(lo * hi) if lo > 0 else 0.5 * (lo + hi))
    starts = range(0, x.shape[1] - n_win + 1, step)
    rows = []
    for s in starts:
        spec = compute_psd(x[:, s : s + n_win], sfreq, ch_names=names, **psd_kw)
        rows.append(cdns_of_aperiodic_fit(fit_aperiodic(spec, **fit_kw), band, octave_shift=octave_shift, **kwargs))
    times = np.array([(s + n_win / 2.0) / sfreq for s in starts])

    def stack(name: str) -> np.ndarray:
        return np.stack([getattr(r, name) for r in rows])

    params = dict(rows[0].params)
    params.update(window_seconds=float(window_seconds), step_seconds=float(step_seconds), fit=fit_kw, psd=psd_kw)
    return CDNSSeries(
        consonance=stack("consonance"),
        dissonance=stack("dissonance"),
        noise=stack("noise"),
        valence=stack("valence"),
        f0=stack("f0"),
        n_peaks=stack("n_peaks"),
        times=times,
        ch_names=names,
        octave_shift=int(octave_shift),
        dissonance_spread=stack("dissonance_spread"),
        valence_spread=stack("valence_spread"),
        params=params,
    )

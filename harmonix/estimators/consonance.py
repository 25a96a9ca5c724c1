r"""Consonance, dissonance and noise of a set of spectral peaks (a CDNS-style signature).

The Consonance-Dissonance-Noise Signature (CDNS, Gómez Emilsson 2017)
describes a spectrum by three numbers: how *consonant* its peaks are (how
well they fit one harmonic series), how *dissonant* they are (sensory
roughness of neighbouring partials), and how much of the power is *noise*
(not in any peak). No public specification of CDNS exists, so harmonix
defines its own CDNS-style signature from published models with their
published parameters; nothing in it is fitted to listener ratings.

Consonance :math:`C`
    Gill & Purves' (2009) harmonic-series similarity
    (:func:`~harmonix.estimators.harmonicity.harmonicity`): the share of the
    implied fundamental's harmonics, over one period of the combined series,
    that the tones occupy. :math:`(p+q-1)/(pq)` for a just dyad
    :math:`p{:}q` of harmonic tones (octave 1, fifth 2/3, fourth 1/2), 1 for
    one harmonic tone, towards 0 for complex ratios. ``consonance=
    'harrison_pearce'`` uses Harrison & Pearce's (2018) periodicity instead
    (:func:`~harmonix.estimators.harmonicity.periodicity`), scaled so that
    one idealised harmonic tone scores 1.
Dissonance :math:`D`
    Hutchinson & Knopoff (1978) roughness
    (:func:`~harmonix.estimators.roughness.hutchinson_knopoff_roughness`)
    of the partials, divided by its largest value for any pair of pure
    tones, :math:`R_{max} = 1/2` (two equal tones a quarter of a critical
    band apart): :math:`D = R / R_{max} = 2R`. ``dissonance='sethares'``
    uses Sethares' ``dissmeasure.m`` on amplitudes scaled to unit sum,
    divided likewise by the largest value of a pair,
    :math:`R_{max} = c\,(e^{-b_1 x^*} - e^{-b_2 x^*}) / 2`.
Noise :math:`N`
    Share of the power not in peaks, ``1 - peak power / total power``
    (:func:`noise_share`): from the specparam model for brain spectra, from
    the partials against the frame power for music.
Valence
    :math:`V = C - D`, the Symmetry-Theory-of-Valence proxy.

The scaling of :math:`V`
------------------------
Both terms are put on the same footing by their theoretical extremes, not by
a weight fitted to ratings: :math:`C = 1` is the most consonant thing there is
(one harmonic series), :math:`D = 1` the roughest pair of partials there is
(two equal pure tones a quarter of a critical band apart, the peak of the
Plomp-Levelt curve). :math:`V = C - D` then ranges from 1 (one harmonic tone,
or an octave) down to below 0 when roughness exceeds harmonicity (a middle-C
minor second of 11-partial tones: :math:`C = 0.11`, :math:`D = 0.97`).

Symbolic chords and audio
-------------------------
Tones given by their fundamentals (chord symbols, brain rhythms) are
expanded into idealised harmonic complex tones of 11 harmonics with
amplitudes :math:`1/k` (Hutchinson & Knopoff 1978; Harrison & Pearce 2020).
Audio is analysed from its measured partials (:func:`cdns_of_audio`), whose
defaults are set by the same physics, so that a chord gives the same
signature both ways (see there).

Octave shifting of brain spectra
--------------------------------
Brain rhythms (1-45 Hz) lie below the range where roughness was measured.
:func:`cdns_of_aperiodic_fit` multiplies peak frequencies by :math:`2^k` so
that the band's reference frequency lands near middle C
(``octave_shift=None``: :math:`k = \mathrm{round}(\log_2(261.63 / f_{ref}))`
with :math:`f_{ref}` the band's geometric centre), or by a user-given
:math:`2^k`. Octave shifts keep every frequency ratio, so :math:`C` does not
change; roughness depends on the register, so :math:`D` does, and every
brain result carries the spread of :math:`D` and of :math:`C - D` over the
shifts :math:`k-1, k, k+1` (:func:`octave_shift_sensitivity`).

References
----------
.. [1] Plomp, R. & Levelt, W. J. M. (1965). Tonal consonance and critical
   bandwidth. J. Acoust. Soc. Am. 38:548-560.
.. [2] Hutchinson, W. & Knopoff, L. (1978). The acoustic component of Western
   consonance. Interface 7:1-29.
.. [3] Gill, K. Z. & Purves, D. (2009). A biological rationale for musical
   scales. PLoS ONE 4:e8144.
.. [4] Harrison, P. M. C. & Pearce, M. T. (2018). An energy-based generative
   sequence model for testing sensory theories of Western harmony. ISMIR.
.. [5] Harrison, P. M. C. & Pearce, M. T. (2020). Simultaneous consonance in
   music perception and composition. Psychological Review 127:216-244.
.. [6] Sethares, W. A. (2005). Tuning, Timbre, Spectrum, Scale, 2nd ed.
   Springer (appendix E, ``dissmeasure.m``).
.. [7] Gómez Emilsson, A. (2017). Quantifying bliss: consonance, dissonance,
   noise signatures (CDNS). Qualia Research Institute.
.. [8] Lahdelma, I. & Eerola, T. (2016). Mild dissonance preferred over
   consonance in single chord perception. i-Perception 7(3).
.. [9] Schwartz, D. A., Howe, C. Q. & Purves, D. (2003). The statistical
   structure of human speech sounds predicts musical universals. J.
   Neurosci. 23:7160-7168.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harmonix.errors import DataQualityError, ParameterError
from harmonix.estimators.harmonicity import HarmonicFit, harmonicity, periodicity
from harmonix.estimators.roughness import (
    SETHARES,
    critical_bandwidth,
    hutchinson_knopoff_roughness,
    sethares_dissonance,
    sethares_peak,
)
from harmonix.estimators.tones import MIDDLE_C, N_HARMONICS, expand_harmonics, merge_coincident, peaks
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
    "hutchinson_knopoff_roughness",
    "noise_share",
    "octave_shift_sensitivity",
    "periodicity",
    "sethares_dissonance",
]

_DISSONANCE_MODELS = ("hutchinson_knopoff", "sethares")
_CONSONANCE_MODELS = ("gill_purves", "harrison_pearce")

# Defaults of the audio path (derived in cdns_of_audio's docstring).
AUDIO_FRAME_SECONDS = 0.5
AUDIO_N_PARTIALS = 66
AUDIO_FMAX = 12000.0


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
        :math:`C` in [0, 1] (Gill & Purves harmonic-series similarity by default).
    dissonance : float
        :math:`D = R / R_{max}`, >= 0; 1 for the roughest pair of pure tones.
    noise : float
        :math:`N` in [0, 1]; NaN when not given.
    valence : float
        :math:`C - D` (research proxy for valence, Symmetry Theory of Valence).
    roughness : float
        :math:`R` of the chosen dissonance model.
    f0 : float
        Implied fundamental of the harmonic fit, Hz (after any octave shift;
        NaN with ``consonance='harrison_pearce'``).
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


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ParameterError(f"unknown {name} model {value!r}; use one of {', '.join(map(repr, allowed))}")
    return value


def roughness_and_dissonance(f: np.ndarray, a: np.ndarray, model: str = "hutchinson_knopoff") -> tuple[float, float]:
    r"""Roughness :math:`R` of partials and :math:`D = R / R_{max}` (see the module docstring)."""
    _choice("dissonance", model, _DISSONANCE_MODELS)
    if f.size == 0:
        return 0.0, 0.0
    if model == "hutchinson_knopoff":
        rough = hutchinson_knopoff_roughness(f, a)
        return rough, rough / 0.5
    rough = sethares_dissonance(f, a / a.sum())
    return rough, rough / (0.5 * sethares_peak())


def cdns(
    freqs: Any,
    amps: Any,
    *,
    noise: float = math.nan,
    expand: bool = True,
    n_partials: int = N_HARMONICS,
    rolloff: float | str = "inverse",
    dissonance: str = "hutchinson_knopoff",
    consonance: str = "gill_purves",
    tolerance_cents: float = 20.0,
    max_harmonic: int = 32,
    precision_exponent: float = 4.0,
    extent_db: float = 30.0,
    octave_shift: int = 0,
) -> CDNS:
    r"""CDNS signature of a set of spectral peaks.

    Steps: (1) multiply frequencies by :math:`2^k`, :math:`k` =
    ``octave_shift``; (2) with ``expand``, replace each peak by a harmonic
    complex tone (:func:`expand_harmonics`: 11 harmonics, amplitudes
    :math:`1/k`), merging harmonics of different tones that coincide into
    one partial of the summed power (:func:`~harmonix.estimators.tones.merge_coincident`,
    as they are heard and as audio analysis sees them); (3) :math:`C` = :func:`harmonicity` (Gill & Purves) or
    :func:`periodicity` / its value for one tone (Harrison & Pearce) of the
    partials; (4) :math:`R` = Hutchinson-Knopoff roughness
    :math:`\sum_{i<j} a_i a_j g(y_{ij}) / \sum a_i^2` and :math:`D = 2R`
    (or Sethares, :math:`D = R / (c(e^{-b_1x^*} - e^{-b_2x^*})/2)` on
    unit-sum amplitudes); (5) valence :math:`V = C - D`. Both terms are 1 at
    their theoretical extremes (one harmonic series; the roughest pair of
    pure tones), which is the whole of the scaling.

    For twelve 12-TET dyads of 11-partial tones on middle C this gives
    P8 1.00, P5 0.62, P4 0.41, M6 0.23, M3 0.18, m6 0.05, m3 0.02, TT 0.02,
    m7 -0.01, M7 -0.29, M2 -0.29, m2 -0.85.

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
        by their fundamentals (chords, brain rhythms heard as tones); not for
        measured partials, which already are the harmonics.
    n_partials, rolloff
        See :func:`expand_harmonics` (defaults 11 and ``'inverse'``).
    dissonance : {'hutchinson_knopoff', 'sethares'}
        Roughness model.
    consonance : {'gill_purves', 'harrison_pearce'}
        Harmonicity model.
    tolerance_cents, max_harmonic, precision_exponent, extent_db
        See :func:`harmonicity` (Gill & Purves model only).
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
    >>> round(cdns([200.0, 400.0], [1.0, 1.0]).consonance, 6)  # Gill & Purves: octave 1
    1.0
    """
    _choice("dissonance", dissonance, _DISSONANCE_MODELS)
    _choice("consonance", consonance, _CONSONANCE_MODELS)
    if int(octave_shift) != octave_shift:
        raise ParameterError(f"octave_shift must be a whole number of octaves, got {octave_shift!r}")
    params = {
        "expand": bool(expand),
        "n_partials": int(n_partials) if expand else 1,
        "rolloff": rolloff,
        "dissonance": dissonance,
        "consonance": consonance,
        "tolerance_cents": float(tolerance_cents),
        "max_harmonic": int(max_harmonic),
        "precision_exponent": float(precision_exponent),
        "extent_db": float(extent_db),
        "octave_shift": int(octave_shift),
    }
    f, a = peaks(freqs, amps, "cdns")
    f = f * 2.0 ** int(octave_shift)
    if expand:
        f, a = merge_coincident(*expand_harmonics(f, a, n_partials, rolloff))
    if f.size == 0:
        return CDNS(math.nan, math.nan, float(noise), math.nan, math.nan, math.nan, params)
    if consonance == "gill_purves":
        fit = harmonicity(
            f,
            a,
            tolerance_cents=tolerance_cents,
            max_harmonic=max_harmonic,
            precision_exponent=precision_exponent,
            extent_db=extent_db,
        )
        c, f0 = fit.harmonicity, fit.f0
    else:
        c, f0 = periodicity(f, a), math.nan
    rough, dis = roughness_and_dissonance(f, a, dissonance)
    return CDNS(c, dis, float(noise), c - dis, rough, f0, params)


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
        "dissonance",
        "consonance",
        "tolerance_cents",
        "max_harmonic",
        "precision_exponent",
        "extent_db",
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
        Settings of :func:`cdns` (``expand``, ``dissonance``, ``consonance``, ...).

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
    frame_seconds: float = AUDIO_FRAME_SECONDS,
    hop_seconds: float | None = None,
    n_partials: int = AUDIO_N_PARTIALS,
    fmin: float = 20.0,
    fmax: float = AUDIO_FMAX,
    **kwargs: Any,
) -> CDNSSeries:
    r"""Partials, frame power and CDNS of every frame of an audio signal.

    Runs :func:`~harmonix.spectral.audio.spectral_partials` and measures
    each frame's power with the same frames and Blackman-Harris window
    :math:`w`: :math:`P_t = \sum_n w_n x_{t,n}^2 / \sum_n w_n` (a sinusoid
    of amplitude :math:`a` gives :math:`a^2/2`), so that the noise share is
    the power outside the partials, including everything below ``fmin`` and
    above ``fmax``.

    The defaults follow from the roughness and harmonicity models, so that
    the partials seen in audio are the partials the symbolic path expands
    (:func:`cdns` with ``expand=True``):

    - ``frame_seconds`` = 0.5 s. Blackman-Harris frames separate partials
      about :math:`4/T` apart (8 Hz; 5.5 Hz measured on two equal
      sinusoids). Hutchinson & Knopoff's :math:`g` is above half its peak
      from 0.095 to 0.52 critical bandwidths; at middle C
      (:math:`1.72 \cdot 262^{0.65}` = 64 Hz) that is 6.1-33 Hz, and a
      middle-C minor second puts its fundamentals 15.6 Hz apart (0.24
      bandwidth, the roughest spacing). 0.1-s frames (40 Hz) merged all of
      these pairs. Closer pairs (below 0.125 bandwidth at middle C, beats
      slower than 8 Hz) merge into one beating peak and their roughness is
      lost; this is the stated limit of the audio path.
    - ``n_partials`` = 66: every harmonic of six 11-harmonic tones (the
      largest chords in common use; a tetrad has 44).
    - ``fmax`` = 12 kHz: the 11th harmonic of a tone at C6 (1047 Hz) is
      11.5 kHz, so every harmonic the symbolic model uses for chords up to
      C6 is kept (clipped to Nyquist).
    - ``hop_seconds`` = ``frame_seconds / 2`` when None.

    Within these limits the same chord gives the same :math:`C`, :math:`D`
    and valence from audio as from symbols (``scripts/check_consonance.py``
    measures the agreement over every 12-TET dyad, triad and tetrad within
    an octave).

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

    if hop_seconds is None:
        hop_seconds = float(frame_seconds) / 2.0
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

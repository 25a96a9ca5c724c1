r"""Tempo at a fixed analysis rate, with candidates, a confidence and a test for pulse.

:func:`estimate_tempo` answers three questions about a recording:

1. *Is there a pulse at all?* The onset-strength envelope of a piece with a
   beat repeats itself one beat later: its autocorrelation has a peak at the
   beat period. A sustained note, a drone or noise has no such peak. The
   statistic is the largest on-beat minus off-beat autocorrelation contrast
   between 30 and 300 bpm; its null distribution comes from the same envelope
   with its blocks randomly permuted (same values, no temporal order), so the
   decision is a permutation test at level ``alpha``, not a threshold tuned to
   a file. Without a pulse the tempo is NaN and no beats are tracked.
2. *Which tempo?* Among the periods whose contrast is significant by the
   same null, the one with the largest contrast weighted by a
   log-normal tempo prior (centred on 120 bpm, one octave wide: the prior of
   librosa's beat tracker, after Ellis 2007), refined to a fraction of a frame
   by a parabola through the peak. The others are returned as candidates.
3. *Where are the beats?* Dynamic programming (Ellis 2007,
   :func:`librosa.beat.beat_track`) with the tempo fixed to the estimate.

Every step runs on the mono mixdown resampled to :data:`ANALYSIS_SFREQ`
(22 050 Hz, librosa's default rate) whatever the file's rate, so that the
onset frames last the same time (512 samples = 23.2 ms) for a 22.05, 44.1 or
48 kHz file; running the beat tracker at the file's native rate made a 44.1 kHz
song come out at 89 bpm instead of 117.5 (a 3:4 error, issue 14).

References
----------
.. [1] Ellis, D. P. W. (2007). Beat tracking by dynamic programming. J. New
   Music Research 36(1), 51-60.
.. [2] Böck, S. & Widmer, G. (2013). Maximum filter vibrato suppression for
   onset detection. Proc. DAFx. (the onset strength of librosa)
.. [3] Percival, G. & Tzanetakis, G. (2014). Streamlined tempo estimation
   based on autocorrelation and cross-correlation with pulses. IEEE/ACM TASLP
   22(12), 1765-1776. (autocorrelation of the onset envelope for tempo)
.. [4] Good, P. (2005). Permutation, Parametric and Bootstrap Tests of
   Hypotheses, 3rd ed. Springer. (the permutation p-value (1 + b) / (1 + B))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy import signal

from harmonix.errors import ParameterError
from harmonix.io.audio import Audio

ANALYSIS_SFREQ = 22050.0
"""Rate (Hz) at which onsets, tempo and beats are computed, whatever the file's rate."""

HOP_LENGTH = 512
"""Onset-envelope hop in samples at :data:`ANALYSIS_SFREQ` (23.2 ms, 43.07 frames/s)."""

BLOCK_FRAMES = 2048 // HOP_LENGTH
"""Frames kept together in a surrogate: one STFT window (2048 samples) spans this many hops, so
neighbouring onset frames share samples and are correlated by construction, not by rhythm."""

BPM_RANGE = (30.0, 300.0)
"""Tempi searched (beats per minute): beat periods 0.2-2 s."""


@dataclass(frozen=True)
class TempoEstimate:
    """Tempo, beats and the evidence for a pulse.

    Attributes
    ----------
    bpm : float
        Tempo in beats per minute; NaN when the envelope has no significant periodicity.
    confidence : float
        On-beat minus off-beat autocorrelation contrast of the onset envelope at
        the beat period, :math:`S(\\hat\\tau)` (1 for a click track, 0 for none).
        NaN without a pulse.
    p_value : float
        Permutation p-value of the pulse test (NaN when the audio is too short to test).
    candidates_bpm, candidates_strength : ndarray
        Periods whose contrast is significant (bpm, and :math:`S(\\tau)`), best first
        by prior-weighted contrast; the first is ``bpm``. Without a pulse:
        unconfirmed candidates (best periodicities that failed the test).
    beat_times : ndarray
        Beat positions in seconds (empty without a pulse).
    onset_times, onset_envelope : ndarray
        The onset-strength envelope at :data:`ANALYSIS_SFREQ` / :data:`HOP_LENGTH`.
    note : str
        Why there is no tempo, or "" when there is one.
    params : dict
        Every setting, for ``params.json``.
    """

    bpm: float
    confidence: float
    p_value: float
    candidates_bpm: np.ndarray
    candidates_strength: np.ndarray
    beat_times: np.ndarray
    onset_times: np.ndarray
    onset_envelope: np.ndarray
    note: str = ""
    params: dict = field(default_factory=dict)

    @property
    def has_pulse(self) -> bool:
        """Whether a tempo was found."""
        return bool(np.isfinite(self.bpm))


def resample_to(x: np.ndarray, sfreq: float, target: float = ANALYSIS_SFREQ) -> np.ndarray:
    """``x`` resampled from ``sfreq`` to ``target`` Hz (polyphase, anti-aliased); unchanged when equal."""
    if math.isclose(sfreq, target):
        return np.asarray(x, dtype=np.float64)
    ratio = Fraction(target / sfreq).limit_denominator(10_000)
    return signal.resample_poly(np.asarray(x, dtype=np.float64), ratio.numerator, ratio.denominator)


def _mono_at_rate(audio: Audio) -> np.ndarray:
    from harmonix.spectral.audio import _mono

    return resample_to(_mono(audio), audio.sfreq)


def _autocorrelation(e: np.ndarray, max_lag: int) -> np.ndarray:
    """Biased, normalised autocorrelation of each row of ``e`` (mean removed) for lags 0..max_lag."""
    e = e - e.mean(axis=-1, keepdims=True)
    n = e.shape[-1]
    n_fft = 1 << int(math.ceil(math.log2(2 * n)))
    spec = np.fft.rfft(e, n=n_fft, axis=-1)
    acf = np.fft.irfft(np.abs(spec) ** 2, n=n_fft, axis=-1)[..., : max_lag + 1]
    zero = acf[..., :1]
    return np.divide(acf, zero, out=np.zeros_like(acf), where=zero > 0)


def _block_permutations(env: np.ndarray, block: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` surrogates of ``env``: its blocks of ``block`` frames in random order (random phase of the cut)."""
    out = np.empty((n, env.size))
    for i in range(n):
        start = int(rng.integers(block))
        rolled = np.roll(env, -start)
        cuts = np.arange(block, rolled.size, block)
        pieces = np.split(rolled, cuts)
        out[i] = np.concatenate([pieces[j] for j in rng.permutation(len(pieces))])
    return out


N_CANDIDATES = 5
"""Most tempo candidates returned."""

N_MULTIPLES = 4
"""Multiples of a candidate period pooled in the pulse contrast (fewer when the audio is short)."""


def _contrast(r: np.ndarray, lags: np.ndarray, max_lag: int) -> np.ndarray:
    r"""On-beat minus off-beat autocorrelation for each period in ``lags`` (rows of ``r`` broadcast).

    .. math:: S(\tau) = \frac{1}{K}\sum_{k=1}^{K}\Bigl[r(k\tau) - \tfrac12\bigl(r((k-\tfrac12)\tau)
              + r((k+\tfrac12)\tau)\bigr)\Bigr]

    with :math:`K` the multiples (at most :data:`N_MULTIPLES`) whose off-beat lag
    :math:`(k+\tfrac12)\tau` stays within ``max_lag``; ``r`` is interpolated linearly.
    """
    def at(x: np.ndarray) -> np.ndarray:
        i = np.minimum(np.floor(x).astype(int), r.shape[-1] - 2)
        w = x - i
        return r[..., i] * (1.0 - w) + r[..., i + 1] * w

    out = np.zeros(r.shape[:-1] + (lags.size,))
    for j, tau in enumerate(lags):
        ks = np.array([k for k in range(1, N_MULTIPLES + 1) if (k + 0.5) * tau <= max_lag] or [1], dtype=float)
        on = ks * tau
        out[..., j] = (at(on) - 0.5 * (at(on - tau / 2) + at(on + tau / 2))).mean(axis=-1)
    return out


def _refine_near(r: np.ndarray, period: float) -> float:
    """The autocorrelation peak within one frame of ``period``, refined by a parabola."""
    lo, hi = max(1, int(math.floor(period)) - 1), min(r.size - 2, int(math.ceil(period)) + 1)
    k = lo + int(np.argmax(r[lo : hi + 1]))
    return _refine(r, k)


def _refine(r: np.ndarray, k: int) -> float:
    """Peak lag refined by a parabola through ``r[k-1], r[k], r[k+1]``."""
    if k <= 0 or k + 1 >= r.size:
        return float(k)
    left, centre, right = r[k - 1], r[k], r[k + 1]
    denom = left - 2.0 * centre + right
    if denom >= 0:
        return float(k)
    return float(k + np.clip(0.5 * (left - right) / denom, -0.5, 0.5))


def estimate_tempo(
    audio: Audio,
    *,
    bpm_range: tuple[float, float] = BPM_RANGE,
    prior_bpm: float = 120.0,
    prior_octaves: float = 1.0,
    alpha: float = 0.01,
    n_surrogates: int = 199,
    seed: int = 0,
    track_beats: bool = True,
) -> TempoEstimate:
    r"""Tempo with candidates and a confidence, or none where the audio has no pulse.

    The mono mixdown is resampled to :data:`ANALYSIS_SFREQ`; its onset
    strength :math:`o(t)` (spectral flux of the log-mel spectrogram,
    :func:`librosa.onset.onset_strength`, hop :data:`HOP_LENGTH`) is
    mean-removed and autocorrelated,

    .. math:: r(\tau) = \frac{\sum_t \tilde o(t)\,\tilde o(t+\tau)}{\sum_t \tilde o(t)^2}.

    *Pulse test.* A beat at period :math:`\tau` means onsets recur at
    :math:`k\tau` and not half-way between; the on-beat/off-beat contrast
    :math:`S(\tau)` (:func:`_contrast`: :math:`r(k\tau)` minus the mean of
    :math:`r((k\pm\tfrac12)\tau)`, averaged over up to 4 multiples) is
    computed on a half-frame grid of periods inside ``bpm_range`` and
    :math:`T = \max_\tau S(\tau)`. Under the null hypothesis "no temporal
    order beyond one analysis window", blocks of :data:`BLOCK_FRAMES` frames
    (one 2048-sample STFT window, the span over which onset frames share
    samples) are exchangeable: ``n_surrogates`` random block permutations of
    :math:`o` give :math:`T^*_b`, and :math:`p = (1 + \#\{T^*_b \ge T\}) / (1 + B)`.
    A pulse needs :math:`p \le` ``alpha``. The permutation keeps the
    envelope's values (a single loud attack, a noisy bow) and destroys only
    their order, which is what a beat is. A smooth aperiodic envelope (a
    swell, a decay) has an autocorrelation without on/off-beat contrast, so
    it gives no tempo.

    *Tempo.* Local maxima of :math:`S` above the null's :math:`1 - \alpha`
    quantile are the candidates, ranked by :math:`S(\tau)\,w(\tau)` with the
    log-normal prior :math:`w = \exp(-\tfrac12 (\log_2(\text{bpm}/\text{prior\_bpm})
    / \text{prior\_octaves})^2)`. The best period is refined to the
    autocorrelation peak within one frame, interpolated by a parabola
    (sub-frame lag), and ``bpm = 60 f_o / \hat\tau`` with :math:`f_o` =
    22050/512 frames/s. The confidence is :math:`S(\hat\tau)`: 1 for a
    click track, 0 for no contrast. The contrast resolves the half-tempo
    level of an isochronous pulse (at :math:`2\tau_0` the off-beat lag
    :math:`\tau_0` is itself a peak, so :math:`S(2\tau_0) \approx 0`).
    Without a pulse, the best local maxima are still returned as
    unconfirmed candidates, but ``bpm`` is NaN and no beats are placed.

    Parameters
    ----------
    audio : Audio
        The signal; any sampling rate (resampled to 22 050 Hz).
    bpm_range : (float, float)
        Tempi considered, in bpm.
    prior_bpm, prior_octaves : float
        Centre and width (octaves) of the log-normal tempo prior that picks
        the metrical level (Ellis 2007; librosa's defaults).
    alpha : float
        Level of the pulse test; with ``n_surrogates`` = 199 the smallest
        attainable p is 0.005.
    n_surrogates : int
        Permutations for the null distribution.
    seed : int
        Seed of the permutations (results are reproducible).
    track_beats : bool
        Place beats by dynamic programming (Ellis 2007).

    Returns
    -------
    estimate : TempoEstimate

    Notes
    -----
    Tempo is ambiguous by metrical level: the envelope of a piece at 90 bpm
    is also periodic at 45 and (with eighth notes) 180 bpm. The prior picks
    one level; the candidates list the others.
    """
    import librosa

    lo_bpm, hi_bpm = (float(b) for b in bpm_range)
    if not (0 < lo_bpm < hi_bpm):
        raise ParameterError(f"bpm_range must be two increasing positive tempi, got {bpm_range!r}")
    if not (0 < alpha < 1):
        raise ParameterError(f"alpha must lie in (0, 1), got {alpha!r}")
    if int(n_surrogates) != n_surrogates or n_surrogates < 19:
        raise ParameterError(f"n_surrogates must be an integer >= 19, got {n_surrogates!r}")
    x = _mono_at_rate(audio)
    sr, hop = ANALYSIS_SFREQ, HOP_LENGTH
    env = np.asarray(librosa.onset.onset_strength(y=x, sr=sr, hop_length=hop), dtype=float)
    times = np.asarray(librosa.times_like(env, sr=sr, hop_length=hop), dtype=float)
    fps = sr / hop
    lag_lo = int(math.floor(60.0 * fps / hi_bpm))
    lag_hi = int(math.ceil(60.0 * fps / lo_bpm))
    # at least two periods must fit in the signal for a period to be seen repeating
    lag_hi = min(lag_hi, env.size // 2)
    params = {
        "method": "autocorrelation of the onset strength (librosa.onset.onset_strength) at a fixed rate; "
                  "permutation test for pulse; beats by dynamic programming (Ellis 2007)",
        "analysis_sfreq": sr, "hop_length": hop, "bpm_range": [lo_bpm, hi_bpm], "prior_bpm": prior_bpm,
        "prior_octaves": prior_octaves, "alpha": alpha, "n_surrogates": int(n_surrogates), "seed": seed,
        "native_sfreq": audio.sfreq,
    }

    def none(note: str, p_value: float = math.nan) -> TempoEstimate:
        return TempoEstimate(math.nan, math.nan, p_value, np.empty(0), np.empty(0), np.empty(0), times, env,
                             note=note, params=params)

    if lag_hi <= lag_lo + 2:
        return none(f"audio too short ({audio.duration:.2f} s) to see a beat period repeat")
    if not np.any(env > 0) or np.ptp(env) == 0:
        return none("no onsets: the onset strength is constant")
    max_lag = env.size - 2
    r = _autocorrelation(env, max_lag + 1)
    periods = np.arange(lag_lo, lag_hi + 0.25, 0.5)  # candidate beat periods in frames, half-frame grid
    contrast = _contrast(r, periods, max_lag)
    statistic = float(contrast.max())
    rng = np.random.default_rng(seed)
    shuffled = _block_permutations(env, BLOCK_FRAMES, int(n_surrogates), rng)
    null = _contrast(_autocorrelation(shuffled, max_lag + 1), periods, max_lag).max(axis=-1)
    p_value = float((1 + np.sum(null >= statistic)) / (1 + null.size))
    threshold = float(np.quantile(null, 1 - alpha))
    params["statistic"] = statistic
    params["null_quantile"] = threshold
    peaks, _ = signal.find_peaks(np.concatenate([[-np.inf], contrast, [-np.inf]]))
    peaks = peaks - 1
    if p_value <= alpha:
        peaks = peaks[contrast[peaks] > threshold]
    refined = np.array([_refine_near(r, periods[j]) for j in peaks])
    bpms = 60.0 * fps / refined
    strength = contrast[peaks]
    prior = np.exp(-0.5 * (np.log2(bpms / prior_bpm) / prior_octaves) ** 2)
    order = np.argsort(-(strength * prior), kind="stable")
    bpms, strength = bpms[order], strength[order]
    # neighbouring contrast maxima may refine to the same autocorrelation peak: keep each tempo once
    distinct = [i for i in range(bpms.size) if not np.any(np.abs(bpms[:i] / bpms[i] - 1.0) < 0.01)]
    bpms, strength = bpms[distinct][:N_CANDIDATES], strength[distinct][:N_CANDIDATES]
    if p_value > alpha:
        # the best periodicity is kept as an unconfirmed candidate; no tempo, no beats
        return TempoEstimate(math.nan, math.nan, p_value, bpms, strength, np.empty(0), times, env,
                             note=f"no pulse: the onset envelope is not periodic between {lo_bpm:g} and "
                                  f"{hi_bpm:g} bpm (permutation p = {p_value:.3g} > {alpha:g}); the candidates "
                                  "are unconfirmed", params=params)
    bpm = float(bpms[0])
    beats = np.empty(0)
    if track_beats:
        _, frames = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=hop, bpm=bpm, units="frames")
        beats = np.asarray(librosa.frames_to_time(frames, sr=sr, hop_length=hop), dtype=float)
    return TempoEstimate(bpm, float(strength[0]), p_value, bpms, strength, beats, times, env, params=params)


__all__ = ["ANALYSIS_SFREQ", "BPM_RANGE", "HOP_LENGTH", "TempoEstimate", "estimate_tempo", "resample_to"]

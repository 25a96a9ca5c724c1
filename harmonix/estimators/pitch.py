r"""Fundamental frequency with voicing (pYIN), notes, intervals, chroma and key.

- :func:`track_f0` -- f0 and voicing per frame by probabilistic YIN
  (Mauch & Dixon 2014, :func:`librosa.pyin`), at a fixed analysis rate.
- :func:`segment_notes` -- notes (onset, offset, f0, MIDI number, cents off
  12-TET) from the voiced runs of a track, and :func:`note_intervals`
  between successive notes.
- :func:`estimate_key` -- mean chroma correlated with the 24 rotated
  Krumhansl-Kessler key profiles (the Krumhansl-Schmuckler key-finding
  algorithm).

The f0 of a harmonic sound is its repetition rate, not its strongest partial:
YIN's difference function measures periodicity, so a tone whose fundamental
is missing or weaker than its second harmonic still gets its true f0. pYIN
follows the predominant monophonic line; in polyphonic music the value is
that of whichever voice dominates the periodicity, a rough summary only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ParameterError
from harmonix.io.audio import Audio

F0_FMIN = 41.2
"""Lowest f0 searched (Hz): E1, the lowest open string of a double bass or bass guitar."""

F0_FMAX = 2093.0
"""Highest f0 searched (Hz): C7, above the soprano voice and most of the flute's range."""

ANALYSIS_SFREQ = 22050.0
"""Rate (Hz) at which f0 and chroma are computed (librosa's default), whatever the file's rate."""

FRAME_LENGTH = 2048
"""pYIN frame (samples at :data:`ANALYSIS_SFREQ`, 92.9 ms): two periods of 21.5 Hz fit in its half window."""

HOP_LENGTH = 256
"""pYIN hop (samples at :data:`ANALYSIS_SFREQ`, 11.6 ms)."""

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first (Krumhansl 1990, Table 2.1).
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def hz_to_midi(freq) -> np.ndarray:
    """MIDI note number (A4 = 440 Hz = 69), fractional: :math:`69 + 12\\log_2(f/440)`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 69.0 + 12.0 * np.log2(np.asarray(freq, dtype=float) / 440.0)


@dataclass(frozen=True)
class F0Track:
    """f0 and voicing per frame.

    Attributes
    ----------
    times : ndarray
        Frame centres (s).
    f0 : ndarray
        Fundamental frequency (Hz); NaN in unvoiced frames.
    voiced : ndarray of bool
        pYIN's voicing decision (Viterbi path through voiced/unvoiced states).
    voiced_probability : ndarray
        pYIN's probability that the frame is voiced.
    rms : ndarray
        RMS amplitude of each frame (same frames), the weight of :attr:`median_f0`.
    params : dict
        Settings, for ``params.json``.
    """

    times: np.ndarray
    f0: np.ndarray
    voiced: np.ndarray
    voiced_probability: np.ndarray
    rms: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def median_f0(self) -> float:
        """Median f0 over voiced frames, each weighted by its RMS amplitude (Hz); NaN when nothing is voiced.

        The weighting makes the loud, sustained part of a note count more than
        its quiet release, whose pitch drifts as the string or voice decays.
        """
        keep = self.voiced & np.isfinite(self.f0)
        if not np.any(keep):
            return math.nan
        return weighted_median(self.f0[keep], self.rms[keep])

    @property
    def voiced_fraction(self) -> float:
        """Share of frames that are voiced."""
        return float(np.mean(self.voiced)) if self.voiced.size else math.nan


def track_f0(
    audio: Audio,
    *,
    fmin: float = F0_FMIN,
    fmax: float = F0_FMAX,
    frame_length: int = FRAME_LENGTH,
    hop_length: int = HOP_LENGTH,
) -> F0Track:
    r"""f0 and voicing of the predominant monophonic line by pYIN.

    The mono mixdown is resampled to :data:`ANALYSIS_SFREQ` and passed to
    :func:`librosa.pyin` (Mauch & Dixon 2014). YIN's cumulative mean
    normalised difference

    .. math:: d'(\tau) = \frac{d(\tau)}{\frac1\tau\sum_{j=1}^{\tau} d(j)}, \qquad
              d(\tau) = \sum_n (x_n - x_{n+\tau})^2

    (de Cheveigné & Kawahara 2002) has dips at the period and its multiples;
    pYIN turns the dips under a distribution of thresholds into pitch
    candidates with probabilities and picks a smooth path with a hidden
    Markov model whose states are pitch bins (10 cents) times voiced /
    unvoiced. The f0 is the centre of the path's bin: 10-cent bins
    (``resolution`` 0.1 semitone, librosa's default) bound the quantisation
    error at 5 cents.

    Parameters
    ----------
    audio : Audio
        The signal, any rate.
    fmin, fmax : float
        f0 search range in Hz (default E1 41.2 Hz to C7 2093 Hz: double bass
        to flute and soprano).
    frame_length, hop_length : int
        Frame and hop in samples at 22 050 Hz.

    Returns
    -------
    track : F0Track

    References
    ----------
    .. [1] Mauch, M. & Dixon, S. (2014). pYIN: a fundamental frequency
       estimator using probabilistic threshold distributions. Proc. ICASSP, 659-663.
    .. [2] de Cheveigné, A. & Kawahara, H. (2002). YIN, a fundamental frequency
       estimator for speech and music. J. Acoust. Soc. Am. 111(4), 1917-1930.
    """
    import librosa

    from harmonix.estimators.tempo import resample_to
    from harmonix.spectral.audio import _mono

    if not (0 < fmin < fmax):
        raise ParameterError(f"need 0 < fmin < fmax, got fmin={fmin}, fmax={fmax} Hz")
    if fmax > ANALYSIS_SFREQ / 2:
        raise ParameterError(f"fmax={fmax:g} Hz is above the Nyquist frequency of the analysis rate")
    x = resample_to(_mono(audio), audio.sfreq, ANALYSIS_SFREQ)
    if x.size < frame_length:
        raise ParameterError(f"{audio.source}: audio is {audio.duration:.3f} s long, shorter than one "
                             f"{frame_length / ANALYSIS_SFREQ:.3f} s pYIN frame")
    f0, voiced, prob = librosa.pyin(x, fmin=fmin, fmax=fmax, sr=ANALYSIS_SFREQ, frame_length=frame_length,
                                    hop_length=hop_length, center=True)
    times = librosa.times_like(f0, sr=ANALYSIS_SFREQ, hop_length=hop_length)
    voiced = np.asarray(voiced, dtype=bool) & np.isfinite(f0)
    f0 = np.where(voiced, f0, np.nan)
    params = {"method": "pYIN (Mauch & Dixon 2014), librosa.pyin; 10-cent bins", "fmin": fmin, "fmax": fmax,
              "analysis_sfreq": ANALYSIS_SFREQ, "frame_length": frame_length, "hop_length": hop_length}
    rms = librosa.feature.rms(y=x, frame_length=frame_length, hop_length=hop_length, center=True)[0][: f0.size]
    return F0Track(np.asarray(times, float), np.asarray(f0, float), voiced, np.asarray(prob, float),
                   np.asarray(rms, float), params)


def weighted_median(values, weights) -> float:
    """The value at which the cumulative weight first reaches half the total (plain median for equal weights)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.size == 0:
        return math.nan
    if not np.any(w > 0):
        return float(np.median(v))
    order = np.argsort(v)
    cum = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cum, 0.5 * cum[-1])])


@dataclass(frozen=True)
class Notes:
    """Notes segmented from an f0 track.

    Attributes
    ----------
    onsets, offsets : ndarray
        Start and end of each note (s).
    f0 : ndarray
        Median f0 of the note's frames (Hz).
    midi : ndarray
        :math:`69 + 12\\log_2(f_0/440)`, fractional.
    nearest : ndarray of int
        Nearest 12-TET MIDI note.
    cents : ndarray
        Deviation from ``nearest`` in cents, in [-50, 50).
    """

    onsets: np.ndarray
    offsets: np.ndarray
    f0: np.ndarray
    midi: np.ndarray
    nearest: np.ndarray
    cents: np.ndarray

    def __len__(self) -> int:
        return int(self.onsets.size)


def segment_notes(track: F0Track, *, min_duration: float = 0.06, smooth_seconds: float = 0.17) -> Notes:
    r"""Notes from the voiced runs of an f0 track.

    Each run of voiced frames is one note unless its pitch moves to another
    semitone and stays there: the MIDI pitch is smoothed by a moving mean
    over ``smooth_seconds`` (one vibrato cycle at 6 Hz, so that vibrato of up
    to a semitone's extent averages out), rounded to semitones, and a new
    note starts where the rounded value changes for at least
    ``min_duration``. Notes shorter than ``min_duration`` are dropped. A
    note's pitch is the median f0 of its frames.
    """
    hop = float(np.median(np.diff(track.times))) if track.times.size > 1 else 1.0
    min_frames = max(1, int(round(min_duration / hop)))
    width = max(1, int(round(smooth_seconds / hop)))
    midi_all = hz_to_midi(track.f0)
    onsets, offsets, f0s = [], [], []
    voiced = track.voiced & np.isfinite(track.f0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(int), [0]])))
    for start, stop in zip(edges[::2], edges[1::2]):
        if stop - start < min_frames:
            continue
        midi = midi_all[start:stop]
        kernel = np.ones(min(width, midi.size)) / min(width, midi.size)
        padded = np.pad(midi, (kernel.size // 2, kernel.size - 1 - kernel.size // 2), mode="edge")
        label = np.round(np.convolve(padded, kernel, mode="valid"))
        # merge label changes that do not last min_frames into the preceding segment
        bounds = [0]
        for i in range(1, label.size):
            if label[i] != label[bounds[-1]] and np.all(label[i : i + min_frames] == label[i]) \
                    and i + min_frames <= label.size:
                bounds.append(i)
        bounds.append(label.size)
        for a, b in zip(bounds[:-1], bounds[1:]):
            if b - a < min_frames:
                continue
            onsets.append(track.times[start + a] - hop / 2)
            offsets.append(track.times[start + b - 1] + hop / 2)
            f0s.append(float(np.median(track.f0[start + a : start + b])))
    f0 = np.array(f0s, dtype=float)
    midi = hz_to_midi(f0)
    nearest = np.round(midi).astype(int)
    return Notes(np.array(onsets, float), np.array(offsets, float), f0, midi, nearest, 100.0 * (midi - nearest))


def note_intervals(notes: Notes) -> np.ndarray:
    """Signed intervals between successive notes in semitones (fractional; 12 = octave up)."""
    return np.diff(notes.midi)


@dataclass(frozen=True)
class Key:
    """Key estimate: tonic, mode and the correlation behind it.

    Attributes
    ----------
    tonic : int
        Pitch class of the tonic (0 = C).
    mode : str
        ``"major"`` or ``"minor"``.
    correlation : float
        Pearson r of the mean chroma with the best key profile.
    clarity : float
        r of the best key minus r of the runner-up (0: ambiguous).
    correlations : ndarray, shape (24,)
        r with C..B major, then C..B minor.
    chroma : ndarray, shape (12,)
        Mean chroma (C..B), normalised to sum 1.
    """

    tonic: int
    mode: str
    correlation: float
    clarity: float
    correlations: np.ndarray
    chroma: np.ndarray

    @property
    def name(self) -> str:
        """E.g. ``"F# minor"``."""
        return f"{PITCH_CLASSES[self.tonic]} {self.mode}"


def key_from_chroma(chroma) -> Key:
    r"""Krumhansl-Schmuckler key finding on a 12-bin chroma vector (C first).

    The chroma is correlated (Pearson) with the Krumhansl-Kessler major and
    minor probe-tone profiles rotated to each of the 12 tonics; the key is
    the best of the 24.

    References
    ----------
    .. [1] Krumhansl, C. L. & Kessler, E. J. (1982). Tracing the dynamic
       changes in perceived tonal organization in a spatial representation of
       musical keys. Psychological Review 89(4), 334-368.
    .. [2] Krumhansl, C. L. (1990). Cognitive Foundations of Musical Pitch.
       Oxford University Press, ch. 4 (the key-finding algorithm, with Schmuckler).
    """
    c = np.asarray(chroma, dtype=float).ravel()
    if c.shape != (12,) or not np.all(np.isfinite(c)):
        raise ParameterError(f"chroma must be 12 finite values, got shape {np.shape(chroma)}")
    if np.ptp(c) == 0:
        raise ParameterError("chroma is flat: no key can be estimated")
    profiles = [np.roll(KK_MAJOR, t) for t in range(12)] + [np.roll(KK_MINOR, t) for t in range(12)]
    r = np.array([np.corrcoef(c, p)[0, 1] for p in profiles])
    order = np.argsort(-r)
    best = int(order[0])
    return Key(best % 12, "major" if best < 12 else "minor", float(r[best]), float(r[best] - r[order[1]]), r,
               c / c.sum() if c.sum() > 0 else c)


def chromagram(audio: Audio, *, hop_length: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Constant-Q chroma (:func:`librosa.feature.chroma_cqt`) at 22 050 Hz: ``(times, chroma[12, n])``."""
    import librosa

    from harmonix.estimators.tempo import resample_to
    from harmonix.spectral.audio import _mono

    x = resample_to(_mono(audio), audio.sfreq, ANALYSIS_SFREQ)
    chroma = librosa.feature.chroma_cqt(y=x, sr=ANALYSIS_SFREQ, hop_length=hop_length)
    times = librosa.times_like(chroma, sr=ANALYSIS_SFREQ, hop_length=hop_length)
    return np.asarray(times, float), np.asarray(chroma, float)


def estimate_key(audio: Audio) -> Key:
    """Key of a recording: Krumhansl-Schmuckler on its mean constant-Q chroma (:func:`key_from_chroma`)."""
    _, chroma = chromagram(audio)
    return key_from_chroma(chroma.mean(axis=1))


__all__ = [
    "F0Track", "F0_FMAX", "F0_FMIN", "KK_MAJOR", "KK_MINOR", "Key", "Notes", "PITCH_CLASSES", "chromagram",
    "estimate_key", "hz_to_midi", "key_from_chroma", "note_intervals", "segment_notes", "track_f0",
]

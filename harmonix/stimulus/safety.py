"""Safety: streaming loudness and true-peak meters, fades, and protocol limits.

Loudness normalisation strategy (two deterministic passes, constant memory):
synthesis is deterministic (seeded noise, fixed phases), so the renderer
first synthesises the whole protocol without writing it, feeding every block
to :class:`LoudnessMeter` and :class:`TruePeakMeter`; it then chooses one
gain ``g`` (dB) and synthesises again, scaled, to disk. Integrated loudness
and true peak are both homogeneous, ``L(a x) = L(x) + 20 log10 a`` (exactly,
up to the -70 LUFS absolute gate, far below any target) and
``TP(a x) = a TP(x)``, so

.. math:: g = \\min(L_\\text{target} - L,\\; P_\\text{ceiling} - TP)

meets the target unless the true-peak ceiling forbids it (then the result is
quieter than the target and a warning says so). Memory: the meters keep a
fixed 8000-bin loudness histogram and filter states, whatever the duration.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import scipy.signal

from harmonix.errors import ParameterError
from harmonix.stimulus import protocol as P

OVERSAMPLE = 4
# 48-tap, 4-phase interpolation low-pass (12 taps per phase), the structure of
# ITU-R BS.1770-4 Annex 2; Kaiser-windowed sinc with its cutoff at the input Nyquist.
_TP_FIR = (scipy.signal.firwin(48, 1.0 / OVERSAMPLE, window=("kaiser", 6.0)) * OVERSAMPLE).astype(np.float32)
_TP_CARRY = 12


class StimulusWarning(UserWarning):
    """A protocol renders, but not as written (binaural to mono, loudness below target, ...)."""


def _identical_channels(x: np.ndarray) -> bool:
    return x.shape[0] == 2 and np.array_equal(x[0], x[1])


def db(x: float) -> float:
    """Amplitude to dB (``20 log10 x``); -inf for 0."""
    return 20 * math.log10(x) if x > 0 else -math.inf


class TruePeakMeter:
    """Streaming true-peak meter: 4x polyphase oversampling, max |x| (ITU-R BS.1770-4 Annex 2 style).

    Blocks are joined by carrying the last 12 input samples, so
    inter-sample peaks across block boundaries are seen.
    """

    def __init__(self, n_channels: int) -> None:
        self.carry = np.zeros((n_channels, _TP_CARRY), dtype=np.float32)
        self.sample_peak = 0.0
        self.true_peak = 0.0

    def update(self, block: np.ndarray) -> None:
        """Feed a block shaped (n_channels, n)."""
        x = np.concatenate([self.carry, block.astype(np.float32, copy=False)], axis=1)
        self.carry = x[:, -_TP_CARRY:]
        self.sample_peak = max(self.sample_peak, float(np.max(np.abs(block))) if block.size else 0.0)
        if _identical_channels(x):  # mono voices duplicated to stereo: oversample once (half the cost)
            x = x[:1]
        y = scipy.signal.upfirdn(_TP_FIR, x, up=OVERSAMPLE, axis=1)
        valid = y[:, len(_TP_FIR) - 1: OVERSAMPLE * (x.shape[1] - 1) + 1]
        if valid.size:
            self.true_peak = max(self.true_peak, float(np.max(np.abs(valid))), self.sample_peak)

    @property
    def true_peak_dbfs(self) -> float:
        return db(self.true_peak)

    @property
    def sample_peak_dbfs(self) -> float:
        return db(self.sample_peak)


_ABS_GATE = -70.0
_BINS_PER_LU = 100
_N_BINS = 80 * _BINS_PER_LU


class LoudnessMeter:
    """Streaming integrated loudness (ITU-R BS.1770-4 / EBU R128), in LUFS.

    K-weighting uses pyloudnorm's two biquads for the sampling rate (the same
    filters :meth:`pyloudnorm.Meter.integrated_loudness` applies), run with
    state across blocks. Energies are summed per 100 ms hop; gating blocks
    are 400 ms (four hops, 75 % overlap); absolute gate -70 LUFS, relative
    gate -10 LU. Channel weights are 1 (mono, left, right). Memory is
    constant: blocks go into a 0.01 LU histogram (count and summed power per
    bin), so the relative gate is placed to within 0.01 LU.
    """

    def __init__(self, sfreq: float, n_channels: int) -> None:
        import pyloudnorm

        meter = pyloudnorm.Meter(int(round(sfreq)))
        filters = meter._filters  # pyloudnorm exposes the designed K-weighting stages only here
        self.sos = np.array([np.concatenate([np.asarray(f.b) * f.passband_gain, np.asarray(f.a)])
                             for f in (filters["high_shelf"], filters["high_pass"])])
        self.zi = np.zeros((len(self.sos), n_channels, 2))
        self.hop = int(round(0.1 * sfreq))
        self.n_channels = n_channels
        self.partial = 0.0  # energy (summed over channels) of the hop being filled
        self.fill = 0
        self.recent: list[float] = []  # the last three complete hops
        # constant memory: a histogram of gating-block loudness in 0.01 LU bins from -70 to +10 LUFS,
        # holding the count and the summed power of the blocks in each bin (as libebur128 does)
        self.count = np.zeros(_N_BINS, dtype=np.int64)
        self.power = np.zeros(_N_BINS)

    def _hops(self, hop_energies: np.ndarray) -> None:
        e = np.concatenate([self.recent, hop_energies])
        if e.size >= 4:
            c = np.concatenate([[0.0], np.cumsum(e)])
            z = (c[4:] - c[:-4]) / (4 * self.hop)  # mean square of each 400 ms block, summed over channels
            with np.errstate(divide="ignore"):
                loud = -0.691 + 10 * np.log10(z)
            keep = loud >= _ABS_GATE
            bins = np.minimum(((loud[keep] - _ABS_GATE) * _BINS_PER_LU).astype(np.int64), _N_BINS - 1)
            np.add.at(self.count, bins, 1)
            np.add.at(self.power, bins, z[keep])
        self.recent = list(e[-3:])

    def update(self, block: np.ndarray) -> None:
        """Feed a block shaped (n_channels, n)."""
        if _identical_channels(block) and np.array_equal(self.zi[:, 0], self.zi[:, 1]):
            # identical channels (mono voices in a stereo file): filter one, count it twice
            y, zi0 = scipy.signal.sosfilt(self.sos, block[:1].astype(np.float64), axis=1, zi=self.zi[:, :1])
            self.zi = np.repeat(zi0, block.shape[0], axis=1)
            y = (y[0] * y[0]) * block.shape[0]
        else:
            y, self.zi = scipy.signal.sosfilt(self.sos, block.astype(np.float64), axis=1, zi=self.zi)
            y = (y * y).sum(axis=0)
        pos, n = 0, y.size
        if self.fill:
            take = min(self.hop - self.fill, n)
            self.partial += y[:take].sum()
            self.fill += take
            pos = take
            if self.fill == self.hop:
                self._hops(np.array([self.partial]))
                self.partial, self.fill = 0.0, 0
        k = (n - pos) // self.hop
        if k:
            self._hops(y[pos: pos + k * self.hop].reshape(k, self.hop).sum(axis=1))
            pos += k * self.hop
        if pos < n:
            self.partial += y[pos:].sum()
            self.fill += n - pos

    @property
    def integrated(self) -> float:
        """Integrated loudness in LUFS (-inf when shorter than 400 ms or silent)."""
        total = self.count.sum()
        if total == 0:
            return -math.inf
        rel = -0.691 + 10 * np.log10(self.power.sum() / total) - 10.0
        centres = _ABS_GATE + (np.arange(_N_BINS) + 0.5) / _BINS_PER_LU
        keep = centres > rel
        return float(-0.691 + 10 * np.log10(self.power[keep].sum() / self.count[keep].sum()))


def fade_gain(t: np.ndarray, duration: float, fade_in: float, fade_out: float) -> np.ndarray | None:
    """Raised-cosine fade-in/out gain at times ``t`` (s); None when no sample of ``t`` is in a fade."""
    if (fade_in <= 0 or t[0] >= fade_in) and (fade_out <= 0 or t[-1] <= duration - fade_out):
        return None
    g = np.ones(t.shape)
    if fade_in > 0:
        g *= 0.5 - 0.5 * np.cos(np.pi * np.clip(t / fade_in, 0, 1))
    if fade_out > 0:
        g *= 0.5 - 0.5 * np.cos(np.pi * np.clip((duration - t) / fade_out, 0, 1))
    return g.astype(np.float32)


def _line_of(protocol: P.Protocol, path: str) -> str:
    src = Path(protocol.source)
    try:
        line = P._locate(src.read_text(encoding="utf-8"), path) if src.is_file() else None
    except OSError:
        line = None
    return f" (line {line})" if line else ""


def _range_issue(path: str, value, lo: float, hi: float, unit: str) -> str | None:
    values = [value.start, value.end] if isinstance(value, P.Slide) else [value]
    bad = [v for v in values if not lo <= v <= hi]
    if bad:
        return f"{path}: {bad[0]:g} {unit} is outside the allowed range [{lo:g}, {hi:g}] {unit}"
    return None


def check_limits(protocol: P.Protocol, *, sfreq: float, override: bool = False) -> list[str]:
    """Check a protocol against the safety limits and the sampling rate.

    Hard limits (frequencies at or above Nyquist) always raise. Soft
    limits (peak ceiling above -1 dBFS, loudness target above -14 LUFS,
    fades shorter than 5 s, voice levels above the peak ceiling, beats
    outside 0.5-40 Hz, rhythms outside 0.1-50 Hz) raise unless ``override``,
    in which case they are returned as warnings.

    Returns
    -------
    warnings : list of str
        Notes the renderer passes on (binaural rendered to mono, overridden limits).

    Raises
    ------
    ParameterError
        One line listing every violated limit with its field path and allowed range.
    """
    nyquist = sfreq / 2
    soft: list[str] = []
    notes: list[str] = []
    if protocol.peak_dbfs > P.PEAK_CEILING_DBFS:
        soft.append(f"safety.peak_dbfs: {protocol.peak_dbfs:g} dBFS is above the {P.PEAK_CEILING_DBFS:g} dBFS ceiling")
    if protocol.loudness_lufs > P.LOUDNESS_CEILING_LUFS:
        soft.append(f"safety.loudness_lufs: {protocol.loudness_lufs:g} LUFS is above the "
                    f"{P.LOUDNESS_CEILING_LUFS:g} LUFS ceiling")
    min_fade = min(P.MIN_FADE_S, protocol.duration / 4)
    for key in ("fade_in", "fade_out"):
        if getattr(protocol, key) < min_fade - 1e-9:
            soft.append(f"safety.{key}: {getattr(protocol, key):g} s is shorter than the {min_fade:g} s minimum")
    for seg in protocol.segments:
        for v in seg.voices:
            lv = v.level
            top = max(lv.start, lv.end) if isinstance(lv, P.Slide) else lv
            if top > protocol.peak_dbfs:
                soft.append(f"{v.path}.level{_line_of(protocol, v.path + '.level')}: {top:g} dBFS is above the "
                            f"peak ceiling {protocol.peak_dbfs:g} dBFS")
            for key, value in v.params.items():
                spec = P.VOICE_SPECS[v.type][key]
                items = value if spec.kind == "rhythms" else [value]
                for i, item in enumerate(items):
                    fpath = f"{v.path}.{key}" + (f"[{i}]" if spec.kind == "rhythms" else "")
                    if spec.soft and item is not None:
                        unit = "Hz"
                        issue = _range_issue(fpath + _line_of(protocol, f"{v.path}.{key}"), item, *spec.soft, unit)
                        if issue:
                            soft.append(issue)
            top_freq = _highest_frequency(v)
            if top_freq is not None and top_freq >= 0.45 * sfreq:
                raise ParameterError(f"{protocol.source}: {v.path}: its highest frequency {top_freq:g} Hz is above "
                                     f"0.45 x the sampling rate ({0.45 * sfreq:g} Hz, Nyquist {nyquist:g} Hz); "
                                     "lower it or render at a higher sfreq")
            if v.type == "binaural" and protocol.channels == 1:
                notes.append(f"{v.path}: binaural voice rendered to mono: the two ears' tones are summed, "
                             "so it becomes a monaural beat")
    if soft and not override:
        raise ParameterError(f"{protocol.source}: outside the safety limits: " + "; ".join(soft)
                             + ". Fix the protocol, or pass override=True (--override) to render it anyway")
    return notes + [f"override: {s}" for s in soft]


def _highest_frequency(v: P.VoiceSpec) -> float | None:
    def top(x):
        return max(x.start, x.end) if isinstance(x, P.Slide) else float(x)

    p = v.params
    if v.type == "tone":
        return top(p["freq"]) * len(p["harmonics"])
    if v.type == "isochronic":
        return top(p["carrier"])
    if v.type == "binaural":
        return top(p["carrier"]) + top(p["beat"]) / 2
    if v.type == "am":
        # without a music file the built-in chord carrier has six partials
        return top(p["carrier"]) * (6 if p["source"] == "music" and not p.get("music") else 1)
    if v.type == "clicks":
        return p["carrier"]
    if v.type == "stack":
        return top(p["f0"]) * p["partials"]
    return None


def warn_all(notes: list[str]) -> None:
    """Emit each note as a :class:`StimulusWarning`."""
    for note in notes:
        warnings.warn(note, StimulusWarning, stacklevel=3)

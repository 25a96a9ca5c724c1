"""Stimulus primitives: stateful voices that synthesise audio block by block.

Every voice keeps its oscillator phases (in cycles, float64, wrapped to
``[0, 1)`` after each block) and filter states between calls, so consecutive
blocks join without clicks and any duration renders in constant memory.
Parameters marked *dynamic* may change at every sample (slides); they are
passed as arrays of instantaneous values, and frequencies are integrated,

.. math:: \\varphi[n] = \\varphi[0] + \\frac{1}{f_s}\\sum_{k<n} f[k]
   \\quad\\text{(cycles)},

so a sliding frequency stays phase-continuous. ``sin`` is evaluated in
float32 on the wrapped phase (argument error about 2e-7 rad, -130 dB: below
24-bit PCM), which is several times faster than float64.

Levels are handled by the caller (:mod:`harmonix.stimulus.render`): each voice
returns signals whose peak is about 1 (tones) or whose RMS is 0.25 (noise,
so that 4-sigma peaks reach about 1).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.signal

from harmonix.errors import InputFileError, ParameterError

TWO_PI = np.float32(2 * np.pi)
NOISE_RMS = 0.25
"""RMS of the noise voices (before the level gain): 4-sigma peaks reach 0 dBFS."""

# Pink-noise IIR (Paul Kellet's / Julius O. Smith's 4-pole fit, within 0.05 dB
# of -3 dB/octave from 9 Hz to Nyquist at 44.1 kHz). Stateful via lfilter's zi.
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])
_BROWN_B = np.array([1.0])
_BROWN_A = np.array([1.0, -0.995])  # leaky integrator: -6 dB/octave above ~35 Hz at 44.1 kHz


def _filter_rms(b: np.ndarray, a: np.ndarray) -> float:
    """RMS gain of an IIR filter for unit white noise, sqrt(sum h[n]^2)."""
    impulse = np.zeros(1 << 16)
    impulse[0] = 1.0
    return float(np.sqrt(np.sum(scipy.signal.lfilter(b, a, impulse) ** 2)))


_NOISE_FILTERS = {"pink": (_PINK_B, _PINK_A), "brown": (_BROWN_B, _BROWN_A)}
_NOISE_GAIN: dict[str, float] = {}


class Schedule:
    """A parameter that changes over time: interpolation through (time, value) points.

    Parameters
    ----------
    points : sequence of (float, float)
        ``(t, value)`` pairs, times in seconds, increasing. Before the first
        point the first value holds, after the last the last value.
    shape : {'linear', 'smooth'}
        Interpolation between points: straight lines, or raised-cosine
        (``w = (1 - cos(pi u)) / 2``) easing with zero slope at each point.

    Examples
    --------
    >>> Schedule([(0, 10.0), (300, 4.0)])(np.array([0.0, 150.0, 400.0]))
    array([10.,  7.,  4.])
    """

    def __init__(self, points: Sequence[tuple[float, float]], shape: str = "linear") -> None:
        pts = np.asarray(points, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0 or np.any(np.diff(pts[:, 0]) <= 0):
            raise ParameterError("a Schedule needs (time, value) points with strictly increasing times")
        if shape not in ("linear", "smooth"):
            raise ParameterError(f"schedule shape must be 'linear' or 'smooth', got {shape!r}")
        self.times, self.values, self.shape = pts[:, 0], pts[:, 1], shape

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        if len(self.times) == 1:
            return np.full(t.shape, self.values[0])
        idx = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.times) - 2)
        t0, t1 = self.times[idx], self.times[idx + 1]
        u = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
        if self.shape == "smooth":
            u = 0.5 - 0.5 * np.cos(np.pi * u)
        return self.values[idx] + u * (self.values[idx + 1] - self.values[idx])


class _Phase:
    """Phase accumulator in cycles; returns the phase of each sample of a block."""

    def __init__(self, sfreq: float) -> None:
        self.sfreq = float(sfreq)
        self.phase = 0.0

    def advance(self, freq: np.ndarray | float, n: int) -> np.ndarray:
        if np.ndim(freq) == 0:
            step = float(freq) / self.sfreq
            ph = self.phase + step * np.arange(n, dtype=np.float64)
            self.phase = (self.phase + step * n) % 1.0
        else:
            inc = np.asarray(freq, dtype=np.float64) / self.sfreq
            ph = np.empty(n)
            ph[0] = self.phase
            np.cumsum(inc[:-1], out=ph[1:])
            ph[1:] += self.phase
            self.phase = float((ph[-1] + inc[-1]) % 1.0)
        ph -= np.floor(ph)
        return ph


def _sin(cycles: np.ndarray) -> np.ndarray:
    """sin(2 pi x) in float32 for phases x in cycles."""
    return np.sin(cycles.astype(np.float32) * TWO_PI)


def _smooth_gate(x: np.ndarray, on: np.ndarray | float, edge: float) -> np.ndarray:
    """Raised-cosine gate: 1 inside ``[0, on)`` (in the units of x) with ``edge``-long cosine edges, else 0."""
    if edge <= 0:
        return ((x >= 0) & (x < on)).astype(np.float32)
    with np.errstate(over="ignore"):  # a subnormal edge overflows to inf: clipped to 1, a hard gate, as meant
        r = np.clip(np.minimum(x, on - x) / edge, 0.0, 1.0).astype(np.float32)
    return 0.5 - 0.5 * np.cos(np.float32(np.pi) * r)


def _am_gain(cycles: np.ndarray, depth: np.ndarray | float) -> np.ndarray:
    """Sinusoidal amplitude modulation with peak 1 and trough ``1 - depth``."""
    d = np.asarray(depth, dtype=np.float32) * np.float32(0.5)
    return (np.float32(1.0) - d) + d * _sin(cycles)


class Voice(ABC):
    """Base class: a stateful generator of (n_channels, n) float32 blocks.

    Subclasses set ``n_channels`` and implement :meth:`generate`. ``params``
    maps dynamic parameter names to scalars or per-sample arrays; ``t`` is the
    time of each sample in seconds from the start of the current segment.
    """

    n_channels = 1
    dynamic: tuple[str, ...] = ()

    def __init__(self, sfreq: float, **static: Any) -> None:
        self.sfreq = float(sfreq)
        self.static = static

    @abstractmethod
    def generate(self, n: int, t: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """``n`` samples (n_channels, n) for times ``t`` with the current parameter values."""

    @property
    def modulation_param(self) -> str | None:
        """Name of the parameter that sets the envelope rhythm (None for steady voices)."""
        return None


class Tone(Voice):
    """Pure or harmonic tone: ``sum_k a_k sin(2 pi k f t) / sum_k |a_k|``; ``harmonics`` = [a_1, a_2, ...]."""

    dynamic = ("freq",)

    def __init__(self, sfreq: float, harmonics: Sequence[float] = (1.0,), **static: Any) -> None:
        super().__init__(sfreq, **static)
        amps = np.asarray(harmonics, dtype=float)
        self.amps = (amps / np.sum(np.abs(amps))).astype(np.float32)
        self.phase = _Phase(sfreq)

    def generate(self, n, t, params):
        ph = self.phase.advance(params["freq"], n)
        out = np.zeros(n, dtype=np.float32)
        for k, a in enumerate(self.amps, start=1):
            if a:
                out += a * _sin(ph * k)
        return out[np.newaxis]


class Isochronic(Voice):
    """Gated tone: carrier switched on for ``duty`` of each period of ``rate`` Hz, raised-cosine edges.

    ``edge`` is the length of each edge as a fraction of the period (at most
    ``duty / 2``); 0.25 with duty 0.5 gives a Hann-shaped pulse.
    """

    dynamic = ("carrier", "rate")

    def __init__(self, sfreq: float, duty: float = 0.5, edge: float = 0.2, **static: Any) -> None:
        super().__init__(sfreq, **static)
        self.duty, self.edge = float(duty), min(float(edge), float(duty) / 2)
        self.carrier, self.gate = _Phase(sfreq), _Phase(sfreq)

    modulation_param = "rate"

    def generate(self, n, t, params):
        g = _smooth_gate(self.gate.advance(params["rate"], n), self.duty, self.edge)
        return (g * _sin(self.carrier.advance(params["carrier"], n)))[np.newaxis]


class Binaural(Voice):
    """Binaural beat: left ear ``carrier - beat/2``, right ear ``carrier + beat/2`` (Hz)."""

    n_channels = 2
    dynamic = ("carrier", "beat")
    modulation_param = "beat"

    def __init__(self, sfreq: float, **static: Any) -> None:
        super().__init__(sfreq, **static)
        self.left, self.right = _Phase(sfreq), _Phase(sfreq)

    def generate(self, n, t, params):
        half = np.asarray(params["beat"], dtype=float) / 2
        carrier = np.asarray(params["carrier"], dtype=float)
        return np.stack([_sin(self.left.advance(carrier - half, n)), _sin(self.right.advance(carrier + half, n))])


class MusicStream:
    """Read a music file block by block with soundfile, looping at its end.

    A file at another sampling rate is resampled by linear interpolation
    (stateful, so blocks join); this keeps memory constant but adds some
    aliasing above about a quarter of the lower rate: convert the file
    beforehand for critical listening.
    """

    def __init__(self, path: str | Path, sfreq: float, *, field: str = "music") -> None:
        import soundfile as sf

        self.path = Path(path)
        if not self.path.is_file():
            raise InputFileError(f"{field}: music file {str(self.path)!r} does not exist")
        from harmonix.io.audio import decoder_messages

        failure = None
        with decoder_messages() as complaints:  # libmpg123 writes to descriptor 2 on a damaged MP3
            try:
                self.file = sf.SoundFile(str(self.path))
            except Exception as err:  # soundfile raises its own LibsndfileError / RuntimeError
                failure = err
        if failure is not None:
            # libsndfile says "does not exist or is not a regular file" of a file it cannot decode: the decoder's
            # own complaint, when there is one, is the better reason
            reason = complaints[0].strip() if complaints else "not an audio format libsndfile decodes"
            raise InputFileError(f"{field}: cannot decode music file {str(self.path)!r} ({reason}); use WAV or "
                                 "FLAC") from failure
        if self.file.frames == 0:
            raise InputFileError(f"{field}: music file {str(self.path)!r} is empty")
        self.n_channels = min(self.file.channels, 2)
        self.ratio = self.file.samplerate / float(sfreq)
        self.pos = 0.0  # fractional read position relative to self.carry[0]
        self.carry = np.zeros((0, self.n_channels), dtype=np.float32)

    def _read(self, k: int) -> np.ndarray:
        parts, need = [], k
        while need > 0:
            chunk = self.file.read(need, dtype="float32", always_2d=True)[:, : self.n_channels]
            if len(chunk) == 0:
                self.file.seek(0)
                continue
            parts.append(chunk)
            need -= len(chunk)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def read(self, n: int) -> np.ndarray:
        """Return the next ``n`` output samples, shape (n_channels, n)."""
        if self.ratio == 1.0:
            return np.ascontiguousarray(self._read(n).T)
        pos = self.pos + self.ratio * np.arange(n)
        need = int(math.floor(pos[-1])) + 2 - len(self.carry)
        buf = np.concatenate([self.carry, self._read(need)]) if need > 0 else self.carry
        i = np.floor(pos).astype(np.int64)
        frac = (pos - i).astype(np.float32)[:, None]
        out = buf[i] * (1 - frac) + buf[i + 1] * frac
        nxt = self.pos + self.ratio * n
        drop = int(math.floor(nxt))
        self.carry, self.pos = buf[drop:], nxt - drop
        return np.ascontiguousarray(out.T)

    def close(self) -> None:
        self.file.close()


class MusicInfo:
    """What :func:`scan_music` found in a music file."""

    def __init__(self, path: Path, frames: int, samplerate: int, channels: int, peak: float,
                 nonfinite_at: float | None) -> None:
        self.path, self.frames, self.samplerate, self.channels = path, frames, samplerate, channels
        self.peak, self.nonfinite_at = peak, nonfinite_at

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.frames / self.samplerate


def scan_music(path: str | Path, *, field: str = "music", block: int = 1 << 16) -> MusicInfo:
    """Read a music file once, block by block: its length, sample peak and first non-finite sample.

    Raises
    ------
    InputFileError
        Missing, unreadable or empty file (as :class:`MusicStream`).
    """
    from harmonix.io.audio import decoder_messages

    # The scan decodes every frame: a decoder that complains (libmpg123 on a damaged MP3 writes straight to
    # descriptor 2) does so here, and would again on each render pass, so such a file is refused here.
    with decoder_messages() as complaints:
        stream = MusicStream(path, 44100.0, field=field)
        f = stream.file
        peak, bad, pos = 0.0, None, 0
        try:
            f.seek(0)
            for chunk in f.blocks(blocksize=block, dtype="float64", always_2d=True):
                finite = np.isfinite(chunk)
                if bad is None and not finite.all():
                    bad = (pos + int(np.flatnonzero(~finite.all(axis=1))[0])) / f.samplerate
                if finite.any():
                    peak = max(peak, float(np.max(np.abs(chunk[finite]))))
                pos += len(chunk)
        finally:
            stream.close()
    if complaints:
        raise InputFileError(f"{field}: music file {str(stream.path)!r} is damaged: the decoder reported "
                             f"{complaints[0].strip()!r}" + (f" and {len(complaints) - 1} more" if len(complaints) > 1
                                                            else "") + "; re-encode it, or use WAV or FLAC")
    return MusicInfo(stream.path, f.frames, f.samplerate, f.channels, peak, bad)


class AmplitudeModulation(Voice):
    """Sinusoidal AM, gain ``1 - depth/2 + depth/2 sin(2 pi rate t)``, of a tone or of a music stream."""

    dynamic = ("carrier", "rate", "depth")
    modulation_param = "rate"

    def __init__(self, sfreq: float, music: MusicStream | None = None, carrier_kind: str = "tone", **static: Any) -> None:
        super().__init__(sfreq, **static)
        self.music = music
        self.n_channels = music.n_channels if music is not None else 1
        self.mod, self.carrier = _Phase(sfreq), _Phase(sfreq)
        # built-in carrier when no music is given: a soft harmonic chord (partials 1..6, 1/k)
        self.chord = carrier_kind == "chord"

    def generate(self, n, t, params):
        g = _am_gain(self.mod.advance(params["rate"], n), params["depth"])
        if self.music is not None:
            return self.music.read(n) * g
        ph = self.carrier.advance(params["carrier"], n)
        if self.chord:
            x = sum(_sin(ph * k) / k for k in range(1, 7)) / np.float32(sum(1 / k for k in range(1, 7)))
        else:
            x = _sin(ph)
        return (g * x)[np.newaxis]


class Clicks(Voice):
    """Click train: a Hann-windowed tone pip of ``pip`` s at ``carrier`` Hz at every period of ``rate`` Hz."""

    dynamic = ("rate",)
    modulation_param = "rate"

    def __init__(self, sfreq: float, pip: float = 0.001, carrier: float = 1000.0, **static: Any) -> None:
        super().__init__(sfreq, **static)
        self.pip, self.fc = float(pip), float(carrier)
        self.phase = _Phase(sfreq)

    def generate(self, n, t, params):
        tau = self.phase.advance(params["rate"], n) / np.asarray(params["rate"], dtype=float)  # s since pip onset
        inside = tau < self.pip
        out = np.zeros(n, dtype=np.float32)
        ti = tau[inside]
        out[inside] = (0.5 - 0.5 * np.cos(2 * np.pi * ti / self.pip)) * np.sin(2 * np.pi * self.fc * ti)
        return out[np.newaxis]


class Noise(Voice):
    """White, pink (IIR, -3 dB/octave) or brown (leaky integrator) Gaussian noise, RMS 0.25, seeded."""

    def __init__(self, sfreq: float, color: str = "pink", seed: int = 0, **static: Any) -> None:
        super().__init__(sfreq, **static)
        if color not in ("white", "pink", "brown"):
            raise ParameterError(f"noise color must be white, pink or brown, got {color!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ParameterError(f"noise seed must be an integer from 0 to 2**63 - 1, got {seed!r}")
        self.color = color
        self.rng = np.random.default_rng(int(seed))
        if color != "white":
            b, a = _NOISE_FILTERS[color]
            if color not in _NOISE_GAIN:
                _NOISE_GAIN[color] = _filter_rms(b, a)
            self.zi = np.zeros(len(a) - 1)
            self.gain = NOISE_RMS / _NOISE_GAIN[color]
        else:
            self.gain = NOISE_RMS

    def noise(self, n: int) -> np.ndarray:
        w = self.rng.standard_normal(n)
        if self.color != "white":
            b, a = _NOISE_FILTERS[self.color]
            w, self.zi = scipy.signal.lfilter(b, a, w, zi=self.zi)
        return (w * self.gain).astype(np.float32)

    def generate(self, n, t, params):
        return self.noise(n)[np.newaxis]


class Bursts(Noise):
    """Noise bursts of ``burst`` s with raised-cosine ``edge`` s, every 1/``rate`` s or at listed ``times``.

    ``times`` are onsets in seconds from the start of the segment; with
    ``times`` the ``rate`` is ignored.
    """

    dynamic = ("rate",)
    modulation_param = "rate"

    def __init__(self, sfreq: float, burst: float = 0.2, edge: float = 0.02,
                 times: Sequence[float] | None = None, **static: Any) -> None:
        super().__init__(sfreq, **static)
        self.burst, self.edge = float(burst), min(float(edge), float(burst) / 2)
        self.times = None if times is None else np.sort(np.asarray(times, dtype=float))
        self.phase = _Phase(sfreq)

    def generate(self, n, t, params):
        if self.times is not None:
            idx = np.searchsorted(self.times, t, side="right") - 1
            tau = np.where(idx >= 0, t - self.times[np.maximum(idx, 0)], -1.0)
        else:
            tau = self.phase.advance(params["rate"], n) / np.asarray(params["rate"], dtype=float)
        return (_smooth_gate(tau, self.burst, self.edge) * self.noise(n))[np.newaxis]


class Stack(Voice):
    """Harmonic stack: partials k*f0 (k = 1..partials, amplitude 1/k), partial k AM at ``rhythms[(k-1) % len]``.

    ``rhythms`` is a list of rhythm frequencies in Hz (e.g. connectome
    resonances); ``depth`` is the AM depth shared by all partials.
    """

    dynamic = ("f0", "depth")
    modulation_param = "rhythms"

    def __init__(self, sfreq: float, partials: int = 6, n_rhythms: int = 1, **static: Any) -> None:
        super().__init__(sfreq, **static)
        self.k = np.arange(1, int(partials) + 1)
        amps = 1.0 / self.k
        self.amps = (amps / amps.sum()).astype(np.float32)
        self.base = _Phase(sfreq)
        self.mods = [_Phase(sfreq) for _ in range(int(n_rhythms))]

    def generate(self, n, t, params):
        ph = self.base.advance(params["f0"], n)
        rhythms = params["rhythms"]
        gains = [_am_gain(m.advance(r, n), params["depth"]) for m, r in zip(self.mods, rhythms)]
        out = np.zeros(n, dtype=np.float32)
        for i, (k, a) in enumerate(zip(self.k, self.amps)):
            out += a * gains[i % len(gains)] * _sin(ph * k)
        return out[np.newaxis]


VOICE_CLASSES: dict[str, type[Voice]] = {
    "tone": Tone,
    "isochronic": Isochronic,
    "binaural": Binaural,
    "am": AmplitudeModulation,
    "clicks": Clicks,
    "noise": Noise,
    "bursts": Bursts,
    "stack": Stack,
}


ParamValue = float | Callable[[np.ndarray], np.ndarray]


def voice_blocks(
    voice: Voice,
    duration: float,
    *,
    block: int = 8192,
    **params: ParamValue | Sequence[ParamValue],
) -> Iterator[np.ndarray]:
    """Yield float32 blocks ``(voice.n_channels, <= block)`` of a voice for ``duration`` seconds.

    Parameters
    ----------
    voice : Voice
        A voice instance, e.g. ``Binaural(44100)``.
    duration : float
        Seconds to generate (``round(duration * sfreq)`` samples).
    block : int
        Samples per block; memory use is proportional to it, not to duration.
    **params
        Dynamic parameters: numbers, or callables of time in seconds (such as
        a :class:`Schedule`) for slides; ``rhythms`` of a :class:`Stack` is a list.

    Examples
    --------
    >>> blocks = voice_blocks(Binaural(8000), 1.0, carrier=200.0, beat=Schedule([(0, 10), (1, 4)]))
    >>> sum(b.shape[1] for b in blocks)
    8000
    """
    total = int(round(duration * voice.sfreq))
    for start in range(0, total, block):
        n = min(block, total - start)
        t = (start + np.arange(n)) / voice.sfreq
        values = {name: _evaluate(v, t) for name, v in params.items()}
        yield voice.generate(n, t, values).astype(np.float32, copy=False)


def _evaluate(value: Any, t: np.ndarray) -> Any:
    if callable(value):
        return np.asarray(value(t), dtype=float)
    if isinstance(value, (list, tuple)):
        return [_evaluate(v, t) for v in value]
    return float(value)


def tone(freq: ParamValue, duration: float, *, sfreq: float = 44100.0, harmonics: Sequence[float] = (1.0,),
         block: int = 8192) -> Iterator[np.ndarray]:
    """Blocks of a pure (``harmonics=(1,)``) or harmonic tone at ``freq`` Hz (mono)."""
    return voice_blocks(Tone(sfreq, harmonics=harmonics), duration, block=block, freq=freq)


def isochronic(carrier: ParamValue, rate: ParamValue, duration: float, *, sfreq: float = 44100.0,
               duty: float = 0.5, edge: float = 0.2, block: int = 8192) -> Iterator[np.ndarray]:
    """Blocks of an isochronic tone (mono): carrier gated at ``rate`` Hz with smooth edges."""
    return voice_blocks(Isochronic(sfreq, duty=duty, edge=edge), duration, block=block, carrier=carrier, rate=rate)


def binaural(carrier: ParamValue, beat: ParamValue, duration: float, *, sfreq: float = 44100.0,
             block: int = 8192) -> Iterator[np.ndarray]:
    """Blocks of a binaural beat (stereo): left ``carrier - beat/2``, right ``carrier + beat/2`` Hz."""
    return voice_blocks(Binaural(sfreq), duration, block=block, carrier=carrier, beat=beat)


def amplitude_modulation(rate: ParamValue, duration: float, *, carrier: ParamValue = 440.0, depth: ParamValue = 1.0,
                         music: str | Path | None = None, sfreq: float = 44100.0,
                         block: int = 8192) -> Iterator[np.ndarray]:
    """Blocks of a tone (or of a music file, streamed and looped) amplitude-modulated at ``rate`` Hz."""
    stream = MusicStream(music, sfreq) if music is not None else None
    voice = AmplitudeModulation(sfreq, music=stream)
    return voice_blocks(voice, duration, block=block, carrier=carrier, rate=rate, depth=depth)


def click_train(rate: ParamValue = 40.0, duration: float = 1.0, *, pip: float = 0.001, carrier: float = 1000.0,
                sfreq: float = 44100.0, block: int = 8192) -> Iterator[np.ndarray]:
    """Blocks of tone pips (``pip`` s, Hann window, ``carrier`` Hz) at ``rate`` Hz (mono)."""
    return voice_blocks(Clicks(sfreq, pip=pip, carrier=carrier), duration, block=block, rate=rate)


def noise(color: str, duration: float, *, seed: int = 0, sfreq: float = 44100.0,
          block: int = 8192) -> Iterator[np.ndarray]:
    """Blocks of white, pink or brown noise (mono, RMS 0.25), reproducible from ``seed``."""
    return voice_blocks(Noise(sfreq, color=color, seed=seed), duration, block=block)


def noise_bursts(duration: float, *, rate: ParamValue = 1.0, times: Sequence[float] | None = None,
                 burst: float = 0.2, edge: float = 0.02, color: str = "pink", seed: int = 0,
                 sfreq: float = 44100.0, block: int = 8192) -> Iterator[np.ndarray]:
    """Blocks of noise bursts every ``1/rate`` s, or at the onsets ``times`` (s)."""
    voice = Bursts(sfreq, burst=burst, edge=edge, times=times, color=color, seed=seed)
    return voice_blocks(voice, duration, block=block, rate=rate)


def harmonic_stack(f0: ParamValue, rhythms: Sequence[ParamValue], duration: float, *, partials: int = 6,
                   depth: ParamValue = 1.0, sfreq: float = 44100.0, block: int = 8192) -> Iterator[np.ndarray]:
    """Blocks of a harmonic stack on ``f0`` Hz whose partials pulse at rhythms taken from ``rhythms`` (Hz)."""
    voice = Stack(sfreq, partials=partials, n_rhythms=len(rhythms))
    return voice_blocks(voice, duration, block=block, f0=f0, depth=depth, rhythms=list(rhythms))

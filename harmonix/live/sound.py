"""Sound out of a live session: event sounds, the safety limits, and the two sinks.

The session clock runs on the received EEG: session time ``t`` is sample
``t * sfreq`` of the recorded FIF (gaps included). Every sound is placed on
that clock. :class:`WavSink` (``--dry-run``) writes it to a WAV file whose
sample ``k`` is session time ``k / audio_sfreq``, so the file lines up
sample for sample with where the sound would have been played.
:class:`DeviceSink` plays it through sounddevice, converting session time to
the sound card's clock through the stream's LSL timestamps.

Safety, always on: a sound's peak never exceeds
:data:`~harmonix.stimulus.protocol.PEAK_CEILING_DBFS` (a level above it is
refused; the sinks also clamp every sample at the ceiling and count
clamps), and an exposure limit refuses a sound that would make the sound-on
time exceed ``max_duty`` of any 60-s stretch.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harmonix.errors import HarmonixError, ParameterError
from harmonix.stimulus import primitives as prim
from harmonix.stimulus import protocol as P

EVENT_KINDS = ("burst", "click", "pip")
"""``burst``: pink noise with 5-ms raised-cosine edges (Ngo et al. 2013 used 50-ms pink-noise bursts);
``click``: a 1-ms 1-kHz tone pip; ``pip``: a Hann-windowed 1-kHz tone pip of the event's duration."""

EXPOSURE_WINDOW_S = 60.0


def _concatenate(blocks) -> np.ndarray:
    return np.concatenate([np.asarray(b, dtype=np.float64).reshape(-1) for b in blocks])


@dataclass(frozen=True)
class EventSound:
    """One stimulation sound.

    Attributes
    ----------
    kind : {'burst', 'click', 'pip'}
    duration : float
        Seconds (a click is always 1 ms).
    level_dbfs : float
        Peak level; at most the ceiling unless ``override``.
    sfreq : float
        Audio sampling rate in Hz.
    override : bool
        Allow a level above the ceiling (the sinks still clamp at 0 dBFS).
    """

    kind: str = "burst"
    duration: float = 0.05
    level_dbfs: float = -20.0
    sfreq: float = 44100.0
    override: bool = False

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ParameterError(f"event sound must be one of {', '.join(EVENT_KINDS)}, got {self.kind!r}")
        if not 0.001 <= self.duration <= 1.0:
            raise ParameterError(f"event duration must be 1 ms to 1 s, got {self.duration:g} s")
        if not math.isfinite(self.level_dbfs) or (self.level_dbfs > P.PEAK_CEILING_DBFS and not self.override):
            raise ParameterError(f"event level {self.level_dbfs:g} dBFS is outside the safety limits: the peak "
                                 f"ceiling is {P.PEAK_CEILING_DBFS:g} dBFS (--override to exceed it)")

    @property
    def seconds(self) -> float:
        """How long the sound lasts."""
        return 0.001 if self.kind == "click" else self.duration

    def render(self, seed: int = 0) -> np.ndarray:
        """The waveform (mono float64) scaled to its peak level."""
        n = max(1, int(round(self.seconds * self.sfreq)))
        seconds = n / self.sfreq
        if self.kind == "burst":
            wave = _concatenate(prim.noise_bursts(seconds, times=[0.0], burst=seconds, edge=min(0.005, seconds / 2),
                                                  seed=seed, sfreq=self.sfreq))
        else:
            wave = _concatenate(prim.click_train(1.0 / (2 * seconds), seconds, pip=seconds, sfreq=self.sfreq))
        wave = wave[:n]
        peak = np.max(np.abs(wave))
        return wave * (10 ** (self.level_dbfs / 20) / peak) if peak > 0 else wave


@dataclass
class ExposureLimit:
    """Refuse a sound that would push sound-on time over ``max_duty`` of the last 60 s."""

    max_duty: float = 0.25
    _sounds: deque = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.max_duty <= 1:
            raise ParameterError(f"maximum sound duty must be in (0, 1], got {self.max_duty}")

    def refund(self, onset: float) -> None:
        """Forget the sound recorded at ``onset`` (it was cancelled before it played)."""
        for i, (at, _) in enumerate(self._sounds):
            if at == onset:
                del self._sounds[i]
                return

    def allow(self, onset: float, seconds: float) -> bool:
        """Whether a sound of ``seconds`` at ``onset`` fits; recorded when it does."""
        while self._sounds and self._sounds[0][0] < onset - EXPOSURE_WINDOW_S:
            self._sounds.popleft()
        on = sum(s for _, s in self._sounds) + seconds
        if on > self.max_duty * EXPOSURE_WINDOW_S:
            return False
        self._sounds.append((onset, seconds))
        return True


def ceiling_amplitude(override: bool = False) -> float:
    """Largest sample magnitude the sinks let through."""
    return 1.0 if override else 10 ** (P.PEAK_CEILING_DBFS / 20)


@dataclass
class Pending:
    """A scheduled sound: onset (s, session clock), samples, label."""

    onset: float
    samples: np.ndarray
    label: str
    started: bool = False
    at: float = 0.0
    pos: int = 0


class WavSink:
    """Writes the session's audio to a WAV file on the session clock (``--dry-run``)."""

    def __init__(self, path: str | Path, sfreq: float, *, override: bool = False) -> None:
        import soundfile

        self.path, self.sfreq = Path(path), float(sfreq)
        self._file = soundfile.SoundFile(str(self.path), "w", samplerate=int(round(sfreq)), channels=1,
                                         subtype="FLOAT", format="WAV")
        self._written = 0
        self._pending: list[Pending] = []
        self.ceiling = ceiling_amplitude(override)
        self.clamped = 0
        self.source = None  # a continuous source (protocol): source(n, session time of the first sample)

    def schedule(self, onset: float, samples: np.ndarray, label: str) -> None:
        """Play ``samples`` from session time ``onset``."""
        self._pending.append(Pending(onset, np.asarray(samples, dtype=np.float64), label))

    def cancel_from(self, time: float) -> list[Pending]:
        """Drop sounds not yet started whose onset is at or after ``time`` (a gap begins there)."""
        dropped = [p for p in self._pending if not p.started and p.onset >= time - 1e-12]
        self._pending = [p for p in self._pending if p not in dropped]
        return dropped

    def advance(self, time: float) -> list[Pending]:
        """Write audio up to session time ``time``; returns the sounds that started in it."""
        stop = int(round(time * self.sfreq))
        return self._render(stop - self._written) if stop > self._written else []

    def close(self, fade_seconds: float = 0.5) -> None:
        """Fade a continuous source out over ``fade_seconds`` past the last sample, then close the file.

        Sounds not yet started are dropped; a sound already playing is finished under the fade.
        """
        n = int(round(fade_seconds * self.sfreq)) if self.source is not None else 0
        if n > 0:
            self._render(n, fade=0.5 + 0.5 * np.cos(np.pi * np.arange(n) / n), begin=False)
        self._file.close()

    def _render(self, n: int, *, fade: np.ndarray | None = None, begin: bool = True) -> list[Pending]:
        """Write the next ``n`` samples (source plus sounds, under ``fade``); the sounds that started in them.

        With ``begin=False`` only sounds already playing are mixed in."""
        start, stop = self._written, self._written + n
        block = np.zeros(n) if self.source is None else np.asarray(self.source(n, start / self.sfreq), float)
        started = []
        for p in list(self._pending):
            if not (begin or p.started):
                continue
            first = int(round(p.onset * self.sfreq))
            lo, hi = max(first, start), min(first + p.samples.size, stop)
            if lo < hi:
                block[lo - start : hi - start] += p.samples[lo - first : hi - first]
            if not p.started and first < stop:
                p.started = True
                started.append(p)
            if first + p.samples.size <= stop:
                self._pending.remove(p)
        if fade is not None:
            block *= fade
        self.clamped += int((np.abs(block) > self.ceiling).sum())
        self._file.write(np.clip(block, -self.ceiling, self.ceiling).astype(np.float32))
        self._written = stop
        return started


def check_device(device: int | str | None, sfreq: float) -> None:
    """Fail with one line when the output device does not exist or cannot play at ``sfreq``."""
    from harmonix.stimulus.playback import import_sounddevice

    sd = import_sounddevice("use --dry-run to write the audio to a file")
    try:
        sd.check_output_settings(device=device, samplerate=sfreq, channels=1, dtype="float32")
    except Exception as err:  # PortAudioError or ValueError: no such device
        msg = " ".join(str(err).split()) or type(err).__name__
        what = "the default audio output" if device is None else f"audio device {device!r}"
        raise HarmonixError(f"cannot play through {what}: {msg}; list devices with "
                            "'python -m sounddevice', or use --dry-run") from err


class DeviceSink:
    """Plays the session's sounds through sounddevice, on the sound card's clock.

    ``to_local(t)`` converts session time to :func:`mne_lsl.lsl.local_clock`
    time (the stream's timestamps); the output callback converts that to
    the device's DAC time, so a sound starts at its sample within the block.
    """

    def __init__(self, device: int | str | None, sfreq: float, *, override: bool = False) -> None:
        import sounddevice as sd
        from mne_lsl.lsl import local_clock

        check_device(device, sfreq)
        self.sfreq = float(sfreq)
        self._clock = local_clock
        self._pending: list[Pending] = []
        self._started: list[Pending] = []
        self._lock = threading.Lock()  # the output callback runs on PortAudio's thread
        self.underflows = 0
        self.ceiling = ceiling_amplitude(override)
        self.clamped = 0
        self.source = None
        self.to_local = lambda t: t
        self._fade = None
        self._stream = sd.OutputStream(samplerate=sfreq, channels=1, dtype="float32", device=device,
                                       callback=self._callback, latency="low")
        self._stream.start()

    @property
    def latency(self) -> float:
        """The device's output latency in s."""
        return float(self._stream.latency)

    def schedule(self, onset: float, samples: np.ndarray, label: str) -> None:
        p = Pending(onset, np.asarray(samples, dtype=np.float64), label)
        p.at = self.to_local(onset)
        with self._lock:
            self._pending.append(p)

    def cancel_from(self, time: float) -> list[Pending]:
        local = self.to_local(time)
        with self._lock:
            dropped = [p for p in self._pending if not p.started and p.at >= local]
            self._pending = [p for p in self._pending if p not in dropped]
        return dropped

    def advance(self, time: float) -> list[Pending]:
        with self._lock:
            started, self._started = self._started, []
        return started

    def _callback(self, out, frames, timing, status) -> None:
        # The first sample of this block sounds at outputBufferDacTime on the device's clock,
        # i.e. that much after now on the LSL clock.
        first_local = self._clock() + (timing.outputBufferDacTime - timing.currentTime)
        if status.output_underflow:
            self.underflows += 1
        block = np.zeros(frames) if self.source is None else np.asarray(self.source(frames), dtype=np.float64)
        with self._lock:
            self._mix(block, frames, first_local)
        if self._fade is not None:
            block *= self._fade(frames)
        over = np.abs(block) > self.ceiling
        self.clamped += int(over.sum())
        out[:, 0] = np.clip(block, -self.ceiling, self.ceiling)

    def _mix(self, block: np.ndarray, frames: int, first_local: float) -> None:
        for p in list(self._pending):
            lo = 0
            if not p.started:
                lo = int(round((p.at - first_local) * self.sfreq))
                if lo >= frames:
                    continue
                lo = max(lo, 0)  # late (a slow hop): start at once rather than never
            take = min(frames - lo, p.samples.size - p.pos)
            block[lo : lo + take] += p.samples[p.pos : p.pos + take]
            p.pos += take
            if not p.started:
                p.started = True
                self._started.append(p)
            if p.pos >= p.samples.size:
                self._pending.remove(p)

    def close(self, fade_seconds: float = 0.5) -> None:
        """Fade the continuous source out over ``fade_seconds``, then stop."""
        import time

        n_total, done = max(1, int(fade_seconds * self.sfreq)), [0]

        def fade(frames: int) -> np.ndarray:
            k = done[0] + np.arange(frames)
            done[0] += frames
            return np.where(k < n_total, 0.5 + 0.5 * np.cos(np.pi * np.minimum(k, n_total) / n_total), 0.0)

        self._fade = fade
        time.sleep(fade_seconds + self.latency)
        self._stream.stop()
        self._stream.close()

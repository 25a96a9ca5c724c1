"""A stimulation protocol played live: pause, resume and volume from the keyboard.

The protocol is checked and loudness-normalised exactly as for a file
(:func:`harmonix.stimulus.render.prepare`, ``measure``, ``choose_gain``),
then synthesised block by block as the sink asks for samples. While paused
the sink gets silence and the protocol's clock stands still. The volume
only attenuates (0 dB is the safe rendered level; steps of 3 dB down to
-60 dB). Every pause, resume, volume change and segment change is reported
to the session as an event.

Keys (on a terminal): space pauses or resumes, ``-``/``+`` lower or raise
the volume, ``q`` ends the session (as Ctrl-C does).
"""

from __future__ import annotations

import queue
import sys
import threading
from os import PathLike

import numpy as np

from harmonix.stimulus import protocol as P
from harmonix.stimulus import render as R
from harmonix.stimulus import safety as S

VOLUME_STEP_DB = 3.0
MIN_VOLUME_DB = -60.0


def _drain(items) -> list:
    """Everything waiting in a queue filled by another thread."""
    out = []
    while True:
        try:
            out.append(items.get_nowait())
        except queue.Empty:
            return out


class LiveProtocol:
    """A protocol as a continuous source for a sink (``source(n) -> n samples``)."""

    def __init__(self, protocol: P.Protocol | str | PathLike, *, sfreq: float, override: bool = False,
                 seconds: float | None = None) -> None:
        proto = R.resolve_protocol(protocol, seconds=seconds)
        notes = R.prepare(proto, sfreq=sfreq, override=override)
        gain_db, more = R.choose_gain(proto, R.measure(proto, sfreq=sfreq))
        S.warn_all(notes + more)
        self.protocol, self.sfreq, self.gain_db = proto, float(sfreq), gain_db
        self._blocks = R.synthesize(proto, sfreq=sfreq, gain=10 ** (gain_db / 20))
        self._buffer = np.zeros(0)
        self.position = 0  # protocol samples played
        self.paused = False
        self.volume_db = 0.0
        self.finished = False
        # filled by the audio path (perhaps the sound card's thread), emptied by the session loop
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self._segment = -1

    @property
    def time(self) -> float:
        """Protocol time played, in s."""
        return self.position / self.sfreq

    def segment_label(self, i: int) -> str:
        seg = self.protocol.segments[i]
        return seg.label or f"segment{i + 1}"

    def _emit(self, kind: str, text: str, at: float | None) -> None:
        self.events.put((kind, text, at))

    def drain(self) -> list[tuple[str, str, float | None]]:
        """Events since the last call: (kind, text, session time or None when only "now" is known)."""
        return _drain(self.events)

    def __call__(self, n: int, start_time: float | None = None) -> np.ndarray:
        """The next ``n`` samples; ``start_time`` is the session time of the first (for the events' onsets)."""
        if self.paused or self.finished:
            return np.zeros(n)
        while self._buffer.size < n:
            try:
                block = next(self._blocks)
            except StopIteration:
                break
            self._buffer = np.concatenate([self._buffer, block.mean(axis=0).astype(np.float64)])
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        for i, seg in enumerate(self.protocol.segments):
            first = int(round(seg.start * self.sfreq))
            if self.position <= first < self.position + out.size and i > self._segment:
                self._segment = i
                at = None if start_time is None else start_time + (first - self.position) / self.sfreq
                self._emit("segment", self.segment_label(i), at)
        self.position += out.size
        if out.size < n:
            self.finished = True
            self._emit("protocol", "finished", None if start_time is None else start_time + out.size / self.sfreq)
            out = np.concatenate([out, np.zeros(n - out.size)])
        return out * 10 ** (self.volume_db / 20)

    def command(self, key: str) -> None:
        """Apply one key: ' ' pause/resume, '-' / '+' volume."""
        if key == " ":
            self.paused = not self.paused
            self._emit("control", "paused" if self.paused else "resumed", None)
        elif key in "-_":
            self.volume_db = max(MIN_VOLUME_DB, self.volume_db - VOLUME_STEP_DB)
            self._emit("control", f"volume {self.volume_db:+.0f} dB", None)
        elif key in "+=":
            self.volume_db = min(0.0, self.volume_db + VOLUME_STEP_DB)
            self._emit("control", f"volume {self.volume_db:+.0f} dB", None)


class Keyboard:
    """Single key presses from a terminal, read by a thread; nothing when stdin is not a terminal."""

    def __init__(self) -> None:
        self.keys: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._saved = None
        if not sys.stdin.isatty():
            return
        import termios
        import tty

        fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            ch = sys.stdin.read(1)
            if not ch:
                return
            self.keys.put(ch)

    def pressed(self) -> list[str]:
        """Keys pressed since the last call."""
        return _drain(self.keys)

    def close(self) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None

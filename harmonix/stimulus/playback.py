"""Play a protocol through the sound card with sounddevice (PortAudio).

``sounddevice`` is imported only here, when playing: rendering and checking
never need PortAudio. Loudness is normalised exactly as for a file (a
measuring pass first; about 1-2 % of the protocol's duration), then blocks
are written to a blocking output stream. Ctrl-C fades the sound out over
``stop_fade`` seconds, then closes the stream and re-raises KeyboardInterrupt.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from harmonix.errors import HarmonixError
from harmonix.stimulus import protocol as P
from harmonix.stimulus import render as R
from harmonix.stimulus import safety as S


def import_sounddevice(instead: str = "render to a file with -o out.wav"):
    """The sounddevice module, or one line saying what is missing and what to do ``instead``."""
    try:
        import sounddevice
    except OSError as err:  # sounddevice raises OSError when libportaudio is missing
        raise HarmonixError(f"cannot play: PortAudio library not found ({err}); install libportaudio2, "
                            f"or {instead}") from err
    except ImportError as err:
        raise HarmonixError("cannot play: the sounddevice package is not installed (pip install sounddevice); "
                            f"or {instead}") from err
    return sounddevice


def _open_stream(sfreq: float, channels: int, device=None):
    sd = import_sounddevice()
    try:
        stream = sd.OutputStream(samplerate=sfreq, channels=channels, dtype="float32", device=device)
        stream.start()
    except Exception as err:  # PortAudioError / ValueError: no (such) output device
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise HarmonixError(f"cannot play: no usable audio output device ({msg}); "
                            "render to a file with -o out.wav instead") from err
    return stream


def play_protocol(
    protocol: P.Protocol | str | PathLike,
    *,
    seconds: float | None = None,
    music: str | PathLike | None = None,
    sfreq: float = 44100.0,
    override: bool = False,
    device: int | str | None = None,
    stop_fade: float = 0.5,
    block: int = 4096,
) -> None:
    """Play a protocol (same options as :func:`~harmonix.stimulus.render.render_protocol`).

    Raises
    ------
    HarmonixError
        One line when PortAudio or an output device is missing (checked
        before the measuring pass, so the user does not wait for it).
    KeyboardInterrupt
        After fading out on Ctrl-C.
    """
    proto = R.resolve_protocol(protocol, seconds=seconds, music=music)
    notes = R.prepare(proto, sfreq=sfreq, override=override)
    stream = _open_stream(sfreq, proto.channels, device)
    try:
        m = R.measure(proto, sfreq=sfreq, progress=True)
        gain_db, more = R.choose_gain(proto, m)
        S.warn_all(notes + more)
        blocks = R.synthesize(proto, sfreq=sfreq, block=block, gain=10 ** (gain_db / 20))
        try:
            for b in blocks:
                stream.write(np.ascontiguousarray(b.T))
        except KeyboardInterrupt:
            _fade_out(stream, blocks, sfreq, stop_fade)
            raise
    finally:
        stream.close()


def _fade_out(stream, blocks, sfreq: float, stop_fade: float) -> None:
    """Write ``stop_fade`` s more of the stream under a falling half-cosine, then stop."""
    n_left = int(stop_fade * sfreq)
    pos = 0
    try:
        for b in blocks:
            n = min(b.shape[1], n_left - pos)
            if n <= 0:
                break
            ramp = 0.5 + 0.5 * np.cos(np.pi * (pos + np.arange(n)) / n_left)
            stream.write(np.ascontiguousarray((b[:, :n] * ramp.astype(np.float32)).T))
            pos += n
    except KeyboardInterrupt:  # a second Ctrl-C: stop now
        pass
    finally:
        stream.abort() if hasattr(stream, "abort") else None

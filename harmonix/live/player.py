"""``harmonix stream``: any recording harmonix reads, played as an LSL stream (mne-lsl's player).

The recording is read with :func:`~harmonix.io.eeg.load_eeg` (every format,
channel names normalised) and handed to :class:`mne_lsl.player.PlayerLSL`,
which pushes it in real time, chunk by chunk, looping by default; its
annotations go out on a second stream. Without a file, a synthetic
64-channel recording with a known alpha rhythm
(:func:`~harmonix.simulate.synthetic.synthetic_eeg`) is played: the
embedded default for trying ``harmonix live`` without a headset.
"""

from __future__ import annotations

import time
from os import PathLike
from pathlib import Path

import mne
import numpy as np

from harmonix.errors import HarmonixError, ParameterError
from harmonix.live.lsl import _quiet_liblsl

DEFAULT_NAME = "harmonix-stream"


def recording_for_stream(path: str | PathLike | None, *, seed: int = 0) -> mne.io.BaseRaw:
    """The Raw to play: the file's (continuous data only), or the synthetic default."""
    if path is None:
        from harmonix.simulate.synthetic import synthetic_eeg

        raw, _ = synthetic_eeg(duration=120.0, sfreq=250.0, alpha_amplitude=2.0, seed=seed)
        return raw
    from harmonix.io.eeg import load_eeg

    inst = load_eeg(path, verbose="error")
    if not isinstance(inst, mne.io.BaseRaw):
        raise HarmonixError(f"{path}: holds epochs; an LSL stream needs a continuous recording")
    return inst


def open_player(raw: mne.io.BaseRaw, *, name: str = DEFAULT_NAME, source_id: str | None = None,
                chunk_size: int = 10, loop: bool = True):
    """A started :class:`mne_lsl.player.PlayerLSL` of ``raw``."""
    if chunk_size < 1:
        raise ParameterError(f"chunk size must be at least 1 sample, got {chunk_size}")
    _quiet_liblsl()
    from mne_lsl.player import PlayerLSL

    player = PlayerLSL(raw, chunk_size=chunk_size, n_repeat=np.inf if loop else 1, name=name,
                       source_id=source_id or name)
    return player.start()


def stream_file(path: str | PathLike | None, *, name: str = DEFAULT_NAME, source_id: str | None = None,
                chunk_size: int = 10, loop: bool = True, seconds: float | None = None) -> None:
    """Stream until Ctrl-C (or ``seconds``, or the end of the file when not looping)."""
    from harmonix.progress import stage_line

    raw = recording_for_stream(path)
    player = open_player(raw, name=name, source_id=source_id, chunk_size=chunk_size, loop=loop)
    what = "synthetic 64-channel EEG with alpha" if path is None else Path(path).name
    stage_line(f"stream: {what} ({len(raw.ch_names)} channels at {raw.info['sfreq']:g} Hz) as LSL stream {name!r}"
               f"{', looping' if loop else ''}; Ctrl-C to stop")
    length = raw.n_times / raw.info["sfreq"]
    limit = seconds if seconds is not None else (None if loop else length + 0.5)
    start = time.monotonic()
    try:
        while limit is None or time.monotonic() - start < limit:
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        player.stop()

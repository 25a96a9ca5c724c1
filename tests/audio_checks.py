"""Independent audio measurements for the safety tests (not harmonix's own meters).

harmonix's renderer measures true peak with its own 16x polyphase meter and a
bound (:mod:`harmonix.stimulus.safety`); a test that used the same meter could
not catch a mistake in it. Here the true peak is measured the textbook ways:
exact band-limited (FFT) resampling of the whole zero-padded file to 16x, or
a long Kaiser polyphase interpolator, and the largest magnitude of that grid
is taken. Loudness comes from ``pyloudnorm`` (an independent ITU-R BS.1770-4
implementation).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyloudnorm
import scipy.signal
import soundfile

OVERSAMPLE = 16
LOUDNESS_TOLERANCE_LU = 0.02
"""pyloudnorm and harmonix place the relative gate within 0.01 LU of each other on the same file."""

_POLY = scipy.signal.firwin(OVERSAMPLE * 320 + 1, 1 / OVERSAMPLE, window=("kaiser", 12.0))
"""Interpolation filter at 16x: flat (1e-6) to 0.97 x Nyquist, images from 1.03 x Nyquist down 120 dB."""


def true_peak_fft(x: np.ndarray) -> float:
    """Largest |value| on a 16x grid: FFT resampling of each channel, zero-padded by half its length + 2048."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    pad = len(x) // 2 + 2048  # the band-limited reconstruction rings beyond both ends: keep room for it
    best = 0.0
    for ch in x.T:
        y = scipy.signal.resample(np.concatenate([np.zeros(pad), ch, np.zeros(pad)]),
                                  OVERSAMPLE * (len(ch) + 2 * pad))
        best = max(best, float(np.max(np.abs(y))))
    return best


def true_peak_poly(x: np.ndarray) -> float:
    """Largest |value| on a 16x grid from a long Kaiser polyphase interpolator (zeros beyond both ends)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    pad = np.zeros((400, x.shape[1]))
    y = scipy.signal.resample_poly(np.concatenate([pad, x, pad]), OVERSAMPLE, 1, axis=0, window=_POLY)
    return float(np.max(np.abs(y)))


def loudness(x: np.ndarray, sfreq: float) -> float:
    """Integrated loudness (LUFS) by pyloudnorm."""
    return float(pyloudnorm.Meter(int(sfreq)).integrated_loudness(np.asarray(x, dtype=np.float64)))


def db(x: float) -> float:
    return 20 * math.log10(x) if x > 0 else -math.inf


def check_file(path: str | Path, peak_dbfs: float, loudness_lufs: float | None) -> tuple[float, float]:
    """Independent true peak (dBFS) and loudness (LUFS) of a written file, asserted within its limits."""
    x, sfreq = soundfile.read(str(path), dtype="float64", always_2d=True)
    tp = db(true_peak_fft(x))
    lufs = loudness(x, sfreq)
    assert tp <= peak_dbfs, f"{path}: true peak {tp:.4f} dBFS above the {peak_dbfs} dBFS ceiling"
    if loudness_lufs is not None:
        assert lufs <= loudness_lufs + LOUDNESS_TOLERANCE_LU, \
            f"{path}: loudness {lufs:.3f} LUFS above the {loudness_lufs} LUFS target"
    return tp, lufs

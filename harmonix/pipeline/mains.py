"""Mains interference in an analysis: measured on every recording, removed on request.

:func:`mains_layout` reads a bounded excerpt of the good data, detects 50/60 Hz
and their harmonics (:func:`harmonix.spectral.line_noise.detect_line_noise`),
records what it found, warns when mains is there, and returns the recording
layout to read: through a zero-phase notch (:func:`harmonix.spectral.line_noise.notch_taps`)
when one is asked for or detected with ``notch='auto'``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from harmonix.errors import DataWarning, ParameterError
from harmonix.pipeline.layout import RecordingLayout
from harmonix.spectral.line_noise import MAINS_FREQS, detect_line_noise, notch_taps
from harmonix.spectral.segments import spread_evenly, tile_windows

__all__ = ["MAINS_EXCERPT_SECONDS", "mains_layout"]

MAINS_EXCERPT_SECONDS = (8.0, 30)
"""Mains detection reads at most 30 windows of 8 s spread evenly over the good data (4 minutes):
hum is steady over a recording, and a bounded excerpt keeps the check's cost off hour-long files."""


def _notch_request(notch: str | float, source: str) -> float | None | str:
    """``'auto'``, a mains frequency, or ``None`` (off), from the user's value."""
    if isinstance(notch, str):
        word = notch.strip().lower()
        if word in ("auto", "off", "none"):
            return None if word != "auto" else "auto"
        try:
            notch = float(word)
        except ValueError:
            notch = -1.0
    if notch is None:
        return None
    if isinstance(notch, bool) or float(notch) not in MAINS_FREQS:
        raise ParameterError(f"{source}: notch must be 'auto', 50, 60 or 'off', got {notch!r}")
    return float(notch)


def mains_layout(layout: RecordingLayout, notch: str | float, source: str) -> tuple[RecordingLayout, dict]:
    """Detect mains on an excerpt of the good data; return the layout to read (notched or not) and the record."""
    request = _notch_request(notch, source)
    sfreq = layout.sfreq
    seconds, max_windows = MAINS_EXCERPT_SECONDS
    length = min(int(round(seconds * sfreq)), int(layout.span_lengths.min()) if layout.epoched else layout.longest_span)
    starts = spread_evenly(tile_windows(layout.spans, length), max_windows)
    excerpt = np.stack([layout.read(int(a), int(a) + length) for a in starts])
    found = detect_line_noise(excerpt, sfreq, segment_seconds=min(2.0, length / sfreq))
    record = {
        "method": ("Welch PSD at each mains harmonic over the median of the bins 0.5-2 Hz away; threshold from the "
                   "chi-square null of that ratio, Bonferroni over channels and harmonics "
                   "(harmonix.spectral.line_noise)"),
        "excerpt_s": float(starts.size * length / sfreq),
        "detected_hz": found.freq,
        "summary": found.summary(),
        "threshold_db": float(found.threshold_db), "alpha": float(found.alpha), "dof": float(found.dof),
        "harmonics": [{"freq_hz": float(h), "excess_db": float(e), "detected": bool(d)}
                      for h, e, d in zip(found.harmonics, found.excess_db, found.detected)],
    }
    target = found.freq if request == "auto" else request
    notch_record = {"requested": "off" if request is None else (request if request == "auto" else float(request)),
                    "applied": False, "freqs_hz": []}
    if target is not None:
        taps, removed = notch_taps(float(target), sfreq)
        layout = replace(layout, fir=taps)
        notch_record.update(applied=True, freqs_hz=[float(f) for f in removed], fir_length_s=taps.size / sfreq,
                            design=("mne.filter.create_filter band-stop, firwin/Hamming, widths f/200 + 1 Hz "
                                    "transition (as mne.io.Raw.notch_filter), zero-phase, per good span"))
    record["notch"] = notch_record
    if found.freq is not None:
        if notch_record["applied"] and target == found.freq:
            action = f"removed by a notch at {', '.join(f'{f:g}' for f in notch_record['freqs_hz'])} Hz"
        elif notch_record["applied"]:
            action = f"but the notch requested is at {target:g} Hz, so it stays in the data"
        else:
            action = ("not removed (notch off): band powers near it, the broadband energy and the harmonic "
                      "proxies include it")
        warnings.warn(f"{source}: {found.summary()}; {action}", DataWarning, stacklevel=3)
    return layout, record

"""Compose the library into the per-recording analyses the CLI runs.

Each function takes an already opened recording (``mne.io.Raw``/``Epochs``,
loaded or not, or :class:`~harmonix.io.audio.Audio`), runs the estimators in
pipeline order and returns an :class:`Analysis`: a tidy metrics table, the
parameters that produced it, and the arrays worth keeping. Nothing here writes
files; :mod:`harmonix.workflows` does that.
"""

from harmonix.pipeline.eeg import (
    APERIODIC_RANGE,
    APERIODIC_SETTINGS,
    COMPARE_WINDOW_SECONDS,
    LZ_WINDOW_SECONDS,
    MIN_PROXY_SECONDS,
    analyze_eeg,
)
from harmonix.pipeline.music import analyze_music
from harmonix.pipeline.result import Analysis, resolvable_bands

__all__ = [
    "Analysis",
    "analyze_eeg",
    "analyze_music",
    "resolvable_bands",
    "APERIODIC_RANGE",
    "APERIODIC_SETTINGS",
    "COMPARE_WINDOW_SECONDS",
    "LZ_WINDOW_SECONDS",
    "MIN_PROXY_SECONDS",
]

"""Input layer: EEG recordings (any mne.io format, BIDS, headset CSV) and audio.

Loading normalises channel names and types and sets a standard montage
(:func:`load_eeg`); :func:`check_recording` then says whether the samples can
be analysed; :func:`find_events` gets events from whichever place the file
stored them.
"""

from __future__ import annotations

from harmonix.io.audio import Audio, load_audio
from harmonix.io.channels import (
    ChannelConventions,
    MontageResult,
    apply_channel_conventions,
    infer_channel_types,
    normalize_channel_names,
    set_standard_montage,
)
from harmonix.io.eeg import LoadReport, load_eeg, load_eeg_with_report, supported_extensions
from harmonix.io.events import find_events
from harmonix.io.headset_csv import SamplingEstimate, estimate_sfreq, read_headset_csv, read_headset_csv_with_timing
from harmonix.io.validate import FLAT_THRESHOLD, RecordingCheck, check_finite, check_recording, find_flat_channels

__all__ = [
    "FLAT_THRESHOLD",
    "Audio",
    "ChannelConventions",
    "LoadReport",
    "MontageResult",
    "RecordingCheck",
    "SamplingEstimate",
    "apply_channel_conventions",
    "check_finite",
    "check_recording",
    "estimate_sfreq",
    "find_events",
    "find_flat_channels",
    "infer_channel_types",
    "load_audio",
    "load_eeg",
    "load_eeg_with_report",
    "normalize_channel_names",
    "read_headset_csv",
    "read_headset_csv_with_timing",
    "set_standard_montage",
    "supported_extensions",
]

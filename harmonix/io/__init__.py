"""Input layer: EEG recordings (any mne.io format, BIDS, headset CSV) and audio.

Loading normalises channel names and types and sets a standard montage
(:func:`load_eeg`); :func:`check_recording` then says whether the samples can
be analysed; :func:`find_events` gets events from whichever place the file
stored them (:func:`read_events_file` from a separate events file), and
:mod:`harmonix.io.conditions` turns them into named conditions (trials per
condition; spec strings in :mod:`harmonix.io.condition_specs`, conditions
from protocol sidecars in :mod:`harmonix.io.protocol_conditions`).
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
from harmonix.io.condition_specs import parse_conditions, parse_frequencies
from harmonix.io.conditions import Condition, condition_trials, conditions_from_events
from harmonix.io.eeg import LoadReport, load_eeg, load_eeg_with_report, supported_extensions
from harmonix.io.events import EventList, bad_spans, find_events, list_events, read_events_file
from harmonix.io.headset_csv import SamplingEstimate, estimate_sfreq, read_headset_csv, read_headset_csv_with_timing
from harmonix.io.protocol_conditions import conditions_from_protocol, frequencies_from_protocol
from harmonix.io.validate import FLAT_THRESHOLD, RecordingCheck, check_finite, check_recording, find_flat_channels

__all__ = [
    "FLAT_THRESHOLD",
    "Audio",
    "ChannelConventions",
    "Condition",
    "EventList",
    "LoadReport",
    "MontageResult",
    "RecordingCheck",
    "SamplingEstimate",
    "apply_channel_conventions",
    "bad_spans",
    "check_finite",
    "check_recording",
    "condition_trials",
    "conditions_from_events",
    "conditions_from_protocol",
    "estimate_sfreq",
    "find_events",
    "find_flat_channels",
    "frequencies_from_protocol",
    "infer_channel_types",
    "list_events",
    "load_audio",
    "load_eeg",
    "load_eeg_with_report",
    "normalize_channel_names",
    "parse_conditions",
    "parse_frequencies",
    "read_events_file",
    "read_headset_csv",
    "read_headset_csv_with_timing",
    "set_standard_montage",
    "supported_extensions",
]

"""Conditions from a stimulation protocol: the segments of a ``harmonix stimulate`` render.

The JSON sidecar that ``harmonix stimulate`` writes beside the audio holds
the protocol and the rendered segment times (:func:`read_protocol_sidecar`).
Given the event that marks the protocol's onset in the recording,
:func:`conditions_from_protocol` makes each segment a condition (a
:class:`~harmonix.io.conditions.Condition`), placed after every occurrence of
the marker and carrying the segment's modulation frequency;
:func:`frequencies_from_protocol` lists those frequencies (for
``--steady-state``). Trials are screened as in
:func:`~harmonix.io.conditions.conditions_from_events`: those reaching beyond
the recording or overlapping ``BAD_``/``EDGE`` annotations are left out and
counted in the condition's notes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import mne
import numpy as np

from harmonix.errors import InputFileError, ParameterError
from harmonix.io.conditions import Condition, Instance, _check_inst, _resolve, _screen, _source_label
from harmonix.io.events import bad_spans, list_events, read_events_file

__all__ = [
    "conditions_from_protocol",
    "frequencies_from_protocol",
    "read_protocol_sidecar",
]


def read_protocol_sidecar(sidecar: str | PathLike | Mapping[str, Any]):
    """The rendered :class:`~harmonix.stimulus.protocol.Protocol` (scaled as rendered) from a render sidecar.

    The JSON sidecar that :func:`harmonix.stimulus.render.render_protocol`
    (``harmonix stimulate``) writes next to the audio holds the protocol TOML
    (``protocol.toml``), the render options (``parameters.seconds`` for a
    time-scaled preview) and the rendered segment times
    (``parameters.segments``).

    Raises
    ------
    InputFileError
        Missing or unreadable file, not JSON, not a harmonix render sidecar.
    """
    from harmonix.stimulus import protocol as P

    label = "<sidecar>" if isinstance(sidecar, Mapping) else str(sidecar)
    if isinstance(sidecar, Mapping):
        meta = sidecar
    else:
        path = Path(sidecar)
        if not path.is_file():
            raise InputFileError(f"{path}: protocol sidecar not found")
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputFileError(f"{path}: not a readable JSON file ({err})") from err
    not_ours = (f"{label}: not a harmonix render sidecar (expected the .json that 'harmonix stimulate' writes "
                "beside the audio, with protocol.toml and parameters.segments)")
    proto_meta = meta.get("protocol") if isinstance(meta, Mapping) else None
    params = meta.get("parameters") if isinstance(meta, Mapping) else None
    if not (isinstance(proto_meta, Mapping) and isinstance(proto_meta.get("toml"), Mapping)
            and isinstance(params, Mapping) and isinstance(params.get("segments"), list)):
        raise InputFileError(not_ours)
    try:
        proto = P.parse_protocol(dict(proto_meta["toml"]), source=str(proto_meta.get("source", label)))
        if params.get("seconds"):
            proto = proto.scaled(float(params["seconds"]))
    except (ParameterError, InputFileError, TypeError, ValueError) as err:
        raise InputFileError(f"{label}: the sidecar's protocol is not valid ({err})") from err
    rendered = params["segments"]
    if len(rendered) != len(proto.segments) or not all(
        isinstance(r, Mapping) and np.isclose(float(r.get("start", np.nan)), s.start, atol=1e-6)
        and np.isclose(float(r.get("duration", np.nan)), s.duration, atol=1e-6)
        for r, s in zip(rendered, proto.segments)
    ):
        raise InputFileError(f"{label}: parameters.segments do not match the sidecar's protocol (edited file?)")
    return proto


def _segment_frequency(seg) -> tuple[float | None, str | None]:
    """Constant modulation frequency of a segment, or None with a note for a slide."""
    from harmonix.stimulus.protocol import Slide

    mod = seg.modulation()
    if mod is None:
        return None, None
    voice, field_name, value = mod
    if isinstance(value, Slide):
        if np.isclose(value.start, value.end):
            return float(value.start), None
        return None, f"{voice.type} {field_name} slides {value.start:g}->{value.end:g} Hz: no single frequency"
    return float(value), None


def frequencies_from_protocol(sidecar: str | PathLike | Mapping[str, Any]) -> tuple[float, ...]:
    """The constant modulation frequencies (Hz) of a rendered protocol's segments, sorted, for ``--steady-state``.

    A segment's frequency is the rate of its loudest rhythmic voice
    (:meth:`~harmonix.stimulus.protocol.Segment.modulation`: binaural beat,
    isochronic/AM/click/burst rate, first stack rhythm); slides are skipped.

    Examples
    --------
    >>> meta = {"protocol": {"toml": {"segments": [
    ...     {"duration": 60, "label": "a", "voices": [{"type": "clicks", "rate": 40}]},
    ...     {"duration": 60, "label": "b", "voices": [{"type": "binaural", "beat": 6}]}]}},
    ...     "parameters": {"segments": [{"start": 0, "duration": 60}, {"start": 60, "duration": 60}]}}
    >>> frequencies_from_protocol(meta)
    (6.0, 40.0)
    """
    proto = read_protocol_sidecar(sidecar)
    freqs = {f for f, _ in map(_segment_frequency, proto.segments) if f is not None}
    return tuple(sorted(freqs))


def conditions_from_protocol(
    inst: Instance,
    sidecar: str | PathLike | Mapping[str, Any],
    *,
    onset_marker: str,
    source: str | PathLike | None = None,
    events: np.ndarray | str | PathLike | None = None,
    event_id: Mapping[str, int] | None = None,
    verbose: bool | str | int | None = None,
) -> tuple[Condition, ...]:
    """Conditions from the segments of a protocol rendered by ``harmonix stimulate``.

    The recording marks the start of the protocol's audio with an event
    (``onset_marker``); segment ``i`` of the rendered protocol then spans
    ``[onset + start_i, onset + start_i + duration_i)``. Every occurrence of
    the marker starts one run of the protocol (one trial per segment and
    run). Each segment becomes a condition named by its ``label`` (else
    ``segment<i>``, 1-based); segments sharing a label and a frequency pool
    their trials (alternating ``stim``/``rest`` blocks); a label shared by
    segments of different frequencies gets one condition per frequency
    (``stim_13Hz``, ``stim_17Hz``; ``stim_nofreq`` for one without). A
    condition's frequency is its segment's constant modulation rate (see
    :func:`frequencies_from_protocol`), None for segments without a rhythm
    or with a sliding one (noted).

    Parameters
    ----------
    inst : mne.io.Raw
        The recording made while the protocol played.
    sidecar : path | dict
        The render's JSON sidecar (or its parsed content).
    onset_marker : str
        Event code marking the protocol onset in the recording.
    source, events, event_id, verbose
        As :func:`~harmonix.io.conditions.conditions_from_events`.

    Returns
    -------
    conditions : tuple of Condition
        In protocol order of first appearance.

    Raises
    ------
    InputFileError
        The sidecar is missing, not JSON or not a harmonix render sidecar.
    ParameterError
        The onset marker is not in the recording (the message lists the
        codes that are), epochs given, or no segment fits in the recording.
    """
    where = _source_label(inst, source)
    _check_inst(inst, where)
    if isinstance(inst, mne.BaseEpochs):
        raise ParameterError(f"{where}: protocol conditions need a continuous recording, not epochs")
    proto = read_protocol_sidecar(sidecar)
    label = "<sidecar>" if isinstance(sidecar, Mapping) else Path(sidecar).name
    marker = str(onset_marker).strip() if onset_marker is not None else ""
    if not marker:
        raise ParameterError(f"{where}: name the event code that marks the protocol onset (onset_marker)")
    sfreq = float(inst.info["sfreq"])
    origin = None
    if events is not None and not isinstance(events, np.ndarray):
        origin = Path(events).name
        events, event_id = read_events_file(events, sfreq=sfreq, first_samp=inst.first_samp)
    sources = list_events(inst, events=events, event_id=event_id, origin=origin,
                          verbose=False if verbose is None else verbose)
    src, idx = _resolve(marker, sources, where, f"protocol onset marker of {label}")
    onsets = np.unique(src.samples[idx])

    segs = [(seg.label.strip() or f"segment{i + 1}", *_segment_frequency(seg)) for i, seg in enumerate(proto.segments)]
    freqs_of_label: dict[str, set] = {}
    for base, freq, _ in segs:
        freqs_of_label.setdefault(base, set()).add(freq)
    groups: dict[str, dict[str, Any]] = {}
    for i, (seg, (base, freq, note)) in enumerate(zip(proto.segments, segs)):
        name = base
        if len(freqs_of_label[base]) > 1:  # one label, several frequencies: one condition per frequency
            name = f"{base}_{freq:g}Hz" if freq is not None else f"{base}_nofreq"
        g = groups.setdefault(name, {"frequency": freq, "spans": [], "notes": []})
        if note:
            g["notes"].append(f"segment {i + 1}: {note}")
        g["spans"].append((int(round(seg.start * sfreq)), int(round(seg.end * sfreq))))

    n_times, bad = int(inst.n_times), bad_spans(inst)
    out = []
    for name, g in groups.items():
        spans = np.array(g["spans"], dtype=np.int64)
        starts = (onsets[:, None] + spans[None, :, 0]).ravel()
        stops = (onsets[:, None] + spans[None, :, 1]).ravel()
        order = np.argsort(starts, kind="stable")
        starts, stops = starts[order], stops[order]
        keep, notes = _screen(starts, stops, n_times, bad, list(g["notes"]))
        if not keep.any():
            raise ParameterError(f"{where}: protocol condition {name!r} of {label}: no trials left "
                                 f"({'; '.join(notes) or 'none'}) after onset marker {marker!r}")
        out.append(Condition(
            name=name, codes=(marker,), starts=starts[keep], stops=stops[keep], frequency=g["frequency"],
            notes=tuple(notes), origin=f"protocol sidecar {label} after {src.origin}", sfreq=sfreq,
        ))
    return tuple(out)

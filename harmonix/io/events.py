"""One way to get events from any recording: stim channel, annotations or epochs."""

from __future__ import annotations

import mne
import numpy as np

__all__ = ["find_events"]


def _stim_events(raw: mne.io.BaseRaw, verbose: bool | str | int | None) -> tuple[np.ndarray, dict[str, int]]:
    stim = [raw.ch_names[i] for i in mne.pick_types(raw.info, meg=False, stim=True, exclude=[])]
    if not stim:
        return np.empty((0, 3), dtype=int), {}
    # shortest_event=1: headset markers and many trigger boxes hold a code for a single sample.
    events = mne.find_events(raw, stim_channel=stim, shortest_event=1, initial_event=True, verbose=verbose)
    codes = np.unique(events[:, 2])
    return events, {str(int(code)): int(code) for code in codes}


def find_events(
    inst: mne.io.BaseRaw | mne.BaseEpochs, *, verbose: bool | str | int | None = None
) -> tuple[np.ndarray, dict[str, int]]:
    """Return the events of a recording, wherever the file stored them.

    Sources, in order of preference:

    1. Epochs: their own ``events`` and ``event_id``.
    2. Stim channels (``stim`` type, e.g. BDF ``Status`` or the ``STI``
       channel of a headset CSV), read with :func:`mne.find_events` and
       ``shortest_event=1``. Preferred when they hold events because their
       codes are sample-exact and are what the acquisition system wrote.
       Event names are the codes as strings (``{'1': 1, '2': 2}``).
    3. Annotations (EDF+, BrainVision, EEGLAB, BIDS ``events.tsv``), via
       :func:`mne.events_from_annotations`; annotations starting with
       ``BAD`` or ``EDGE`` are skipped. Codes are numbered in sorted order
       of the descriptions unless MNE knows better (BrainVision ``S 12`` -> 12).

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        The recording; not modified.
    verbose : bool | str | int | None
        MNE verbosity.

    Returns
    -------
    events : ndarray of int, shape (n_events, 3)
        MNE events: sample (including ``first_samp``), previous value, code.
        Empty (shape ``(0, 3)``) when the recording has no events.
    event_id : dict of str to int
        Event name to code.

    Examples
    --------
    >>> info = mne.create_info(["Cz", "STI"], 100.0, ["eeg", "stim"])
    >>> data = np.zeros((2, 500)); data[1, [100, 300]] = [1, 2]
    >>> events, event_id = find_events(mne.io.RawArray(data, info, verbose=False), verbose=False)
    >>> events[:, [0, 2]].tolist(), event_id
    ([[100, 1], [300, 2]], {'1': 1, '2': 2})
    """
    if isinstance(inst, mne.BaseEpochs):
        return inst.events.copy(), dict(inst.event_id)
    events, event_id = _stim_events(inst, verbose)
    if len(events) or not len(inst.annotations):
        return events, event_id
    events, event_id = mne.events_from_annotations(inst, verbose=verbose)
    return events.astype(int, copy=False), {str(k): int(v) for k, v in event_id.items()}

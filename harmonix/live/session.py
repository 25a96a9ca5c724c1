"""The session folder a live run leaves: everything needed to analyse and replay it.

``OUT/`` holds

* ``eeg_raw.fif``: every sample received, in double precision, the gaps
  filled with zeros and annotated ``BAD_ACQ_SKIP`` (MNE's name for a
  skipped acquisition, which every reader of the file and ``harmonix
  analyze`` leave out), each sound annotated ``stim/<kind>`` at its onset,
  each protocol segment ``segment/<label>`` over its span;
* ``events.tsv``: every sound, gap, segment change and controller state
  change, with the session time, the LSL time and the state that caused it;
* ``state.tsv``: one row per hop, and one per sound scheduled between hops
  (every online estimate, the decision and its latency);
* ``stimulus.wav`` (``--dry-run``): the audio, sample-aligned to the EEG;
* ``params.json``: the settings, the stream's description, the versions
  and the command line.

It is written in ``OUT.partial-<pid>`` and renamed into place by
:meth:`SessionWriter.close`; :meth:`SessionWriter.discard` removes it.
The received samples go to a raw binary file as they arrive, so memory does
not grow with the session's length.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import mne
import numpy as np

from harmonix.errors import HarmonixError

GAP_DESCRIPTION = "BAD_ACQ_SKIP"
EVENT_COLUMNS = ("onset", "duration", "lsl_time", "kind", "description", "detail")


class SessionWriter:
    """Collects a live session on disk; see the module docstring for the layout."""

    def __init__(self, out: str | Path, info: mne.Info, *, overwrite: bool = False) -> None:
        self.out = Path(out)
        if self.out.exists() and not overwrite:
            raise HarmonixError(f"{self.out}: already exists; choose another --out or pass --overwrite")
        self.staging = self.out.with_name(f"{self.out.name}.partial-{os.getpid()}")
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir(parents=True)
        self.info = info
        self.n_channels, self.sfreq = len(info["ch_names"]), float(info["sfreq"])
        self._samples = open(self.staging / "eeg.bin", "wb")
        self.n_times = 0
        self.annotations: list[tuple[float, float, str]] = []
        self._events = open(self.staging / "events.tsv", "w", newline="")
        self._event_writer = csv.writer(self._events, delimiter="\t", lineterminator="\n")
        self._event_writer.writerow(EVENT_COLUMNS)
        self._state = None
        self._state_columns: list[str] | None = None
        self.overwrite = overwrite

    @property
    def time(self) -> float:
        """Session time (s) just after the newest sample."""
        return self.n_times / self.sfreq

    def path(self, name: str) -> Path:
        """Where a file of the session is written now (inside the staging folder)."""
        return self.staging / name

    def append(self, data: np.ndarray) -> None:
        """Samples ``(n_times, n_channels)``, oldest first."""
        data = np.ascontiguousarray(data, dtype=np.float64)
        self._samples.write(data.tobytes())
        self.n_times += data.shape[0]

    def add_gap(self, n_missing: int, lsl_time: float, detail: str | None = None) -> tuple[float, float]:
        """Fill ``n_missing`` samples with zeros and annotate them; returns (onset, duration) in s.

        ``n_missing = 0`` with a ``detail`` marks a discontinuity of unknown length (a zero-length annotation)."""
        onset = self.time
        step = 1 << 14
        for start in range(0, n_missing, step):
            self.append(np.zeros((min(step, n_missing - start), self.n_channels)))
        duration = n_missing / self.sfreq
        self.annotations.append((onset, duration, GAP_DESCRIPTION))
        self.event(onset, duration, lsl_time, "gap", GAP_DESCRIPTION, detail or f"{n_missing} samples missing")
        return onset, duration

    def event(self, onset: float, duration: float, lsl_time: float, kind: str, description: str,
              detail: str = "", *, annotate: bool = False) -> None:
        """One row of ``events.tsv`` (and an annotation when ``annotate``)."""
        self._event_writer.writerow((f"{onset:.6f}", f"{duration:.6f}", f"{lsl_time:.6f}", kind, description, detail))
        self._events.flush()
        if annotate:
            self.annotations.append((onset, duration, description))

    def state(self, row: dict) -> None:
        """One row of ``state.tsv`` (the first row fixes the columns; a missing value is an empty cell)."""
        if self._state is None:
            self._state = open(self.staging / "state.tsv", "w", newline="")
            self._state_columns = list(row)
            self._state.write("\t".join(self._state_columns) + "\n")
        self._state.write("\t".join(_cell(row.get(c)) for c in self._state_columns) + "\n")

    def close(self, params: dict) -> Path:
        """Write the FIF and ``params.json``, then move the folder into place."""
        self._samples.close()
        self._events.close()
        if self._state is not None:
            self._state.close()
        binary = self.staging / "eeg.bin"
        if self.n_times == 0:
            self.discard()
            raise HarmonixError(f"{self.out}: no EEG sample was received; nothing to save")
        info = self.info.copy()
        for ch in info["chs"]:
            # FIF stores calibrations in single precision: a cal of 1e-6 would come back as
            # 0.99999999747e-6 and scale every sample read back by it.
            ch["cal"], ch["range"] = 1.0, 1.0
        data = np.memmap(binary, dtype=np.float64, mode="r", shape=(self.n_times, self.n_channels))
        raw = mne.io.RawArray(np.ascontiguousarray(data.T), info, verbose="error")
        del data
        if self.annotations:
            onsets, durations, descriptions = zip(*self.annotations)
            raw.set_annotations(mne.Annotations(onsets, durations, descriptions))
        raw.save(self.staging / "eeg_raw.fif", fmt="double", overwrite=True, verbose="error")
        binary.unlink()
        params = {**params, "n_samples": self.n_times, "duration_seconds": self.time}
        (self.staging / "params.json").write_text(json.dumps(params, indent=2, default=_json_default) + "\n")
        if self.out.exists() and self.overwrite:
            shutil.rmtree(self.out)
        self.staging.rename(self.out)
        return self.out

    def discard(self) -> None:
        """Remove the staging folder (a session that failed before it began)."""
        for handle in (self._samples, self._events, self._state):
            if handle is not None and not handle.closed:
                handle.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)

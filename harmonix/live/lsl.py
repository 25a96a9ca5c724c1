"""Lab Streaming Layer in and out, through mne-lsl.

:class:`EEGInlet` finds one EEG stream by name, type or source id
(:func:`mne_lsl.lsl.resolve_streams`), connects a
:class:`mne_lsl.stream.StreamLSL` to it, and hands over every chunk exactly
once, with its LSL timestamps and the moment it arrived, scaled to volts.
The stream's channels get the same names, types and montage as a file's
(:func:`~harmonix.io.channels.apply_channel_conventions`,
:func:`~harmonix.io.channels.set_standard_montage`). A stream that stops
is not an error: liblsl's inlet recovers it when an outlet with the same
source id returns, and :class:`EEGInlet` reports the jump in timestamps as a
gap.

:class:`MarkerOutlet` publishes every stimulation event and state change as
an LSL ``Markers`` stream (strings, irregular rate), so LabRecorder records
them beside the EEG.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from harmonix.errors import ChannelError, HarmonixError
from harmonix.io.channels import apply_channel_conventions, set_standard_montage

GAP_TOLERANCE_SECONDS = 0.1
"""A jump in timestamps beyond one sample plus this is a gap (LSL timestamps jitter by milliseconds)."""


LIBLSL_CONFIG = "[log]\nlevel = -3\n"
"""liblsl configuration harmonix uses unless ``LSLAPICFG`` names the user's own: fatal errors only (harmonix reports a broken stream itself, as a stall and a gap)."""


def _quiet_liblsl() -> None:
    """Keep liblsl's and mne-lsl's info lines off the terminal (call before mne-lsl is first imported).

    liblsl reads its configuration when it is loaded, from the file named by
    ``LSLAPICFG``; a user's own setting is left alone.
    """
    if "LSLAPICFG" not in os.environ:
        path = Path(tempfile.gettempdir()) / "harmonix-lsl_api.cfg"
        if not path.is_file() or path.read_text() != LIBLSL_CONFIG:
            path.write_text(LIBLSL_CONFIG)
        os.environ["LSLAPICFG"] = str(path)
    from mne_lsl import set_log_level

    set_log_level("WARNING")


def stream_label(name: str | None, stype: str | None, source_id: str | None) -> str:
    """How the user asked for a stream, for messages."""
    parts = [f"{k} {v!r}" for k, v in (("name", name), ("type", stype), ("source id", source_id)) if v]
    return "an LSL stream with " + " and ".join(parts) if parts else "an LSL stream"


@dataclass(frozen=True)
class Chunk:
    """Samples ``(n_times, n_channels)`` in V, their LSL timestamps, and when they arrived (``perf_counter``)."""

    data: np.ndarray
    timestamps: np.ndarray
    arrived: float


class EEGInlet:
    """One EEG stream over LSL (module docstring)."""

    def __init__(self, *, name: str | None = None, stype: str | None = None, source_id: str | None = None,
                 timeout: float = 5.0, bufsize: float = 5.0, montage: str | None = "standard_1005") -> None:
        self.label = stream_label(name, stype, source_id)
        self.timeout = float(timeout)
        self._query = (name, stype, source_id)
        self._bufsize = bufsize
        self._montage = montage
        self._stream = None
        self._chunks: list[Chunk] = []

    def open(self) -> EEGInlet:
        """Resolve and connect; fills :attr:`info`, :attr:`eeg` (row indices of EEG channels) and :attr:`sinfo`."""
        _quiet_liblsl()
        from mne_lsl.lsl import resolve_streams

        name, stype, source_id = self._query
        found = resolve_streams(timeout=self.timeout, name=name, stype=stype, source_id=source_id)
        found = [s for s in found if s.stype.lower() != "markers"]
        if not found:
            raise HarmonixError(f"no {self.label.removeprefix('an ')} found on the network within {self.timeout:g} s "
                                "(is the amplifier's LSL app or 'harmonix stream FILE' running?)")
        if len(found) > 1:
            listed = "; ".join(f"name {s.name!r} type {s.stype!r} source id {s.source_id!r}" for s in found)
            raise HarmonixError(f"{len(found)} LSL streams match ({listed}); choose one with --name, --type or "
                                "--source-id")
        sinfo = found[0]
        if sinfo.dtype == "string":
            raise ChannelError(f"LSL stream {sinfo.name!r} carries strings (markers), not EEG samples")
        if sinfo.sfreq <= 0:
            raise ChannelError(f"LSL stream {sinfo.name!r} has an irregular sampling rate; EEG needs a fixed one")
        self._connect(sinfo)
        info = self._stream.info.copy()
        units = self._stream.get_channel_units()
        self.scale = np.array([10.0 ** mul for _, mul in units])
        holder = mne.io.RawArray(np.zeros((len(info["ch_names"]), 1)), info, verbose="error")
        with mne.utils.use_log_level("error"):
            apply_channel_conventions(holder)
            set_standard_montage(holder, self._montage)
        self.info = holder.info
        self.eeg = mne.pick_types(self.info, eeg=True, exclude=[])
        if self.eeg.size == 0:
            types = sorted(set(holder.get_channel_types()))
            self.close()
            raise ChannelError(f"LSL stream {sinfo.name!r} has no EEG channel (its channels are {', '.join(types)}); "
                               "choose the EEG stream with --name or --type")
        self._stream.add_callback(self._collect)
        return self

    def _connect(self, sinfo) -> None:
        from mne_lsl.stream import StreamLSL

        self._stream = StreamLSL(bufsize=self._bufsize, name=sinfo.name, stype=sinfo.stype,
                                 source_id=sinfo.source_id)
        try:
            # clocksync: timestamps on this machine's LSL clock, whichever machine sends
            self._stream.connect(acquisition_delay=None, processing_flags=("clocksync",), timeout=self.timeout)
        except Exception as err:  # RuntimeError from mne-lsl: the stream vanished between resolve and connect
            self._stream = None
            raise HarmonixError(f"cannot connect to LSL stream {sinfo.name!r}: {' '.join(str(err).split())}") from err
        self.sinfo = sinfo

    def reconnect(self, timeout: float = 0.2) -> bool:
        """Connect to a new outlet of the same stream, if one is on the network; ``True`` when it did.

        liblsl recovers a lost stream by itself, but may take tens of seconds
        to notice that an outlet came back; a player or amplifier app that
        restarts publishes a new outlet (a new uid) with the same name and
        source id, which this finds within ``timeout``.
        """
        from mne_lsl.lsl import resolve_streams

        old = self.sinfo
        found = [s for s in resolve_streams(timeout=timeout, name=old.name, stype=old.stype or None,
                                            source_id=old.source_id or None)
                 if s.uid != old.uid and s.stype.lower() != "markers"]
        if not found:
            return False
        new = found[0]
        if new.n_channels != old.n_channels or new.sfreq != old.sfreq:
            raise HarmonixError(f"LSL stream {old.name!r} came back with {new.n_channels} channels at {new.sfreq:g} Hz "
                                f"instead of {old.n_channels} at {old.sfreq:g} Hz; start a new session")
        names = list(self._stream.info["ch_names"])
        self._close_stream()
        self._connect(new)
        if list(self._stream.info["ch_names"]) != names:
            raise HarmonixError(f"LSL stream {old.name!r} came back with other channels; start a new session")
        self.scale = np.array([10.0 ** mul for _, mul in self._stream.get_channel_units()])
        self._stream.add_callback(self._collect)
        return True

    def _collect(self, data, timestamps, info):
        self._chunks.append(Chunk(np.array(data, dtype=np.float64) * self.scale, np.array(timestamps),
                                  time.perf_counter()))
        return data, timestamps

    @property
    def sfreq(self) -> float:
        return float(self.info["sfreq"])

    def pull(self) -> list[Chunk]:
        """Every chunk that arrived since the last call, oldest first."""
        self._stream.acquire()
        chunks, self._chunks = self._chunks, []
        return chunks

    def describe(self) -> dict:
        """The stream's identity, for ``params.json``."""
        s = self.sinfo
        return {"name": s.name, "type": s.stype, "source_id": s.source_id, "sfreq": s.sfreq,
                "n_channels": s.n_channels, "hostname": s.hostname, "channels": list(self.info["ch_names"])}

    def close(self) -> None:
        self._close_stream()

    def _close_stream(self) -> None:
        if self._stream is not None:
            logging.getLogger("mne_lsl").disabled = True  # its disconnect logs the inlet's teardown
            try:
                self._stream.disconnect()
            finally:
                logging.getLogger("mne_lsl").disabled = False
                self._stream = None


MAX_GAP_SECONDS = 600.0
"""A jump in timestamps beyond this (or backwards) is a discontinuity of the clock, not a measured gap."""


def split_gap(previous_last: float | None, chunk: Chunk, sfreq: float) -> int:
    """Samples missing before ``chunk`` according to the timestamps (0 when none are).

    Returns -1 for a discontinuity: timestamps that go backwards by more than
    the tolerance, or jump by more than :data:`MAX_GAP_SECONDS` (a restarted
    sender on another clock): its length is unknown, so it is marked but
    not filled.
    """
    if previous_last is None:
        return 0
    jump = float(chunk.timestamps[0]) - previous_last
    if jump < -GAP_TOLERANCE_SECONDS or jump > MAX_GAP_SECONDS:
        return -1
    if jump <= 1.0 / sfreq + GAP_TOLERANCE_SECONDS:
        return 0
    return max(0, int(round(jump * sfreq)) - 1)


class MarkerOutlet:
    """An LSL ``Markers`` stream of the session's events (one string per event)."""

    def __init__(self, name: str, source_id: str) -> None:
        from mne_lsl.lsl import StreamInfo, StreamOutlet

        info = StreamInfo(name=name, stype="Markers", n_channels=1, sfreq=0.0, dtype="string", source_id=source_id)
        self.name = name
        self._outlet = StreamOutlet(info)

    def push(self, text: str, lsl_time: float) -> None:
        """Publish ``text`` stamped at ``lsl_time`` (which may lie ahead, for a scheduled sound)."""
        self._outlet.push_sample([text], timestamp=lsl_time)

    def close(self) -> None:
        del self._outlet

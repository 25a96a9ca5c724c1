"""Render a protocol to WAV/FLAC in constant memory, with loudness normalisation.

:func:`synthesize` turns a :class:`~harmonix.stimulus.protocol.Protocol` into
a stream of float32 blocks (n_channels, n). :func:`render_protocol` runs it
twice (see :mod:`harmonix.stimulus.safety` for why two deterministic passes
rather than a temporary file): a measuring pass, then a writing pass scaled
by one gain, to a hidden temporary file in the output folder that is renamed
over the final name only when complete, plus a JSON sidecar.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np

from harmonix.errors import OutputError, ParameterError
from harmonix.progress import progress as _progress
from harmonix.stimulus import primitives as prim
from harmonix.stimulus import protocol as P
from harmonix.stimulus import safety as S
from harmonix.tables import software_versions, write_json

DEFAULT_BLOCK = 16384
"""Samples per block (0.37 s at 44.1 kHz): large enough to amortise Python overhead, small for memory."""
FORMATS = {".wav": "WAV", ".flac": "FLAC"}


def _build_voices(protocol: P.Protocol, sfreq: float) -> tuple[dict[str, prim.Voice], list, list[str]]:
    voices: dict[str, prim.Voice] = {}
    streams, notes = [], []
    try:
        for seg in protocol.segments:
            for v in seg.voices:
                if v.name in voices:
                    if v.type == "stack" and len(v.params["rhythms"]) != len(voices[v.name].mods):
                        raise ParameterError(f"{protocol.source}: {v.path}.rhythms: voice {v.name!r} must keep the "
                                             f"same number of rhythms in every segment ({len(voices[v.name].mods)})")
                    continue
                p = v.params
                cls = prim.VOICE_CLASSES[v.type]
                if v.type == "tone":
                    voices[v.name] = cls(sfreq, harmonics=p["harmonics"])
                elif v.type == "isochronic":
                    voices[v.name] = cls(sfreq, duty=p["duty"], edge=p["edge"])
                elif v.type == "am":
                    stream, kind = None, "tone"
                    if p["source"] == "music":
                        if p.get("music"):
                            stream = prim.MusicStream(p["music"], sfreq, field=f"{v.path}.music")
                            streams.append(stream)
                        else:
                            kind = "chord"
                            notes.append(f"{v.path}: no music file given (--music); modulating a built-in carrier "
                                         f"(harmonic chord on {P._mean(p['carrier']):g} Hz) instead")
                    voices[v.name] = cls(sfreq, music=stream, carrier_kind=kind)
                elif v.type == "clicks":
                    voices[v.name] = cls(sfreq, pip=p["pip"], carrier=p["carrier"])
                elif v.type == "noise":
                    voices[v.name] = cls(sfreq, color=p["color"], seed=p["seed"])
                elif v.type == "bursts":
                    voices[v.name] = cls(sfreq, burst=p["burst"], edge=p["edge"], times=p["times"],
                                         color=p["color"], seed=p["seed"])
                elif v.type == "stack":
                    voices[v.name] = cls(sfreq, partials=p["partials"], n_rhythms=len(p["rhythms"]))
                else:
                    voices[v.name] = cls(sfreq)
    except BaseException:
        for s in streams:
            s.close()
        raise
    return voices, streams, notes


def _at(value, u: np.ndarray, shape: str):
    return value.at(u, shape) if isinstance(value, P.Slide) else value


def prepare(protocol: P.Protocol, *, sfreq: float, override: bool = False) -> list[str]:
    """Validate a protocol for rendering at ``sfreq``; return the notes to warn about.

    Checks the safety limits (:func:`~harmonix.stimulus.safety.check_limits`)
    and that every music file exists and can be opened; raises
    :class:`~harmonix.errors.ParameterError` / :class:`~harmonix.errors.InputFileError`.
    """
    notes = S.check_limits(protocol, sfreq=sfreq, override=override)
    _, streams, more = _build_voices(protocol, sfreq)
    for s in streams:
        s.close()
    return notes + more


def synthesize(protocol: P.Protocol, *, sfreq: float = 44100.0, block: int = DEFAULT_BLOCK,
               gain: float = 1.0) -> Iterator[np.ndarray]:
    """Yield the protocol's samples as float32 blocks shaped (channels, <= block).

    Each voice's signal is scaled by its level (dB, interpolated in dB
    along a slide), the mix by the segment's ``gain`` (linear, slid with the
    segment's shape), by the raised-cosine fades and by ``gain``. Blocks are
    cut at segment boundaries so each block belongs to one segment (or to a
    silent gap). Fresh voice states are made on every call, so two calls
    give identical samples.
    """
    sfreq = float(sfreq)
    voices, streams, _ = _build_voices(protocol, sfreq)
    total = int(round(protocol.duration * sfreq))
    edges = sorted({0, total} | {min(total, int(round(x * sfreq))) for s in protocol.segments for x in (s.start, s.end)})
    ch = protocol.channels
    g32 = np.float32(gain)
    try:
        for lo, hi in zip(edges[:-1], edges[1:]):
            seg = next((s for s in protocol.segments if round(s.start * sfreq) <= lo < round(s.end * sfreq)), None)
            for start in range(lo, hi, block):
                n = min(block, hi - start)
                t = (start + np.arange(n)) / sfreq
                out = np.zeros((ch, n), dtype=np.float32)
                if seg is not None:
                    t_rel = t - seg.start
                    u = t_rel / seg.duration
                    for v in seg.voices:
                        voice = voices[v.name]
                        params = {k: _at(v.params[k], u, seg.shape) for k in voice.dynamic}
                        if v.type == "stack":
                            params["rhythms"] = [_at(r, u, seg.shape) for r in v.params["rhythms"]]
                        x = voice.generate(n, t_rel, params)
                        level = _at(v.level, u, seg.shape)
                        amp = (10.0 ** (np.asarray(level) / 20.0)).astype(np.float32)
                        if x.shape[0] == ch or x.shape[0] == 1:
                            out += x * amp
                        else:  # stereo voice into a mono file
                            out += x.mean(axis=0, keepdims=True) * amp
                    seg_gain = _at(seg.gain, u, seg.shape)
                    if isinstance(seg_gain, np.ndarray) or seg_gain != 1.0:
                        out *= np.asarray(seg_gain, dtype=np.float32)
                fade = S.fade_gain(t, protocol.duration, protocol.fade_in, protocol.fade_out)
                if fade is not None:
                    out *= fade
                if gain != 1.0:
                    out *= g32
                yield out
    finally:
        for s in streams:
            s.close()


def _n_blocks(protocol: P.Protocol, sfreq: float, block: int) -> int:
    return int(math.ceil(protocol.duration * sfreq / block)) + len(protocol.segments)


@dataclass(frozen=True)
class Measurement:
    """Loudness (LUFS), true and sample peaks (dBFS) of the unscaled synthesis."""

    loudness_lufs: float
    true_peak_dbfs: float
    sample_peak_dbfs: float


def measure(protocol: P.Protocol, *, sfreq: float = 44100.0, block: int = DEFAULT_BLOCK,
            progress: bool = False) -> Measurement:
    """First pass: synthesise without writing; measure integrated loudness and true peak."""
    loud = S.LoudnessMeter(sfreq, protocol.channels)
    peak = S.TruePeakMeter(protocol.channels)
    blocks = synthesize(protocol, sfreq=sfreq, block=block)
    if progress:
        blocks = _progress(blocks, total=_n_blocks(protocol, sfreq, block), desc="measuring")
    for b in blocks:
        loud.update(b)
        peak.update(b)
    return Measurement(loud.integrated, peak.true_peak_dbfs, peak.sample_peak_dbfs)


def choose_gain(protocol: P.Protocol, m: Measurement) -> tuple[float, list[str]]:
    """Gain in dB: the loudness target (or, with ``normalize = false``, a ceiling), capped by the true-peak ceiling."""
    if not math.isfinite(m.loudness_lufs):
        raise ParameterError(f"{protocol.source}: the protocol renders to silence; raise the voice levels")
    to_target = protocol.loudness_lufs - m.loudness_lufs
    to_peak = protocol.peak_dbfs - m.true_peak_dbfs
    gain = min(to_target, to_peak) if protocol.normalize else min(0.0, to_target, to_peak)
    notes = []
    if protocol.normalize and to_peak < to_target - 0.05:
        notes.append(f"loudness {m.loudness_lufs + gain:.1f} LUFS is below the {protocol.loudness_lufs:g} LUFS target: "
                     f"the {protocol.peak_dbfs:g} dBFS true-peak ceiling limits the gain (crest factor too high)")
    return gain, notes


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render_protocol` wrote and measured.

    Attributes
    ----------
    path, sidecar : Path
        The audio file and its JSON sidecar.
    sfreq : float
        Sampling rate (Hz).
    channels, n_samples : int
        Channel count and samples per channel.
    duration : float
        Seconds.
    gain_db : float
        Gain applied after the measuring pass (dB).
    loudness_lufs, true_peak_dbfs, sample_peak_dbfs : float
        Of the written signal (measuring pass + gain; exact by homogeneity).
    warnings : list of str
        Notes (built-in carrier used, binaural to mono, overridden limits, ...).
    seconds_elapsed, realtime_factor : float
        Wall time of both passes and ``duration / seconds_elapsed``.
    """

    path: Path
    sidecar: Path
    sfreq: float
    channels: int
    n_samples: int
    duration: float
    gain_db: float
    loudness_lufs: float
    true_peak_dbfs: float
    sample_peak_dbfs: float
    warnings: list[str] = field(default_factory=list)
    seconds_elapsed: float = 0.0
    realtime_factor: float = 0.0

    def summary(self) -> str:
        """One line for the CLI."""
        return (f"{self.path}: {self.duration:.1f} s, {self.channels} ch, {self.sfreq:g} Hz; "
                f"{self.loudness_lufs:.1f} LUFS, true peak {self.true_peak_dbfs:.1f} dBFS; "
                f"rendered at {self.realtime_factor:.0f}x real time")


def resolve_protocol(protocol: P.Protocol | str | PathLike, *, seconds: float | None = None,
                     music: str | PathLike | None = None) -> P.Protocol:
    """A :class:`Protocol` from a Protocol, a TOML path or a preset name; then ``music`` and ``seconds`` applied."""
    if not isinstance(protocol, P.Protocol):
        path = Path(protocol)
        protocol = P.load_protocol(path) if (path.suffix == ".toml" or path.exists()) else P.load_preset(str(protocol))
    protocol = protocol.with_music(music)
    if seconds is not None:
        protocol = protocol.scaled(seconds)
    return protocol


def sidecar_path(out_path: str | PathLike) -> Path:
    """``out.wav`` -> ``out.json``."""
    return Path(out_path).with_suffix(".json")


def render_protocol(
    protocol: P.Protocol | str | PathLike,
    out_path: str | PathLike,
    *,
    seconds: float | None = None,
    music: str | PathLike | None = None,
    sfreq: float = 44100.0,
    override: bool = False,
    progress: bool = True,
    subtype: str | None = None,
    block: int = DEFAULT_BLOCK,
) -> RenderResult:
    """Render a protocol to a WAV or FLAC file plus a JSON sidecar, in constant memory.

    Parameters
    ----------
    protocol : Protocol | path | str
        A protocol, a TOML file, or a preset name (:func:`~harmonix.stimulus.protocol.list_presets`).
    out_path : path
        ``*.wav`` or ``*.flac``; the sidecar is ``out_path`` with ``.json``.
    seconds : float, optional
        Render a preview of this length: the schedule is time-scaled to fit.
    music : path, optional
        Music file for ``am`` voices with ``source = "music"``.
    sfreq : float
        Sampling rate in Hz.
    override : bool
        Render even when soft safety limits are exceeded (each is reported in ``warnings``).
    progress : bool
        Show progress bars (on a terminal).
    subtype : str, optional
        soundfile subtype (default: PCM_16).

    Returns
    -------
    RenderResult

    Raises
    ------
    ParameterError, InputFileError
        Invalid or unsafe protocol, missing music file: raised before any file is created.
    OutputError
        The output cannot be written. On any error or KeyboardInterrupt no
        partial output file is left behind.
    """
    t0 = time.perf_counter()
    out_path = Path(out_path)
    fmt = FORMATS.get(out_path.suffix.lower())
    if fmt is None:
        raise ParameterError(f"{out_path}: output must end in .wav or .flac")
    if not out_path.parent.is_dir():
        raise OutputError(f"{out_path}: folder {out_path.parent} does not exist")
    sfreq = float(sfreq)
    if not (math.isfinite(sfreq) and 8000 <= sfreq <= 384000):
        raise ParameterError(f"sfreq must be between 8000 and 384000 Hz, got {sfreq!r}")
    proto = resolve_protocol(protocol, seconds=seconds, music=music)
    notes = prepare(proto, sfreq=sfreq, override=override)

    m = measure(proto, sfreq=sfreq, block=block, progress=progress)
    gain_db, more = choose_gain(proto, m)
    notes += more
    S.warn_all(notes)
    gain = 10 ** (gain_db / 20)

    import soundfile as sf

    sidecar = sidecar_path(out_path)
    tmp_audio = tmp_json = None
    n_written = 0
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".partial", dir=out_path.parent)
        os.close(fd)
        tmp_audio = Path(name)
        blocks = synthesize(proto, sfreq=sfreq, block=block, gain=gain)
        if progress:
            blocks = _progress(blocks, total=_n_blocks(proto, sfreq, block), desc="rendering")
        with sf.SoundFile(str(tmp_audio), "w", samplerate=int(round(sfreq)), channels=proto.channels,
                          subtype=subtype or "PCM_16", format=fmt) as f:
            for b in blocks:
                f.write(b.T)
                n_written += b.shape[1]
        elapsed = time.perf_counter() - t0
        result = RenderResult(
            path=out_path, sidecar=sidecar, sfreq=sfreq, channels=proto.channels, n_samples=n_written,
            duration=n_written / sfreq, gain_db=gain_db, loudness_lufs=m.loudness_lufs + gain_db,
            true_peak_dbfs=m.true_peak_dbfs + gain_db, sample_peak_dbfs=m.sample_peak_dbfs + gain_db,
            warnings=notes, seconds_elapsed=elapsed, realtime_factor=(n_written / sfreq) / max(elapsed, 1e-9))
        fd, name = tempfile.mkstemp(prefix=f".{sidecar.name}.", suffix=".partial", dir=out_path.parent)
        os.close(fd)
        tmp_json = Path(name)
        write_json(tmp_json, _sidecar_payload(proto, result, seconds=seconds, music=music, override=override))
        os.replace(tmp_audio, out_path)
        tmp_audio = None
        os.replace(tmp_json, sidecar)
        tmp_json = None
    except OSError as err:
        raise OutputError(f"{out_path}: cannot write ({err.strerror or err})") from err
    finally:
        for p in (tmp_audio, tmp_json):
            if p is not None:
                p.unlink(missing_ok=True)
    return result


def _sidecar_payload(proto: P.Protocol, r: RenderResult, **options) -> dict:
    return {
        "file": r.path.name,
        "protocol": {"name": proto.name, "description": proto.description, "source": proto.source,
                     "toml": proto.raw},
        "parameters": {**{k: (str(v) if isinstance(v, PathLike) else v) for k, v in options.items()},
                       "sfreq": r.sfreq, "channels": r.channels, "fade_in": proto.fade_in,
                       "fade_out": proto.fade_out, "loudness_target_lufs": proto.loudness_lufs,
                       "peak_ceiling_dbfs": proto.peak_dbfs, "normalize": proto.normalize,
                       "segments": [{"start": s.start, "duration": s.duration, "label": s.label}
                                    for s in proto.segments]},
        "measured": {"loudness_lufs": r.loudness_lufs, "true_peak_dbfs": r.true_peak_dbfs,
                     "sample_peak_dbfs": r.sample_peak_dbfs, "gain_db": r.gain_db,
                     "n_samples": r.n_samples, "duration_s": r.duration},
        "normalisation": "two deterministic synthesis passes: measure (BS.1770 loudness, 4x true peak), then "
                         "one gain = min(target - loudness, ceiling - true peak)",
        "warnings": r.warnings,
        "render_seconds": r.seconds_elapsed,
        "versions": software_versions(),
    }

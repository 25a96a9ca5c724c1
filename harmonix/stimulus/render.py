"""Render a protocol to WAV/FLAC in constant memory, with loudness normalisation and a true-peak guarantee.

:func:`synthesize` turns a :class:`~harmonix.stimulus.protocol.Protocol` into
a stream of blocks (n_channels, n): the voices are mixed, faded, and passed
through the band guard (:class:`~harmonix.stimulus.safety.GuardFilter`).
:func:`render_protocol` runs it twice (see :mod:`harmonix.stimulus.safety`
for why two deterministic passes rather than a temporary file): a measuring
pass, then a writing pass scaled by one gain and quantised by harmonix
itself (so the samples measured are the samples written), to a hidden
temporary file in the output folder; a third pass reads that file back and
measures it (length, loudness, true-peak bound). Only a file that passes is
renamed over the final name, with its JSON sidecar.

Outputs never replace an input (the music, the protocol) or a file harmonix
did not write; folders are created only once the protocol, the options, the
output paths and the free disk space have been checked; an interruption
(Ctrl-C or SIGTERM) or an error leaves no partial file and removes the
folders it created. A WAV that would pass the 4 GiB limit of the RIFF header
is written as RF64.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np

from harmonix.errors import InputFileError, OutputError, ParameterError
from harmonix.progress import progress as _progress
from harmonix.stimulus import primitives as prim
from harmonix.stimulus import protocol as P
from harmonix.stimulus import safety as S
from harmonix.tables import check_not_input, missing_folders, remove_if_unused, software_versions, write_json

DEFAULT_BLOCK = 16384
"""Samples per block (0.37 s at 44.1 kHz): large enough to amortise Python overhead, small for memory."""
FORMATS = {".wav": "WAV", ".flac": "FLAC"}
SUBTYPES = {"PCM_16": 16, "PCM_24": 24, "FLOAT": 32}
"""Sample formats harmonix writes (bits per sample); FLAC takes PCM_16 and PCM_24."""
WAV_LIMIT_BYTES = 2**32 - 1
"""Largest file a WAV (RIFF) header can describe; larger renders are written as RF64."""
FLAC_MAX_SAMPLES = 2**36 - 1
"""Most samples per channel a FLAC stream header can count."""
DISK_MARGIN_BYTES = 16 * 2**20
"""Free space kept beyond the estimated size of the render."""
MUSIC_MAX_DBFS = 100.0
"""A music file peaking above this (a floating-point file) is taken as corrupt."""
GENERATOR = "harmonix"
"""Value of the ``generator`` field that marks a JSON sidecar as written by harmonix."""


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


def _music_files(protocol: P.Protocol) -> dict[str, str]:
    """``{music path: field}`` of the protocol's music voices (first field naming each file)."""
    files: dict[str, str] = {}
    for seg in protocol.segments:
        for v in seg.voices:
            if v.type == "am" and v.params.get("source") == "music" and v.params.get("music"):
                files.setdefault(str(v.params["music"]), f"{v.path}.music")
    return files


def _check_music(protocol: P.Protocol) -> list[str]:
    notes = []
    for path, where in _music_files(protocol).items():
        info = prim.scan_music(path, field=where)
        name = repr(str(path))
        if info.nonfinite_at is not None:
            raise InputFileError(f"{where}: music file {name} has NaN or infinite samples (the first at "
                                 f"{info.nonfinite_at:.3f} s); repair or re-export it")
        if info.peak == 0:
            raise InputFileError(f"{where}: music file {name} is silent (every sample is 0): there is nothing to "
                                 "modulate; choose another file")
        peak_db = S.db(info.peak)
        if peak_db > MUSIC_MAX_DBFS:
            raise InputFileError(f"{where}: music file {name} peaks at {peak_db:+.0f} dBFS, implausibly far above "
                                 "full scale (a corrupt floating-point file?); re-export it")
        if info.peak > 1.0:
            notes.append(f"{where}: music file {name} peaks at {peak_db:+.1f} dBFS, above full scale: as it is, it "
                         "clips when played or converted to PCM; harmonix renders it unclipped, scaled down by the "
                         "loudness normalisation")
        if info.duration < protocol.duration:
            notes.append(f"{where}: music file {name} lasts {info.duration:.3g} s, less than the "
                         f"{protocol.duration:g} s render: it is looped")
    return notes


def prepare(protocol: P.Protocol, *, sfreq: float, override: bool = False) -> list[str]:
    """Validate a protocol for rendering at ``sfreq``; return the notes to warn about.

    Checks the safety limits (:func:`~harmonix.stimulus.safety.check_limits`)
    and that every music file exists, can be opened, holds finite, non-silent
    samples; raises :class:`~harmonix.errors.ParameterError` /
    :class:`~harmonix.errors.InputFileError`.
    """
    notes = S.check_limits(protocol, sfreq=sfreq, override=override)
    _, streams, more = _build_voices(protocol, sfreq)
    for s in streams:
        s.close()
    return notes + more + _check_music(protocol)


def n_samples(protocol: P.Protocol, sfreq: float) -> int:
    """Samples per channel of a render: ``round(duration * sfreq)``."""
    return int(round(protocol.duration * float(sfreq)))


def _mix(protocol: P.Protocol, sfreq: float, block: int) -> Iterator[np.ndarray]:
    """The faded voice mix, float32 blocks cut at segment boundaries (before the band guard and the gain)."""
    voices, streams, _ = _build_voices(protocol, sfreq)
    total = n_samples(protocol, sfreq)
    edges = sorted({0, total} | {min(total, int(round(x * sfreq))) for s in protocol.segments for x in (s.start, s.end)})
    ch = protocol.channels
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
                yield out
    finally:
        for s in streams:
            s.close()


class _Guarded:
    """Iterate the guarded mix (float64 blocks) at a gain; afterwards ``guard`` holds the bound's edge terms."""

    def __init__(self, protocol: P.Protocol, sfreq: float, block: int, gain: float = 1.0) -> None:
        self.protocol, self.sfreq, self.block, self.gain = protocol, float(sfreq), block, float(gain)
        self.guard = S.GuardFilter(protocol.channels, n_samples(protocol, sfreq))

    def __iter__(self) -> Iterator[np.ndarray]:
        for b in _mix(self.protocol, self.sfreq, self.block):
            y = self.guard.process(b)
            if y.shape[1]:
                yield y * self.gain if self.gain != 1.0 else y
        y = self.guard.flush()
        if y.shape[1]:
            yield y * self.gain if self.gain != 1.0 else y


def synthesize(protocol: P.Protocol, *, sfreq: float = 44100.0, block: int = DEFAULT_BLOCK,
               gain: float = 1.0) -> Iterator[np.ndarray]:
    """Yield the protocol's samples as float32 blocks shaped (channels, <= block), ``round(duration * sfreq)`` in all.

    Each voice's signal is scaled by its level (dB, interpolated in dB
    along a slide), the mix by the segment's ``gain`` (linear, slid with the
    segment's shape), by the raised-cosine fades, then low-passed by the band
    guard (pass band to 0.9 x Nyquist, delay compensated) and scaled by
    ``gain``. Fresh voice states are made on every call, so two calls give
    identical samples.
    """
    for y in _Guarded(protocol, float(sfreq), block, gain):
        yield y.astype(np.float32)


def _n_blocks(protocol: P.Protocol, sfreq: float, block: int) -> int:
    return int(math.ceil(protocol.duration * sfreq / block)) + len(protocol.segments) + 1


@dataclass(frozen=True)
class Measurement:
    """Loudness (LUFS), true and sample peaks (dBFS) of the unscaled synthesis, and the true-peak bound's terms.

    ``true_peak_dbfs`` is the 16x grid maximum, ``true_peak_bound_dbfs`` its
    guaranteed upper bound (:func:`~harmonix.stimulus.safety.true_peak_bound`);
    ``pre_guard_peak``, ``edge_l1`` (:attr:`~harmonix.stimulus.safety.GuardFilter.outside_l1`)
    and ``edge_max`` (linear) feed that bound. ``loudness_tail_lufs`` also counts the incomplete last
    block as pyloudnorm does (:attr:`~harmonix.stimulus.safety.LoudnessMeter.integrated_with_tail`);
    ``gain_to_target_db`` is the gain that meets the target (:func:`~harmonix.stimulus.safety.gain_to_target`).
    """

    loudness_lufs: float
    true_peak_dbfs: float
    sample_peak_dbfs: float
    true_peak_bound_dbfs: float = math.nan
    n_samples: int = 0
    pre_guard_peak: float = 0.0
    edge_l1: float = 0.0
    edge_max: float = 0.0
    loudness_tail_lufs: float = math.nan
    gain_to_target_db: float = math.nan


def measure(protocol: P.Protocol, *, sfreq: float = 44100.0, block: int = DEFAULT_BLOCK,
            progress: bool = False) -> Measurement:
    """First pass: synthesise without writing; measure integrated loudness, true peak and its bound."""
    loud = S.LoudnessMeter(sfreq, protocol.channels)
    peak = S.TruePeakMeter(protocol.channels)
    stream = _Guarded(protocol, sfreq, block)
    blocks = iter(stream)
    if progress:
        blocks = _progress(blocks, total=_n_blocks(protocol, sfreq, block), desc="measuring")
    for b in blocks:
        loud.update(b)
        peak.update(b)
    g = stream.guard
    bound = peak.bound(residual=S.GUARD_LEAK * g.pre_peak, edge_l1=g.outside_l1, edge_max=g.edge_max)
    return Measurement(loud.integrated, peak.true_peak_dbfs, peak.sample_peak_dbfs, S.db(bound), peak.n_samples,
                       g.pre_peak, g.outside_l1, g.edge_max, loud.integrated_with_tail,
                       S.gain_to_target(loud, protocol.loudness_lufs))


def choose_gain(protocol: P.Protocol, m: Measurement, *, quant: float = 0.0) -> tuple[float, list[str]]:
    """Gain in dB: the loudness target (or, with ``normalize = false``, a ceiling), capped by the true-peak ceiling.

    The cap keeps the guaranteed true-peak bound of the scaled signal, plus
    :func:`~harmonix.stimulus.safety.quantization_allowance` for samples
    quantised with half-step ``quant``, at or below the ceiling.
    """
    if not (math.isfinite(m.sample_peak_dbfs) or m.sample_peak_dbfs == -math.inf) or math.isnan(m.loudness_lufs):
        raise ParameterError(f"{protocol.source}: the synthesis produced non-finite samples (NaN or infinity); "
                             "check the music file and the voice parameters")
    if m.sample_peak_dbfs == -math.inf:
        raise ParameterError(f"{protocol.source}: the protocol renders to silence (every sample is 0); raise the "
                             "voice levels or the segment gains")
    if not math.isfinite(m.loudness_lufs):
        fades = protocol.fade_in + protocol.fade_out
        why = (f"; the fades ({protocol.fade_in:g} s + {protocol.fade_out:g} s) cover the whole "
               f"{protocol.duration:g} s, so it never reaches full level: shorten them"
               if fades >= protocol.duration else "")
        raise ParameterError(f"{protocol.source}: the protocol is too quiet to measure: every 400 ms block is below "
                             f"the -70 LUFS gate of BS.1770 (sample peak {m.sample_peak_dbfs:.1f} dBFS); raise the "
                             f"voice levels or the segment gains{why}")
    # solved on the block histogram (the absolute gate stays put), by the louder of the two BS.1770 readings
    to_target = m.gain_to_target_db
    if not math.isfinite(to_target):
        to_target = protocol.loudness_lufs - m.loudness_lufs
    ceiling = 10 ** (protocol.peak_dbfs / 20)
    room = ceiling - S.quantization_allowance(quant, max(m.n_samples, 1))
    to_peak = S.db(room / 10 ** (m.true_peak_bound_dbfs / 20)) if math.isfinite(m.true_peak_bound_dbfs) else math.inf
    gain = min(to_target, to_peak) if protocol.normalize else min(0.0, to_target, to_peak)
    notes = []
    if protocol.normalize and to_peak < to_target - 0.05:
        notes.append(f"loudness {m.loudness_lufs + gain:.1f} LUFS is below the {protocol.loudness_lufs:g} LUFS target: "
                     f"the {protocol.peak_dbfs:g} dBFS true-peak ceiling limits the gain (crest factor too high)")
    return gain, notes


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render_protocol` wrote, as measured on the written file.

    Attributes
    ----------
    path, sidecar : Path
        The audio file and its JSON sidecar.
    sfreq : float
        Sampling rate (Hz).
    channels, n_samples : int
        Channel count and samples per channel (read back from the file).
    duration : float
        Seconds.
    gain_db : float
        Gain applied after the measuring pass (dB).
    loudness_lufs, true_peak_dbfs, sample_peak_dbfs : float
        Of the written file (the verifying pass): integrated loudness, 16x
        true-peak grid maximum, sample peak.
    true_peak_bound_dbfs : float
        Guaranteed upper bound of the file's true peak (at or below the ceiling).
    container, subtype : str
        soundfile format ('WAV', 'RF64', 'FLAC') and sample format.
    warnings : list of str
        Notes (built-in carrier used, binaural to mono, overridden limits, RF64, ...).
    seconds_elapsed, realtime_factor : float
        Wall time of all passes and ``duration / seconds_elapsed``.
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
    true_peak_bound_dbfs: float = math.nan
    container: str = "WAV"
    subtype: str = "PCM_16"

    def summary(self) -> str:
        """One line for the CLI."""
        return (f"{self.path}: {self.duration:.1f} s, {self.channels} ch, {self.sfreq:g} Hz; "
                f"{self.loudness_lufs:.1f} LUFS, true peak {self.true_peak_dbfs:.2f} dBFS "
                f"(guaranteed <= {self.true_peak_bound_dbfs:.2f}); rendered at {self.realtime_factor:.0f}x real time")


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


def read_sidecar(path: str | PathLike) -> dict | None:
    """The JSON object in ``path`` if it is a harmonix render sidecar, else None (also for unreadable files)."""
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return meta if is_harmonix_sidecar(meta) else None


def is_harmonix_sidecar(meta) -> bool:
    """Whether a parsed JSON document is a sidecar written by :func:`render_protocol`.

    Sidecars carry ``"generator": "harmonix"``; older ones are recognised by
    their ``protocol`` table and a ``versions`` table naming harmonix.
    """
    if not isinstance(meta, dict):
        return False
    if meta.get("generator") == GENERATOR:
        return True
    versions = meta.get("versions")
    return isinstance(versions, dict) and "harmonix" in versions and isinstance(meta.get("protocol"), dict)


def _input_files(protocol_arg, proto: P.Protocol) -> list[Path]:
    inputs = [Path(p) for p in _music_files(proto)]
    source = Path(proto.source)
    if source.is_file():
        inputs.append(source)
    if not isinstance(protocol_arg, P.Protocol) and Path(protocol_arg).is_file():
        inputs.append(Path(protocol_arg))
    return inputs


def _check_outputs(out_path: Path, sidecar: Path, inputs: list[Path]) -> None:
    """Refuse outputs that would replace an input or a file harmonix did not write (before any work)."""
    for path in (out_path, sidecar):
        check_not_input(path, inputs)
    if out_path.is_dir():
        raise OutputError(f"{out_path}: is a folder; give the audio file to write, e.g. {out_path / 'out.wav'}")
    if sidecar.is_dir():
        raise OutputError(f"{sidecar}: the sidecar of {out_path.name} would be written here, but it is a folder; "
                          "move it or choose another output name")
    for parent in (out_path.parent, *out_path.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{out_path}: {parent} is a file, not a folder; choose another output path")
            break
    meta = None
    if sidecar.exists():
        meta = read_sidecar(sidecar)
        if meta is None:
            raise OutputError(f"{sidecar}: exists and was not written by harmonix; rendering {out_path.name} would "
                              "replace it with its sidecar: move it or choose another output name")
        described = meta.get("file")
        if isinstance(described, str) and described != out_path.name and (out_path.parent / described).exists():
            raise OutputError(f"{sidecar}: is the sidecar of {out_path.parent / described}; rendering "
                              f"{out_path.name} would replace it: choose another output name")
    if out_path.exists() and (meta is None or meta.get("file") not in (None, out_path.name)):
        raise OutputError(f"{out_path}: exists and was not written by harmonix (no harmonix sidecar {sidecar.name} "
                          "names it); move or delete it, or choose another output name")


def _container(out_path: Path, fmt: str, n_total: int, channels: int, subtype: str) -> tuple[str, int, list[str]]:
    """soundfile format, estimated size (bytes) and notes: RF64 for a WAV beyond the RIFF limit."""
    size = n_total * channels * SUBTYPES[subtype] // 8 + 1024
    if fmt == "FLAC":
        if n_total > FLAC_MAX_SAMPLES:
            raise ParameterError(f"{out_path}: {n_total} samples per channel is more than a FLAC header can count "
                                 f"({FLAC_MAX_SAMPLES}); write a .wav (RF64) or lower the sampling rate")
        return fmt, size, []  # FLAC rarely exceeds PCM size: use it as the estimate
    if size > WAV_LIMIT_BYTES:
        return "RF64", size, [f"{out_path}: {size / 1e9:.2f} GB is beyond the 4 GiB that a WAV (RIFF) header can "
                              "describe; written as RF64 (EBU Tech 3306, read by libsndfile/soundfile, ffmpeg, sox "
                              "and Audacity), or render to .flac for a smaller file"]
    return fmt, size, []


def _check_disk(out_path: Path, size: int) -> None:
    folder = next(p for p in (out_path.parent.absolute(), *out_path.parent.absolute().parents) if p.exists())
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < size + DISK_MARGIN_BYTES:
        raise OutputError(f"{out_path}: not enough disk space: the render needs about {size / 1e9:.2f} GB and "
                          f"{folder} has {free / 1e9:.2f} GB free; free some space, render to .flac, or shorten it")


def _quantizer(subtype: str) -> tuple[float, object]:
    """Half a quantisation step of the written samples and the float64 -> array-to-write conversion."""
    if subtype == "PCM_16":
        return 2.0**-16, lambda y: np.clip(np.rint(y * 32768.0), -32768, 32767).astype(np.int16)
    if subtype == "PCM_24":
        return 2.0**-24, lambda y: (np.clip(np.rint(y * 8388608.0), -8388608, 8388607).astype(np.int32) << 8)
    return 2.0**-24, lambda y: y.astype(np.float32)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt while rendering, unless someone (the CLI) already handles SIGTERM."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (delivered at the end) while the finished files are renamed into place."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@dataclass(frozen=True)
class _Written:
    n_samples: int
    loudness_lufs: float
    true_peak: float
    sample_peak: float
    bound: float


def _write(proto: P.Protocol, path: Path, *, sfreq: float, block: int, gain: float, container: str, subtype: str,
           progress: bool) -> None:
    import soundfile as sf

    _, convert = _quantizer(subtype)
    blocks = iter(_Guarded(proto, sfreq, block, gain))
    if progress:
        blocks = _progress(blocks, total=_n_blocks(proto, sfreq, block), desc="rendering")
    with sf.SoundFile(str(path), "w", samplerate=int(round(sfreq)), channels=proto.channels, subtype=subtype,
                      format=container) as f:
        for b in blocks:
            f.write(np.ascontiguousarray(convert(b).T))


def _verify(path: Path, *, channels: int, quant: float, residual: float, edge_l1: float, edge_max: float,
            block: int, progress: bool, expected: int) -> _Written:
    """Third pass: read the written file back and measure it."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        loud = S.LoudnessMeter(f.samplerate, f.channels)
        peak = S.TruePeakMeter(f.channels)
        blocks = f.blocks(blocksize=block * 4, dtype="float32", always_2d=True)
        if progress:
            blocks = _progress(blocks, total=int(math.ceil(expected / (block * 4))), desc="verifying")
        for b in blocks:
            x = b.T
            loud.update(x)
            peak.update(x)
    bound = peak.bound(residual=residual, quant=quant, edge_l1=edge_l1, edge_max=edge_max)
    return _Written(peak.n_samples, loud.integrated, peak.true_peak, peak.sample_peak, bound)


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
        Missing folders are created (only once everything has been checked).
        A WAV beyond 4 GiB is written as RF64.
    seconds : float, optional
        Render a preview of this length: the schedule is time-scaled to fit.
    music : path, optional
        Music file for ``am`` voices with ``source = "music"``.
    sfreq : float
        Sampling rate in Hz (a whole number, 8000 to 384000).
    override : bool
        Render even when soft safety limits are exceeded (each is reported in ``warnings``).
    progress : bool
        Show progress bars (on a terminal).
    subtype : str, optional
        'PCM_16' (default), 'PCM_24' or 'FLOAT' (WAV only).

    Returns
    -------
    RenderResult
        Measured on the written file: its true peak is guaranteed at or
        below the protocol's ceiling (see :mod:`harmonix.stimulus.safety`).

    Raises
    ------
    ParameterError, InputFileError
        Invalid or unsafe protocol, missing or unusable music file: raised before any file or folder is created.
    OutputError
        The output would replace an input or a file harmonix did not write,
        a path is a folder, the disk is too small, or writing fails. On any
        error, KeyboardInterrupt or SIGTERM no partial output is left behind.
    """
    t0 = time.perf_counter()
    out_path = Path(out_path)
    fmt = FORMATS.get(out_path.suffix.lower())
    if fmt is None:
        raise ParameterError(f"{out_path}: output must end in .wav or .flac")
    sfreq = float(sfreq)
    if not (math.isfinite(sfreq) and 8000 <= sfreq <= 384000 and sfreq.is_integer()):
        raise ParameterError(f"sfreq must be a whole number of Hz between 8000 and 384000, got {sfreq!r}")
    subtype = subtype or "PCM_16"
    if subtype not in SUBTYPES or (fmt == "FLAC" and subtype == "FLOAT"):
        allowed = ", ".join(s for s in SUBTYPES if fmt == "WAV" or s != "FLOAT")
        raise ParameterError(f"{out_path}: subtype must be one of {allowed}, got {subtype!r}")
    proto = resolve_protocol(protocol, seconds=seconds, music=music)
    notes = prepare(proto, sfreq=sfreq, override=override)
    sidecar = sidecar_path(out_path)
    _check_outputs(out_path, sidecar, _input_files(protocol, proto))
    n_total = n_samples(proto, sfreq)
    container, size, more = _container(out_path, fmt, n_total, proto.channels, subtype)
    notes += more
    _check_disk(out_path, size)
    quant, _ = _quantizer(subtype)
    ceiling = 10 ** (proto.peak_dbfs / 20)

    with _terminate_as_interrupt():
        m = measure(proto, sfreq=sfreq, block=block, progress=progress)
        gain_db, more = choose_gain(proto, m, quant=quant)
        notes += more
        S.warn_all(notes)

        created = missing_folders(out_path.parent)
        tmp_audio = tmp_json = None
        committed = False
        try:
            try:
                out_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise OutputError(f"{out_path}: cannot create the folder {out_path.parent} "
                                  f"({err.strerror or err})") from err
            tag = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"
            for attempt in range(2):
                gain = 10 ** (gain_db / 20)
                tmp_audio = out_path.parent / f".{out_path.name}.{tag}.partial"
                _write(proto, tmp_audio, sfreq=sfreq, block=block, gain=gain, container=container, subtype=subtype,
                       progress=progress)
                written = _verify(tmp_audio, channels=proto.channels, quant=quant,
                                  residual=S.GUARD_LEAK * m.pre_guard_peak * gain, edge_l1=m.edge_l1 * gain,
                                  edge_max=m.edge_max * gain, block=block, progress=progress, expected=n_total)
                if written.n_samples != n_total:
                    raise OutputError(f"{out_path}: the written file holds {written.n_samples} samples per channel "
                                      f"instead of {n_total} (disk or format problem); nothing was kept")
                if written.bound <= ceiling:
                    break
                # cannot happen by the bound's derivation; if it does, lower the gain by the excess once
                gain_db -= S.db(written.bound / ceiling) + 0.001
                tmp_audio.unlink(missing_ok=True)
            else:
                raise OutputError(f"{out_path}: the written file's true-peak bound {S.db(written.bound):.3f} dBFS "
                                  f"is above the {proto.peak_dbfs:g} dBFS ceiling; nothing was kept")
            elapsed = time.perf_counter() - t0
            result = RenderResult(
                path=out_path, sidecar=sidecar, sfreq=sfreq, channels=proto.channels, n_samples=written.n_samples,
                duration=written.n_samples / sfreq, gain_db=gain_db, loudness_lufs=written.loudness_lufs,
                true_peak_dbfs=S.db(written.true_peak), sample_peak_dbfs=S.db(written.sample_peak),
                warnings=notes, seconds_elapsed=elapsed,
                realtime_factor=(written.n_samples / sfreq) / max(elapsed, 1e-9),
                true_peak_bound_dbfs=S.db(written.bound), container=container, subtype=subtype)
            tmp_json = out_path.parent / f".{sidecar.name}.{tag}.partial"
            residual = {"guard_leak": S.GUARD_LEAK * m.pre_guard_peak * 10 ** (gain_db / 20), "quantization": quant,
                        "edge_l1": m.edge_l1 * 10 ** (gain_db / 20), "edge_max": m.edge_max * 10 ** (gain_db / 20)}
            write_json(tmp_json, _sidecar_payload(proto, result, residual, seconds=seconds, music=music,
                                                  override=override))
            with _signals_held():
                os.replace(tmp_audio, out_path)
                tmp_audio = None
                os.replace(tmp_json, sidecar)
                tmp_json = None
                committed = True
        except OSError as err:
            raise OutputError(f"{out_path}: cannot write ({err.strerror or err})") from err
        except Exception as err:
            if type(err).__module__.startswith("soundfile") or "LibsndfileError" in type(err).__name__:
                raise OutputError(f"{out_path}: cannot write ({err})") from err
            raise
        finally:
            for p in (tmp_audio, tmp_json):
                if p is not None:
                    with contextlib.suppress(OSError):
                        p.unlink(missing_ok=True)
            if not committed:
                remove_if_unused(created)
    return result


def _sidecar_payload(proto: P.Protocol, r: RenderResult, residual: dict, **options) -> dict:
    return {
        "generator": GENERATOR,
        "file": r.path.name,
        "format": {"container": r.container, "subtype": r.subtype},
        "protocol": {"name": proto.name, "description": proto.description, "source": proto.source,
                     "toml": proto.raw},
        "parameters": {**{k: (str(v) if isinstance(v, PathLike) else v) for k, v in options.items()},
                       "sfreq": r.sfreq, "channels": r.channels, "fade_in": proto.fade_in,
                       "fade_out": proto.fade_out, "loudness_target_lufs": proto.loudness_lufs,
                       "peak_ceiling_dbfs": proto.peak_dbfs, "normalize": proto.normalize,
                       "segments": [{"start": s.start, "duration": s.duration, "label": s.label}
                                    for s in proto.segments]},
        "measured": {"loudness_lufs": r.loudness_lufs, "true_peak_dbfs": r.true_peak_dbfs,
                     "true_peak_bound_dbfs": r.true_peak_bound_dbfs,
                     "sample_peak_dbfs": r.sample_peak_dbfs, "gain_db": r.gain_db,
                     "n_samples": r.n_samples, "duration_s": r.duration, "of": "the written file, read back"},
        "true_peak_residual": residual,
        "normalisation": "two deterministic synthesis passes: measure (BS.1770 loudness; true peak on a 16x grid "
                         "of the band-guarded mix, bounded between grid points), then one gain = min(target - "
                         "loudness, ceiling - true-peak bound); a third pass measures the written file",
        "warnings": r.warnings,
        "render_seconds": r.seconds_elapsed,
        "versions": software_versions(),
    }

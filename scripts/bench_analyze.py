#!/usr/bin/env python
"""Benchmark: ``harmonix analyze`` end to end, against its filter-bank floor and the MNE path.

One run measures, side by side and on the same FIF file (64 channels, 500 Hz,
1 h by default; ``--hours 8`` is the long case), three paths, each in its own
subprocess so that its wall time, CPU time (user + sys of that child, from
``os.wait4``) and peak resident memory (the child's ``ru_maxrss``) are its own:

- **full**: ``harmonix analyze FILE --out DIR`` with the defaults, i.e. whatever
  the command is at run time (band power, aperiodic fit, envelopes, PLV,
  connectome harmonics and the research proxies). The script checks in the
  output's ``params.json`` that ``harmonics.computed`` and
  ``harmonics.proxies.computed`` are true and stops otherwise: a run that
  skipped them would not measure the job.
- **floor**: one pass of harmonix's own filter bank
  (:func:`harmonix.spectral.filterbank.iter_analytic_blocks`, default bands,
  60-s blocks) over the file, read block by block from the unloaded raw, each
  block consumed minimally (``abs().sum()``); see :func:`stream_analytic`:
  where harmonix's filter bank takes a ``SignalSource`` the raw is handed to it
  directly, otherwise each block is read with one FIR length of real context
  on each side. Either way the blocks equal the whole-recording filter bank.
  Every full analysis has to read the file and run the filter bank once; this
  is the cost of just that.
- **mne**: what an MNE-Python user runs for the same figures:
  ``read_raw_fif(preload=True)``, ``raw.compute_psd('welch')`` with 2-s
  windows, then per band ``raw.copy().filter(l, h).apply_hilbert()``. It holds
  the recording, a filtered copy and a complex copy in memory; when that would
  not fit (``--hours 8`` on a small machine) it is skipped and its wall/CPU
  time is scaled linearly from the 1-h run (said so in the output).

The recording is generated once and cached (``~/.cache/harmonix-bench`` or
``--cache-dir``; keyed by duration, seed, rate, channels and generator
version): 63 EEG channels named as the sensors of harmonix's default
connectome leadfield plus ``FC3`` (a standard 10-05 name the leadfield lacks;
the harmonic decomposition uses the 63 it matches), 1/f background from the 76
connectome regions and two occipital alpha sources with slowly varying
amplitude and frequency, all projected through the leadfield so that channels
correlate (about 10 uV). It is written 10 minutes at a time and concatenated
from the unloaded parts, so hours are never held in memory; FIF files over
2 GB are split by MNE and read back as one recording.

Thread budget: ``--threads N`` (default 2) goes to every child as
``OMP/MKL/OPENBLAS/NUMEXPR_NUM_THREADS``; where the machine has more than N
cores all children are also pinned to N cores (CPU affinity), because harmonix
asks ``scipy.fft`` for all cores. The floor uses N FFT workers; the MNE path
uses MNE's defaults (``n_jobs=1``). The file is read once before timing so
every path starts from a warm page cache, and the harmonic basis cache is
warmed too.

Usage::

    python scripts/bench_analyze.py              # 1 h
    python scripts/bench_analyze.py --hours 8    # 8 h, plus the 1-h case for the memory ratio
    python scripts/bench_analyze.py --quick      # 5 min

Targets (issue 12; printed with met / not met, never asserted): for 1 h x 64
channels x 500 Hz on 2 cores, full <= 3x floor wall time, faster than the MNE
path, >= 60x real time, peak memory < 1.5 GiB; at 8 h peak <= 1.2x the 1-h
peak. MB below are MiB (``ru_maxrss`` / 1024). The last line holds the
figures as ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SFREQ = 500.0
N_CHANNELS = 64
EXTRA_CHANNELS = ("FC3", "FC4", "CP3", "CP4")  # standard 10-05 names absent from the default leadfield
GENERATOR_VERSION = 1
GEN_BLOCK_SECONDS = 10.0  # random draws come in blocks of this length: content does not depend on the file layout
SEGMENT_SECONDS = 600.0  # longer recordings are written in parts of this length, then concatenated unloaded
FLOOR_BLOCK_SECONDS = 60.0  # harmonix.spectral.filterbank.DEFAULT_CHUNK_SECONDS
QUICK_HOURS = 5.0 / 60.0
BYTES_PER_SAMPLE_ON_DISK = 4  # FIF 'single'
TARGETS = {"ratio_to_floor": 3.0, "speedup_vs_mne": 1.0, "realtime_factor": 60.0, "peak_mb_1h": 1536.0,
           "peak_ratio": 1.2}


# --------------------------------------------------------------------------- recording


def channel_names(n_channels: int = N_CHANNELS) -> list[str]:
    """The leadfield's sensor names (63), then extra standard 10-05 names up to ``n_channels``."""
    from harmonix.harmonics.connectome import load_default_connectome

    sensors = list(load_default_connectome().sensor_names)
    extras = [name for name in EXTRA_CHANNELS if name not in sensors]
    names = (sensors + extras)[:n_channels]
    if len(names) < n_channels:
        raise ValueError(f"at most {len(sensors) + len(extras)} channels can be named, asked for {n_channels}")
    return names


def _leadfield_rows(names: list[str]) -> tuple[np.ndarray, object]:
    """Leadfield rows of ``names``; an extra channel gets the mean of its two neighbours' rows."""
    from harmonix.harmonics.connectome import load_default_connectome

    connectome = load_default_connectome()
    index = {name: i for i, name in enumerate(connectome.sensor_names)}
    neighbours = {"FC3": ("FC1", "FC5"), "FC4": ("FC2", "FC6"), "CP3": ("CP1", "CP5"), "CP4": ("CP2", "CP6")}
    rows = []
    for name in names:
        pair = (name,) if name in index else neighbours[name]
        rows.append(np.mean([connectome.leadfield[index[n]] for n in pair], axis=0))
    return np.array(rows), connectome


class SyntheticEEG:
    """Seeded, stateful EEG source model, read forward block by block.

    - background: one 1/f-like source per connectome region (Kellet's pink
      filter plus a leaky integrator, i.e. ~1/f above ~1 Hz steepening below),
      projected through the region-mean leadfield columns, scaled so the median
      channel has 10 uV RMS;
    - alpha: two sources in left/right V2, 9.7 and 10.3 Hz with Ornstein-
      Uhlenbeck frequency jitter (sd 0.2 Hz, tau 10 s) and log-amplitude
      (fast tau 3 s and slow tau 120 s), about 7 uV RMS on the strongest
      channel;
    - sensor noise: white, 0.5 uV RMS per channel.

    All random draws happen in blocks of ``GEN_BLOCK_SECONDS``, so the first
    seconds of a long recording equal a short one with the same seed.
    """

    _PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
    _PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])
    _LEAK = 0.995

    def __init__(self, n_channels: int = N_CHANNELS, sfreq: float = SFREQ, seed: int = 0) -> None:
        from scipy.signal import lfilter

        self.names = channel_names(n_channels)
        self.sfreq = float(sfreq)
        self.rng = np.random.default_rng(seed)
        self._lfilter = lfilter
        leadfield, connectome = _leadfield_rows(self.names)
        region_map = np.asarray(connectome.region_map)
        n_regions = len(connectome.region_labels)
        mix = np.column_stack([leadfield[:, region_map == r].mean(axis=1) for r in range(n_regions)])
        mix /= np.linalg.norm(mix, axis=0).mean()
        self.mix_bg = mix * (1e-5 / np.median(np.linalg.norm(mix, axis=1)))  # unit-variance sources
        labels = list(connectome.region_labels)
        alpha = np.column_stack([mix[:, labels.index(name)] for name in ("lV2", "rV2")])
        self.mix_alpha = alpha * (7e-6 / np.abs(alpha).max())
        self.noise_sd = 0.5e-6

        impulse = np.zeros(20000)
        impulse[0] = 1.0
        pink_sd = np.sqrt(np.sum(lfilter(self._PINK_B, self._PINK_A, impulse) ** 2))
        leak_sd = 1.0 / np.sqrt(1.0 - self._LEAK**2)
        self._pink_gain, self._leak_gain = 1.0 / pink_sd, 0.7 / leak_sd
        self._bg_norm = 1.0 / np.sqrt(1.0 + 0.7**2)
        n_bg = mix.shape[1]
        self._zi_pink = np.zeros((n_bg, len(self._PINK_A) - 1))
        self._zi_leak = np.zeros((n_bg, 1))
        dt = 1.0 / self.sfreq
        self._ou = {  # name: (AR coefficient, stationary sd)
            "freq": (math.exp(-dt / 10.0), 0.2),
            "amp_fast": (math.exp(-dt / 3.0), 0.4),
            "amp_slow": (math.exp(-dt / 120.0), 0.5),
        }
        self._zi_ou = {name: self.rng.standard_normal((2, 1)) * sd for name, (_, sd) in self._ou.items()}
        self.alpha_freqs = np.array([[9.7], [10.3]])
        self._phase = self.rng.uniform(0, 2 * np.pi, (2, 1))
        self._block = int(round(GEN_BLOCK_SECONDS * self.sfreq))
        self._buffer = np.empty((len(self.names), 0))
        self._next_block()  # burn-in: settle the filter states, then discard
        self._buffer = np.empty((len(self.names), 0))

    def _ou_step(self, name: str, n: int) -> np.ndarray:
        a, sd = self._ou[name]
        white = self.rng.standard_normal((2, n)) * (sd * math.sqrt(1.0 - a * a))
        out, self._zi_ou[name] = self._lfilter([1.0], [1.0, -a], white, axis=-1, zi=a * self._zi_ou[name])
        self._zi_ou[name] = out[:, -1:]
        return out

    def _next_block(self) -> None:
        n = self._block
        lfilter = self._lfilter
        white = self.rng.standard_normal((self.mix_bg.shape[1], n))
        pink, self._zi_pink = lfilter(self._PINK_B, self._PINK_A, white, axis=-1, zi=self._zi_pink)
        white = self.rng.standard_normal((self.mix_bg.shape[1], n))
        leak, self._zi_leak = lfilter([1.0], [1.0, -self._LEAK], white, axis=-1, zi=self._zi_leak)
        background = (pink * self._pink_gain + leak * self._leak_gain) * self._bg_norm

        freq = self.alpha_freqs + self._ou_step("freq", n)
        phase = self._phase + np.cumsum(2 * np.pi * freq / self.sfreq, axis=-1)
        self._phase = np.mod(phase[:, -1:], 2 * np.pi)
        log_amp = self._ou_step("amp_fast", n) + self._ou_step("amp_slow", n)
        alpha = np.sqrt(2.0) * np.exp(log_amp - 0.5 * (0.4**2 + 0.5**2)) * np.sin(phase)

        block = self.mix_bg @ background + self.mix_alpha @ alpha
        block += self.rng.standard_normal(block.shape) * self.noise_sd
        self._buffer = np.concatenate([self._buffer, block], axis=1) if self._buffer.size else block

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples, (n_channels, n) in V."""
        while self._buffer.shape[1] < n:
            self._next_block()
        out, self._buffer = self._buffer[:, :n], self._buffer[:, n:]
        return out


def recording_bytes(hours: float, n_channels: int = N_CHANNELS, sfreq: float = SFREQ) -> int:
    return n_channels * int(round(hours * 3600 * sfreq)) * BYTES_PER_SAMPLE_ON_DISK


def _check_disk(folder: Path, needed: int, what: str) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise SystemExit(f"not enough disk space in {folder} for {what}: need {needed / 1e9:.1f} GB, "
                         f"{free / 1e9:.1f} GB free (choose another folder with --cache-dir / --work-dir)")


def generate_recording(path: str | os.PathLike, seconds: float, *, seed: int = 0, n_channels: int = N_CHANNELS,
                       sfreq: float = SFREQ, segment_seconds: float = SEGMENT_SECONDS) -> Path:
    """Write a synthetic EEG recording (see :class:`SyntheticEEG`) as FIF, never holding more than a segment.

    Recordings up to ``segment_seconds`` are written directly; longer ones as
    parts in a scratch folder beside ``path``, concatenated unloaded
    (boundary annotations removed: the parts are one continuous signal) and
    saved in buffers, MNE splitting files over 2 GB (``name_raw-1.fif``, ...;
    ``mne.io.read_raw_fif(path)`` reads the whole set). Returns ``path``.
    """
    import mne

    path = Path(path)
    n_times = int(round(seconds * sfreq))
    if n_times < 2:
        raise ValueError(f"a recording needs at least 2 samples, {seconds} s at {sfreq} Hz gives {n_times}")
    # Parts on disk plus the final file, 5 % for FIF overhead.
    parts = math.ceil(n_times / (segment_seconds * sfreq))
    needed = int(n_channels * n_times * BYTES_PER_SAMPLE_ON_DISK * (2 if parts > 1 else 1) * 1.05) + 10_000_000
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_disk(path.parent, needed, f"a {seconds / 3600:g}-h recording")

    source = SyntheticEEG(n_channels, sfreq, seed)
    info = mne.create_info(source.names, sfreq, "eeg")
    info["description"] = (f"harmonix bench_analyze synthetic EEG v{GENERATOR_VERSION}: seed {seed}, 1/f background "
                           "from 76 connectome regions + occipital alpha, projected through the tvb leadfield")
    segment = int(round(segment_seconds * sfreq))
    if parts == 1:
        mne.io.RawArray(source.read(n_times), info, verbose="error").save(path, overwrite=True, verbose="error")
        return path
    scratch = Path(tempfile.mkdtemp(prefix=".parts-", dir=path.parent))
    try:
        files = []
        for i, start in enumerate(range(0, n_times, segment)):
            part = scratch / f"part{i:04d}_raw.fif"
            data = source.read(min(segment, n_times - start))
            mne.io.RawArray(data, info, verbose="error").save(part, verbose="error")
            del data
            files.append(part)
        raws = [mne.io.read_raw_fif(f, preload=False, verbose="error") for f in files]
        raw = mne.concatenate_raws(raws, verbose="error")
        raw.set_annotations(None)
        raw.save(path, overwrite=True, verbose="error")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return path


def recording_files(path: Path) -> list[Path]:
    """The file and its split parts (neuromag naming: ``x_raw.fif``, ``x_raw-1.fif``, ...)."""
    files = [path]
    stem = path.name[: -len(".fif")]
    i = 1
    while (path.parent / f"{stem}-{i}.fif").exists():
        files.append(path.parent / f"{stem}-{i}.fif")
        i += 1
    return files


def cached_recording(cache_dir: Path, hours: float, seed: int) -> tuple[Path, str]:
    """Path of the cached recording for ``hours``, generating it on a miss; also 'hit' / 'generated in N s'."""
    import mne

    n_times = int(round(hours * 3600 * SFREQ))
    key = f"eeg{N_CHANNELS}_{SFREQ:g}hz_{n_times}samples_seed{seed}_v{GENERATOR_VERSION}"
    folder = cache_dir / key
    path = folder / f"{key}_raw.fif"
    if path.exists():
        try:
            raw = mne.io.read_raw_fif(path, preload=False, verbose="error")
            if raw.n_times == n_times and len(raw.ch_names) == N_CHANNELS:
                return path, "cache hit"
        except Exception:  # noqa: BLE001 - a broken cache entry is regenerated
            pass
        shutil.rmtree(folder)
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache_dir))
    t0 = time.perf_counter()
    try:
        generate_recording(staging / path.name, n_times / SFREQ, seed=seed)
        staging.rename(folder)  # the split parts refer to each other by file name only
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path, f"generated in {time.perf_counter() - t0:.0f} s"


# --------------------------------------------------------------------------- child processes


def _result(path: str, payload: dict) -> None:
    Path(path).write_text(json.dumps(payload))


class _RawSource:
    """Samples of an unloaded ``mne.io.Raw`` on request (harmonix's ``SignalSource`` protocol, where it exists)."""

    def __init__(self, raw, picks) -> None:
        self.raw, self.picks = raw, picks
        self.n_channels, self.n_times = len(picks), raw.n_times

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.raw.get_data(self.picks, start, stop)


def stream_analytic(raw, bands, *, block_seconds: float = FLOOR_BLOCK_SECONDS, workers: int | None = -1,
                    mode: str = "auto"):
    """Yield ``(start, stop, values)`` of the filter bank over an unloaded raw, block by block.

    ``values`` is (n_bands, n_channels, stop - start), complex64, and equals
    one :func:`~harmonix.spectral.filterbank.iter_analytic_blocks` call over
    the whole recording while memory stays at one block. Two ways, ``mode``:

    - ``'source'`` (default where harmonix has ``SignalSource``): the raw is
      handed to ``iter_analytic_blocks`` as a source that reads each padded
      FFT block from the file: exactly harmonix's streaming filter bank.
    - ``'context'`` (any harmonix): ``iter_analytic_blocks`` gives each FFT
      block ``pad`` = one (longest) FIR length of context on both sides,
      reflecting only at the recording's edges; each block read here gets
      that same real context from the file (clipped at the edges, where the
      filter bank reflects as it would over the whole recording), one call
      per block, and only the block's own samples are kept. It pays the
      padding twice per block (~10 % more FFT work at 60-s blocks).
    """
    import mne

    from harmonix.spectral import filterbank

    if mode == "auto":
        mode = "source" if hasattr(filterbank, "SignalSource") else "context"
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    sfreq, n_times = raw.info["sfreq"], raw.n_times
    if mode == "source":
        for blk in filterbank.iter_analytic_blocks(_RawSource(raw, picks), sfreq, bands, chunk_seconds=block_seconds,
                                                   workers=workers):
            yield blk.start, blk.stop, blk.values
        return
    pad = max(len(filterbank.design_band_filter(b, sfreq)) for b in bands)
    block = max(1, int(round(block_seconds * sfreq)))
    for start in range(0, n_times, block):
        stop = min(start + block, n_times)
        lo, hi = max(0, start - pad), min(n_times, stop + pad)
        segment = raw.get_data(picks, lo, hi)
        for blk in filterbank.iter_analytic_blocks(segment, sfreq, bands, chunk_seconds=segment.shape[1] / sfreq,
                                                   workers=workers):
            a, b = max(blk.start, start - lo), min(blk.stop, stop - lo)
            if a < b:
                yield lo + a, lo + b, blk.values[..., a - blk.start : b - blk.start]


def worker_floor(path: str, threads: int, block_seconds: float, result: str, mode: str = "auto") -> None:
    """One filter-bank pass over the unloaded file (see :func:`stream_analytic`), each block touched once."""
    import mne

    from harmonix.spectral.bands import load_bands

    t0 = time.perf_counter()
    raw = mne.io.read_raw_fif(path, preload=False, verbose="error")
    bands = load_bands()
    checksum = 0.0
    n_done = 0
    from harmonix.spectral import filterbank

    mode = mode if mode != "auto" else "source" if hasattr(filterbank, "SignalSource") else "context"
    for start, stop, values in stream_analytic(raw, bands, block_seconds=block_seconds, workers=threads, mode=mode):
        assert start == n_done, (start, n_done)
        checksum += float(np.abs(values).sum())
        n_done = stop
    assert n_done == raw.n_times, (n_done, raw.n_times)
    _result(result, {"compute_s": time.perf_counter() - t0, "checksum": checksum, "n_bands": len(bands),
                     "mode": mode})


def worker_mne(path: str, result: str) -> None:
    """The MNE-Python path for the same bands: preload, Welch PSD, per band filter + Hilbert."""
    import mne

    from harmonix.spectral.bands import load_bands

    bands = load_bands()
    t0 = time.perf_counter()
    raw = mne.io.read_raw_fif(path, preload=True, verbose="error").pick("eeg")
    t1 = time.perf_counter()
    sfreq = raw.info["sfreq"]
    n = int(round(2 * sfreq))
    fmin, fmax = min(b.fmin for b in bands), min(sfreq / 2, max(b.fmax for b in bands) + 5)
    spectrum = raw.compute_psd(method="welch", fmin=fmin, fmax=fmax, n_fft=n, n_per_seg=n, n_overlap=n // 2,
                               window="hann", verbose="error")
    psd = spectrum.get_data()
    t2 = time.perf_counter()
    checksum = 0.0
    for band in bands:
        analytic = raw.copy().filter(band.fmin, band.fmax, verbose="error").apply_hilbert(envelope=False,
                                                                                           verbose="error")
        # Row by row: consuming the result must not add a full-size temporary.
        checksum += sum(float(np.abs(row).sum()) for row in analytic._data)
        del analytic
    t3 = time.perf_counter()
    _result(result, {"load_s": t1 - t0, "psd_s": t2 - t1, "filter_hilbert_s": t3 - t2, "checksum": checksum,
                     "psd_sum": float(psd.sum())})


def _harmonix_command() -> list[str]:
    exe = Path(sys.executable).parent / "harmonix"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("harmonix")
    if found:
        return [found]
    code = "import sys; from harmonix.cli import main; sys.argv[0] = 'harmonix'; sys.exit(main())"
    return [sys.executable, "-c", code]


def _child_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def measure(cmd: list[str], env: dict, log: Path) -> dict:
    """Run ``cmd``; wall s, CPU s (user + sys) and peak RSS (MiB) of that child alone, from ``os.wait4``."""
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024.0,
            "rc": proc.returncode}


def _failure(run: dict, log: Path) -> str:
    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    reason = "killed by signal " + str(-run["rc"]) if run["rc"] < 0 else f"exit status {run['rc']}"
    if any("MemoryError" in line for line in tail):
        reason += " (MemoryError: over --mem-limit-gb)"
    return reason + ("; " + " | ".join(tail) if tail else "")


def _check_params(out_dir: Path, seconds: float) -> dict:
    found = sorted(out_dir.glob("*/params.json"))
    if not found:
        raise SystemExit(f"harmonix analyze wrote no params.json under {out_dir}")
    params = json.loads(found[0].read_text())
    harmonics = params.get("harmonics", {})
    proxies = harmonics.get("proxies", {}) if isinstance(harmonics, dict) else {}
    if not harmonics.get("computed"):
        raise SystemExit(f"FAILED: harmonix analyze skipped the harmonic decomposition ({harmonics.get('reason')}); "
                         "the benchmark must measure the full job")
    if not proxies.get("computed"):
        raise SystemExit(f"FAILED: harmonix analyze skipped the research proxies ({proxies.get('reason')}); "
                         "the benchmark must measure the full job")
    seen = float(params.get("duration_s", 0.0)) + float(params.get("rejected_by_annotation_s") or 0.0)
    if abs(seen - seconds) > 1.0:
        raise SystemExit(f"FAILED: harmonix analyze saw {seen:.1f} s of the {seconds:.1f}-s recording "
                         "(a split FIF part not read?)")
    return params


def _du(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _mem_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def _warm_page_cache(files: list[Path]) -> None:
    for f in files:
        with open(f, "rb") as handle:
            while handle.read(1 << 24):
                pass


def run_case(label: str, path: Path, hours: float, args, env: dict, work: Path, mne_limit: int,
             mne_scale_from: dict | None) -> dict:
    """Floor, full analysis and MNE path on one recording; returns their measurements."""
    files = recording_files(path)
    size = sum(f.stat().st_size for f in files)
    print(f"[{label}] {path.name}: {len(files)} file(s), {size / 1e9:.2f} GB; warming the page cache", flush=True)
    _warm_page_cache(files)
    me = [sys.executable, os.path.abspath(__file__)]
    runs: dict[str, dict] = {}

    result = work / f"floor-{label}.json"
    log = work / f"floor-{label}.log"
    run = measure(me + ["--worker", "floor", "--file", str(path), "--result", str(result), "--threads",
                        str(args.threads), "--block-seconds", str(args.block_seconds), "--floor-mode",
                        args.floor_mode], env, log)
    if run["rc"] == 0:
        run.update(json.loads(result.read_text()))
    else:
        run["failed"] = _failure(run, log)
    runs["floor"] = run
    _print_run(label, "floor", run)

    out_dir = work / f"analyze-{label}"
    log = work / f"full-{label}.log"
    run = measure(_harmonix_command() + ["analyze", str(path), "--out", str(out_dir)], env, log)
    if run["rc"] == 0:
        params = _check_params(out_dir, hours * 3600)
        run["output_mb"] = _du(out_dir) / 1e6
        run["harmonics"] = params["harmonics"].get("channel_matching", "")
    else:
        run["failed"] = _failure(run, log)
    shutil.rmtree(out_dir, ignore_errors=True)
    runs["full"] = run
    _print_run(label, "full", run)

    n_times = int(round(hours * 3600 * SFREQ))
    mne_need = 5 * N_CHANNELS * n_times * 8  # raw, filtered copy, complex (x2) + PSD temporaries, float64
    if args.no_mne:
        runs["mne"] = {"skipped": "--no-mne"}
    elif mne_limit and mne_need > mne_limit and mne_scale_from is not None:
        scale = hours / mne_scale_from["hours"]
        base = mne_scale_from["mne"]
        runs["mne"] = {"wall_s": base["wall_s"] * scale, "cpu_s": base["cpu_s"] * scale, "peak_mb": float("nan"),
                       "scaled": f"not run: needs ~{mne_need / 2**30:.0f} GiB > limit {mne_limit / 2**30:.0f} GiB; "
                                 f"wall/CPU scaled x{scale:g} from the {mne_scale_from['label']} run"}
    elif mne_limit and mne_need > mne_limit:
        runs["mne"] = {"skipped": f"needs ~{mne_need / 2**30:.0f} GiB > limit {mne_limit / 2**30:.0f} GiB"}
    else:
        result = work / f"mne-{label}.json"
        log = work / f"mne-{label}.log"
        run = measure(me + ["--worker", "mne", "--file", str(path), "--result", str(result)], env, log)
        if run["rc"] == 0:
            run.update(json.loads(result.read_text()))
        else:
            run["failed"] = _failure(run, log)
        runs["mne"] = run
    _print_run(label, "mne", runs["mne"])
    return runs


def _print_run(label: str, name: str, run: dict) -> None:
    if "skipped" in run:
        print(f"[{label}] {name:5s} skipped: {run['skipped']}", flush=True)
        return
    line = f"[{label}] {name:5s} wall {run['wall_s']:8.1f} s  CPU {run['cpu_s']:8.1f} s"
    line += f"  peak {run['peak_mb']:7.0f} MB" if math.isfinite(run["peak_mb"]) else "  peak       - MB"
    if "failed" in run:
        line += f"  FAILED: {run['failed']}"
    elif name == "floor":
        line += f"  ({run['n_bands']} bands, {run['mode']} blocks, {run['compute_s']:.1f} s after start-up)"
    elif name == "full":
        line += f"  (output {run['output_mb']:.0f} MB; harmonics: {run['harmonics']})"
    elif name == "mne" and "scaled" in run:
        line += f"  ({run['scaled']})"
    elif name == "mne":
        line += (f"  (load {run['load_s']:.1f} s, psd {run['psd_s']:.1f} s, "
                 f"filter+hilbert {run['filter_hilbert_s']:.1f} s)")
    print(line, flush=True)


def _ok(run: dict) -> bool:
    return "skipped" not in run and "failed" not in run


def _ratios(hours: float, runs: dict) -> dict:
    full, floor, ref = runs["full"], runs["floor"], runs["mne"]
    nan = float("nan")
    return {
        "realtime_factor": hours * 3600 / full["wall_s"] if _ok(full) else nan,
        "ratio_to_floor": full["wall_s"] / floor["wall_s"] if _ok(full) and _ok(floor) else nan,
        "speedup_vs_mne": ref["wall_s"] / full["wall_s"] if _ok(full) and _ok(ref) else nan,
        "peak_mb": full["peak_mb"] if _ok(full) else nan,
    }


def _verdict(value: float, target: float, higher_is_better: bool, strict: bool = False) -> str:
    if not math.isfinite(value):
        return "n/a"
    if higher_is_better:
        met = value > target if strict else value >= target
    else:
        met = value < target if strict else value <= target
    return "met" if met else "not met"


def _hours_label(hours: float) -> str:
    """'1h', '8h', '0.5h'; whole minutes under an hour as '5min'."""
    minutes = hours * 60
    if hours < 1 and abs(minutes - round(minutes)) < 1e-9:
        return f"{round(minutes)}min"
    return f"{hours:g}h"


def _parse_mem_limit(value: float | None) -> int:
    if value is None:
        return int(0.9 * _mem_available())
    return int(value * 2**30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="recording length in hours (default 1; 8 = long case)")
    parser.add_argument("--quick", action="store_true", help=f"a {QUICK_HOURS * 60:g}-min recording")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="thread/core budget of every path (default 2)")
    parser.add_argument("--block-seconds", type=float, default=FLOOR_BLOCK_SECONDS,
                        help="block length of the floor's streaming read (default %(default)s s)")
    default_cache = Path(os.environ.get("HARMONIX_BENCH_CACHE") or Path.home() / ".cache" / "harmonix-bench")
    parser.add_argument("--floor-mode", choices=("auto", "source", "context"), default="auto",
                        help="how the floor streams the file (see stream_analytic; default: source where harmonix "
                             "has SignalSource)")
    parser.add_argument("--cache-dir", type=Path, default=default_cache,
                        help="where generated recordings are kept (default $HARMONIX_BENCH_CACHE or "
                             "~/.cache/harmonix-bench)")
    parser.add_argument("--work-dir", type=Path, default=None, help="where analysis outputs go (default: system temp)")
    parser.add_argument("--mem-limit-gb", type=float, default=None,
                        help="address-space limit of every child in GiB (default 90%% of the memory available at "
                             "start; 0: none); also decides whether the MNE path fits")
    parser.add_argument("--no-mne", action="store_true", help="leave out the MNE path")
    parser.add_argument("--worker", choices=("floor", "mne"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "floor":
        worker_floor(args.file, args.threads, args.block_seconds, args.result, args.floor_mode)
        return
    if args.worker == "mne":
        worker_mne(args.file, args.result)
        return

    import warnings

    warnings.simplefilter("ignore")
    hours = QUICK_HOURS if args.quick else args.hours
    if hours <= 0:
        parser.error("--hours must be positive")
    cases = [1.0, hours] if hours > 1.0 else [hours]
    mem_limit = _parse_mem_limit(args.mem_limit_gb)

    # Recordings first (cached; each generation checks its disk space).
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"recording: {N_CHANNELS} EEG channels ({', '.join(channel_names()[-2:])} last; 63 match the default "
          f"leadfield), {SFREQ:g} Hz, {' and '.join(_hours_label(h) for h in cases)}, seed {args.seed}; "
          f"cache {args.cache_dir}", flush=True)
    paths = {}
    for h in cases:
        paths[h], note = cached_recording(args.cache_dir, h, args.seed)
        print(f"  {_hours_label(h)}: {paths[h]} ({note})", flush=True)

    work_parent = args.work_dir or Path(tempfile.gettempdir())
    work_parent.mkdir(parents=True, exist_ok=True)
    # Today's analyze keeps complex64 harmonic coefficients (5 bands x 30 modes) in arrays.npz.
    out_estimate = 5 * 30 * 8 * int(round(max(cases) * 3600 * SFREQ))
    free = shutil.disk_usage(work_parent).free
    if free < out_estimate:
        print(f"warning: {work_parent} has {free / 1e9:.1f} GB free; an analysis that keeps the harmonic "
              f"coefficients writes ~{out_estimate / 1e9:.1f} GB (use --work-dir)", flush=True)

    # Thread/core budget, inherited by every child.
    env = _child_env(args.threads)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) > args.threads:
        os.sched_setaffinity(0, cpus[: args.threads])
    if mem_limit:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        mem_limit = mem_limit if hard == resource.RLIM_INFINITY else min(mem_limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (mem_limit, hard))
    print(f"thread budget: {args.threads} per path ({len(cpus) or os.cpu_count()} cores visible"
          f"{', children pinned to ' + str(args.threads) if len(cpus) > args.threads else ''}); BLAS/OpenMP threads "
          f"{args.threads}; floor: {args.threads} FFT workers; harmonix analyze: its own defaults; "
          f"MNE: n_jobs=1 (its default)", flush=True)
    print(f"memory limit per child: {mem_limit / 2**30:.1f} GiB address space" if mem_limit
          else "memory limit per child: none", flush=True)

    warm = measure([sys.executable, "-c", "from harmonix.harmonics.model import default_harmonic_model as m; "
                    "print(m().basis.params.get('cache'))"], env, work_parent / f"bench-analyze-warm-{os.getpid()}.log")
    print(f"harmonic basis cache warmed ({warm['wall_s']:.1f} s)" if warm["rc"] == 0
          else f"warning: warming the harmonic basis cache failed (exit {warm['rc']}); the first analysis pays it",
          flush=True)
    (work_parent / f"bench-analyze-warm-{os.getpid()}.log").unlink(missing_ok=True)

    results: dict[float, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-analyze-", dir=work_parent) as tmp:
        work = Path(tmp)
        previous = None
        for h in cases:
            label = _hours_label(h)
            runs = run_case(label, paths[h], h, args, env, work, mem_limit, previous)
            results[h] = runs
            if _ok(runs["mne"]):
                previous = {"hours": h, "label": label, "mne": runs["mne"]}

    # Table.
    print()
    print(f"{'case':>6s} {'path':6s} {'wall s':>9s} {'CPU s':>9s} {'peak MB':>8s} {'x real time':>12s}")
    for h, runs in results.items():
        for name in ("floor", "full", "mne"):
            run = runs[name]
            if "skipped" in run:
                print(f"{_hours_label(h):>6s} {name:6s} {'skipped':>9s}")
                continue
            peak = f"{run['peak_mb']:8.0f}" if math.isfinite(run["peak_mb"]) else f"{'-':>8s}"
            tag = " (scaled)" if "scaled" in run else " FAILED" if "failed" in run else ""
            print(f"{_hours_label(h):>6s} {name:6s} {run['wall_s']:9.1f} {run['cpu_s']:9.1f} {peak} "
                  f"{h * 3600 / run['wall_s']:12.1f}{tag}")
    ratios = {h: _ratios(h, runs) for h, runs in results.items()}
    main_r = ratios[hours]
    one = ratios.get(1.0)
    for h, r in ratios.items():
        print(f"{_hours_label(h):>6s} full/floor wall {r['ratio_to_floor']:.2f}x, "
              f"mne/full wall {r['speedup_vs_mne']:.2f}x, full {r['realtime_factor']:.1f}x real time")

    # Targets (for 1 h; measured on 1 h where this run has it).
    ref, ref_label = (one, "1h") if one is not None else (main_r, _hours_label(hours))
    note = "" if ref_label == "1h" else f" [measured on {ref_label}; target is for 1h]"
    print("\ntargets (issue 12):")
    rows = [
        ("full analysis <= 3x the floor", f"{ref['ratio_to_floor']:.2f}x",
         _verdict(ref["ratio_to_floor"], TARGETS["ratio_to_floor"], False)),
        ("faster than the MNE path", f"{ref['speedup_vs_mne']:.2f}x",
         _verdict(ref["speedup_vs_mne"], TARGETS["speedup_vs_mne"], True, strict=True)),
        (">= 60x real time on 2 cores", f"{ref['realtime_factor']:.1f}x",
         _verdict(ref["realtime_factor"], TARGETS["realtime_factor"], True)),
        ("peak memory < 1.5 GiB (1536 MB)", f"{ref['peak_mb']:.0f} MB",
         _verdict(ref["peak_mb"], TARGETS["peak_mb_1h"], False, strict=True)),
    ]
    figures = {"hours": hours, "threads": args.threads,
               "realtime_factor": main_r["realtime_factor"], "ratio_to_floor": main_r["ratio_to_floor"],
               "speedup_vs_mne": main_r["speedup_vs_mne"], f"peak_mb_{_hours_label(hours)}": main_r["peak_mb"]}
    mne_run = results[hours]["mne"]
    figures["mne"] = ("skipped" if "skipped" in mne_run else "scaled_from_1h" if "scaled" in mne_run
                      else "failed" if "failed" in mne_run else "measured")
    if one is not None and hours != 1.0:
        peak_ratio = main_r["peak_mb"] / one["peak_mb"]
        rows.append((f"peak at {_hours_label(hours)} <= 1.2x the 1-h peak", f"{peak_ratio:.2f}x",
                     _verdict(peak_ratio, TARGETS["peak_ratio"], False)))
        figures.update({"peak_mb_1h": one["peak_mb"], f"peak_ratio_{_hours_label(hours)}_1h": peak_ratio,
                        "realtime_factor_1h": one["realtime_factor"], "ratio_to_floor_1h": one["ratio_to_floor"],
                        "speedup_vs_mne_1h": one["speedup_vs_mne"]})
    for text, value, verdict in rows:
        print(f"  {text:40s} measured {value:>10s}  {verdict}{note if 'peak at' not in text else ''}")
    failed = [f"{_hours_label(h)} {name}" for h, runs in results.items() for name, run in runs.items()
              if "failed" in run]
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))
    if failed:
        raise SystemExit(f"failed runs: {', '.join(failed)}")


if __name__ == "__main__":
    main()

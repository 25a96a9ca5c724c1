#!/usr/bin/env python
"""Benchmark: band power and filter-bank analytic signal, harmonix vs MNE-Python.

Both sides analyse the same generated recording (64 channels, 500 Hz, 60 min;
``--quick``: 16 channels, 5 min), each in a fresh subprocess so that peak
memory (max RSS) is measured per side:

- harmonix: ``compute_psd`` (Welch, 2-s Hann windows, 50 % overlap) +
  ``band_power``, then ``band_amplitude_stats`` (chunked filter bank: MNE's FIR
  and the Hilbert transform as one frequency-domain filter, mean and CV of the
  amplitude envelope per band and channel);
- MNE: ``raw.compute_psd`` with the same Welch parameters + integration over
  each band, then per band ``raw.copy().filter(fmin, fmax).apply_hilbert()`` and
  the same envelope statistics.

harmonix runs twice: with all cores for the FFTs (its default) and with one
FFT thread, since MNE's ``n_jobs`` defaults to one. The last line holds the
figures as ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

BANDS = {"delta": (1.0, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}
SFREQ = 500.0


def make_data(n_channels: int, minutes: float, seed: int = 0) -> np.ndarray:
    """Brown-ish noise plus a 10 Hz rhythm, in V (float64, as MNE holds data).

    Built one channel at a time so that generation adds no full-size
    temporaries to the peak memory measured afterwards.
    """
    rng = np.random.default_rng(seed)
    n_times = int(minutes * 60 * SFREQ)
    rhythm = 5e-6 * np.sin(2 * np.pi * 10.0 * np.arange(n_times) / SFREQ)
    data = np.empty((n_channels, n_times))
    for row in data:
        np.cumsum(rng.standard_normal(n_times), out=row)
        row -= np.linspace(row[0], row[-1], n_times)  # remove the random-walk drift
        row *= 1e-7
        row += rhythm
    return data


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _integrate_bands(freqs: np.ndarray, psd: np.ndarray) -> np.ndarray:
    """Band power with harmonix's integration rule, so that only the PSD estimators are compared."""
    from harmonix.spectral.bandpower import band_power
    from harmonix.spectral.bands import load_bands
    from harmonix.spectral.psd import Spectrum

    spectrum = Spectrum(freqs, psd, tuple(map(str, range(psd.shape[0]))), "welch")
    return band_power(spectrum, load_bands(BANDS)).absolute


def run_harmonix(data: np.ndarray, workers: int) -> dict:
    import scipy.fft

    from harmonix.spectral.bandpower import band_power
    from harmonix.spectral.bands import load_bands
    from harmonix.spectral.filterbank import band_amplitude_stats
    from harmonix.spectral.psd import compute_psd

    bands = load_bands(BANDS)
    t0 = time.perf_counter()
    spectrum = compute_psd(data, SFREQ, fmin=1.0, fmax=45.0, window_seconds=2.0)
    power = band_power(spectrum, bands).absolute
    t1 = time.perf_counter()
    with scipy.fft.set_workers(workers):
        stats = band_amplitude_stats(data, SFREQ, bands, workers=workers)
    t2 = time.perf_counter()
    return {"psd_s": t1 - t0, "filterbank_s": t2 - t1, "power": power.tolist(),
            "envelope": stats["mean_amplitude"].tolist()}


def run_mne(data: np.ndarray) -> dict:
    import mne

    mne.set_log_level("ERROR")
    raw = mne.io.RawArray(data, mne.create_info(data.shape[0], SFREQ, "eeg"), copy="info")
    t0 = time.perf_counter()
    n = int(2 * SFREQ)
    spectrum = raw.compute_psd(method="welch", fmin=1.0, fmax=45.0, n_fft=n, n_per_seg=n, n_overlap=n // 2,
                               window="hann")
    psd, freqs = spectrum.get_data(return_freqs=True)
    power = _integrate_bands(freqs, psd)
    t1 = time.perf_counter()
    envelope = []
    for lo, hi in BANDS.values():
        analytic = raw.copy().filter(lo, hi).apply_hilbert()
        envelope.append(np.abs(analytic.get_data()).mean(axis=1))
        del analytic
    t2 = time.perf_counter()
    return {"psd_s": t1 - t0, "filterbank_s": t2 - t1, "power": power.tolist(),
            "envelope": np.column_stack(envelope).tolist()}


def worker(side: str, n_channels: int, minutes: float, workers: int) -> None:
    data = make_data(n_channels, minutes)
    baseline = _peak_mb()
    result = run_mne(data) if side == "mne" else run_harmonix(data, workers)
    result["peak_mb"] = _peak_mb()
    result["data_mb"] = data.nbytes / 1e6
    result["baseline_mb"] = baseline
    print(json.dumps(result))


def total(result: dict) -> float:
    return result["psd_s"] + result["filterbank_s"]


def spawn(side: str, n_channels: int, minutes: float, workers: int = -1) -> dict:
    cmd = [sys.executable, __file__, "--worker", side, "--channels", str(n_channels), "--minutes", str(minutes),
           "--workers", str(workers)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 channels x 5 min instead of 64 x 60 min")
    parser.add_argument("--channels", type=int)
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--workers", type=int, default=-1)
    parser.add_argument("--worker", choices=("harmonix", "mne"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    n_channels = args.channels or (16 if args.quick else 64)
    minutes = args.minutes or (5.0 if args.quick else 60.0)
    if args.worker:
        worker(args.worker, n_channels, minutes, args.workers)
        return

    print(f"data: {n_channels} channels x {minutes:g} min at {SFREQ:g} Hz, bands {', '.join(BANDS)}", flush=True)
    results = {}
    for label, side, workers in (("harmonix", "harmonix", -1), ("harmonix_1thread", "harmonix", 1), ("mne", "mne", 1)):
        results[label] = spawn(side, n_channels, minutes, workers)
        r = results[label]
        print(f"{label:17s} psd {r['psd_s']:7.2f} s  filter-bank {r['filterbank_s']:7.2f} s  "
              f"peak memory {r['peak_mb']:7.0f} MB (data {r['data_mb']:.0f} MB)", flush=True)
    hx, hx1, ref = results["harmonix"], results["harmonix_1thread"], results["mne"]
    power_diff = np.max(np.abs(np.array(hx["power"]) / np.array(ref["power"]) - 1))
    env_diff = np.max(np.abs(np.array(hx["envelope"]) / np.array(ref["envelope"]) - 1))
    figures = {
        "speedup_total": total(ref) / total(hx),
        "speedup_total_1thread": total(ref) / total(hx1),
        "speedup_psd": ref["psd_s"] / hx["psd_s"],
        "speedup_filterbank": ref["filterbank_s"] / hx["filterbank_s"],
        "speedup_filterbank_1thread": ref["filterbank_s"] / hx1["filterbank_s"],
        "peak_mem_mb": hx["peak_mb"],
        "peak_mem_mb_mne": ref["peak_mb"],
        "max_rel_bandpower_diff": power_diff,
        "max_rel_envelope_diff": env_diff,
    }
    print(" ".join(f"{k}={v:.3g}" for k, v in figures.items()))


if __name__ == "__main__":
    main()

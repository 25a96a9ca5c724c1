#!/usr/bin/env python
"""Benchmark: time-resolved PLV matrices, harmonix vs mne-connectivity.

Both sides analyse the same generated recording (64 channels, 250 Hz, 10 min,
five default bands; ``--quick``: 16 channels, 2 min) and compute the same
quantity: for every band, every 2-s window and every channel pair, the
phase-locking value over the samples of the window,
``PLV_ij = |mean_t exp(i(phi_i(t) - phi_j(t)))|``.

- harmonix: :func:`harmonix.estimators.locking.band_plv_over_time` - the
  filter bank (MNE's FIR band-pass + Hilbert, one FFT per chunk shared by all
  bands) streamed into batched complex matrix products ``U U^H`` per window.
- mne-connectivity: ``spectral_connectivity_time(method='plv',
  mode='cwt_morlet')`` on the same windows cut as epochs with 1 s of context
  on each side (``padding=1.0`` drops it after the wavelet transform, so both
  sides see context instead of edge effects; the recording is extended by
  reflection at its ends, as the filter bank does). Frequencies: four per
  band, evenly inside it, with ``n_cycles = max(2, 2.355 f_c / width)`` so
  that the Morlet bandwidth matches the band; the PLV is averaged over the
  band's frequencies (``faverage=False`` and the mean taken here: with
  several bands in one call, mne-connectivity 0.9's ``_foi_average`` widens
  every band's upper index to ``2 * f_e`` when ``f_s != f_e``, so
  ``faverage=True`` would mix bands).

Agreement is the Pearson correlation and the mean absolute difference of all
off-diagonal PLV values (band x window x pair). The two spectral estimators
differ (a band-pass over the whole band vs the mean of narrow wavelets), so
exact equality is not expected. If mne-connectivity would take longer than
``--max-mne-seconds`` on the full size, it runs on the first windows only and
its time is scaled by the number of windows (stated in the output).

The last line holds the figures as ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

SFREQ = 250.0
WINDOW = 2.0
CONTEXT = 1.0
FREQS_PER_BAND = 4


def make_data(n_channels: int, minutes: float, seed: int = 0) -> np.ndarray:
    """Mixtures of 8 latent sources with slowly varying amplitudes plus channel noise, in V.

    Each source is 1/f noise plus a band-limited 10 Hz rhythm; each channel
    mixes a few sources (random weights) so that PLV differs between pairs
    and, since source amplitudes drift, between windows.
    """
    rng = np.random.default_rng(seed)
    n_times = int(minutes * 60 * SFREQ)
    n_src = 8
    freqs = np.fft.rfftfreq(n_times, 1.0 / SFREQ)
    shape = np.zeros_like(freqs)
    shape[1:] = 1.0 / np.sqrt(freqs[1:])
    shape += 3.0 * np.exp(-0.5 * ((freqs - 10.0) / 1.0) ** 2)
    spectrum = (rng.standard_normal((n_src, freqs.size)) + 1j * rng.standard_normal((n_src, freqs.size))) * shape
    sources = np.fft.irfft(spectrum, n=n_times, axis=-1)
    sources /= sources.std(axis=-1, keepdims=True)
    # slow amplitude drifts (time constant ~ 10 s)
    knots = rng.uniform(0.2, 1.5, (n_src, int(minutes * 6) + 2))
    envelope = np.stack([np.interp(np.arange(n_times), np.linspace(0, n_times, k.size), k) for k in knots])
    sources *= envelope
    mixing = rng.standard_normal((n_channels, n_src)) * (rng.uniform(size=(n_channels, n_src)) < 0.4)
    data = mixing @ sources + 0.7 * rng.standard_normal((n_channels, n_times)).cumsum(axis=-1) / np.sqrt(n_times)
    data += 0.5 * rng.standard_normal((n_channels, n_times))
    return 1e-6 * data


def mne_setup(bands):
    """Frequencies, cycles and per-band index slices for the Morlet side."""
    freqs, cycles, slices = [], [], []
    for band in bands:
        width = band.fmax - band.fmin
        f = band.fmin + (np.arange(FREQS_PER_BAND) + 0.5) * width / FREQS_PER_BAND
        slices.append(slice(len(freqs), len(freqs) + FREQS_PER_BAND))
        freqs.extend(f)
        cycles.extend([max(2.0, 2.355 * band.center / width)] * FREQS_PER_BAND)
    return np.array(freqs), np.array(cycles), slices


def mne_epochs(data: np.ndarray, n_windows: int) -> np.ndarray:
    """Windows of WINDOW s with CONTEXT s on both sides; recording ends extended by reflection."""
    win, ctx = int(WINDOW * SFREQ), int(CONTEXT * SFREQ)
    padded = np.pad(data, ((0, 0), (ctx, ctx)), mode="reflect")
    return np.stack([padded[:, w * win : w * win + win + 2 * ctx] for w in range(n_windows)])


def run_mne(epochs: np.ndarray, freqs, cycles, slices) -> np.ndarray:
    """PLV (n_bands, n_windows, n, n) from mne-connectivity, lower triangle mirrored."""
    from mne_connectivity import spectral_connectivity_time

    n_ch = epochs.shape[1]
    con = spectral_connectivity_time(
        epochs, freqs, method="plv", sfreq=SFREQ, mode="cwt_morlet", n_cycles=cycles,
        padding=CONTEXT, faverage=False, n_jobs=1, verbose=False,
    )
    dense = con.get_data(output="dense")  # (n_epochs, n, n, n_freqs), lower triangle
    out = np.stack([dense[..., s].mean(axis=-1) for s in slices])  # (bands, epochs, n, n)
    out = out + np.swapaxes(out, -1, -2)
    idx = np.arange(n_ch)
    out[..., idx, idx] = 1.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 channels, 2 min (< 60 s)")
    parser.add_argument("--max-mne-seconds", type=float, default=300.0,
                        help="above this estimated time mne runs on a subset of windows and is scaled")
    args = parser.parse_args()

    import mne

    from harmonix.estimators.locking import band_plv_over_time
    from harmonix.spectral.bands import load_bands

    mne.set_log_level("ERROR")
    n_channels, minutes = (16, 2.0) if args.quick else (64, 10.0)
    bands = load_bands()
    data = make_data(n_channels, minutes)
    n_windows = int(data.shape[1] // int(WINDOW * SFREQ))
    print(f"data: {n_channels} channels, {minutes:g} min at {SFREQ:g} Hz, {len(bands)} bands "
          f"({', '.join(f'{b.name} {b.fmin:g}-{b.fmax:g}' for b in bands)} Hz), {n_windows} windows of {WINDOW:g} s; "
          f"{os.cpu_count()} CPU cores visible")

    # harmonix (best of 2: the first call also warms up FFT plans and BLAS)
    times_h = []
    for _ in range(2):
        t0 = time.perf_counter()
        _, plv_h = band_plv_over_time(data, SFREQ, bands, window_seconds=WINDOW)
        times_h.append(time.perf_counter() - t0)
    t_h = min(times_h)
    print(f"harmonix band_plv_over_time: {t_h:.2f} s -> {plv_h.shape}")

    # mne-connectivity: probe on a few windows, then full run or scaled subset
    freqs, cycles, slices = mne_setup(bands)
    probe = min(n_windows, 4)
    t0 = time.perf_counter()
    run_mne(mne_epochs(data, probe), freqs, cycles, slices)
    estimate = (time.perf_counter() - t0) / probe * n_windows
    n_used = n_windows if estimate <= args.max_mne_seconds else max(
        probe, int(n_windows * args.max_mne_seconds / estimate / 2))
    epochs = mne_epochs(data, n_used)
    t0 = time.perf_counter()
    plv_m = run_mne(epochs, freqs, cycles, slices)
    t_sub = time.perf_counter() - t0
    t_m = t_sub * n_windows / n_used
    scaled = n_used < n_windows
    note = f" (measured on {n_used} of {n_windows} windows: {t_sub:.1f} s, scaled x{n_windows / n_used:.2f})" if scaled else ""
    print(f"mne_connectivity.spectral_connectivity_time(plv, cwt_morlet): {t_m:.1f} s{note}")

    iu = np.triu_indices(n_channels, 1)
    a = plv_h[:, :n_used][..., iu[0], iu[1]].ravel()
    b = plv_m[..., iu[0], iu[1]].ravel()
    corr = float(np.corrcoef(a, b)[0, 1])
    mad = float(np.mean(np.abs(a - b)))
    speedup = t_m / t_h
    for k, band in enumerate(bands):
        ab = plv_h[k, :n_used][..., iu[0], iu[1]].ravel()
        bb = plv_m[k][..., iu[0], iu[1]].ravel()
        print(f"  {band.name:6s} mean PLV harmonix {ab.mean():.3f} mne {bb.mean():.3f} "
              f"corr {np.corrcoef(ab, bb)[0, 1]:.3f} mean|diff| {np.mean(np.abs(ab - bb)):.3f}")
    print(f"speedup {speedup:.1f}x, PLV correlation {corr:.3f}, mean |diff| {mad:.3f} over {a.size} values")
    print(f"speedup_vs_mne_connectivity={speedup:.1f} harmonix_s={t_h:.2f} mne_s={t_m:.1f} "
          f"mne_scaled={int(scaled)} plv_corr={corr:.3f} mean_abs_diff={mad:.3f}")


if __name__ == "__main__":
    main()

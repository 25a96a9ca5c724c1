#!/usr/bin/env python
"""Benchmark: time-resolved PLV matrices, harmonix (filter-bank and Morlet modes) vs mne-connectivity.

All three analyse the same generated recording (64 channels, 250 Hz, 10 min,
five default bands; ``--quick``: 16 channels, 2 min) in 2-s windows and give,
for every window and channel pair, a phase-locking value over the samples of
the window, ``PLV_ij = |mean_t exp(i(phi_i(t) - phi_j(t)))|``. They differ in
where the phases come from.

- mne-connectivity: ``spectral_connectivity_time(method='plv',
  mode='cwt_morlet')`` on the windows cut as epochs with 1 s of context on
  each side (``padding=1.0`` drops it after the wavelet transform; the
  recording is extended by reflection at its ends). Frequencies and cycles:
  :func:`harmonix.estimators.wavelet_locking.band_morlet_frequencies`, four
  per band, evenly inside it, ``n_cycles = max(2, 2.355 f_c / width)`` so the
  Morlet bandwidth matches the band. ``faverage=False`` (with several bands in
  one call, mne-connectivity 0.9's ``_foi_average`` widens every band's upper
  index to ``2 * f_e``, so ``faverage=True`` would mix bands); band values are
  the mean over the band's frequencies, taken here.
- harmonix Morlet mode (like for like):
  :func:`harmonix.estimators.wavelet_locking.morlet_plv_over_time` with the
  same frequencies, cycles, windows and padding - the same estimator, so the
  figure is the max absolute difference of all per-frequency PLV values
  (expected ~1e-12; promised <= 1e-6) and the speed ratio is like for like.
- harmonix filter-bank mode: :func:`harmonix.estimators.locking.
  band_plv_over_time` - MNE's FIR band-pass + Hilbert over the whole band (one
  FFT per chunk shared by all bands) streamed into batched ``U U^H`` products.
  A *different estimator* (one band-pass per band vs the mean of narrow
  wavelets), so it is compared with mne-connectivity's band means by Pearson
  correlation and mean absolute difference over all off-diagonal values (band
  x window x pair), not by equality; its speed ratio is not like for like.

Every timed call runs under the same thread budget (``--threads``, default 1,
via threadpoolctl; mne-connectivity with ``n_jobs=1``). harmonix timings are
the best of 2 (the first call also warms FFT plans and BLAS). If
mne-connectivity would take longer than ``--max-mne-seconds`` on the full size,
it runs on the first windows only and its time is scaled by the number of
windows (stated in the output); comparisons then use those windows.

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


def mne_epochs(data: np.ndarray, n_windows: int) -> np.ndarray:
    """Windows of WINDOW s with CONTEXT s on both sides; recording ends extended by reflection."""
    win, ctx = int(WINDOW * SFREQ), int(CONTEXT * SFREQ)
    padded = np.pad(data, ((0, 0), (ctx, ctx)), mode="reflect")
    return np.stack([padded[:, w * win : w * win + win + 2 * ctx] for w in range(n_windows)])


def run_mne(epochs: np.ndarray, freqs, cycles) -> np.ndarray:
    """Per-frequency PLV (n_freqs, n_windows, n, n) from mne-connectivity, lower triangle mirrored."""
    from mne_connectivity import spectral_connectivity_time

    n_ch = epochs.shape[1]
    con = spectral_connectivity_time(
        epochs, freqs, method="plv", sfreq=SFREQ, mode="cwt_morlet", n_cycles=cycles,
        padding=CONTEXT, faverage=False, n_jobs=1, verbose=False,
    )
    out = np.moveaxis(con.get_data(output="dense"), -1, 0)  # (n_freqs, n_epochs, n, n), lower triangle
    out = out + np.swapaxes(out, -1, -2)
    idx = np.arange(n_ch)
    out[..., idx, idx] = 1.0
    return out


def best_of(n: int, call):
    """(best wall time in s, result of the last call)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 channels, 2 min (< 60 s)")
    parser.add_argument("--max-mne-seconds", type=float, default=300.0,
                        help="above this estimated time mne runs on a subset of windows and is scaled")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for every timed call")
    args = parser.parse_args()

    import mne
    from threadpoolctl import threadpool_limits

    from harmonix.estimators.locking import band_plv_over_time
    from harmonix.estimators.wavelet_locking import band_morlet_frequencies, morlet_plv_over_time
    from harmonix.spectral.bands import load_bands

    mne.set_log_level("ERROR")
    n_channels, minutes = (16, 2.0) if args.quick else (64, 10.0)
    bands = load_bands()
    data = make_data(n_channels, minutes)
    n_windows = int(data.shape[1] // int(WINDOW * SFREQ))
    freqs, cycles, groups = band_morlet_frequencies(bands, freqs_per_band=FREQS_PER_BAND)
    print(f"data: {n_channels} channels, {minutes:g} min at {SFREQ:g} Hz, {len(bands)} bands "
          f"({', '.join(f'{b.name} {b.fmin:g}-{b.fmax:g}' for b in bands)} Hz), {n_windows} windows of {WINDOW:g} s; "
          f"Morlet: {freqs.size} frequencies, padding {CONTEXT:g} s; "
          f"{args.threads} thread(s) for every timed call ({os.cpu_count()} CPU cores visible)")

    with threadpool_limits(limits=args.threads):
        t_fb, (_, plv_fb) = best_of(2, lambda: band_plv_over_time(data, SFREQ, bands, window_seconds=WINDOW))
        print(f"harmonix band_plv_over_time (filter bank): {t_fb:.2f} s -> {plv_fb.shape}")
        t_mo, (_, plv_mo) = best_of(2, lambda: morlet_plv_over_time(
            data, SFREQ, freqs, n_cycles=cycles, window_seconds=WINDOW, padding=CONTEXT))
        print(f"harmonix morlet_plv_over_time (Morlet): {t_mo:.2f} s -> {plv_mo.shape}")

        # mne-connectivity: probe on a few windows, then full run or scaled subset
        probe = min(n_windows, 4)
        t0 = time.perf_counter()
        run_mne(mne_epochs(data, probe), freqs, cycles)
        estimate = (time.perf_counter() - t0) / probe * n_windows
        n_used = n_windows if estimate <= args.max_mne_seconds else max(
            probe, int(n_windows * args.max_mne_seconds / estimate / 2))
        epochs = mne_epochs(data, n_used)
        t0 = time.perf_counter()
        plv_m = run_mne(epochs, freqs, cycles)
        t_sub = time.perf_counter() - t0
    t_m = t_sub * n_windows / n_used
    scaled = n_used < n_windows
    note = (f" (measured on {n_used} of {n_windows} windows: {t_sub:.1f} s, scaled x{n_windows / n_used:.2f})"
            if scaled else "")
    print(f"mne_connectivity.spectral_connectivity_time(plv, cwt_morlet): {t_m:.1f} s{note}")

    iu = np.triu_indices(n_channels, 1)

    def pairs(plv):
        return plv[..., iu[0], iu[1]]

    # Morlet mode: the same estimator, so equality
    max_diff = float(np.max(np.abs(pairs(plv_mo[:, :n_used]) - pairs(plv_m))))
    speed_mo = t_m / t_mo
    print(f"Morlet mode vs mne-connectivity (same estimator): speedup {speed_mo:.1f}x, "
          f"max |diff| {max_diff:.1e} over {pairs(plv_m).size} per-frequency values")

    # filter-bank mode: a different estimator, compared with mne's band means
    band_m = np.stack([plv_m[g].mean(axis=0) for g in groups])
    a, b = pairs(plv_fb[:, :n_used]).ravel(), pairs(band_m).ravel()
    corr = float(np.corrcoef(a, b)[0, 1])
    mad = float(np.mean(np.abs(a - b)))
    speed_fb = t_m / t_fb
    for k, band in enumerate(bands):
        ab, bb = pairs(plv_fb[k, :n_used]).ravel(), pairs(band_m[k]).ravel()
        print(f"  {band.name:6s} mean PLV filter bank {ab.mean():.3f} mne Morlet {bb.mean():.3f} "
              f"corr {np.corrcoef(ab, bb)[0, 1]:.3f} mean|diff| {np.mean(np.abs(ab - bb)):.3f}")
    print(f"filter-bank mode vs mne-connectivity (different estimator, not like for like): speedup {speed_fb:.1f}x, "
          f"PLV correlation {corr:.3f}, mean |diff| {mad:.3f} over {a.size} band values")
    print(f"speedup_morlet_vs_mne={speed_mo:.1f} max_abs_diff_morlet={max_diff:.1e} "
          f"speedup_filterbank_vs_mne={speed_fb:.1f} r_filterbank={corr:.3f} mean_abs_diff_filterbank={mad:.3f} "
          f"harmonix_morlet_s={t_mo:.2f} harmonix_filterbank_s={t_fb:.2f} mne_s={t_m:.1f} mne_scaled={int(scaled)} "
          f"threads={args.threads}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Benchmark: 76-region Stuart-Landau network with delays on the default connectome.

dt = 0.1 ms, 60 s simulated (``--quick``: 5 s), conduction delays from the
tvb-data tract lengths at 5 m/s, additive noise, records at 1 kHz.

Runs, in one process and on the same connectome:

1. ``harmonix.simulate.oscillators.simulate_stuart_landau`` (numba kernel);
2. neurolib's ``HopfModel`` (the same Hopf normal form with diffusive delayed
   coupling, time in ms) when ``neurolib`` imports, run chunkwise with the same
   output rate;
3. a straightforward NumPy reference loop (one vectorised step per dt over the
   dense 76 x 76 delayed-coupling gather), which also checks harmonix's
   trajectory: fed the same noise, it must agree to round-off.

Prints the real-time factor (simulated s / wall s) of each and the speed
ratios, and ends with one ``key=value`` line.

Usage::

    python scripts/bench_simulate.py [--quick] [--seconds S] [--no-neurolib]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from harmonix.simulate.oscillators import default_network, simulate_stuart_landau

DT = 1e-4  # s
SPEED = 5.0  # m/s
A = -5.0  # 1/s, damped focus (noise-driven oscillations)
FREQ = 10.0  # Hz
G = 20.0  # global coupling, 1/s
TEMPERATURE = 0.05
RECORD_EVERY = 10  # 1 kHz output


def run_harmonix(weights, lengths, seconds, seed=0):
    omega = np.full(weights.shape[0], 2 * np.pi * FREQ)
    # warm-up: compile (or load the numba cache) outside the timing
    simulate_stuart_landau(omega, duration=0.01, dt=DT, a=A, coupling=G, weights=weights, tract_lengths=lengths,
                           speed=SPEED, temperature=TEMPERATURE, record_every=RECORD_EVERY, seed=seed)
    start = time.perf_counter()
    res = simulate_stuart_landau(omega, duration=seconds, dt=DT, a=A, coupling=G, weights=weights,
                                 tract_lengths=lengths, speed=SPEED, temperature=TEMPERATURE,
                                 record_every=RECORD_EVERY, seed=seed)
    return time.perf_counter() - start, res


def numpy_reference(weights, lengths, seconds, seed=0):
    """Plain NumPy loop of the same scheme (same noise stream as harmonix for block-size-independent draws)."""
    n = weights.shape[0]
    w = weights.copy()
    np.fill_diagonal(w, 0.0)
    delay = np.rint(lengths / (SPEED * 1000.0) / DT).astype(int)
    delay[w == 0] = 0
    length = delay.max() + 1
    n_steps = int(round(seconds / DT))
    rng = np.random.default_rng(seed)
    z = np.exp(1j * rng.uniform(-np.pi, np.pi, n))
    buf = np.empty((length, n), dtype=complex)
    buf[:] = z
    lin = np.exp((A + 1j * 2 * np.pi * FREQ) * DT)
    sig = np.sqrt(2 * TEMPERATURE * DT)
    rowsum = w.sum(axis=1)
    cols = np.broadcast_to(np.arange(n), (n, n))
    out = np.empty((n_steps // RECORD_EVERY, n), dtype=complex)
    block = max(1, 2_000_000 // (2 * n))
    start = time.perf_counter()
    for b0 in range(0, n_steps, block):
        count = min(block, n_steps - b0)
        noise = rng.standard_normal((count, 2 * n)).view(np.complex128)
        for s in range(count):
            g = b0 + s
            delayed = buf[(g - delay) % length, cols]  # z_j(t - tau_ij)
            coupling = (w * delayed).sum(axis=1) - rowsum * z
            z = lin * (z + DT * (G * coupling - (z.real**2 + z.imag**2) * z) + sig * noise[s])
            buf[(g + 1) % length] = z
            if (g + 1) % RECORD_EVERY == 0:
                out[(g + 1) // RECORD_EVERY - 1] = z
    return time.perf_counter() - start, out


def run_neurolib(weights, lengths, seconds, seed=0):
    from neurolib.models.hopf import HopfModel

    model = HopfModel(Cmat=weights, Dmat=lengths)
    model.params.update(
        dt=DT * 1e3, duration=seconds * 1e3, seed=seed, signalV=SPEED, a=A * 1e-3, w=2 * np.pi * FREQ * 1e-3,
        K_gl=G * 1e-3, sigma_ou=np.sqrt(2 * TEMPERATURE) * 1e-3 ** 1.5, tau_ou=DT * 1e3, sampling_dt=RECORD_EVERY * DT * 1e3,
    )
    # warm-up compile
    short = HopfModel(Cmat=weights, Dmat=lengths)
    short.params.update(dt=DT * 1e3, duration=10.0, signalV=SPEED)
    short.run()
    start = time.perf_counter()
    model.run(chunkwise=True, chunksize=int(round(1.0 / DT)), append_outputs=True)
    return time.perf_counter() - start, np.asarray(model.x)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s simulated instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None, help="simulated duration in s")
    parser.add_argument("--no-neurolib", action="store_true", help="skip neurolib even if installed")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (5.0 if args.quick else 60.0)

    weights, lengths, _ = default_network()
    print(f"76-region Stuart-Landau, dt = {DT * 1e3:g} ms, {seconds:g} s simulated, delays at {SPEED:g} m/s "
          f"(max {lengths[weights > 0].max() / SPEED:.1f} ms), noise T = {TEMPERATURE}, records at 1 kHz")

    t_hx, res = run_harmonix(weights, lengths, seconds)
    rtf_hx = seconds / t_hx
    print(f"harmonix      : {t_hx:8.2f} s wall  real-time factor {rtf_hx:7.2f}x  "
          f"(r_mean={res.order.mean():.3f}, power={res.energy.mean():.4f})")

    ref_seconds = min(seconds, 5.0)
    t_np, ref = numpy_reference(weights, lengths, ref_seconds)
    rtf_np = ref_seconds / t_np
    check = simulate_stuart_landau(np.full(76, 2 * np.pi * FREQ), duration=ref_seconds, dt=DT, a=A, coupling=G,
                                   weights=weights, tract_lengths=lengths, speed=SPEED, temperature=TEMPERATURE,
                                   record_every=RECORD_EVERY, seed=0)
    max_diff = float(np.max(np.abs(check.states - ref)))
    print(f"numpy loop    : {t_np:8.2f} s wall for {ref_seconds:g} s  real-time factor {rtf_np:7.2f}x  "
          f"(max |z_harmonix - z_numpy| = {max_diff:.1e})")

    rtf_nl = float("nan")
    peer = "numpy"
    if not args.no_neurolib:
        try:
            t_nl, x_nl = run_neurolib(weights, lengths, seconds)
            rtf_nl = seconds / t_nl
            peer = "neurolib"
            print(f"neurolib Hopf : {t_nl:8.2f} s wall  real-time factor {rtf_nl:7.2f}x  (output {x_nl.shape})")
        except Exception as error:  # any failure of the optional peer is reported, not fatal
            print(f"neurolib Hopf : not run ({type(error).__name__}: {error})")
    ratio_np = rtf_hx / rtf_np
    ratio_nl = rtf_hx / rtf_nl if np.isfinite(rtf_nl) else float("nan")
    print(f"speed ratio harmonix / numpy = {ratio_np:.1f}x; harmonix / neurolib = {ratio_nl:.1f}x")
    print(
        f"seconds={seconds:g} rtf_harmonix={rtf_hx:.2f} rtf_numpy={rtf_np:.2f} rtf_neurolib={rtf_nl:.2f} "
        f"ratio_vs_numpy={ratio_np:.1f} ratio_vs_neurolib={ratio_nl:.1f} peer={peer} max_diff_numpy={max_diff:.1e}"
    )


if __name__ == "__main__":
    main()

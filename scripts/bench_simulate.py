#!/usr/bin/env python
"""Benchmark: 76-region Stuart-Landau network with delays on the default connectome.

dt = 0.1 ms, 60 s simulated (``--quick``: 5 s), conduction delays from the
tvb-data tract lengths at 5 m/s (1 to 277 steps), additive noise, records at
1 kHz.

Runs, in one process, on the same connectome (weights of
:func:`harmonix.simulate.oscillators.default_network`, largest weight 1, and its
tract lengths):

1. ``harmonix.simulate.oscillators.simulate_stuart_landau`` (numba kernel);
2. neurolib's ``HopfModel``, the same Hopf normal form with diffusive delayed
   coupling (neurolib couples through x = Re z only, and integrates with plain
   Euler), in neurolib's units (ms): a = -5 /s, omega = 2 pi 10 Hz, global
   coupling 20 /s, the same integer delays (neurolib rounds length / speed /
   dt as harmonix does), an OU noise with tau = dt, which is white noise of the
   same per-step variance as harmonix's sqrt(2 T dt), and output sampled at
   1 kHz. Both its ``run()`` (whole run at once, its default) and its
   ``run(chunkwise=True)`` (1 s chunks, bounded memory) are timed, and the faster
   of the two is the reference;
3. a plain NumPy loop of harmonix's scheme (one vectorised step per dt over
   the dense 76 x 76 delayed gather), over ``min(seconds, 5)`` s, which also
   checks harmonix's trajectory: fed the same noise, it must agree to round-off.

What is timed: the time integration, with its noise generation, for each
(NumPy's legacy ``standard_normal`` inside neurolib's run, harmonix's PCG64
normals inside its kernel). Outside the timing, for both: JIT compilation
(one short warm-up run each) and model construction. Both run single-threaded
(numba kernels without ``parallel``; BLAS threads limited to 1 with
threadpoolctl). The machine may be shared, so the simulators run alternately,
``--repeat`` times, and the best time of each is kept; both the wall-clock
time and the process CPU time are measured (single-threaded, they agree on an
idle machine; on a busy one the CPU time leaves out the time a run waited for
a core, so the speed ratios are taken from it).

Prints the real-time factor (simulated s / wall s, and simulated s / CPU s) of
each and the speed ratios, and ends with one ``key=value`` line.

Usage::

    python scripts/bench_simulate.py [--quick] [--seconds S] [--repeat R] [--no-neurolib]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from harmonix.simulate.oscillators import default_network, simulate_stuart_landau

DT = 1e-4  # s
SPEED = 5.0  # m/s
A = -5.0  # 1/s, damped focus (noise-driven oscillations)
FREQ = 10.0  # Hz
G = 20.0  # global coupling, 1/s
TEMPERATURE = 0.05  # 1/s: per-step noise sqrt(2 T dt) on Re z and Im z
RECORD_EVERY = 10  # 1 kHz output
SEED = 0


class Timer:
    """Wall-clock and process CPU time of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def run_harmonix(weights, lengths, seconds, seed=SEED):
    omega = np.full(weights.shape[0], 2 * np.pi * FREQ)
    with Timer() as timer:
        res = simulate_stuart_landau(omega, duration=seconds, dt=DT, a=A, coupling=G, weights=weights,
                                     tract_lengths=lengths, speed=SPEED, temperature=TEMPERATURE,
                                     record_every=RECORD_EVERY, seed=seed)
    return timer, res


def numpy_reference(weights, lengths, seconds, seed=SEED):
    """Plain NumPy loop of the same scheme and the same noise (``default_rng(seed)``: initial phases, then normals)."""
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
    timer = Timer().__enter__()
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
    timer.__exit__()
    return timer, out


def neurolib_model(weights, lengths, seconds, seed=SEED):
    from neurolib.models.hopf import HopfModel

    model = HopfModel(Cmat=weights, Dmat=lengths)
    dt_ms = DT * 1e3
    model.params.update(
        dt=dt_ms, duration=seconds * 1e3, seed=seed, signalV=SPEED, a=A * 1e-3, w=2 * np.pi * FREQ * 1e-3,
        K_gl=G * 1e-3, tau_ou=dt_ms, sampling_dt=RECORD_EVERY * dt_ms,
        # OU with tau = dt is white: x gains dt * sigma * sqrt(dt) * xi per step; equal to sqrt(2 T dt) xi (T per ms)
        sigma_ou=np.sqrt(2 * TEMPERATURE * 1e-3) / dt_ms,
    )
    return model


def run_neurolib(weights, lengths, seconds, chunkwise: bool):
    model = neurolib_model(weights, lengths, seconds)  # set-up outside the timing
    with Timer() as timer:
        if chunkwise:
            model.run(chunkwise=True, chunksize=int(round(1.0 / DT)), append_outputs=True)
        else:
            model.run()
    return timer, np.asarray(model.x)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s simulated instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None, help="simulated duration in s")
    parser.add_argument("--repeat", type=int, default=2, help="alternate timed runs of each simulator; best kept")
    parser.add_argument("--no-neurolib", action="store_true", help="skip neurolib even if installed")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (5.0 if args.quick else 60.0)
    repeat = max(1, args.repeat)

    weights, lengths, _ = default_network()
    print(f"76-region Stuart-Landau, dt = {DT * 1e3:g} ms, {seconds:g} s simulated, delays at {SPEED:g} m/s "
          f"(max {lengths[weights > 0].max() / SPEED:.1f} ms), noise T = {TEMPERATURE}, records at 1 kHz; "
          f"best of {repeat} alternate runs, 1 thread each")

    with threadpool_limits(1):
        # warm-up: compile (or load the numba caches) outside the timings
        run_harmonix(weights, lengths, 0.01)
        peers = {}
        if not args.no_neurolib:
            try:
                run_neurolib(weights, lengths, 0.01, chunkwise=False)
                peers = {"run()": [], "run(chunkwise)": []}
            except Exception as error:  # any failure of the optional peer is reported, not fatal
                print(f"neurolib Hopf : not run ({type(error).__name__}: {error})")
        runs_hx = []
        x_nl = None
        for _ in range(repeat):
            timer, res = run_harmonix(weights, lengths, seconds)
            runs_hx.append(timer)
            for label in peers:
                timer, x_nl = run_neurolib(weights, lengths, seconds, chunkwise=label != "run()")
                peers[label].append(timer)

        def best(runs):
            return min(r.wall for r in runs), min(r.cpu for r in runs)

        def line(name, runs):
            wall, cpu = best(runs)
            return (f"{name:24s}: {wall:8.2f} s wall, {cpu:8.2f} s CPU  real-time factor {seconds / wall:7.2f}x "
                    f"(CPU: {seconds / cpu:7.2f}x)  [runs {', '.join(f'{r.wall:.2f}/{r.cpu:.2f}' for r in runs)} s]")

        wall_hx, cpu_hx = best(runs_hx)
        print(line("harmonix", runs_hx) + f"  r_mean={res.order.mean():.3f}, power={res.energy.mean():.4f}")
        wall_nl = cpu_nl = float("inf")
        for label, runs in peers.items():
            print(line(f"neurolib {label}", runs))
            wall_nl, cpu_nl = min(wall_nl, best(runs)[0]), min(cpu_nl, best(runs)[1])
        if x_nl is not None:
            print(f"neurolib output {x_nl.shape}, x std {x_nl[:, x_nl.shape[1] // 2:].std():.4f}; "
                  f"harmonix Re z std {res.states.real[res.states.shape[0] // 2:].std():.4f}")

        ref_seconds = min(seconds, 5.0)
        timer_np, ref = numpy_reference(weights, lengths, ref_seconds)
        _, check = run_harmonix(weights, lengths, ref_seconds)
    max_diff = float(np.max(np.abs(check.states - ref)))
    print(f"{'numpy loop':24s}: {timer_np.wall:8.2f} s wall, {timer_np.cpu:8.2f} s CPU for {ref_seconds:g} s  "
          f"real-time factor {ref_seconds / timer_np.wall:7.2f}x  (max |z_harmonix - z_numpy| = {max_diff:.1e})")

    rtf_hx, rtf_hx_cpu = seconds / wall_hx, seconds / cpu_hx
    rtf_nl = seconds / cpu_nl if peers else float("nan")
    rtf_np = ref_seconds / timer_np.cpu
    peer = "neurolib" if peers else "numpy"
    ratio_np = rtf_hx_cpu / rtf_np
    ratio_nl = rtf_hx_cpu / rtf_nl if np.isfinite(rtf_nl) else float("nan")
    ratio_nl_wall = wall_nl / wall_hx if peers else float("nan")
    print(f"speed ratio (CPU time) harmonix / numpy = {ratio_np:.1f}x; harmonix / neurolib (its faster mode) = "
          f"{ratio_nl:.1f}x (wall clock: {ratio_nl_wall:.1f}x); harmonix real-time factor {rtf_hx:.1f}x wall, "
          f"{rtf_hx_cpu:.1f}x CPU")
    print(
        f"seconds={seconds:g} rtf_harmonix={rtf_hx:.2f} rtf_harmonix_cpu={rtf_hx_cpu:.2f} rtf_numpy={rtf_np:.2f} "
        f"rtf_neurolib={rtf_nl:.2f} ratio_vs_numpy={ratio_np:.1f} ratio_vs_neurolib={ratio_nl:.1f} "
        f"ratio_vs_neurolib_wall={ratio_nl_wall:.1f} peer={peer} max_diff_numpy={max_diff:.1e}"
    )


if __name__ == "__main__":
    main()

"""Benchmark ``harmonix simulate --closed-loop anneal``: how much faster than real time the closed loop runs.

One run, side by side: the simulated brain alone (the wave model advanced
hop by hop and projected to 63 sensors: the floor any closed loop pays) and
the whole loop (the same brain, the online estimators ``harmonix live``
uses, the annealing controller, the stack audio written at 16 kHz and the
session folder) for the default heat-hold-cool stages. Prints seconds
simulated per second of wall time for each; the target is 10x real time.

    python scripts/bench_closed_loop.py           # the default stages (about 6 min simulated)
    python scripts/bench_closed_loop.py --quick   # short stages (about 1 min simulated)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from harmonix.live.annealing import AnnealingSettings
    from harmonix.live.closed_loop import run_closed_loop
    from harmonix.live.run import LiveConfig
    from harmonix.progress import set_quiet
    from harmonix.simulate.brain import BrainSettings, SimulatedBrain
    from harmonix.spectral.bands import load_bands

    set_quiet(True)
    stages = (AnnealingSettings(baseline_seconds=10, hold_seconds=20, cool_tau=10, cool_taus=3)
              if args.quick else AnnealingSettings())
    with tempfile.TemporaryDirectory() as tmp:
        config = LiveConfig(out=Path(tmp) / "session", annealing=stages, dry_run=True, audio_sfreq=16000.0,
                            markers=False, online={"bands": tuple(load_bands())}, stimulus_rate=10.0)
        start = time.perf_counter()
        summary = run_closed_loop(config, BrainSettings(seed=0))
        loop_wall = time.perf_counter() - start
    brain = SimulatedBrain(BrainSettings(seed=0))
    brain.command(0.5)
    hop = 25
    start = time.perf_counter()
    for _ in range(int(summary.seconds * 250 / hop)):
        brain.advance(hop)
    brain_wall = time.perf_counter() - start
    loop_speed, brain_speed = summary.seconds / loop_wall, summary.seconds / brain_wall
    print(f"{summary.seconds:.0f} s simulated (baseline, heat, hold, cool), 63 sensors at 250 Hz, hops of 0.1 s")
    print(f"simulated brain alone: {brain_speed:.0f}x real time")
    print(f"whole closed loop (estimators, controller, audio, session folder): {loop_speed:.1f}x real time "
          f"(target 10x: {'met' if loop_speed >= 10 else 'NOT met'})")
    print(f"loop_speed={loop_speed:.2f} brain_speed={brain_speed:.1f} simulated_seconds={summary.seconds:.1f} "
          f"loop_cost_vs_brain={brain_speed / loop_speed:.2f}")


if __name__ == "__main__":
    main()

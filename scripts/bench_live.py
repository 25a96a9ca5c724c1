"""Benchmark ``harmonix live``: decision latency and CPU share on a 64-channel 500-Hz stream.

One run, side by side:

* the floor: a bare mne-lsl receiver (``StreamLSL`` polled every millisecond,
  the same acquisition ``harmonix live`` does, nothing computed) on the same
  stream, for ``--floor-seconds``;
* ``harmonix live --dry-run`` with every online estimator on (band power,
  energy parameter and harmonic power, CDNS each second, the ECHT alpha phase
  and phase-locked bursts) for ``--seconds`` of EEG.

The stream is mne-lsl's player (what ``harmonix stream`` runs) of the
synthetic 64-channel 10-10 recording at 500 Hz, in this process. Latency is
from a chunk's arrival (the moment the acquisition hands it over) to the
controller's decision, as ``harmonix live`` records it in ``params.json``;
CPU share is the child's user + system time (with the process that fits
CDNS in the background) over its wall time (1.0 = one core busy). Also
reported: the time from the player's push of a chunk to the decision, on the
LSL clock, which includes transport and any wait while the loop was busy.
Targets: p99 < 20 ms, CPU share < 0.5.

    python scripts/bench_live.py            # 5 minutes of EEG (plus 60 s of floor)
    python scripts/bench_live.py --quick    # 30 s + 15 s
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

FLOOR = r"""
import sys, time
from harmonix.live.lsl import EEGInlet
inlet = EEGInlet(name=sys.argv[1], timeout=20).open()
end = time.monotonic() + float(sys.argv[2])
n = 0
while time.monotonic() < end:
    n += sum(c.data.shape[0] for c in inlet.pull())
    time.sleep(0.001)
inlet.close()
print(n)
"""


def _child_cpu(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if run.returncode != 0:
        sys.exit(f"bench_live: {' '.join(command[:4])} failed: {run.stderr.strip()}")
    return cpu, wall, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="30 s of EEG and 15 s of floor")
    parser.add_argument("--seconds", type=float, default=300.0, help="seconds of EEG for harmonix live")
    parser.add_argument("--floor-seconds", type=float, default=60.0, help="seconds of the bare receiver")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.floor_seconds = 30.0, 15.0
    os.environ.setdefault("MPLBACKEND", "Agg")
    from harmonix.live.player import open_player
    from harmonix.simulate.synthetic import synthetic_eeg

    # longer than the run: the player never loops
    raw, _ = synthetic_eeg(duration=args.seconds + args.floor_seconds + 60.0, sfreq=500.0, alpha_amplitude=2.0, seed=1)
    name = f"hx-bench-{uuid.uuid4().hex[:8]}"
    player = open_player(raw, name=name, chunk_size=10)
    try:
        floor_cpu, floor_wall, floor = _child_cpu([sys.executable, "-c", FLOOR, name, str(args.floor_seconds)])
        floor_share = floor_cpu / floor_wall
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "session"
            command = [sys.executable, "-m", "harmonix.cli", "-q", "live", "--name", name, "--dry-run", "--out",
                       str(out), "--duration", str(args.seconds), "--phase-band", "alpha", "--target-phase", "0",
                       "--event", "burst", "--timeout", "20"]
            cpu, wall, _ = _child_cpu(command)
            params = json.loads((out / "params.json").read_text())
    finally:
        player.stop()
    share = cpu / wall
    latency = params["decision_latency_ms"]
    age = params["sample_age_at_decision_ms"]
    chunk_ms = 10 / 500.0 * 1e3  # mne-lsl's player stamps a chunk with its last sample's time, one chunk ahead
    print(f"stream: 64 channels at 500 Hz, chunks of 10 samples (20 ms), {args.seconds:g} s of EEG")
    print(f"floor (bare mne-lsl receiver, {args.floor_seconds:g} s): CPU share {floor_share:.3f} of one core")
    print(f"harmonix live, every estimator on: CPU share {share:.3f} of one core (wall {wall:.0f} s including "
          f"start-up), {latency['n']} decisions, latency p50 {latency['p50']:.2f} ms, p99 {latency['p99']:.2f} ms, "
          f"{params['sounds']} bursts, {params['gaps']} gaps, {params['cancelled']} cancelled")
    print(f"from the player's push of a chunk to the decision (LSL clock; includes transport, waiting while "
          f"busy, and computing): p50 {age['p50'] + chunk_ms:.2f} ms, p99 {age['p99'] + chunk_ms:.2f} ms")
    print(f"targets: p99 < 20 ms ({'met' if latency['p99'] < 20 else 'NOT met'}), CPU share < 0.5 "
          f"({'met' if share < 0.5 else 'NOT met'})")
    print(f"p50_ms={latency['p50']:.3f} p99_ms={latency['p99']:.3f} cpu_share={share:.3f} "
          f"push_to_decision_p99_ms={age['p99'] + chunk_ms:.3f} "
          f"floor_cpu_share={floor_share:.3f} cpu_vs_floor={share / max(floor_share, 1e-9):.2f} "
          f"decisions={latency['n']}")


if __name__ == "__main__":
    main()

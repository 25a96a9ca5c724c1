"""Benchmark harmonix.stimulus rendering against SoX, and its memory vs duration.

Renders a 40 Hz amplitude-modulated 1 kHz stereo tone (depth 100 %) with
harmonix (two passes: measure loudness/true peak, then write PCM_16 WAV) and
the same signal with ``sox -n -r 44100 -c 2 -b 16 out.wav synth D sine 1000
tremolo 40 100`` in the same run, then compares tracemalloc peak memory of a
short and a long render. Usage::

    python scripts/bench_stimulus.py            # 10 min vs SoX; memory 10 vs 60 min
    python scripts/bench_stimulus.py --quick    # 2 min vs SoX; memory 1 vs 5 min (< 60 s)

The last line is ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import soundfile as sf

from harmonix.stimulus import parse_protocol_text, render_protocol

AM_TONE = """
[[segments]]
duration = {dur}
[[segments.voices]]
type = "am"
carrier = 1000
rate = 40
depth = 1.0
"""


def render_seconds(folder: Path, seconds: int) -> float:
    t0 = time.perf_counter()
    res = render_protocol(parse_protocol_text(AM_TONE.format(dur=seconds)), folder / "hx.wav", progress=False)
    elapsed = time.perf_counter() - t0
    assert sf.info(str(res.path)).frames == seconds * 44100
    return elapsed


def sox_seconds(folder: Path, seconds: int) -> float | None:
    sox = shutil.which("sox")
    if sox is None:
        return None
    t0 = time.perf_counter()
    subprocess.run([sox, "-n", "-r", "44100", "-c", "2", "-b", "16", str(folder / "sox.wav"), "synth", str(seconds),
                    "sine", "1000", "tremolo", "40", "100"], check=True)
    return time.perf_counter() - t0


def peak_memory(folder: Path, seconds: int) -> tuple[int, int]:
    tracemalloc.start()
    try:
        res = render_protocol(parse_protocol_text(AM_TONE.format(dur=seconds)), folder / f"m{seconds}.wav",
                              progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    frames = sf.info(str(res.path)).frames
    (folder / f"m{seconds}.wav").unlink()
    return peak, frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short durations (< 60 s in all)")
    args = ap.parse_args()
    dur = 120 if args.quick else 600
    mem_short, mem_long = (60, 300) if args.quick else (600, 3600)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        hx = render_seconds(folder, dur)
        sx = sox_seconds(folder, dur)
        print(f"harmonix: {dur} s AM tone rendered in {hx:.2f} s = {dur / hx:.0f}x real time")
        if sx is None:
            print("sox: SKIPPED (sox not installed; Debian package 'sox')")
            ratio = float("nan")
        else:
            ratio = sx / hx
            print(f"sox:      {dur} s AM tone rendered in {sx:.2f} s = {dur / sx:.0f}x real time")
            print(f"speed ratio harmonix/sox = {ratio:.2f} ({'faster' if ratio > 1 else 'slower'} than SoX)")
        p1, f1 = peak_memory(folder, mem_short)
        p2, f2 = peak_memory(folder, mem_long)
        ok = f1 == mem_short * 44100 and f2 == mem_long * 44100
        print(f"peak traced memory: {mem_short // 60} min {p1 / 1e6:.2f} MB, {mem_long // 60} min {p2 / 1e6:.2f} MB "
              f"(ratio {p2 / p1:.3f}); lengths read back {'ok' if ok else 'WRONG'}")
    print(f"duration_s={dur} harmonix_x_realtime={dur / hx:.0f} sox_x_realtime={dur / sx if sx else float('nan'):.0f} "
          f"speed_ratio={ratio:.2f} mem_short_mb={p1 / 1e6:.2f} mem_long_mb={p2 / 1e6:.2f} mem_ratio={p2 / p1:.3f} "
          f"lengths_ok={ok}")


if __name__ == "__main__":
    main()

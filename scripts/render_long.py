"""Render a 10-hour protocol, read it back to its last sample, then delete it (issue 13, acceptance 3).

A WAV (RIFF) header counts bytes in 32 bits, so a file past 4 GiB is cut
short for every reader; harmonix writes such a render as RF64. This script
renders a long protocol whose file passes 4 GiB (by default 10 h, mono,
44.1 kHz, 24-bit: 4.76 GB, half the synthesis work of stereo), then checks
with soundfile, independently of the renderer:

* the container is RF64 and the file holds exactly ``hours x 3600 x sfreq`` frames;
* reading works past the point where a RIFF size field would wrap (6.76 h here);
* the last second is reachable and holds the end of the fade-out: its peak is
  far below the plateau and the last sample is (nearly) silent;
* the file's sidecar records the same length.

It prints ``key=value`` lines and deletes the file and its sidecar (unless
``--keep``). Usage::

    python scripts/render_long.py /tmp/long10h.wav [--hours 10] [--sfreq 44100] [--channels 1] [--subtype PCM_24]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from harmonix.stimulus import parse_protocol_text, render_protocol
from harmonix.stimulus.render import sidecar_path

FADE_S = 60.0


def long_protocol(hours: float, channels: int) -> str:
    """Warm-up (5 % of the time, isochronic 10 -> 5 Hz), plateau at 5 Hz, cool-down (gain 1 -> 0.3) in the last 10 %."""
    total = hours * 3600.0
    warm, cool = 0.05 * total, 0.10 * total
    plateau = total - warm - cool
    voice = '[[segments.voices]]\ntype = "isochronic"\ncarrier = 220\nlevel = -14\n'
    return (f'name = "long-{hours:g}h"\nchannels = {channels}\n'
            f"[safety]\nfade_in = {FADE_S}\nfade_out = {FADE_S}\n"
            f'[[segments]]\nduration = {warm}\nshape = "smooth"\n{voice}rate = [10, 5]\n'
            f"[[segments]]\nduration = {plateau}\n{voice}rate = 5\n"
            f"[[segments]]\nduration = {cool}\ngain = [1.0, 0.3]\n{voice}rate = 5\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output .wav path (deleted at the end unless --keep)")
    ap.add_argument("--hours", type=float, default=10.0)
    ap.add_argument("--sfreq", type=float, default=44100.0)
    ap.add_argument("--channels", type=int, default=1, choices=(1, 2))
    ap.add_argument("--subtype", default="PCM_24", choices=("PCM_16", "PCM_24", "FLOAT"))
    ap.add_argument("--keep", action="store_true", help="keep the file and its sidecar")
    args = ap.parse_args(argv)

    out = Path(args.out)
    bits = {"PCM_16": 16, "PCM_24": 24, "FLOAT": 32}[args.subtype]
    frames = int(round(args.hours * 3600 * args.sfreq))
    size = frames * args.channels * bits // 8
    folder = next(p for p in (out.parent.absolute(), *out.parent.absolute().parents) if p.exists())
    print(f"expected_frames={frames}")
    print(f"expected_bytes={size}")
    print(f"beyond_riff_limit={size > 2**32 - 1}")
    print(f"free_bytes_before={shutil.disk_usage(folder).free}")
    sys.stdout.flush()

    protocol = parse_protocol_text(long_protocol(args.hours, args.channels), source=f"long-{args.hours:g}h")
    t0 = time.perf_counter()
    result = render_protocol(protocol, out, sfreq=args.sfreq, subtype=args.subtype, progress=sys.stderr.isatty())
    render_s = time.perf_counter() - t0
    print(f"render_seconds={render_s:.1f}")
    print(f"realtime_factor={args.hours * 3600 / render_s:.1f}")
    print(f"summary={result.summary()}")
    print(f"container={result.container}")
    print(f"loudness_lufs={result.loudness_lufs:.2f}")
    print(f"true_peak_dbfs={result.true_peak_dbfs:.3f}")
    print(f"true_peak_bound_dbfs={result.true_peak_bound_dbfs:.3f}")
    print(f"file_bytes={out.stat().st_size}")

    t1 = time.perf_counter()
    ok = True
    with sf.SoundFile(str(out)) as f:
        sr = f.samplerate
        print(f"read_format={f.format}")
        print(f"read_frames={f.frames}")
        ok &= f.format == "RF64" if size > 2**32 - 1 else True
        ok &= f.frames == frames
        # past the sample where a 32-bit RIFF size field would wrap (the 6.8 h the issue saw)
        wrap = int((2**32) // (args.channels * bits // 8))
        if wrap < frames:
            f.seek(wrap + sr)
            after_wrap = f.read(sr, dtype="float64", always_2d=True)
            print(f"after_riff_wrap_seconds={(wrap + sr) / sr:.1f}")
            print(f"after_riff_wrap_rms_dbfs={20 * np.log10(np.sqrt(np.mean(after_wrap**2)) + 1e-300):.1f}")
            ok &= after_wrap.shape[0] == sr and bool(np.any(after_wrap))
        mid = frames // 2
        f.seek(mid)
        plateau = f.read(sr, dtype="float64", always_2d=True)
        f.seek(frames - sr)
        last = f.read(sr + 10, dtype="float64", always_2d=True)  # asks for more: must get exactly one second
    plateau_peak = float(np.max(np.abs(plateau)))
    last_peak = float(np.max(np.abs(last)))
    # the raised-cosine fade-out over FADE_S: in the last second its gain is at most sin^2(pi / (2 FADE_S))
    fade_limit = math.sin(math.pi / (2 * FADE_S)) ** 2
    print(f"last_second_frames={last.shape[0]}")
    print(f"plateau_peak_dbfs={20 * math.log10(plateau_peak):.2f}")
    print(f"last_second_peak_dbfs={20 * math.log10(last_peak) if last_peak > 0 else -math.inf:.2f}")
    print(f"last_sample_abs={float(np.max(np.abs(last[-1]))):.3g}")
    print(f"fade_gain_limit_last_second_db={20 * math.log10(fade_limit):.1f}")
    ok &= last.shape[0] == sr
    ok &= last_peak <= plateau_peak * fade_limit * 1.5 + 2.0**-22  # the cool-down gain (0.3) only lowers it
    meta = json.loads(sidecar_path(out).read_text())
    print(f"sidecar_n_samples={meta['measured']['n_samples']}")
    ok &= meta["measured"]["n_samples"] == frames
    print(f"readback_seconds={time.perf_counter() - t1:.1f}")
    print(f"total_seconds={time.perf_counter() - t0:.1f}")
    print(f"result={'PASS' if ok else 'FAIL'}")
    if not args.keep:
        out.unlink()
        sidecar_path(out).unlink()
        print(f"deleted={out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

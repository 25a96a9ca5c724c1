"""Run :func:`harmonix.io.check_recording` on every EEG recording in the shared data folder.

Prints, per file, whether it is plausible, which warnings fire, and the
statistics behind each check (median channel SD, share of repeated samples,
clipping, PREP bad channels); the last line is ``key=value`` pairs.

Usage::

    python scripts/quality_survey.py [DATA_DIR]

``DATA_DIR`` defaults to ``$HARMONIX_DATA`` or ``../shared/data`` beside the project.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def eeg_files(folder: Path) -> list[Path]:
    """The EEG recordings in ``folder``: supported extensions, not events files or audio."""
    from harmonix.io import supported_extensions

    exts = supported_extensions()
    files = []
    for path in sorted(folder.iterdir()):
        name = path.name.lower()
        if not path.is_file() or name.endswith(("-eve.fif", "_eve.fif")):
            continue
        if any(name.endswith(ext) for ext in exts):
            files.append(path)
    return files


def survey(path: Path) -> tuple[bool, object, float, str]:
    """Load and check one file; returns (loaded, check or error text, seconds, kind)."""
    from harmonix.errors import HarmonixError
    from harmonix.io import check_recording, load_eeg_with_report

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            inst, report = load_eeg_with_report(path, preload=False)
        except (HarmonixError, OSError, ValueError) as err:
            return False, f"not loaded: {str(err).splitlines()[0]}", time.perf_counter() - start, "-"
        _, check = check_recording(inst, source=path.name, flat="mark")
    return True, check, time.perf_counter() - start, report.kind


def describe(check) -> list[str]:
    """Statistic lines of a :class:`~harmonix.io.RecordingCheck`."""
    q = check.quality
    lines = [f"  median channel SD {q['amplitude']['value']:.3g} V (plausible {q['amplitude']['threshold'][0]:g}-"
             f"{q['amplitude']['threshold'][1]:g} V)"]
    if "staircase" in q:
        s = q["staircase"]
        lines.append(f"  repeated samples: median {s['median']:.1%}, max {s['max']:.1%} "
                     f"(staircase from {s['threshold']:.0%}); staircase channels: {', '.join(s['channels']) or 'none'}")
    if "clipping" in q:
        c = q["clipping"]
        lines.append(f"  samples at an extreme: max share {c['max_share']:.3%} (clipped from "
                     f"{c['threshold']['share']:.1%} and {c['threshold']['seconds']:g} s = "
                     f"{c['threshold']['samples']:g} samples); clipped: {', '.join(c['channels']) or 'none'}")
    if "bad_channels" in q:
        b = q["bad_channels"]
        if b.get("skipped"):
            lines.append(f"  bad channels: skipped ({b['skipped']})")
        else:
            lines.append(f"  bad channels on {b['excerpt_s']:g} s: deviation {', '.join(b['by_deviation']) or 'none'}; "
                         f"correlation {', '.join(b['by_correlation']) or 'none'}; "
                         f"HF noise {', '.join(b['by_hf_noise']) or 'none'}")
    if check.flat_channels:
        lines.append(f"  flat (marked bad): {', '.join(check.flat_channels)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    import mne

    mne.set_log_level("WARNING")
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else Path(os.environ.get("HARMONIX_DATA", DEFAULT_DATA))
    files, n_warn, n_implausible, n_failed = 0, 0, 0, 0
    for path in eeg_files(folder):
        ok, check, seconds, kind = survey(path)
        if not ok:
            n_failed += 1
            print(f"{path.name}: {check}")
            continue
        files += 1
        n_warn += len(check.warnings)
        n_implausible += not check.plausible
        print(f"{path.name} ({kind}, {len(check.checked)} EEG ch, {check.sfreq:g} Hz, {check.duration:.1f} s, "
              f"checked in {seconds:.2f} s): plausible={check.plausible}, {len(check.warnings)} warning(s)")
        for line in describe(check):
            print(line)
        for text in check.warnings:
            print(f"  WARNING {text}")
    print(f"files={files} warnings={n_warn} implausible={n_implausible} not_loaded={n_failed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The live view in the terminal: band power, the energy trace, phase-locking so far, the controller's state.

On a terminal (stderr a TTY, not ``--quiet``) a few lines are redrawn in
place twice a second; elsewhere (a log file, a test) nothing is drawn and
only the session's start and end lines are printed.
"""

from __future__ import annotations

import math
import sys
import time
from collections import deque

import numpy as np

from harmonix import progress

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values) -> str:
    """Values as block characters scaled to their own range."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return ""
    lo, hi = float(v.min()), float(v.max())
    scale = (hi - lo) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((x - lo) / scale * len(SPARK)))] for x in v)


def locking_summary(errors) -> str:
    """``n``, resultant length and circular mean of measured-minus-target phases (radians)."""
    if not errors:
        return "no sound measured yet"
    z = np.exp(1j * np.asarray(errors))
    return f"{len(errors)} sounds, R={abs(z.mean()):.2f}, mean error {math.degrees(np.angle(z.mean())):+.0f} deg"


class LiveView:
    """Redraws the session's state (module docstring)."""

    def __init__(self, bands, *, interval: float = 0.5) -> None:
        self.enabled = progress._terminal()
        self.bands = [b.name for b in bands]
        self.energy = deque(maxlen=40)
        self.interval = interval
        self._last = 0.0
        self._lines = 0

    def update(self, time_s: float, values: dict, state: str, locking: str, stalled: bool) -> None:
        if "energy" in values:
            self.energy.append(values["energy"])
        if not self.enabled or time.monotonic() - self._last < self.interval:
            return
        self._last = time.monotonic()
        powers = "  ".join(f"{b} {values.get(f'relative_{b}', float('nan')):.2f}" for b in self.bands)
        lines = [f"t {time_s:7.1f} s   {'STREAM STALLED   ' if stalled else ''}controller: {state}",
                 f"relative power  {powers}",
                 f"energy {sparkline(self.energy)}",
                 f"phase locking  {locking}"]
        out = sys.stderr
        if self._lines:
            out.write(f"\x1b[{self._lines}F")
        for line in lines:
            out.write("\x1b[2K" + line + "\n")
        out.flush()
        self._lines = len(lines)

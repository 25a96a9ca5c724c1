"""Frequency-band definitions.

The defaults (delta 1-4, theta 4-8, alpha 8-13, beta 13-30, gamma 30-45 Hz)
live in the project's ``data/bands.csv``; users pass their own table as a CSV
file with columns ``name,fmin,fmax`` or as a mapping ``{name: (fmin, fmax)}``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from harmonix._data import data_path
from harmonix.errors import InputFileError, ParameterError


@dataclass(frozen=True)
class Band:
    """A named frequency band ``[fmin, fmax)`` in Hz."""

    name: str
    fmin: float
    fmax: float

    def __post_init__(self) -> None:
        if not self.name:
            raise ParameterError("a frequency band needs a non-empty name")
        try:
            fmin, fmax = float(self.fmin), float(self.fmax)
        except (TypeError, ValueError) as err:
            raise ParameterError(
                f"band {self.name!r}: fmin and fmax must be numbers in Hz, got fmin={self.fmin!r}, fmax={self.fmax!r}"
            ) from err
        object.__setattr__(self, "fmin", fmin)
        object.__setattr__(self, "fmax", fmax)
        if not (0 <= self.fmin < self.fmax):
            raise ParameterError(
                f"band {self.name!r}: need 0 <= fmin < fmax, got fmin={self.fmin}, fmax={self.fmax} Hz"
            )

    @property
    def center(self) -> float:
        """Arithmetic centre frequency in Hz."""
        return 0.5 * (self.fmin + self.fmax)

    @property
    def width(self) -> float:
        """Bandwidth ``fmax - fmin`` in Hz."""
        return self.fmax - self.fmin


MIN_CYCLES = 4.0
"""Cycles of a band's lowest frequency a recording must hold to measure the band."""

MIN_BINS = 2
"""Frequency bins of the Welch spectrum a band must hold to be measured."""


def welch_window_seconds(fmin: float, duration: float) -> float:
    """Length (s) of the Welch window the EEG analysis uses when ``fmin`` is the lowest band edge.

    Two cycles of ``fmin`` (resolution ``fmin / 2``), at least 2 s (0.5 Hz),
    at most the recording: ``min(max(2, 2 / fmin), duration)``, with ``fmin``
    floored at 1 mHz for low-pass bands.

    Examples
    --------
    >>> welch_window_seconds(1.0, 60.0), welch_window_seconds(0.5, 60.0), welch_window_seconds(8.0, 0.79)
    (2.0, 4.0, 0.79)
    """
    return min(max(2.0, 2.0 / max(fmin, 1e-3)), duration)


def _bins_in_band(band: Band, sfreq: float, duration: float) -> tuple[int, float, float]:
    """``(bins, resolution Hz, window s)`` of ``band`` on the grid of its Welch window."""
    window = welch_window_seconds(band.fmin, duration)
    n_fft = max(int(round(window * sfreq)), 1)
    df = sfreq / n_fft
    eps = 1e-6 * df  # as harmonix.spectral.bandpower.band_mask: float grids land a hair off the edges
    first = math.ceil((band.fmin - eps) / df)
    last = math.ceil((band.fmax - eps) / df)  # first grid index at or above fmax: excluded
    return max(last - first, 0), df, window


def _read_band_csv(path: Path) -> tuple[Band, ...]:
    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    except OSError as err:
        raise InputFileError(f"{path}: cannot read band table ({err.strerror})") from err
    rows = list(csv.DictReader(lines))
    if not rows or not {"name", "fmin", "fmax"} <= set(rows[0]):
        raise InputFileError(f"{path}: a band table needs the columns name,fmin,fmax")
    bands = []
    for lineno, row in enumerate(rows, start=2):
        try:
            bands.append(Band(row["name"].strip(), float(row["fmin"]), float(row["fmax"])))
        except (TypeError, ValueError) as err:
            raise InputFileError(f"{path}: row {lineno} is not 'name,fmin,fmax' with numbers: {row}") from err
    return tuple(bands)


def _band_from_item(name: object, limits: object) -> Band:
    """``Band`` from one ``name: (fmin, fmax)`` mapping entry, with a ParameterError naming the band."""
    try:
        lo, hi = limits  # type: ignore[misc]
        return Band(str(name), float(lo), float(hi))
    except (TypeError, ValueError) as err:
        raise ParameterError(
            f"band {str(name)!r}: limits must be two numbers (fmin, fmax) in Hz, got {limits!r}"
        ) from err


def load_bands(
    bands: str | PathLike | Mapping[str, Sequence[float]] | Sequence[Band] | None = None,
) -> tuple[Band, ...]:
    """Return a tuple of :class:`Band` from any accepted description.

    Parameters
    ----------
    bands : None | path | mapping | sequence of Band
        ``None`` gives the defaults from ``data/bands.csv``. A path is read as
        a CSV table ``name,fmin,fmax``. A mapping is ``{name: (fmin, fmax)}``.

    Returns
    -------
    bands : tuple of Band
        In the given order; names are unique.

    Examples
    --------
    >>> [b.name for b in load_bands()]
    ['delta', 'theta', 'alpha', 'beta', 'gamma']
    >>> load_bands({"alpha": (8, 12)})[0].fmax
    12.0
    """
    if bands is None:
        result = _read_band_csv(data_path("bands.csv"))
    elif isinstance(bands, (str, PathLike)):
        result = _read_band_csv(Path(bands))
    elif isinstance(bands, Mapping):
        result = tuple(_band_from_item(name, limits) for name, limits in bands.items())
    else:
        result = tuple(bands)
        if not all(isinstance(b, Band) for b in result):
            raise ParameterError("bands must be a path, a {name: (fmin, fmax)} mapping, or Band objects")
    if not result:
        raise ParameterError("the band table is empty")
    names = [b.name for b in result]
    if len(set(names)) != len(names):
        raise ParameterError(f"band names must be unique, got {names}")
    return result


def check_bands_resolvable(bands: Sequence[Band], sfreq: float, duration: float, *, source: str = "<array>") -> None:
    """Raise :class:`ParameterError` when a band cannot be measured in this recording.

    A band needs ``fmax < sfreq / 2`` (strictly below Nyquist, as the band-pass
    filter bank requires) and a recording of at least ``MIN_CYCLES`` cycles of
    its lowest frequency, so that a Welch window of two cycles (resolution
    ``fmin / 2``) fits at least twice. A low-pass band (``fmin == 0``) has no
    lowest frequency; it needs ``MIN_CYCLES`` cycles of ``fmax`` instead.

    It also needs ``MIN_BINS`` frequency bins ``fmin <= f < fmax`` on the grid
    of the Welch window the analysis uses for it
    (:func:`welch_window_seconds`: two cycles of ``fmin``, at least 2 s, at
    most the recording, ``round(window * sfreq)`` samples). A recording
    shorter than that window is analysed with a window as long as the
    recording, so its resolution is ``1 / duration``: a 0.79-s recording has
    bins 1.27 Hz apart, and a band 1 Hz wide holds at most one.
    """
    nyquist = sfreq / 2.0
    for band in bands:
        if band.fmax >= nyquist:
            raise ParameterError(
                f"{source}: sampling rate {sfreq:g} Hz is too low for band {band.name!r} "
                f"({band.fmin:g}-{band.fmax:g} Hz; Nyquist is {nyquist:g} Hz); drop the band or use a higher rate"
            )
        needed = MIN_CYCLES / (band.fmin if band.fmin > 0 else band.fmax)
        if duration < needed:
            raise ParameterError(
                f"{source}: recording is {duration:.2f} s long, too short for band {band.name!r} "
                f"({band.fmin:g}-{band.fmax:g} Hz needs at least {needed:.1f} s)"
            )
        bins, df, window = _bins_in_band(band, sfreq, duration)
        if bins < MIN_BINS:
            if window < welch_window_seconds(band.fmin, math.inf):
                remedy = f"a recording of at least {MIN_BINS / band.width:.2f} s or a wider band"
            else:
                remedy = f"a band at least {MIN_BINS * df:g} Hz wide"
            raise ParameterError(
                f"{source}: band {band.name!r} ({band.fmin:g}-{band.fmax:g} Hz) holds {bins} frequency bin(s) at the "
                f"{df:.3g}-Hz resolution of a {window:.2f}-s Welch window; it needs {MIN_BINS} ({remedy})"
            )

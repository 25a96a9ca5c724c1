"""What an analysis returns, and the band bookkeeping every analysis shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from harmonix.errors import ParameterError
from harmonix.spectral.bands import Band, check_bands_resolvable


@dataclass(frozen=True)
class Analysis:
    """Result of analysing one recording.

    Attributes
    ----------
    metrics : pandas.DataFrame
        Tidy rows with columns :data:`harmonix.tables.METRIC_COLUMNS`
        (``session, condition, metric, band, component, value, unit``).
    params : dict
        Parameters, skipped bands, channel bookkeeping; written to ``params.json``.
    arrays : dict of ndarray
        Spectra and other arrays, written to ``arrays.npz``.
    """

    metrics: pd.DataFrame
    params: dict
    arrays: dict = field(default_factory=dict)


def resolvable_bands(
    bands: Sequence[Band], sfreq: float, duration: float, *, source: str, strict: bool
) -> tuple[tuple[Band, ...], dict[str, str]]:
    """Split ``bands`` into those this recording can measure and the rest.

    With ``strict=True`` (bands the user asked for) an unmeasurable band raises
    :class:`~harmonix.errors.ParameterError`; otherwise (default bands) it is
    skipped and the reason returned, so that a short or slowly sampled
    recording is still analysed in the bands it supports.
    """
    kept: list[Band] = []
    skipped: dict[str, str] = {}
    for band in bands:
        try:
            check_bands_resolvable([band], sfreq, duration, source=source)
        except ParameterError as err:
            if strict:
                raise
            skipped[band.name] = str(err)
        else:
            kept.append(band)
    if not kept:
        raise ParameterError(f"{source}: none of the bands can be measured: " + "; ".join(skipped.values()))
    return tuple(kept), skipped

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

    def to_data_frame(self, *, wide: bool = False) -> pd.DataFrame:
        """The metrics as a copy: tidy (one row per value), or ``wide`` (one column per metric x band x component).

        Examples
        --------
        >>> rows = pd.DataFrame({"session": "s", "condition": "", "metric": ["band_power"] * 2,
        ...                      "band": "alpha", "component": ["Cz", "Pz"], "value": [1.0, 2.0], "unit": "V^2"})
        >>> Analysis(rows, {}).to_data_frame(wide=True).columns.tolist()
        ['band_power|alpha|Cz', 'band_power|alpha|Pz']
        """
        table = self.metrics.copy()
        if not wide:
            return table
        keys = table["metric"].astype(str) + "|" + table["band"].astype(str) + "|" + table["component"].astype(str)
        conditions = table["condition"].astype(str) if "condition" in table else ""
        keys = keys.where(conditions == "", keys + "|" + conditions)
        return pd.DataFrame([table["value"].to_numpy()], columns=keys.to_list(), index=[str(table["session"].iloc[0])
                                                                                          if len(table) else ""])

    def _repr_html_(self) -> str:
        """A short summary for Jupyter: the recording, its size and the metrics computed."""
        from html import escape

        params = self.params or {}
        facts = [("session", params.get("session") or (self.metrics["session"].iloc[0] if len(self.metrics) else "")),
                 ("kind", params.get("kind", "")), ("sampling rate (Hz)", params.get("sfreq", "")),
                 ("duration (s)", params.get("duration_s", "")),
                 ("channels", len(params.get("channels_analysed") or [])),
                 ("rows", len(self.metrics)), ("metrics", ", ".join(sorted(set(self.metrics.get("metric", [])))))]
        body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in facts)
        return f"<table><caption>harmonix Analysis</caption>{body}</table>"


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

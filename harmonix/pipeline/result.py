"""What an analysis returns, and the band bookkeeping every analysis shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
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
        Spectra and other arrays, written to ``arrays.npz``; ``ch_names`` and
        ``ch_pos`` (the analysed channels and their electrode positions, as
        stored with the recording) give back :attr:`info`.
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

    @property
    def info(self):
        """The analysed EEG channels as an :class:`mne.Info`, placed where the recording placed them.

        Built from ``arrays['ch_names']`` and ``arrays['ch_pos']``, so an
        analysis read back from its folder has it too; channels the recording
        gave no position stay without one. ``None`` when the analysis holds no
        channel list (music).
        """
        return channels_info(self.arrays, float(self.params.get("sfreq") or 1000.0))

    def plot_topomap(self, metric: str = "band_power", *, condition: str = "", **kwargs):
        """Scalp maps of one per-channel metric, one per band, placed by the recording's own positions.

        Parameters
        ----------
        metric : str
            A per-channel metric (``band_power``, ``band_power_relative``,
            ``peak_frequency``, ...).
        condition : str
            Rows of this condition (``""``: the whole recording).
        **kwargs
            Passed to :func:`harmonix.report.figures.plot_band_topomaps`
            (``scale``, ``log``, ``unit``, ``cmap``, ``ncols``).

        Returns
        -------
        fig : matplotlib.figure.Figure
        """
        from harmonix.report.figures import plot_band_topomaps

        rows = self.metrics
        if "condition" in rows:
            rows = rows[rows["condition"].astype(str) == str(condition)]
        return plot_band_topomaps(rows, metric=metric, info=self.info, **kwargs)

    def plot_psd(self):
        """The power spectrum of every channel and their mean, bands shaded (:func:`harmonix.report.figures.plot_psd`)."""
        from harmonix.report.figures import plot_psd

        if "psd" not in self.arrays or "psd_freqs" not in self.arrays:
            raise ParameterError("this analysis holds no power spectrum (arrays 'psd', 'psd_freqs')")
        names = [str(c) for c in self.arrays.get("ch_names", [])] or None
        return plot_psd(self.arrays["psd_freqs"], self.arrays["psd"], names, bands=self.params.get("bands"))

    def add_to_report(self, report, *, title: str | None = None, tags: Sequence[str] = ("harmonix",)):
        """Put this analysis into an :class:`mne.Report`: its spectrum, its summary and what to check first.

        Parameters
        ----------
        report : mne.Report
        title : str | None
            Section title (default ``harmonix: <session>``).
        tags : sequence of str
            Tags of the added sections.

        Returns
        -------
        report : mne.Report
            The same report, for chaining.
        """
        from html import escape

        import mne

        if not isinstance(report, mne.Report):
            raise ParameterError(f"add_to_report needs an mne.Report, got {type(report).__name__}")
        session = (self.params or {}).get("session") or (str(self.metrics["session"].iloc[0])
                                                          if len(self.metrics) else "recording")
        title = title or f"harmonix: {session}"
        if "psd" in self.arrays:
            report.add_figure(self.plot_psd(), title=f"{title}: power spectrum", tags=tuple(tags))
        summary = self._repr_html_()
        lines = ((self.params or {}).get("quality") or {}).get("warnings")
        mains = ((self.params or {}).get("line_noise") or {}).get("summary")
        checks = [*(lines or ()), *([mains] if mains else [])]
        notes = "".join(f"<li>{escape(str(line))}</li>" for line in checks)
        body = summary + (f"<p><strong>Check before reading:</strong></p><ul>{notes}</ul>" if notes else "")
        report.add_html(body, title=f"{title}: summary", tags=tuple(tags))
        return report

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


def channels_info(arrays, sfreq: float = 1000.0):
    """The analysed channels of ``arrays`` (``ch_names``, ``ch_pos``) as an :class:`mne.Info`, or ``None``.

    Channels without a stored position (or all of them, when ``ch_pos`` is
    missing or misshapen) stay without one.
    """
    if "ch_names" not in arrays:
        return None
    from harmonix.io.channels import info_with_positions

    names = [str(c) for c in arrays["ch_names"]]
    positions = arrays.get("ch_pos")
    if positions is None or np.shape(positions) != (len(names), 3):
        positions = np.full((len(names), 3), np.nan)
    return info_with_positions(names, positions, sfreq)


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

"""Region rows of a comparison, read with the cross-talk of the region estimate in mind.

A change of coupling planted in one pair of regions appears, through the
cross-talk of the sensor-to-region estimate, in neighbouring pairs too
(:mod:`harmonix.harmonics.crosstalk`). Each analysis records, per homotopic
pair, the pairs whose coupling leaks into its estimates at least as much as
its own (``params["harmonics"]["regions"]["pairs"][name]["explained_by"]``).
:func:`flag_crosstalk` marks a region row when such a pair has a significant
change in the same direction: cross-talk alone can then explain the row, and
the row should not be read as evidence about its own regions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["REGION_METRICS", "crosstalk_map", "flag_crosstalk"]

REGION_METRICS = ("region_plv_homotopic", "region_wpli_homotopic", "region_lag_fit_homotopic")
"""Metrics whose components are homotopic region pairs."""


def crosstalk_map(params: Iterable[Mapping]) -> dict[str, dict[str, float]]:
    """``{pair: {other: leakage}}`` from analyses' parameters (largest leakage over analyses)."""
    merged: dict[str, dict[str, float]] = {}
    for p in params:
        regions = ((p or {}).get("harmonics") or {}).get("regions") or {}
        for name, entry in (regions.get("pairs") or {}).items():
            for other, value in (entry.get("explained_by") or {}).items():
                merged.setdefault(name, {})
                merged[name][other] = max(float(value), merged[name].get(other, 0.0))
    return merged


def flag_crosstalk(comparison: pd.DataFrame, explains: Mapping[str, Mapping[str, float]], *,
                   q_level: float = 0.05) -> pd.DataFrame:
    """Add to ``note`` of each region row that a significant change elsewhere can explain by cross-talk.

    Parameters
    ----------
    comparison : DataFrame
        A comparison table (``metric, band, component, difference, q, note``; ``condition`` optional).
    explains : mapping
        :func:`crosstalk_map` of the compared analyses.
    q_level : float
        Significance of the explaining row (FDR q).

    Returns
    -------
    comparison : DataFrame
        A copy with the notes added and a boolean column ``crosstalk_explained``.
    """
    out = comparison.copy()
    out["crosstalk_explained"] = False
    if not explains or out.empty:
        return out
    if "note" not in out.columns:
        out["note"] = ""
    keys = ["metric", "band"] + (["condition"] if "condition" in out.columns else [])
    region_rows = out[out["metric"].isin(REGION_METRICS)]
    for _, group in region_rows.groupby(keys, dropna=False):
        significant = group[pd.to_numeric(group["q"], errors="coerce") < q_level]
        sign = dict(zip(significant["component"], np.sign(pd.to_numeric(significant["difference"], errors="coerce"))))
        for index, row in group.iterrows():
            direction = np.sign(pd.to_numeric(row["difference"], errors="coerce"))
            sources = [(other, value) for other, value in (explains.get(row["component"]) or {}).items()
                       if other != row["component"] and other in sign and sign[other] == direction]
            if not sources:
                continue
            sources.sort(key=lambda item: -item[1])
            text = "cross-talk from " + ", ".join(f"{name} (leakage {value:.2f})" for name, value in sources[:3])
            text += " can explain this row"
            note = str(out.at[index, "note"]) if pd.notna(out.at[index, "note"]) else ""
            out.at[index, "note"] = f"{note}; {text}" if note else text
            out.at[index, "crosstalk_explained"] = True
    return out

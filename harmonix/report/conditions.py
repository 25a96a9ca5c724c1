"""Report sections for the conditions of a recording and their steady-state responses.

:func:`harmonix.report.html.analysis_report` draws the whole recording; when
the analysis was split into conditions (trials from events) these sections
show, per condition, its trials and band power, and, with stimulation
frequencies, the steady-state SNR, inter-trial coherence and the trial
classification (:mod:`harmonix.estimators.steady_state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import numpy as np
import pandas as pd

from harmonix.report import page


def _by_condition(metrics: pd.DataFrame) -> pd.DataFrame:
    if "condition" not in metrics.columns:
        return metrics.iloc[0:0]
    condition = metrics["condition"].fillna("").astype(str)
    return metrics.assign(condition=condition)[condition != ""]


def conditions_section(metrics: pd.DataFrame, params: Mapping, bands) -> page._Section | None:
    """Trials and channel-mean band power (absolute and relative) per condition; ``None`` without conditions."""
    rows = _by_condition(metrics)
    described = params.get("conditions") or {}
    if rows.empty and not described:
        return None
    header = ["condition", "codes", "trials", "seconds"] + [f"{escape(b)} power (V&sup2;)" for b in bands] + \
        [f"{escape(b)} relative" for b in bands]
    table = []
    names = list(described) or sorted(rows["condition"].unique())
    for name in names:
        info = described.get(name, {})
        cells = [escape(name), escape(", ".join(info.get("codes", []))), page._num(info.get("n_trials"), 4),
                 page._num(info.get("seconds"), 4)]
        mine = rows[rows["condition"] == name]
        for metric in ("band_power", "band_power_relative"):
            for band in bands:
                values = mine.loc[(mine["metric"] == metric) & (mine["band"] == band), "value"]
                cells.append(page._num(values.mean() if len(values) else np.nan))
        table.append(cells)
    notes = [f"{escape(n)}: {escape(' '.join(info.get('notes', [])))}" for n, info in described.items()
             if info.get("notes")]
    body = ("<p>Every metric is also computed on each condition's trials alone (rows with its name in "
            "<code>condition</code> in the metrics table); spectra use only segments inside trials, while the filter "
            "bank runs over the continuous recording so trial edges are not filter edges. Band power is the mean "
            "over channels.</p>"
            + page._table(header, table, numeric=[False, False] + [True] * (len(header) - 2))
            + ("<p>" + "<br>".join(notes) + "</p>" if notes else ""))
    return page._Section("conditions", "Conditions", body)


def steady_state_section(metrics: pd.DataFrame, params: Mapping) -> page._Section | None:
    """Steady-state SNR and ITC per condition and frequency, and the trial classification."""
    rows = metrics[metrics["metric"].astype(str).str.startswith("steady_state_")]
    if rows.empty:
        return None
    condition = rows["condition"].fillna("").astype(str) if "condition" in rows.columns else pd.Series("", rows.index)
    rows = rows.assign(condition=condition)
    header = ["condition", "frequency", "best channel", "SNR", "ITC", "Rayleigh p", "ITC chance"]
    table = []
    snr = rows[rows["metric"] == "steady_state_snr"]
    for (name, band), group in snr.groupby(["condition", "band"], sort=False):
        best = group.loc[group["value"].idxmax()]
        at = rows[(rows["condition"] == name) & (rows["band"] == band) & (rows["component"] == best["component"])]
        itc = at.loc[at["metric"] == "steady_state_itc", "value"]
        p = at.loc[at["metric"] == "steady_state_itc_rayleigh_p", "value"]
        chance = rows.loc[(rows["condition"] == name) & (rows["band"] == band)
                          & (rows["metric"] == "steady_state_itc_chance"), "value"]
        table.append([escape(name), escape(band), escape(str(best["component"])), page._num(best["value"]),
                      page._num(itc.iloc[0] if len(itc) else np.nan), page._num(p.iloc[0] if len(p) else np.nan),
                      page._num(chance.iloc[0] if len(chance) else np.nan)])
    parts = ["<p>Power SNR at each stimulation frequency (power at the frequency over the mean of neighbouring bins, "
             "Meigen &amp; Bach 1999; about 1 without a response) on the channel where it is largest, and the "
             "inter-trial phase coherence there with its Rayleigh p (chance: the ITC expected from random "
             "phases).</p>",
             page._table(header, table, numeric=[False, False, False, True, True, True, True])]
    accuracy = rows[rows["metric"] == "steady_state_classification_accuracy"]
    if len(accuracy):
        items = [(f"accuracy ({name or 'all trials'})", page._num(value))
                 for name, value in zip(accuracy["condition"], accuracy["value"])]
        chance = rows.loc[rows["metric"] == "steady_state_classification_chance", "value"]
        if len(chance):
            items.append(("chance accuracy", page._num(chance.iloc[0])))
        parts += ["<h3>Trial classification</h3>", page._facts(items)]
    frequencies = (params.get("steady_state") or {}).get("frequencies_hz")
    if frequencies:
        parts.insert(0, f"<p>Stimulation frequencies: {escape(', '.join(f'{f:g} Hz' for f in frequencies))}.</p>")
    return page._Section("steady-state", "Steady-state responses", "\n".join(parts))

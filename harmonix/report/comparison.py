"""The HTML report of a pre/post comparison (the table of :func:`harmonix.compare.compare_tables`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np
import pandas as pd

from harmonix.compare.tables import methods_sentence
from harmonix.report import comparison_figures
from harmonix.report.page import (
    _absent,
    _breakable,
    _facts,
    _figure,
    _issues_html,
    _num,
    _page,
    _provenance,
    _Section,
    _table,
)
from harmonix.report.proxy_texts import _is_proxy_metric, _proxies_for, _proxy_block

__all__ = ["comparison_report", "TABLE_ROWS", "FOREST_ROWS", "Q_THRESHOLD"]

TABLE_ROWS = 200
"""Most rows of a comparison shown in the HTML table (all rows are in ``comparison.csv``)."""

FOREST_ROWS = 30
"""Rows in the forest plot of a comparison."""

Q_THRESHOLD = 0.05
"""FDR level at which comparison rows are highlighted."""


def _comparison_cells(row) -> list[str]:
    metric = _breakable(str(row.metric))
    if _is_proxy_metric(str(row.metric)):
        metric += '<span class="tag">research proxy</span>'
    kind = escape(str(getattr(row, "effect_size_kind", "") or ""))
    effect = _num(row.effect_size) + (f" <small>{kind}</small>" if kind and np.isfinite(float(row.effect_size))
                                      else "")
    ci = f"[{_num(row.ci_low)}, {_num(row.ci_high)}]" if np.isfinite(float(row.ci_low)) else "&ndash;"
    return [metric, escape(str(row.band)), _breakable(str(row.component)), escape(str(row.n)), _num(row.mean_pre),
            _num(row.mean_post), _num(row.difference), ci, effect, _num(row.p), _num(row.q),
            escape(str(getattr(row, "unit", "") or "")), escape(str(getattr(row, "note", "") or ""))]


def _clean_comparison(comparison: pd.DataFrame) -> pd.DataFrame:
    comparison_figures._check_comparison(comparison, ("metric", "band", "component", "n", "mean_pre", "mean_post",
                                           "difference", "effect_size", "ci_low", "ci_high", "p", "q"))
    out = comparison.copy()
    for column in ("metric", "band", "component"):
        out[column] = out[column].fillna("").astype(str)
    for column in ("mean_pre", "mean_post", "difference", "effect_size", "ci_low", "ci_high", "p", "q"):
        out[column] = pd.to_numeric(out[column], errors="coerce")
    return out


def comparison_report(
    comparison: pd.DataFrame,
    sessions: pd.DataFrame,
    params: Mapping,
    *,
    title: str | None = None,
    issues: Sequence[str] = (),
) -> str:
    """HTML report of a pre/post comparison.

    Parameters
    ----------
    comparison : DataFrame
        Table from :func:`harmonix.compare.compare_tables`
        (:data:`~harmonix.compare.tables.COMPARISON_COLUMNS` then ``unit, n_pre,
        n_post, hedges_g, design, note``); ``attrs['unpaired_subjects']`` and
        ``attrs['parameters']`` are shown when present.
    sessions : DataFrame
        One row per recording with columns ``subject``, ``session`` (label,
        e.g. ``'pre'``/``'post'``), ``condition`` and ``path``.
    params : mapping
        Parameters of the comparison run; ``versions`` and ``command`` go to
        the footer, the other entries to the parameter table.
    title : str | None
        Page title (default ``"harmonix comparison"``).
    issues : sequence of str
        Problems to show prominently at the top (e.g. ``"sub-03: pre without
        post"``); subjects listed in ``attrs['unpaired_subjects']`` are added.

    Returns
    -------
    html : str
        A self-contained HTML document: summary, forest plot of the rows with
        the lowest q, the table of at most :data:`TABLE_ROWS` rows (rows with
        ``q <`` :data:`Q_THRESHOLD` highlighted), the harmonic spectrum
        before and after, and the definitions of the proxies compared.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"metric": ["band_power", "valence_proxy"], "band": "alpha",
    ...                       "component": ["Cz", "harmonic_signature"], "n": 8, "mean_pre": [1.0, 0.1],
    ...                       "mean_post": [2.0, 0.1], "difference": [1.0, 0.0], "effect_size": [1.5, 0.0],
    ...                       "ci_low": [0.5, -0.1], "ci_high": [1.5, 0.1], "p": [0.001, 0.9], "q": [0.002, 0.9]})
    >>> sessions = pd.DataFrame({"subject": ["s1", "s1"], "session": ["pre", "post"], "condition": "",
    ...                          "path": ["a.edf", "b.edf"]})
    >>> page = comparison_report(table, sessions, {})
    >>> page.count('<tr class="sig">'), "research proxy, not a diagnosis" in page
    (1, True)
    """
    table = _clean_comparison(comparison)
    sessions = sessions if isinstance(sessions, pd.DataFrame) else pd.DataFrame(sessions)
    params = dict(params or {})
    stats_params = dict(comparison.attrs.get("parameters") or {})
    issue_lines = [str(line) for line in issues]
    unpaired = comparison.attrs.get("unpaired_subjects") or {}
    for key, text in (("pre_only", "pre without post"), ("post_only", "post without pre")):
        for subject in unpaired.get(key, []) or []:
            if not any(str(subject) in line for line in issue_lines):
                issue_lines.append(f"{subject}: {text}")

    tested = np.isfinite(table["p"].to_numpy(dtype=float))
    significant = (table["q"] < Q_THRESHOLD).to_numpy()
    designs = sorted(set(table["design"].dropna().astype(str))) if "design" in table else []
    if len(designs) == 1 and stats_params.get("design") != designs[0]:
        # the table's own rows say how they were tested; parameters of another table must not describe them
        stats_params = {"design": designs[0]}
    design = stats_params.get("design") or (", ".join(designs) if designs else "unknown")

    facts = []
    if "subject" in sessions.columns:
        facts.append(("Subjects", str(sessions["subject"].astype(str).nunique())))
    if "session" in sessions.columns:
        counts = sessions["session"].astype(str).value_counts(sort=False)
        facts.append(("Recordings", escape(", ".join(f"{label}: {n}" for label, n in counts.items()))))
    if "condition" in sessions.columns:
        conditions = [c for c in sessions["condition"].fillna("").astype(str).unique() if c]
        if conditions:
            facts.append(("Conditions", escape(", ".join(conditions))))
    facts.append(("Design", escape(str(design))))
    facts.append(("Rows compared", f"{len(table)} ({table['metric'].nunique()} metrics)"))
    facts.append(("Rows tested", f"{int(tested.sum())}" + (f" ({int((~tested).sum())} could not be tested; "
                                                           "see the note column)" if (~tested).any() else "")))
    facts.append((f"q < {Q_THRESHOLD:g} (FDR)", f"<strong>{int(significant.sum())}</strong>"))
    facts.append(("Statistics", escape(methods_sentence(stats_params))))
    if "p_min" in table.columns and np.isfinite(pd.to_numeric(table["p_min"], errors="coerce")).any():
        facts.append(("Smallest attainable p", _num(float(pd.to_numeric(table["p_min"], errors="coerce").min()))))
    sections = [_Section("summary", "Summary", _facts(facts))]

    forest = _figure(comparison_figures.plot_comparison_forest, "Forest plot", table, FOREST_ROWS, Q_THRESHOLD,
                     caption=f"The {FOREST_ROWS} tested rows with the lowest q: effect size with the CI of the "
                             "difference in the same units (difference CI x effect size / difference). Red: "
                             f"q &lt; {Q_THRESHOLD:g}.")
    sections.append(_Section("forest", "Largest effects", forest))

    ordered = comparison_figures.most_significant(table)
    ordered = pd.concat([ordered, table[~tested]]).head(TABLE_ROWS)
    header = ["metric", "band", "component", "n", "mean pre", "mean post", "difference", "CI", "effect size",
              "p", "q", "unit", "note"]
    numeric = [False, False, False, True, True, True, True, True, True, True, True, False, False]
    rows = [_comparison_cells(r) for r in ordered.itertuples()]
    classes = ["sig" if q < Q_THRESHOLD else "" for q in ordered["q"].to_numpy(dtype=float)]
    shown = (f"<p>Highlighted: q &lt; {Q_THRESHOLD:g}. Showing {len(ordered)} of {len(table)} rows, lowest q first"
             + ("; the full table is <code>comparison.csv</code>." if len(ordered) < len(table) else ".") + "</p>")
    sections.append(_Section("table", "All results", shown + _table(header, rows, numeric=numeric,
                                                                   row_classes=classes, table_id="results")))

    spectra = []
    for metric in ("harmonic_power", "harmonic_energy"):
        if (table["metric"] == metric).any():
            spectra.append(_figure(comparison_figures.plot_pre_post_harmonic_spectrum, f"{metric} before and after",
                                   table, metric=metric, q_threshold=Q_THRESHOLD,
                                   caption=f"{metric.replace('_', ' ')} per harmonic before and after (top) and the "
                                           "difference with its CI (bottom); red dots: q &lt; "
                                           f"{Q_THRESHOLD:g}."))
    if not spectra:
        spectra.append(_absent("the harmonic spectrum: no harmonic_power rows (harmonics were not computed)."))
    sections.append(_Section("harmonics", "Harmonic spectrum before and after", "\n".join(spectra)))

    proxies = _proxies_for(table["metric"].unique())
    if proxies:
        body = f'<dl class="defs">{"".join(_proxy_block(p) for p in proxies)}</dl>'
    else:
        body = "<p>No proxy metric was compared.</p>"
    sections.append(_Section("proxies", "Research proxies", body))

    if len(sessions):
        columns = [c for c in ("subject", "session", "condition", "path") if c in sessions.columns]
        session_rows = [[escape("" if pd.isna(v) else str(v)) for v in r] for r in sessions[columns].itertuples(index=False)]
        sections.append(_Section("sessions", "Recordings", _table(columns, session_rows)))

    shown_params = {k: v for k, v in {**stats_params, **params}.items() if k not in ("versions", "command")}
    if shown_params:
        items = []
        for key, value in shown_params.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            items.append((str(key), escape(text if len(text) <= 400 else text[:400] + " ...")))
        sections.append(_Section("parameters", "Parameters", _facts(items)))

    title = title or "harmonix comparison"
    subtitle = escape(f"Pre/post comparison, {design} design")
    return _page(title, subtitle, sections, _provenance(params), issues=_issues_html(issue_lines))

"""Figures of a pre/post comparison: the table of :func:`harmonix.compare.compare_tables`.

A forest plot of the most significant rows and each harmonic metric before
and after, as :class:`matplotlib.figure.Figure` objects built without pyplot
(as in :mod:`harmonix.report.figures`, whose helpers for metric rows, band
order and harmonic indices they share). Each raises
:class:`~harmonix.errors.ParameterError` when the table lacks what it draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harmonix.errors import ParameterError
from harmonix.report.figures import _band_order, _harmonic_index, _metric_rows

_SIGNIFICANT = "#c0392b"
_NOT_SIGNIFICANT = "#7f8c8d"

def _row_label(row) -> str:
    parts = [str(row.metric)] + [str(p) for p in (row.band, row.component) if isinstance(p, str) and p]
    return " · ".join(parts)


def _check_comparison(comparison: pd.DataFrame, needed: Sequence[str]) -> None:
    if not isinstance(comparison, pd.DataFrame):
        raise ParameterError(f"expected the comparison table (a DataFrame), got {type(comparison).__name__}")
    missing = [c for c in needed if c not in comparison.columns]
    if missing:
        raise ParameterError(
            f"comparison table: missing column(s) {', '.join(missing)}; give the table of harmonix.compare.compare_tables"
        )


def most_significant(comparison: pd.DataFrame, n_rows: int | None = None) -> pd.DataFrame:
    """Tested rows of a comparison table, lowest q (then p, then largest ``|effect_size|``) first.

    Parameters
    ----------
    comparison : DataFrame
        Table from :func:`harmonix.compare.compare_tables`.
    n_rows : int | None
        Keep this many rows (all when ``None``).

    Returns
    -------
    rows : DataFrame
        The rows with a finite p-value, sorted; untested rows are dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"metric": ["a", "b", "c"], "p": [0.2, 0.01, float("nan")],
    ...                       "q": [0.2, 0.02, float("nan")], "effect_size": [0.1, 1.0, float("nan")]})
    >>> most_significant(table)["metric"].tolist()
    ['b', 'a']
    """
    _check_comparison(comparison, ("p", "q"))
    rows = comparison[np.isfinite(pd.to_numeric(comparison["p"], errors="coerce"))]
    effect = pd.to_numeric(rows["effect_size"], errors="coerce").abs() if "effect_size" in rows else 0.0
    rows = rows.assign(_q=pd.to_numeric(rows["q"], errors="coerce").fillna(np.inf), _effect=-effect)
    rows = rows.sort_values(["_q", "p", "_effect"], kind="stable").drop(columns=["_q", "_effect"])
    return rows if n_rows is None else rows.head(n_rows)


def plot_comparison_forest(
    comparison: pd.DataFrame,
    n_rows: int = 30,
    q_threshold: float = 0.05,
    *,
    value: str = "effect_size",
) -> Figure:
    """Forest plot of the most significant rows of a pre/post comparison.

    Parameters
    ----------
    comparison : DataFrame
        Table from :func:`harmonix.compare.compare_tables` (columns
        ``metric, band, component, difference, effect_size, ci_low, ci_high,
        p, q``...).
    n_rows : int
        Rows shown: the tested rows with the lowest q (see
        :func:`most_significant`), the most significant at the top.
    q_threshold : float
        Rows with ``q < q_threshold`` are drawn in red with bold labels.
    value : {'effect_size', 'difference'}
        ``'effect_size'`` (default; comparable across metrics): :math:`d_z`
        (paired) or Hedges' g (unpaired), with the bootstrap CI of the mean
        difference rescaled by ``effect_size / difference``, i.e. expressed in
        the same standard-deviation units (an approximation that ignores the
        uncertainty of the SD). ``'difference'``: ``mean_post - mean_pre``
        with its CI, in each metric's own unit (useful for one metric).

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes; one y tick per row, labelled ``metric · band · component``.

    Raises
    ------
    ParameterError
        Missing columns, an unknown ``value``, or no tested row.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"metric": ["a", "b"], "band": "alpha", "component": "Cz",
    ...                       "difference": [1.0, -0.5], "effect_size": [2.0, -0.4],
    ...                       "ci_low": [0.5, -1.5], "ci_high": [1.5, 0.5], "p": [0.001, 0.4], "q": [0.002, 0.4]})
    >>> fig = plot_comparison_forest(table)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a · alpha · Cz', 'b · alpha · Cz']
    """
    if value not in ("effect_size", "difference"):
        raise ParameterError(f"plot_comparison_forest: value={value!r}; use 'effect_size' or 'difference'")
    _check_comparison(comparison, ("metric", "band", "component", "difference", "effect_size", "ci_low", "ci_high",
                                   "p", "q"))
    rows = most_significant(comparison, n_rows)
    centre = pd.to_numeric(rows[value], errors="coerce").to_numpy(dtype=float)
    rows = rows[np.isfinite(centre)]
    if rows.empty:
        raise ParameterError("plot_comparison_forest: no tested row with a finite value to plot")
    centre = pd.to_numeric(rows[value], errors="coerce").to_numpy(dtype=float)
    low = pd.to_numeric(rows["ci_low"], errors="coerce").to_numpy(dtype=float)
    high = pd.to_numeric(rows["ci_high"], errors="coerce").to_numpy(dtype=float)
    if value == "effect_size":
        difference = pd.to_numeric(rows["difference"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(difference != 0, centre / difference, np.nan)
        low, high = np.sort(np.vstack([low * ratio, high * ratio]), axis=0)
    significant = pd.to_numeric(rows["q"], errors="coerce").to_numpy(dtype=float) < q_threshold
    y = np.arange(len(rows))[::-1]
    fig = Figure(figsize=(7.5, 1.2 + 0.24 * len(rows)))
    ax = fig.subplots()
    ax.axvline(0, color="k", lw=0.7)
    for yi, c, lo, hi, sig in zip(y, centre, low, high, significant):
        colour = _SIGNIFICANT if sig else _NOT_SIGNIFICANT
        if np.isfinite(lo) and np.isfinite(hi):
            ax.plot([lo, hi], [yi, yi], color=colour, lw=1.4 if sig else 1.0)
        ax.plot([c], [yi], "o", color=colour, mfc=colour if sig else "white", ms=5)
    ax.set_yticks(y, [_row_label(r) for r in rows.itertuples()], fontsize=7)
    for label, sig in zip(ax.get_yticklabels(), significant):
        if sig:
            label.set_color(_SIGNIFICANT)
            label.set_fontweight("bold")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    if value == "effect_size":
        kinds = "/".join(sorted(set(rows["effect_size_kind"].dropna().astype(str)))) if "effect_size_kind" in rows \
            else "effect size"
        ax.set_xlabel(f"effect size ({kinds}) with rescaled 95% CI of the difference")
    else:
        ax.set_xlabel("difference post − pre with CI")
    ax.set_title(f"{len(rows)} lowest-q rows; red: q < {q_threshold:g}", fontsize=9)
    ax.grid(axis="x", lw=0.3)
    fig.tight_layout()
    return fig


def plot_pre_post_harmonic_spectrum(
    comparison: pd.DataFrame,
    *,
    metric: str = "harmonic_power",
    q_threshold: float = 0.05,
) -> Figure:
    """Harmonic spectrum before and after, and their difference with its CI, per band.

    Parameters
    ----------
    comparison : DataFrame
        Table from :func:`harmonix.compare.compare_tables` with ``metric``
        rows whose components are ``h000``, ``h001``...
    metric : str
        ``'harmonic_power'`` or ``'harmonic_energy'``.
    q_threshold : float
        Harmonics with ``q < q_threshold`` are marked with a red dot on the
        difference panel.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Two rows of axes, one column per band: top ``mean_pre`` and
        ``mean_post`` against the harmonic index (log scale), bottom
        ``difference`` with the shaded CI.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"metric": "harmonic_power", "band": "alpha", "component": ["h000", "h001"],
    ...                       "mean_pre": [2.0, 1.0], "mean_post": [3.0, 1.0], "difference": [1.0, 0.0],
    ...                       "ci_low": [0.5, -0.2], "ci_high": [1.5, 0.2], "q": [0.01, 0.9]})
    >>> len(plot_pre_post_harmonic_spectrum(table).axes)
    2
    """
    _check_comparison(comparison, ("metric", "band", "component", "mean_pre", "mean_post", "difference",
                                   "ci_low", "ci_high", "q"))
    rows = _metric_rows(comparison.assign(value=comparison["difference"]), metric)
    rows = rows.assign(k=_harmonic_index(rows["component"])).dropna(subset=["k"])
    if rows.empty:
        raise ParameterError(f"plot_pre_post_harmonic_spectrum: no {metric!r} rows with components h000, h001, ...")
    bands = _band_order(rows["band"])
    fig = Figure(figsize=(2.6 * len(bands) + 0.6, 4.6))
    axes = fig.subplots(2, len(bands), squeeze=False, sharex="col")
    for column, band in enumerate(bands):
        r = rows[rows["band"] == band].sort_values("k")
        k = r["k"].to_numpy()
        top, bottom = axes[0, column], axes[1, column]
        for name, colour in (("mean_pre", "#2c7fb8"), ("mean_post", "#d95f0e")):
            v = pd.to_numeric(r[name], errors="coerce").to_numpy(dtype=float)
            top.plot(k, np.where(v > 0, v, np.nan), ".-", ms=3, lw=1, color=colour, label=name.removeprefix("mean_"))
        top.set_yscale("log")
        top.set_title(band, fontsize=10)
        diff = r["value"].to_numpy(dtype=float)
        low = pd.to_numeric(r["ci_low"], errors="coerce").to_numpy(dtype=float)
        high = pd.to_numeric(r["ci_high"], errors="coerce").to_numpy(dtype=float)
        bottom.fill_between(k, low, high, color="0.6", alpha=0.4, lw=0, label="CI")
        bottom.plot(k, diff, "-", color="k", lw=1)
        bottom.axhline(0, color="k", lw=0.5)
        sig = pd.to_numeric(r["q"], errors="coerce").to_numpy(dtype=float) < q_threshold
        if sig.any():
            bottom.plot(k[sig], diff[sig], "o", color=_SIGNIFICANT, ms=4, label=f"q < {q_threshold:g}")
        bottom.set_xlabel("harmonic k")
        bottom.tick_params(labelsize=7)
        top.tick_params(labelsize=7)
    axes[0, 0].set_ylabel(metric.replace("_", " ") + " (a.u.)", fontsize=8)
    axes[1, 0].set_ylabel("post − pre", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig

"""Pre vs post within one subject: metrics per window, compared over windows.

With a single pre/post pair there is no between-subject variability to test
against; what can be asked is whether *these two recordings* differ, treating
each recording as many windows. :func:`window_metrics` reads the per-window
quantities that ``harmonix analyze`` keeps in ``arrays.npz``:

* ``band_power`` per band (whole-head mean over channels, or per channel),
  from Welch spectra of consecutive windows (``window_band_power``);
* ``harmonic_power`` per band and harmonic: the mean of
  :math:`|a_k(t)|` (Atasoy et al. 2017) over each window;
* ``energy_parameter``: the energy trace averaged over each window.

:func:`compare_windows` runs :func:`~harmonix.compare.permutation.window_permutation_test`
on every metric x band x component with blocks of windows sized from the
series' autocorrelation, and corrects across rows with
:func:`~harmonix.compare.stats.fdr_bh`. The result answers a question about
the two recordings, not about an intervention in people (that needs several
subjects and :func:`~harmonix.compare.tables.compare_tables`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from harmonix.compare.sessions import SUMMARY_COMPONENT
from harmonix.compare._checks import _seed_sequence
from harmonix.compare.permutation import smallest_p, unreachable_note, window_permutation_test
from harmonix.compare.stats import fdr_bh
from harmonix.compare.tables import COMPARISON_COLUMNS
from harmonix.errors import ParameterError

WINDOW_COLUMNS = ("metric", "band", "component", "window", "value", "unit")
"""Columns of :func:`window_metrics`' table."""


def window_metrics(
    arrays: Mapping[str, np.ndarray],
    params: Mapping,
    *,
    level: str = "summary",
    channels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-window metrics of one analysis (``arrays.npz`` and ``params.json`` of ``harmonix analyze``).

    Parameters
    ----------
    arrays : mapping
        The analysis arrays; windows exist for continuous recordings at least
        four windows long.
    params : mapping
        The analysis parameters (for the sampling rate).
    level : {'summary', 'channel'}
        Band power averaged over channels, or per channel.
    channels : sequence of str | None
        Channels to use (default: all analysed).

    Returns
    -------
    DataFrame
        Columns :data:`WINDOW_COLUMNS`; empty when the analysis has no windows.
    """
    if level not in ("summary", "channel"):
        raise ParameterError(f"level={level!r}: use 'summary' or 'channel'")
    if "window_band_power" not in arrays:
        return pd.DataFrame(columns=list(WINDOW_COLUMNS))
    starts = np.asarray(arrays["window_starts"], dtype=float)
    power = np.asarray(arrays["window_band_power"], dtype=float)  # (n_windows, n_channels, n_bands)
    ch_names = [str(c) for c in arrays["ch_names"]]
    bands = [b["name"] for b in params["bands"]]
    keep = [i for i, c in enumerate(ch_names) if channels is None or c in set(channels)]
    power = power[:, keep]
    names = [ch_names[i] for i in keep]
    frames = []
    n_windows = starts.size
    window_index = np.arange(n_windows)

    def add(metric: str, band: str, component: str, values: np.ndarray, unit: str) -> None:
        frames.append(pd.DataFrame({"metric": metric, "band": band, "component": component,
                                    "window": window_index, "value": values, "unit": unit}))

    for b, band in enumerate(bands):
        if level == "summary":
            add("band_power", band, SUMMARY_COMPONENT, power[:, :, b].mean(axis=1), "V^2")
        else:
            for c, name in enumerate(names):
                add("band_power", band, name, power[:, c, b], "V^2")

    # Windows tile each good span, so the grid may jump over a gap: the shortest step is the window.
    window = float(np.diff(starts).min()) if n_windows > 1 else np.inf
    if "window_harmonic_power" in arrays:
        # mean |a_k| per window of the analysis (n_windows, n_bands, n_modes), on the same window grid
        harmonic = np.asarray(arrays["window_harmonic_power"], dtype=float)
        harmonic_starts = np.asarray(arrays.get("window_harmonic_starts", starts), dtype=float)
        if harmonic.shape[0] == n_windows and np.allclose(harmonic_starts, starts):
            for b, band in enumerate(str(x) for x in arrays["harmonic_bands"]):
                for k in range(harmonic.shape[2]):
                    add("harmonic_power", band, f"h{k:03d}", harmonic[:, b, k], "a.u.")
    if "energy" in arrays and "energy_times" in arrays:
        times, energy = np.asarray(arrays["energy_times"], float), np.asarray(arrays["energy"], float)
        index = np.searchsorted(starts, times, side="right") - 1
        inside = (index >= 0) & (times < starts[np.maximum(index, 0)] + window)
        counts = np.bincount(index[inside], minlength=n_windows)
        if counts.min() > 0:
            sums = np.bincount(index[inside], weights=energy[inside], minlength=n_windows)
            add("energy_parameter", "", "all", sums / counts, "1")
    if not frames:
        return pd.DataFrame(columns=list(WINDOW_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(WINDOW_COLUMNS)]


def auto_block_size(pre: np.ndarray, post: np.ndarray) -> int:
    """Windows per exchangeable block: about two autocorrelation times, keeping >= 4 blocks per condition.

    The autocorrelation time of an AR(1) series with lag-1 autocorrelation
    :math:`\\rho` is :math:`(1 + \\rho) / (1 - \\rho)` windows (see
    :func:`~harmonix.compare.permutation.window_permutation_test`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> auto_block_size(rng.standard_normal(40), rng.standard_normal(40))  # white: rho ~ 0, two windows or so
    3
    >>> slow = np.sin(np.arange(40) / 3.0)
    >>> auto_block_size(slow, slow[::-1])  # rho near 1: as large as 4 blocks per condition allow
    10
    """
    residuals = [np.asarray(v, float) - np.mean(v) for v in (pre, post)]
    numerator = sum(float(np.dot(r[1:], r[:-1])) for r in residuals)
    denominator = sum(float(np.dot(r, r)) for r in residuals)
    rho = numerator / denominator if denominator > 0 else 0.0
    rho = min(max(rho, 0.0), 0.95)
    tau = (1 + rho) / (1 - rho)
    largest = max(1, min(len(pre), len(post)) // 4)
    return int(min(max(1, np.ceil(2 * tau)), largest))


def compare_windows(
    pre: pd.DataFrame,
    post: pd.DataFrame,
    *,
    subject: str = "",
    n_permutations: int = 10000,
    n_bootstrap: int = 2000,
    ci_level: float = 0.95,
    seed=0,
) -> pd.DataFrame:
    """Compare the windows of one pre and one post recording, row by row, with FDR across rows.

    Parameters
    ----------
    pre, post : DataFrame
        :func:`window_metrics` tables.
    subject : str
        Written in the ``subject`` column.
    n_permutations, n_bootstrap, ci_level, seed
        As in :func:`~harmonix.compare.permutation.window_permutation_test` (each
        row gets its own stream spawned from ``seed``).

    Returns
    -------
    DataFrame
        :data:`~harmonix.compare.tables.COMPARISON_COLUMNS` (``n`` = windows,
        ``effect_size`` = Hedges' g over windows, ``p`` = block permutation
        p-value, ``q`` = BH across rows) plus ``unit``, ``n_pre``, ``n_post``,
        ``hedges_g``, ``design`` (``'windows'``), ``note`` (block size and
        autocorrelation) and ``subject``.
    """
    keys = ["metric", "band", "component"]
    groups_pre = {k: g for k, g in pre.groupby(keys, sort=True)}
    groups_post = {k: g for k, g in post.groupby(keys, sort=True)}
    shared = sorted(set(groups_pre) & set(groups_post))
    streams = _seed_sequence(seed).spawn(max(len(shared), 1))
    rows = []
    for key, stream in zip(shared, streams):
        x = groups_pre[key].sort_values("window")["value"].to_numpy(float)
        y = groups_post[key].sort_values("window")["value"].to_numpy(float)
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        row = dict(zip(keys, key), n=x.size + y.size, mean_pre=np.nan, mean_post=np.nan, difference=np.nan,
                   effect_size=np.nan, effect_size_kind="hedges_g_windows", ci_low=np.nan, ci_high=np.nan,
                   p=np.nan, p_wilcoxon=np.nan, p_ttest=np.nan, unit=str(groups_pre[key]["unit"].iloc[0]),
                   n_pre=x.size, n_post=y.size, hedges_g=np.nan, design="windows", p_min=np.nan, subject=subject)
        block = auto_block_size(x, y) if min(x.size, y.size) >= 2 else 1
        try:
            result = window_permutation_test(x, y, block_size=block, n_permutations=n_permutations,
                                             n_bootstrap=n_bootstrap, ci_level=ci_level, seed=stream)
        except ParameterError as err:
            row["note"] = f"not tested: {err}"
        else:
            p_min = smallest_p(result.n_permutations, result.exact, result.alternative)
            notes = (f"blocks of {block} windows; lag-1 autocorrelation {result.autocorrelation:.2f}",
                     unreachable_note(p_min))
            row.update(mean_pre=result.mean_pre, mean_post=result.mean_post, difference=result.difference,
                       effect_size=result.hedges_g, hedges_g=result.hedges_g, ci_low=result.ci_low,
                       ci_high=result.ci_high, p=result.pvalue, p_min=p_min, note="; ".join(n for n in notes if n))
        rows.append(row)
    columns = [*COMPARISON_COLUMNS, "unit", "n_pre", "n_post", "hedges_g", "design", "p_min", "note", "subject"]
    out = pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)
    if rows:
        out["q"] = fdr_bh(out["p"].to_numpy(float))
    out = out[columns]
    out.attrs["parameters"] = window_parameters(n_permutations=n_permutations, n_bootstrap=n_bootstrap,
                                                ci_level=ci_level)
    return out


def window_parameters(*, n_permutations: int, n_bootstrap: int, ci_level: float) -> dict:
    """``attrs["parameters"]`` of a window comparison (what its methods sentence is written from)."""
    return {"design": "windows", "effect_size": "hedges_g_windows", "n_permutations": int(n_permutations),
            "n_bootstrap": int(n_bootstrap), "ci_level": float(ci_level), "ci_method": "bca",
            "alternative": "two-sided", "fdr_method": "bh", "p": "block permutation"}

"""Figures as functions returning :class:`matplotlib.figure.Figure` (for notebooks and reports).

Surfaces are drawn in 2-D projections with the painter's algorithm (triangles
sorted by depth), which is fast for 16k-vertex meshes. Figures are built with
:class:`matplotlib.figure.Figure` directly, not pyplot, so they need no display
and leave no global state behind; ``fig.savefig`` writes them. Scalp maps
are drawn by :func:`mne.viz.plot_topomap` into axes of such a figure.

Analysis figures take the tidy metric rows (``metrics.csv``) or the arrays
(``arrays.npz``) of :func:`harmonix.pipeline.analyze_eeg` (the figures of a
comparison are in :mod:`harmonix.report.comparison_figures`). Each raises
:class:`~harmonix.errors.ParameterError` when its input lacks what it draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from harmonix.errors import HarmonixError, ParameterError
from harmonix.harmonics.basis import HarmonicBasis
from harmonix.harmonics.mesh import TriMesh
from harmonix.spectral.bands import load_bands

if TYPE_CHECKING:
    import mne

# (horizontal axis, vertical axis, depth axis, depth sign) of each view in the
# surface frame x anterior, y left, z superior.
VIEWS = {"dorsal": (1, 0, 2, 1.0), "left": (0, 2, 1, 1.0), "right": (0, 2, 1, -1.0)}


def draw_surface(ax: Axes, mesh: TriMesh, values: np.ndarray, *, view: str = "dorsal", cmap: str = "RdBu_r",
                 limit: float | None = None) -> PolyCollection:
    """Draw ``values`` (one per vertex) on ``mesh`` seen from ``view`` into ``ax``."""
    h, v, depth, sign = VIEWS[view]
    triangles = mesh.triangles[np.argsort(sign * mesh.vertices[mesh.triangles, depth].mean(axis=1))]
    polygons = mesh.vertices[triangles][:, :, [h, v]]
    if view in ("dorsal", "left"):
        # dorsal: left hemisphere on the left (neurological); left: the nose points left
        polygons = polygons * np.array([-1.0, 1.0])
    face_values = np.asarray(values)[triangles].mean(axis=1)
    limit = float(np.abs(values).max()) if limit is None else limit
    collection = PolyCollection(polygons, array=face_values, cmap=cmap, edgecolors="none")
    collection.set_clim(-limit, limit)
    ax.add_collection(collection)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.axis("off")
    return collection


def plot_harmonics(mesh: TriMesh, basis: HarmonicBasis, indices: Sequence[int] = (1, 2, 3, 4, 5, 6),
                   *, views: Sequence[str] = ("dorsal", "left")) -> Figure:
    """Harmonics ``indices`` of ``basis`` on the cortex, one column per harmonic.

    Each map is scaled symmetrically to its own largest absolute value (the
    sign of a harmonic is a convention, see :mod:`harmonix.harmonics.basis`).
    """
    fig = Figure(figsize=(2.2 * len(indices), 2.2 * len(views)))
    axes = fig.subplots(len(views), len(indices), squeeze=False)
    for column, k in enumerate(indices):
        values = basis.eigenvectors[:, k]
        for row, view in enumerate(views):
            draw_surface(axes[row, column], mesh, values, view=view)
        axes[0, column].set_title(f"ψ{k}  λ={basis.eigenvalues[k]:.3g}", fontsize=8)
    fig.suptitle(f"{basis.kind} harmonics", fontsize=10)
    fig.tight_layout()
    return fig


def plot_harmonic_spectrum(eigenvalues: np.ndarray, figsize: tuple[float, float] = (5, 3)) -> Figure:
    """Eigenvalue (spatial frequency) against harmonic index."""
    fig = Figure(figsize=figsize)
    ax = fig.subplots()
    ax.plot(np.arange(len(eigenvalues)), eigenvalues, ".-", ms=3)
    ax.set_xlabel("harmonic index k")
    ax.set_ylabel("eigenvalue λ_k")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# figures of an analysis (tidy metric rows and arrays from ``arrays.npz``)

_CDNS_COLOURS = {"consonance": "#2e7d32", "dissonance": "#c62828", "noise": "#757575"}


def _band_order(names) -> list[str]:
    """Unique band names, the default bands first in their usual order, then the rest as given."""
    seen = list(dict.fromkeys(str(n) for n in names))
    try:
        defaults = [b.name for b in load_bands()]
    except HarmonixError:
        defaults = []
    return [n for n in defaults if n in seen] + [n for n in seen if n not in defaults]


def _metric_rows(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows of one metric from a tidy table, with ``band``/``component`` as strings."""
    missing = [c for c in ("metric", "band", "component", "value") if c not in metrics.columns]
    if missing:
        raise ParameterError(
            f"expected tidy metric rows with columns metric, band, component, value; missing {', '.join(missing)}"
        )
    rows = metrics[metrics["metric"] == metric]
    if "condition" in rows.columns:  # whole-recording rows; conditions have their own figures
        rows = rows[rows["condition"].fillna("").astype(str) == ""]
    rows = rows.copy()
    rows["band"] = rows["band"].fillna("").astype(str)
    rows["component"] = rows["component"].fillna("").astype(str)
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce")
    return rows


def _band_matrix(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``component x band`` table of one metric, components and bands in order of appearance."""
    rows = _metric_rows(metrics, metric)
    if rows.empty:
        raise ParameterError(f"no {metric!r} rows in the metrics table")
    table = rows.pivot_table(index="component", columns="band", values="value", aggfunc="mean", sort=False,
                             dropna=False)
    return table[_band_order(table.columns)]


def _harmonic_index(components: pd.Series) -> np.ndarray:
    """Harmonic index ``k`` from components named ``h000``, ``h001``... (NaN for other names)."""
    return pd.to_numeric(components.str.extract(r"^h(\d+)$")[0], errors="coerce").to_numpy(dtype=float)


def _positioned_info(ch_names: Sequence[str], montage, info: mne.Info | None = None) -> tuple[mne.Info, list[int]]:
    """EEG ``Info`` for ``ch_names``, placed by ``info`` (matched by name) or else by ``montage``.

    Also returns the indices of the channels that have a position.
    """
    import mne

    from harmonix.io.channels import channel_positions, info_with_positions, standard_montage

    names = [str(n) for n in ch_names]
    if info is not None:
        stored = dict(zip(info["ch_names"], channel_positions(info)))
        placed = info_with_positions(names, np.array([stored.get(n, np.full(3, np.nan)) for n in names]))
    else:
        if isinstance(montage, str):
            montage = standard_montage(montage)
        placed = mne.create_info(names, 1000.0, "eeg")
        placed.set_montage(montage, on_missing="ignore")
    kept = np.flatnonzero(np.isfinite(channel_positions(placed)).all(axis=1)).tolist()
    return placed, kept


def plot_band_topomaps(
    values: pd.DataFrame | Mapping[str, np.ndarray],
    ch_names: Sequence[str] | None = None,
    *,
    metric: str = "band_power",
    montage: str | mne.channels.DigMontage = "standard_1005",
    info: mne.Info | None = None,
    scale: float = 1.0,
    log: bool = False,
    unit: str = "",
    cmap: str = "viridis",
    ncols: int = 5,
) -> Figure:
    """Scalp map of one value per channel for each band.

    Parameters
    ----------
    values : DataFrame | mapping of str to ndarray
        Tidy metric rows (columns ``metric, band, component, value``; the rows
        of ``metric`` are used, one column per band, ``component`` naming the
        channel), or ``{band: values}`` with one value per channel of
        ``ch_names``.
    ch_names : sequence of str | None
        Channel names. Required with a mapping; with a table it selects and
        orders the channels (default: every channel of the table).
    metric : str
        Metric read from a table (ignored for a mapping).
    montage : str | DigMontage
        Electrode positions, by name (see
        :func:`harmonix.io.channels.standard_montage`) or as a montage.
        Channels without a position are left out of the maps.
    info : mne.Info | None
        The recording's own measurement info (e.g. ``Analysis.info``); when
        given, its electrode positions place the channels (matched by name)
        and ``montage`` is not used.
    scale : float
        Factor applied before plotting (e.g. ``1e12`` for V² to µV²).
    log : bool
        Plot ``10 log10(scale * value)`` (dB); non-positive values are left out.
    unit : str
        Colour-bar label.
    cmap : str
        Matplotlib colormap. Each band has its own colour scale, from its
        smallest to its largest value.
    ncols : int
        Maps per row.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes per band titled with the band name, each with a colour bar.

    Raises
    ------
    ParameterError
        No rows for ``metric``, values that do not match ``ch_names``, or fewer
        than three channels with a position in ``info`` or ``montage``.

    Examples
    --------
    >>> import numpy as np
    >>> names = ["Fz", "Cz", "Pz", "C3", "C4", "O1", "O2"]
    >>> fig = plot_band_topomaps({"alpha": np.arange(7.0), "beta": np.ones(7)}, names)
    >>> [ax.get_title() for ax in fig.axes if ax.get_title()]
    ['alpha', 'beta']
    """
    if isinstance(values, pd.DataFrame):
        table = _band_matrix(values, metric)
        if ch_names is not None:
            table = table.reindex([str(n) for n in ch_names])
        names = [str(n) for n in table.index]
        maps = {band: table[band].to_numpy(dtype=float) for band in table.columns}
    else:
        if ch_names is None:
            raise ParameterError("plot_band_topomaps: give ch_names with a {band: values} mapping")
        names = [str(n) for n in ch_names]
        maps = {str(band): np.asarray(v, dtype=float).ravel() for band, v in values.items()}
        for band, v in maps.items():
            if v.size != len(names):
                raise ParameterError(f"plot_band_topomaps: band {band!r} has {v.size} values for {len(names)} channels")
    if not maps:
        raise ParameterError("plot_band_topomaps: no band to plot")
    import mne

    placed, kept = _positioned_info(names, montage, info)
    if len(kept) < 3:
        raise ParameterError(
            f"plot_band_topomaps: {len(kept)} of {len(names)} channels have a position "
            f"{'in the recording' if info is not None else 'in the montage'}; "
            "a scalp map needs at least 3"
        )
    ncols = max(1, min(ncols, len(maps)))
    nrows = int(np.ceil(len(maps) / ncols))
    fig = Figure(figsize=(2.3 * ncols, 2.6 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(maps):]:
        ax.set_axis_off()
    for ax, (band, v) in zip(axes, maps.items()):
        data = v * scale
        if log:
            with np.errstate(divide="ignore", invalid="ignore"):
                data = np.where(data > 0, 10 * np.log10(data), np.nan)
        picks = [i for i in kept if np.isfinite(data[i])]
        ax.set_title(band, fontsize=10)
        if len(picks) < 3:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        # One BLAS thread: the interpolation is tiny, and a busy machine's thread pool makes it seconds slower.
        with threadpool_limits(1):
            image, _ = mne.viz.plot_topomap(data[picks], mne.pick_info(placed, picks), axes=ax, show=False, cmap=cmap,
                                            vlim=(np.min(data[picks]), np.max(data[picks])), contours=4,
                                            sensors=True)
        bar = fig.colorbar(image, ax=ax, orientation="horizontal", fraction=0.06, pad=0.04)
        bar.ax.tick_params(labelsize=7)
        if unit:
            bar.set_label(unit, fontsize=7)
    return fig


def plot_psd(
    freqs: np.ndarray,
    psd: np.ndarray,
    ch_names: Sequence[str] | None = None,
    *,
    bands: Sequence | None = None,
    unit: str = "V²/Hz",
) -> Figure:
    """Power spectral density of every channel (thin lines) and their mean (thick line).

    Parameters
    ----------
    freqs : ndarray, shape (n_freqs,)
        Frequencies in Hz.
    psd : ndarray, shape (n_channels, n_freqs) or (n_freqs,)
        Power spectral density, in ``unit``; drawn on a log scale.
    ch_names : sequence of str | None
        Channel names; with at most 8 channels each line is labelled.
    bands : sequence of Band or of dict with ``name, fmin, fmax`` | None
        Bands shaded and named along the top.
    unit : str
        Unit of ``psd`` for the axis label.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes with one line per channel plus the mean.

    Examples
    --------
    >>> import numpy as np
    >>> freqs = np.linspace(1, 40, 79)
    >>> fig = plot_psd(freqs, np.vstack([1 / freqs, 2 / freqs]), ["Cz", "Pz"])
    >>> len(fig.axes[0].get_lines())
    3
    """
    freqs = np.asarray(freqs, dtype=float)
    psd = np.atleast_2d(np.asarray(psd, dtype=float))
    if psd.shape[-1] != freqs.size:
        raise ParameterError(f"plot_psd: psd has {psd.shape[-1]} frequencies, freqs has {freqs.size}")
    if ch_names is not None and len(ch_names) != psd.shape[0]:
        raise ParameterError(f"plot_psd: {len(ch_names)} channel names for {psd.shape[0]} spectra")
    fig = Figure(figsize=(7, 3.4))
    ax = fig.subplots()
    label_lines = ch_names is not None and psd.shape[0] <= 8
    for i, spectrum in enumerate(psd):
        ax.plot(freqs, np.where(spectrum > 0, spectrum, np.nan), lw=0.9 if label_lines else 0.5,
                alpha=0.9 if label_lines else 0.35, color=None if label_lines else "0.45",
                label=str(ch_names[i]) if label_lines else None)
    ax.plot(freqs, np.where(psd.mean(axis=0) > 0, psd.mean(axis=0), np.nan), color="k", lw=1.8, label="mean")
    ax.set_yscale("log")
    ax.set_xlim(freqs.min(), freqs.max())
    for i, band in enumerate(bands or ()):
        name, fmin, fmax = (band["name"], band["fmin"], band["fmax"]) if isinstance(band, Mapping) else (
            band.name, band.fmin, band.fmax)
        ax.axvspan(fmin, fmax, color="C0" if i % 2 else "C1", alpha=0.08, lw=0)
        ax.text((fmin + fmax) / 2, 1.01, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize=8)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"PSD ({unit})")
    ax.legend(fontsize=7, loc="upper right", ncols=2 if label_lines else 1)
    fig.tight_layout()
    return fig


def plot_cdns(metrics: pd.DataFrame, *, prefix: str = "cdns_", spread: str = "sd") -> Figure:
    """Consonance, dissonance and noise per band (grouped bars, mean over components).

    Parameters
    ----------
    metrics : DataFrame
        Tidy metric rows with ``{prefix}consonance``, ``{prefix}dissonance`` and
        ``{prefix}noise`` (e.g. ``cdns_*`` per channel from
        :func:`harmonix.pipeline.analyze_eeg`, or ``valence_proxy_*`` of the
        harmonic signature).
    prefix : str
        Metric-name prefix of the three parts.
    spread : {'sd', 'iqr', 'none'}
        Error bars across components (channels): standard deviation, or the
        25th-75th percentile range (asymmetric); none with one component.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes with one group of bars per band (consonance, dissonance,
        noise; ``ax.patches``) and error bars across components.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"metric": ["cdns_consonance", "cdns_dissonance", "cdns_noise"],
    ...                      "band": "alpha", "component": "Cz", "value": [0.6, 0.2, 0.3]})
    >>> fig = plot_cdns(rows)
    >>> len(fig.axes[0].patches)  # one bar per part and band
    3
    """
    if spread not in ("sd", "iqr", "none"):
        raise ParameterError(f"plot_cdns: spread={spread!r}; use 'sd', 'iqr' or 'none'")
    parts = {}
    for part in ("consonance", "dissonance", "noise"):
        rows = _metric_rows(metrics, f"{prefix}{part}")
        if not rows.empty:
            parts[part] = rows
    if not parts:
        raise ParameterError(f"plot_cdns: no {prefix}consonance/dissonance/noise rows in the metrics table")
    bands = _band_order(pd.concat([r["band"] for r in parts.values()]))
    width = 0.8 / len(parts)
    x = np.arange(len(bands))
    fig = Figure(figsize=(max(4.0, 1.1 * len(bands) + 2), 3.2))
    ax = fig.subplots()
    for j, (part, rows) in enumerate(parts.items()):
        grouped = rows.groupby("band")["value"]
        mean = grouped.mean().reindex(bands).to_numpy(dtype=float)
        if spread == "none" or grouped.size().max() < 2:
            yerr = None
        elif spread == "sd":
            err = grouped.std(ddof=1).reindex(bands).to_numpy(dtype=float)
            yerr = np.where(np.isfinite(err), err, 0.0)
        elif spread == "iqr":
            low = grouped.quantile(0.25).reindex(bands).to_numpy(dtype=float)
            high = grouped.quantile(0.75).reindex(bands).to_numpy(dtype=float)
            yerr = np.nan_to_num(np.vstack([mean - low, high - mean]))
        ax.bar(x + (j - (len(parts) - 1) / 2) * width, np.nan_to_num(mean), width, yerr=yerr, capsize=2,
               color=_CDNS_COLOURS[part], label=part, error_kw={"lw": 0.8})
    ax.set_xticks(x, bands)
    ax.set_ylabel("score (1)")
    ax.axhline(0, color="k", lw=0.6)
    ax.legend(fontsize=8, ncols=len(parts), loc="upper center", bbox_to_anchor=(0.5, 1.16), frameon=False)
    fig.tight_layout()
    return fig


def plot_locking_matrices(
    plv: np.ndarray,
    bands: Sequence[str],
    ch_names: Sequence[str] | None = None,
    *,
    vmin: float = 0.0,
    vmax: float = 1.0,
    label: str = "PLV",
    ncols: int = 5,
) -> Figure:
    """Phase-locking matrices, one per band, on one colour scale.

    Parameters
    ----------
    plv : ndarray, shape (n_bands, n_nodes, n_nodes)
        Locking values (e.g. ``arrays['plv']`` or ``region_plv_<band>``
        stacked); the diagonal is left blank.
    bands : sequence of str
        Band of each matrix.
    ch_names : sequence of str | None
        Node (channel or region) names for the tick labels; with many nodes
        only every few is labelled.
    vmin, vmax : float
        Colour range.
    label : str
        Colour-bar label.
    ncols : int
        Matrices per row.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One image axes per band titled with the band name, and a colour bar.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_locking_matrices(np.full((2, 3, 3), 0.5), ["alpha", "beta"], ["Cz", "Pz", "Oz"])
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['alpha', 'beta']
    """
    plv = np.asarray(plv, dtype=float)
    if plv.ndim == 2:
        plv = plv[np.newaxis]
    if plv.ndim != 3 or plv.shape[1] != plv.shape[2]:
        raise ParameterError(f"plot_locking_matrices: expected (n_bands, n_nodes, n_nodes), got shape {plv.shape}")
    bands = [str(b) for b in bands]
    if len(bands) != plv.shape[0]:
        raise ParameterError(f"plot_locking_matrices: {len(bands)} band names for {plv.shape[0]} matrices")
    n = plv.shape[1]
    if ch_names is not None and len(ch_names) != n:
        raise ParameterError(f"plot_locking_matrices: {len(ch_names)} names for {n} nodes")
    ncols = max(1, min(ncols, len(bands)))
    nrows = int(np.ceil(len(bands) / ncols))
    fig = Figure(figsize=(2.5 * ncols + 0.8, 2.6 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    image = None
    step = max(1, int(np.ceil(n / 12)))
    for ax, band, matrix in zip(axes.ravel(), bands, plv):
        shown = matrix.copy()
        np.fill_diagonal(shown, np.nan)
        image = ax.imshow(shown, vmin=vmin, vmax=vmax, cmap="magma", interpolation="nearest")
        ax.set_title(band, fontsize=10)
        ticks = np.arange(0, n, step)
        if ch_names is not None:
            labels = [str(ch_names[i]) for i in ticks]
            ax.set_xticks(ticks, labels, rotation=90, fontsize=5)
            ax.set_yticks(ticks, labels, fontsize=5)
        else:
            ax.set_xticks(ticks)
            ax.set_yticks(ticks)
            ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(bands):]:
        ax.set_axis_off()
    fig.tight_layout()
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), fraction=0.02, pad=0.02)
    bar.set_label(label)
    return fig


def _episode_table(episodes) -> pd.DataFrame:
    """Episodes as a table with columns ``onset, duration, peak_time`` (s)."""
    if episodes is None:
        return pd.DataFrame(columns=["onset", "duration", "peak_time"], dtype=float)
    if isinstance(episodes, pd.DataFrame):
        if "metric" in episodes.columns:
            rows = episodes[episodes["metric"].astype(str).str.startswith("energy_episode_")]
            rows = rows[rows["component"].astype(str).str.match(r"^episode\d+$")]
            if rows.empty:
                return _episode_table(None)
            table = rows.assign(field=rows["metric"].str.removeprefix("energy_episode_")).pivot_table(
                index="component", columns="field", values="value", aggfunc="first")
            order = sorted(table.index, key=lambda c: int(str(c).removeprefix("episode")))
            table = table.reindex(order)
        else:
            table = episodes
        missing = [c for c in ("onset", "duration") if c not in table.columns]
        if missing:
            raise ParameterError(f"episodes: missing column(s) {', '.join(missing)}")
        out = pd.DataFrame({"onset": table["onset"].to_numpy(dtype=float),
                            "duration": table["duration"].to_numpy(dtype=float)})
        out["peak_time"] = table["peak_time"].to_numpy(dtype=float) if "peak_time" in table.columns else np.nan
        return out
    rows = []
    for episode in episodes:
        if hasattr(episode, "onset"):
            rows.append((episode.onset, episode.duration, getattr(episode, "peak_time", np.nan)))
        else:
            values = tuple(episode)
            if len(values) < 2:
                raise ParameterError(f"episodes: expected (onset, duration[, peak_time]), got {values!r}")
            rows.append((values[0], values[1], values[2] if len(values) > 2 else np.nan))
    return pd.DataFrame(rows, columns=["onset", "duration", "peak_time"], dtype=float)


def plot_energy_trace(
    times: np.ndarray,
    energy: np.ndarray,
    episodes=None,
    *,
    threshold: float | None = None,
    baseline: float | None = None,
    unit: str = "a.u.",
    smoothed: np.ndarray | None = None,
) -> Figure:
    """Energy parameter over time with the detected annealing episodes shaded.

    Parameters
    ----------
    times : ndarray, shape (n_windows,)
        Window centres in s (``arrays['energy_times']``).
    energy : ndarray, shape (n_windows,)
        Energy parameter (``arrays['energy']``, see
        :func:`harmonix.proxies.energy.harmonic_energy_trace`).
    episodes : DataFrame | sequence | None
        Episodes to shade from onset to onset + duration: a table with
        columns ``onset, duration[, peak_time]``, tidy metric rows holding
        ``energy_episode_onset``/``_duration``/``_peak_time`` (components
        ``episode1``...), a sequence of ``(onset, duration[, peak_time])``, or
        :class:`~harmonix.proxies.energy.Episode` objects.
    threshold, baseline : float | None
        Detection threshold and baseline, drawn as horizontal lines.
    unit : str
        Unit of ``energy``.
    smoothed : ndarray, shape (n_windows,) | None
        The trace the detection thresholds
        (:func:`harmonix.proxies.energy.smoothed_trace`): drawn in black, the
        raw windows in grey, so that the line compared with the threshold is
        the one the episodes come from.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes; each episode is one shaded span (``ax.patches``).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(60.0)
    >>> fig = plot_energy_trace(t, np.exp(-((t - 30) / 4) ** 2), [(24.0, 12.0, 30.0)], threshold=0.5)
    >>> len(fig.axes[0].patches)
    1
    """
    times = np.asarray(times, dtype=float)
    energy = np.asarray(energy, dtype=float)
    if times.shape != energy.shape or times.ndim != 1:
        raise ParameterError(f"plot_energy_trace: times {times.shape} and energy {energy.shape} must be equal 1-D")
    table = _episode_table(episodes)
    fig = Figure(figsize=(7, 2.8))
    ax = fig.subplots()
    if smoothed is not None:
        ax.plot(times, energy, color="0.7", lw=0.8, label="energy parameter (1-s windows)")
        ax.plot(times, np.asarray(smoothed, dtype=float), color="k", lw=1.4, label="smoothed (detection)")
    else:
        ax.plot(times, energy, color="k", lw=1.2, label="energy parameter")
    for i, episode in enumerate(table.itertuples()):
        ax.axvspan(episode.onset, episode.onset + episode.duration, color="#e67e22", alpha=0.25, lw=0,
                   label="episode" if i == 0 else None)
        if np.isfinite(episode.peak_time):
            ax.axvline(episode.peak_time, color="#d35400", lw=0.8, ls="--")
    if baseline is not None and np.isfinite(baseline):
        ax.axhline(baseline, color="0.5", lw=0.8, ls=":", label="baseline")
    if threshold is not None and np.isfinite(threshold):
        ax.axhline(threshold, color="#c0392b", lw=0.8, ls="--", label="threshold")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"energy ({unit})")
    if times.size:
        ax.set_xlim(min(times.min(), table["onset"].min() if len(table) else np.inf),
                    max(times.max(), (table["onset"] + table["duration"]).max() if len(table) else -np.inf))
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def plot_harmonic_power(
    data: pd.DataFrame | Mapping[str, np.ndarray],
    *,
    metric: str = "harmonic_power",
    log: bool = True,
) -> Figure:
    """Mean power (or energy) of each connectome harmonic, one line per band.

    Parameters
    ----------
    data : DataFrame | mapping of str to ndarray
        Tidy metric rows with ``metric`` rows whose components are ``h000``,
        ``h001``... (from :func:`harmonix.pipeline.analyze_eeg`), or the
        arrays of an analysis: ``harmonic_power`` or ``harmonic_energy``
        (n_bands, n_modes: :math:`\\langle|a_k|\\rangle_t` and
        :math:`\\lambda_k^2 \\langle|a_k|^2\\rangle_t`, Atasoy et al. 2017)
        with ``harmonic_bands``.
    metric : {'harmonic_power', 'harmonic_energy'} or str
        What to plot; any metric with ``hNNN`` components works with a table.
    log : bool
        Logarithmic vertical axis (non-positive values are left out).

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes with one line per band.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"metric": "harmonic_power", "band": ["alpha"] * 3 + ["beta"] * 3,
    ...                      "component": ["h000", "h001", "h002"] * 2, "value": [3.0, 2, 1, 2, 1, 0.5]})
    >>> fig = plot_harmonic_power(rows)
    >>> len(fig.axes[0].get_lines())
    2
    """
    if isinstance(data, pd.DataFrame):
        rows = _metric_rows(data, metric)
        rows = rows.assign(k=_harmonic_index(rows["component"])).dropna(subset=["k"])
        if rows.empty:
            raise ParameterError(f"plot_harmonic_power: no {metric!r} rows with components h000, h001, ...")
        spectra = {band: rows[rows["band"] == band].sort_values("k") for band in _band_order(rows["band"])}
        curves = {band: (r["k"].to_numpy(), r["value"].to_numpy(dtype=float)) for band, r in spectra.items()}
    else:
        if metric not in ("harmonic_power", "harmonic_energy"):
            raise ParameterError(f"plot_harmonic_power: metric={metric!r}; from arrays use harmonic_power or harmonic_energy")
        if metric not in data or "harmonic_bands" not in data:
            raise ParameterError(f"plot_harmonic_power: arrays need {metric} and harmonic_bands")
        values = np.asarray(data[metric], dtype=float)
        bands = [str(b) for b in np.asarray(data["harmonic_bands"])]
        curves = {band: (np.arange(values.shape[1]), v) for band, v in zip(bands, values)}
    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    for band, (k, v) in curves.items():
        ax.plot(k, np.where(v > 0, v, np.nan) if log else v, ".-", ms=3, lw=1, label=band)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("harmonic index k")
    ax.set_ylabel(metric.replace("_", " ") + " (a.u.)")
    ax.legend(fontsize=7, ncols=2)
    fig.tight_layout()
    return fig

"""Comparison tables: one row per metric x band x component, tested, corrected and described.

:func:`compare_tables` pairs tidy metric tables of pre and post sessions
and runs the tests of :mod:`harmonix.compare.stats` on every row, with
Benjamini-Hochberg q across rows; :func:`methods_sentence` says in words what
a table's parameters mean (the one source of every report's methods text) and
:func:`significance_warning` whether its rows could reach significance at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from harmonix.compare._checks import _check_alternative, _check_ci, _check_permutations, _seed_sequence
from harmonix.compare.permutation import smallest_p, unreachable_note
from harmonix.compare.stats import fdr_bh, paired_tests, unpaired_tests
from harmonix.errors import ParameterError

__all__ = ["COMPARISON_COLUMNS", "compare_tables", "unmatched_subjects", "methods_sentence", "significance_warning"]

COMPARISON_COLUMNS = (
    "metric",
    "band",
    "component",
    "n",
    "mean_pre",
    "mean_post",
    "difference",
    "effect_size",
    "effect_size_kind",
    "ci_low",
    "ci_high",
    "p",
    "p_wilcoxon",
    "p_ttest",
    "q",
)
"""Leading columns of the table returned by :func:`compare_tables` (``comparison.csv``).

When the metric tables have a ``condition`` column it follows ``component``
(it is part of what identifies a comparison).

Further columns follow: ``unit``, ``n_pre``, ``n_post``, ``hedges_g``,
``design``, ``note``.
"""


_CI_NAMES = {"bca": "BCa", "percentile": "percentile", "basic": "basic"}


def methods_sentence(parameters: Mapping) -> str:
    """The statistics of a comparison table in words, from the parameters that produced it.

    The single source of every methods sentence in reports: ``parameters``
    is ``attrs["parameters"]`` of a :func:`compare_tables` or
    :func:`harmonix.compare.windows.compare_windows` table.

    Examples
    --------
    >>> print(methods_sentence({"design": "paired", "ci_method": "bca", "ci_level": 0.95, "n_bootstrap": 2000,
    ...                         "n_permutations": 10000, "fdr_method": "bh", "alternative": "two-sided"}))
    ... # doctest: +NORMALIZE_WHITESPACE
    difference = mean of the paired differences post - pre; BCa bootstrap 95% CI of the difference (2000
    resamples); effect size Cohen's d_z (mean difference / SD of the differences); p from a two-sided
    sign-flip permutation test (all 2^n sign vectors when 2^n <= 10000, else 10000 random ones); q:
    Benjamini-Hochberg false discovery rate over all tested rows.
    """
    design = str(parameters.get("design", "paired"))
    ci = _CI_NAMES.get(str(parameters.get("ci_method", "bca")), str(parameters.get("ci_method", "bca")))
    level = f"{100 * float(parameters.get('ci_level', 0.95)):g}%"
    n_boot = parameters.get("n_bootstrap")
    n_perm = int(parameters.get("n_permutations", 10000))
    side = str(parameters.get("alternative", "two-sided"))
    fdr = "Benjamini-Yekutieli" if parameters.get("fdr_method") == "by" else "Benjamini-Hochberg"
    resamples = f" ({int(n_boot)} resamples)" if n_boot else ""
    if design == "windows":
        return (f"difference = mean of the post windows - mean of the pre windows of one recording; {ci} bootstrap "
                f"{level} CI of the difference over blocks of consecutive windows{resamples}; effect size Hedges' g "
                "over windows (pooled SD of the windows: the shift relative to window-to-window variability, not a "
                f"between-subject effect); p from a {side} block permutation test (blocks of consecutive windows "
                f"exchanged between pre and post, block size per row in the note; all arrangements when they "
                f"number at most {n_perm}, else {n_perm} random ones); q: {fdr} false discovery rate over the rows "
                "of each subject.")
    if design == "unpaired":
        return (f"difference = mean of the second group - mean of the first; {ci} bootstrap {level} CI of the "
                f"difference{resamples}; effect size Hedges' g (pooled SD, small-sample corrected); p from a {side} "
                f"permutation test of the group labels (all arrangements when they number at most {n_perm}, else "
                f"{n_perm} random ones); q: {fdr} false discovery rate over all tested rows.")
    return (f"difference = mean of the paired differences post - pre; {ci} bootstrap {level} CI of the "
            f"difference{resamples}; effect size Cohen's d_z (mean difference / SD of the differences); p from a "
            f"{side} sign-flip permutation test (all 2^n sign vectors when 2^n <= {n_perm}, else {n_perm} random "
            f"ones); q: {fdr} false discovery rate over all tested rows.")


def significance_warning(comparison: pd.DataFrame, alpha: float = 0.05) -> str:
    """One line when no tested row of ``comparison`` can reach ``q < alpha`` (its ``p_min``); empty otherwise."""
    if "p_min" not in comparison.columns:
        return ""
    p_min = pd.to_numeric(comparison["p_min"], errors="coerce").dropna()
    if p_min.empty or p_min.min() < alpha:
        return ""
    design = str(comparison["design"].iloc[0]) if "design" in comparison.columns and len(comparison) else ""
    n = int(pd.to_numeric(comparison["n"], errors="coerce").max()) if "n" in comparison.columns else 0
    who = {"paired": f"{n} paired subjects", "unpaired": f"{n} recordings in two groups",
           "windows": f"{n} windows"}.get(design, f"n={n}")
    return (f"with {who} the smallest attainable p is {p_min.min():.3g}, so no row can reach q < {alpha:g}: "
            "an empty list of significant rows says nothing about the effects; read the effect sizes and "
            "intervals, and add subjects for a test")


# ---------------------------------------------------------------------------
# tidy tables


def _check_columns(frame: pd.DataFrame, name: str, needed: Sequence[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{name}: expected a pandas DataFrame of tidy metric rows, got {type(frame).__name__}")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name}: missing column(s) {', '.join(missing)} (has {', '.join(map(str, frame.columns))}); "
            "give tidy metric rows with a subject column"
        )


def _key_frame(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for col in by:
        out[col] = out[col].fillna("").astype(str)
    return out


DEFAULT_KEYS = ("metric", "band", "component")
"""Columns that identify one comparison; ``condition`` follows when the tables have it."""


def _default_keys(by: Sequence[str] | None, *frames: pd.DataFrame) -> list[str]:
    """``by``, or :data:`DEFAULT_KEYS` plus ``condition`` when any table has that column."""
    if by is not None:
        return list(by)
    keys = list(DEFAULT_KEYS)
    if any("condition" in getattr(frame, "columns", ()) for frame in frames):  # non-frames: _check_columns says so
        keys.append("condition")  # the same metric in two conditions is two comparisons, not repeats
    return keys


def unmatched_subjects(
    pre: pd.DataFrame,
    post: pd.DataFrame,
    *,
    by: Sequence[str] | None = None,
    subject_col: str = "subject",
) -> pd.DataFrame:
    """Subject x metric rows present in one table but not the other (pre without post and vice versa).

    ``by`` defaults to metric, band, component (and condition when present).

    Returns
    -------
    DataFrame
        Columns ``subject``, *by*..., ``present_in`` (``'pre'`` or ``'post'``),
        sorted; empty when every row has its partner.
    """
    by = _default_keys(by, pre, post)
    for name, frame in (("pre", pre), ("post", post)):
        _check_columns(frame, name, [*by, subject_col])
    keys = [subject_col, *by]
    a = _key_frame(pre, by)[keys].assign(**{subject_col: lambda f: f[subject_col].astype(str)}).drop_duplicates()
    b = _key_frame(post, by)[keys].assign(**{subject_col: lambda f: f[subject_col].astype(str)}).drop_duplicates()
    merged = a.merge(b, on=keys, how="outer", indicator=True)
    merged = merged[merged["_merge"] != "both"].copy()
    merged["present_in"] = merged["_merge"].map({"left_only": "pre", "right_only": "post"}).astype(str)
    merged = merged.drop(columns="_merge").rename(columns={subject_col: "subject"})
    return merged.sort_values(["subject", *by]).reset_index(drop=True)


def compare_tables(
    pre: pd.DataFrame,
    post: pd.DataFrame,
    *,
    design: str = "paired",
    by: Sequence[str] | None = None,
    subject_col: str = "subject",
    value_col: str = "value",
    n_permutations: int = 10000,
    n_bootstrap: int = 2000,
    ci_level: float = 0.95,
    ci_method: str = "bca",
    alternative: str = "two-sided",
    fdr_method: str = "bh",
    seed=0,
) -> pd.DataFrame:
    """Compare tidy metric tables of pre and post sessions, one row per metric x band x component.

    Parameters
    ----------
    pre, post : DataFrame
        Tidy rows (:data:`harmonix.tables.METRIC_COLUMNS`: session, metric,
        band, component, value, unit) with a subject column, one row per
        subject and metric x band x component. For ``design='unpaired'``,
        ``pre`` is the reference (control) group and ``post`` the
        intervention group, and the subject column is not needed.
    design : {'paired', 'unpaired'}
        ``'paired'``: rows are matched by subject; :func:`paired_tests`,
        effect size :math:`d_z`. ``'unpaired'``: each row is one independent
        observation; :func:`unpaired_tests`, effect size Hedges' g.
    by : sequence of str | None
        Columns that identify one comparison (missing values count as "").
        Default: metric, band, component, and ``condition`` when either
        table has that column (a metric in two conditions is two comparisons).
    subject_col, value_col : str
        Names of the subject and value columns.
    n_permutations, n_bootstrap, ci_level, ci_method, alternative
        Passed on to the tests (a bootstrap of 2000 resamples keeps the CI's
        Monte-Carlo error small for reporting while keeping a large table fast).
    fdr_method : {'bh', 'by'}
        Correction across all rows (:func:`fdr_bh`); rows without a p-value
        are excluded from :math:`m`.
    seed : int or SeedSequence
        Every row gets its own independent stream spawned from it.

    Returns
    -------
    DataFrame
        Columns :data:`COMPARISON_COLUMNS` then ``unit``, ``n_pre``,
        ``n_post``, ``hedges_g``, ``design``, ``note``, sorted by ``by``.
        ``difference`` is ``mean_post - mean_pre``; ``effect_size`` is
        :math:`d_z` (paired) or Hedges' g (unpaired), named in
        ``effect_size_kind``; ``hedges_g`` is :math:`g_z` (paired, see
        :func:`hedges_g_paired`) or g; ``ci_low``/``ci_high`` bound the
        difference; ``p`` is the permutation p-value; ``p_wilcoxon`` is the
        signed-rank (paired) or rank-sum = Mann-Whitney (unpaired) p-value;
        ``p_ttest`` the paired or Welch t-test p-value; ``q`` the FDR-adjusted
        ``p``. Rows that cannot be tested (fewer than 2 pairs, zero
        variance, ...) are kept with NaN statistics and a ``note``.
        ``attrs['unpaired_subjects']`` is ``{'pre_only': [...], 'post_only': [...]}``:
        subjects with rows in one table and none in the other (see
        :func:`unmatched_subjects` for the row-level listing);
        ``attrs['parameters']`` holds the arguments.

    Raises
    ------
    ParameterError
        Missing columns, an unknown design, duplicate rows for one subject
        and metric in a paired design.
    """
    if design not in ("paired", "unpaired"):
        raise ParameterError(f"design={design!r}: use 'paired' (same subjects) or 'unpaired' (two groups)")
    _check_alternative(alternative)
    _check_ci(ci_level, ci_method, n_bootstrap)
    _check_permutations(n_permutations)
    if fdr_method not in ("bh", "by"):
        raise ParameterError(f"fdr_method={fdr_method!r}: use 'bh' or 'by'")
    by = _default_keys(by, pre, post)
    if not by:
        raise ParameterError("by: give at least one column that identifies a comparison (e.g. 'metric')")
    needed = [*by, value_col] + ([subject_col] if design == "paired" else [])
    for name, frame in (("pre", pre), ("post", post)):
        _check_columns(frame, name, needed)
    has_unit = "unit" in pre.columns or "unit" in post.columns

    def prepare(frame: pd.DataFrame, side: str) -> pd.DataFrame:
        cols = [*by, value_col] + ([subject_col] if subject_col in frame.columns else [])
        if "unit" in frame.columns:
            cols.append("unit")
        out = _key_frame(frame[cols], by)
        try:
            out[value_col] = pd.to_numeric(out[value_col], errors="raise").astype(float)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"{side}: column {value_col!r} holds non-numeric values ({err})") from err
        if subject_col in out.columns:
            out[subject_col] = out[subject_col].astype(str)
        if design == "paired":
            dup = out.duplicated([subject_col, *by], keep=False)
            if dup.any():
                first = out.loc[dup, [subject_col, *by]].iloc[0].tolist()
                raise ParameterError(
                    f"{side}: {int(dup.sum())} rows repeat a subject x {'/'.join(by)} (e.g. {first}); "
                    "a paired design needs one value per subject and metric — average repeated sessions first"
                )
        return out

    a = prepare(pre, "pre")
    b = prepare(post, "post")

    subjects_pre = set(a[subject_col]) if subject_col in a.columns else set()
    subjects_post = set(b[subject_col]) if subject_col in b.columns else set()
    if design == "paired":
        unpaired_subjects = {
            "pre_only": sorted(subjects_pre - subjects_post),
            "post_only": sorted(subjects_post - subjects_pre),
        }
    else:
        unpaired_subjects = {"pre_only": [], "post_only": []}

    def indices(frame: pd.DataFrame) -> dict[tuple, np.ndarray]:
        if frame.empty:
            return {}
        groups = frame.groupby(by, sort=False).indices
        return {(k if isinstance(k, tuple) else (k,)): v for k, v in groups.items()}

    units: dict[tuple, str] = {}
    if has_unit:
        both_units = pd.concat([f[[*by, "unit"]] for f in (a, b) if "unit" in f.columns], ignore_index=True)
        both_units = both_units.dropna(subset=["unit"])
        for k, v in both_units.groupby(by, sort=False)["unit"]:
            units[k if isinstance(k, tuple) else (k,)] = ";".join(pd.unique(v.astype(str)))

    if design == "paired":
        keep = [subject_col, *by, value_col]
        merged = a[keep].merge(b[keep], on=[subject_col, *by], how="outer", suffixes=("_pre", "_post"), indicator=True)
        m_idx = indices(merged)
        m_vx = merged[f"{value_col}_pre"].to_numpy(dtype=float)
        m_vy = merged[f"{value_col}_post"].to_numpy(dtype=float)
        m_state = merged["_merge"].astype(str).to_numpy()
        keys = sorted(m_idx)
    else:
        a_idx, b_idx = indices(a), indices(b)
        a_v, b_v = a[value_col].to_numpy(dtype=float), b[value_col].to_numpy(dtype=float)
        keys = sorted(set(a_idx) | set(b_idx))
    streams = _seed_sequence(seed).spawn(len(keys))
    kwargs = dict(
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        ci_level=ci_level,
        ci_method=ci_method,
        alternative=alternative,
    )

    rows = []
    for key, stream in zip(keys, streams):
        row = dict(zip(by, key))
        row.update(
            n=0,
            mean_pre=np.nan,
            mean_post=np.nan,
            difference=np.nan,
            effect_size=np.nan,
            effect_size_kind="d_z" if design == "paired" else "hedges_g",
            ci_low=np.nan,
            ci_high=np.nan,
            p=np.nan,
            p_wilcoxon=np.nan,
            p_ttest=np.nan,
            unit=units.get(key, ""),
            n_pre=0,
            n_post=0,
            hedges_g=np.nan,
            design=design,
            p_min=np.nan,
        )
        notes = []
        if design == "paired":
            idx = m_idx[key]
            vx, vy, state = m_vx[idx], m_vy[idx], m_state[idx]
            only_pre = int(np.sum(state == "left_only"))
            only_post = int(np.sum(state == "right_only"))
            paired = state == "both"
            finite = paired & np.isfinite(vx) & np.isfinite(vy)
            if only_pre:
                notes.append(f"{only_pre} subject(s) without post")
            if only_post:
                notes.append(f"{only_post} subject(s) without pre")
            if (paired & ~finite).any():
                notes.append(f"{int(np.sum(paired & ~finite))} pair(s) with NaN/infinite values ignored")
            x, y = vx[finite], vy[finite]
            row.update(n=int(x.size), n_pre=int(x.size), n_post=int(y.size))
            if x.size:
                row.update(mean_pre=float(x.mean()), mean_post=float(y.mean()), difference=float((y - x).mean()))
            if x.size < 2:
                notes.append(f"fewer than 2 complete pairs (n={x.size}); not tested")
            else:
                try:
                    res = paired_tests(x, y, seed=stream, **kwargs)
                except ParameterError as err:
                    notes.append(f"not tested: {err}")
                else:
                    row.update(
                        effect_size=res.cohens_dz,
                        hedges_g=res.hedges_g,
                        ci_low=res.ci_low,
                        ci_high=res.ci_high,
                        p=res.p_permutation,
                        p_wilcoxon=res.p_wilcoxon,
                        p_ttest=res.p_ttest,
                        p_min=smallest_p(res.n_permutations, res.exact, alternative),
                    )
        else:
            vx = a_v[a_idx[key]] if key in a_idx else np.empty(0)
            vy = b_v[b_idx[key]] if key in b_idx else np.empty(0)
            fx, fy = np.isfinite(vx), np.isfinite(vy)
            dropped = int((~fx).sum() + (~fy).sum())
            if dropped:
                notes.append(f"{dropped} NaN/infinite value(s) ignored")
            x, y = vx[fx], vy[fy]
            row.update(n=int(x.size + y.size), n_pre=int(x.size), n_post=int(y.size))
            if x.size:
                row["mean_pre"] = float(x.mean())
            if y.size:
                row["mean_post"] = float(y.mean())
            if x.size and y.size:
                row["difference"] = row["mean_post"] - row["mean_pre"]
            if x.size < 2 or y.size < 2:
                notes.append(f"fewer than 2 values in a group (pre {x.size}, post {y.size}); not tested")
            else:
                try:
                    res = unpaired_tests(x, y, seed=stream, **kwargs)
                except ParameterError as err:
                    notes.append(f"not tested: {err}")
                else:
                    row.update(
                        effect_size=res.hedges_g,
                        hedges_g=res.hedges_g,
                        ci_low=res.ci_low,
                        ci_high=res.ci_high,
                        p=res.p_permutation,
                        p_wilcoxon=res.p_mannwhitney,
                        p_ttest=res.p_welch,
                        p_min=smallest_p(res.n_permutations, res.exact, alternative),
                    )
        notes.append(unreachable_note(row["p_min"]))
        row["note"] = "; ".join(n for n in notes if n)
        rows.append(row)

    extra = ["unit", "n_pre", "n_post", "hedges_g", "design", "p_min", "note"]
    columns = [*by] + [c for c in COMPARISON_COLUMNS[3:] if c not in by] + [c for c in extra if c not in by]
    if not rows:
        out = pd.DataFrame(columns=columns)
    else:
        out = pd.DataFrame(rows)
        out["q"] = fdr_bh(out["p"].to_numpy(dtype=float), method=fdr_method)
        out = out[columns]
    out.attrs["unpaired_subjects"] = unpaired_subjects
    out.attrs["parameters"] = {
        "design": design,
        "by": by,
        "subject_col": subject_col,
        "value_col": value_col,
        "n_permutations": int(n_permutations),
        "n_bootstrap": int(n_bootstrap),
        "ci_level": float(ci_level),
        "ci_method": ci_method,
        "alternative": alternative,
        "fdr_method": fdr_method,
        "seed": seed if isinstance(seed, (int, np.integer)) or seed is None else repr(seed),
        "p": "permutation",
    }
    return out

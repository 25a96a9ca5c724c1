"""The embedded demo: a simulated pre/post study, analysed and compared end to end.

No user data needed. :func:`run_demo`

1. simulates a small cohort (:mod:`harmonix.simulate.cohort`): each subject
   has a pre session, a post session carrying two planted changes (more
   energy in the lowest connectome harmonics, stronger locking between the
   left and right dorsolateral prefrontal cortex) and a test-retest control
   session with no change;
2. analyses every recording with the same workflow as ``harmonix analyze``
   (band power, estimators, the decomposition onto the default connectome's
   harmonics, research proxies), two recordings at a time on a local Dask
   cluster (:mod:`harmonix.study.cluster`);
3. compares pre vs post and, as a null control, pre vs retest, with the same
   workflow as ``harmonix compare`` (paired permutation tests, effect sizes,
   bootstrap CIs, Benjamini-Hochberg FDR across every metric x band x
   component), with an HTML report for each;
4. renders a short preview of a stimulation protocol and checks it;
5. prints the planted changes next to what the comparison found.

Everything lands in one folder, written atomically.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harmonix.progress import progress, stage_line
from harmonix.simulate.cohort import PlantedChange
from harmonix.study.cluster import compute_cluster, map_tasks
from harmonix.tables import atomic_output_dir, write_json

VISITS = {"pre": 0, "post": 1, "retest": 2}
PLANTED = PlantedChange(n_low=9)
"""The planted change raises harmonics 1-9: exactly the non-constant harmonics that the reported metrics
(harmonic_low_energy_fraction, harmonic_low_power_fraction: the share of h000-h009) measure."""
DEMO_PROTOCOL = "gamma-40hz"

# The rows the planted change acts on, with the expected sign of post - pre:
# (metric, band, component, sign, what it shows).
PLANTED_ROWS = (
    ("harmonic_low_energy_fraction", "alpha", "h<10", +1, "more energy in the lowest harmonics"),
    ("harmonic_low_power_fraction", "alpha", "h<10", +1, "more power in the lowest harmonics"),
    ("trauma_proxy_component", "alpha", "low_harmonic_deficit", -1, "low-harmonic deficit (research proxy)"),
    ("region_plv_homotopic", "alpha", PLANTED.regions[0][1:], +1,
     f"locking between {PLANTED.regions[1]} and {PLANTED.regions[0]}"),
    ("region_lag_fit_homotopic", "alpha", PLANTED.regions[0][1:], +1,
     f"lagged link {PLANTED.regions[0]} -> {PLANTED.regions[1]} (cross-talk aware)"),
)

REGION_RANKED = ("region_plv_homotopic", "region_wpli_homotopic", "region_lag_fit_homotopic")
"""Region-level measures whose ranking of the planted pair the demo reports."""


@dataclass(frozen=True)
class DemoSummary:
    """What the demo planted and what the comparisons found."""

    folder: Path
    n_subjects: int
    planted: pd.DataFrame
    n_tests: int
    n_significant: int
    n_significant_null: int
    n_tests_null: int
    stimulus: str
    region_ranks: dict | None = None
    p_min: float = float("nan")


def _session_name(subject: int, visit: str) -> str:
    return f"sub-{subject + 1:02d}_ses-{visit}_task-rest"


def _worker_init() -> None:
    """One BLAS thread per worker process: the demo runs one recording per core."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _simulate_and_analyse(job: tuple[int, str, int, float, Path, Path, bool]) -> tuple[str, str]:
    """Simulate one session, save it as FIF, analyse it (run in a worker process)."""
    import mne

    from harmonix.errors import DataWarning
    from harmonix.harmonics.model import default_harmonic_model
    from harmonix.simulate.cohort import cohort_session
    from harmonix.workflows import run_eeg_file

    mne.set_log_level("ERROR")
    # The simulated rhythms sit under few electrodes, which PREP's deviation test flags as noisy channels:
    # the warnings stay in each analysis' params.json and report, not on the demo's console.
    warnings.simplefilter("ignore", DataWarning)
    subject, visit, seed, duration, recordings, analysis, report = job
    model = default_harmonic_model()
    change = PLANTED if visit == "post" else None
    raw = cohort_session(model, subject=subject, visit=VISITS[visit], change=change, duration=duration, seed=seed)
    name = _session_name(subject, visit)
    path = recordings / f"{name}_raw.fif"
    raw.save(path, verbose=False)
    folder, _ = run_eeg_file(path, analysis, session=name, harmonic_model=model, report=report)
    return name, str(folder)


def _analyse_cohort(jobs: list, workers: int, scheduler: str | None = None) -> dict[str, str]:
    """Simulate and analyse every session: here (one worker), or as tasks on a Dask cluster."""
    done: dict[str, str] = {}
    names = [_session_name(job[0], job[1]) for job in jobs]
    with compute_cluster(workers, scheduler) as client:
        if client is None:
            _worker_init()
            for job in progress(jobs, desc="simulate + analyse", lines=True):
                name, folder = _simulate_and_analyse(job)
                done[name] = folder
            return done
        tasks = map_tasks(client, _simulate_and_analyse, jobs, names=names)
        for _, value, error in progress(tasks, total=len(jobs), desc="simulate + analyse", lines=True):
            if error is not None:
                raise error
            name, folder = value
            done[name] = folder
    return done


def _sessions(folders: dict[str, str], n_subjects: int, labels: tuple[str, str]) -> pd.DataFrame:
    rows = [{"subject": f"{s + 1:02d}", "session": label, "condition": "rest",
             "path": folders[_session_name(s, label)]} for s in range(n_subjects) for label in labels]
    return pd.DataFrame(rows)


def _planted_table(comparison: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for metric, band, component, sign, meaning in PLANTED_ROWS:
        match = comparison[(comparison.metric == metric) & (comparison.band == band)
                           & (comparison.component == component)]
        found = match.iloc[0] if len(match) else None
        rows.append({
            "metric": metric, "band": band, "component": component, "planted": meaning,
            "expected_sign": sign,
            "difference": np.nan if found is None else found["difference"],
            "effect_size": np.nan if found is None else found["effect_size"],
            "q": np.nan if found is None else found["q"],
            "found": bool(found is not None and found["q"] < 0.05 and np.sign(found["difference"]) == sign),
        })
    return pd.DataFrame(rows)


def region_ranks(comparison: pd.DataFrame, pair: str, band: str = "alpha") -> dict[str, int | None]:
    """Rank of ``pair`` among the region rows of each measure, by effect size (largest increase first)."""
    ranks: dict[str, int | None] = {}
    for metric in REGION_RANKED:
        rows = comparison[(comparison.metric == metric) & (comparison.band == band)]
        if "condition" in rows.columns:
            rows = rows[rows["condition"].fillna("") == ""]
        order = list(rows.sort_values("effect_size", ascending=False)["component"])
        ranks[metric] = order.index(pair) + 1 if pair in order else None
    return ranks


def _relocate(staging: Path, final: Path) -> None:
    """Name paths in the written text files by where they will be after the atomic rename, not the staging folder."""
    names = list(dict.fromkeys([str(staging.resolve()), str(staging)]))  # absolute first, then as given
    for path in staging.rglob("*"):
        if path.suffix in (".csv", ".json", ".html") and path.is_file():
            text = original = path.read_text(encoding="utf-8")
            for name in names:
                text = text.replace(name, str(final))
            if text != original:
                path.write_text(text, encoding="utf-8")


def run_demo(
    out: str | Path,
    *,
    seed: int = 0,
    n_subjects: int = 12,
    duration: float = 30.0,
    workers: int | None = None,
    scheduler: str | None = None,
    n_permutations: int = 10000,
) -> DemoSummary:
    """Run the demo into ``out`` (replaced atomically if it is an earlier demo) and print a summary.

    Parameters
    ----------
    out : path
        Output folder.
    seed : int
        Seed of the cohort.
    n_subjects : int
        Simulated subjects (each with pre, post and retest sessions). With 12,
        an exact paired permutation test reaches p = 2 / 4096.
    duration : float
        Seconds per recording (at least 20 s, so that the proxies are computed).
    workers : int | None
        Worker processes of the local Dask cluster that simulates and
        analyses the recordings (default: up to 2, the CPUs available; 1
        runs them in this process).
    scheduler : str | None
        Run them on this existing Dask cluster instead (its workers must
        reach ``out``'s file system).
    n_permutations : int
        Permutations per test (exact enumeration when fewer sign flips exist).
    """
    from harmonix import stimulus
    from harmonix.study.pre_post import run_comparison

    out = Path(out)
    workers = workers or max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2))
    with atomic_output_dir(out) as staging:
        recordings, analysis = staging / "recordings", staging / "analysis"
        recordings.mkdir()
        analysis.mkdir()
        jobs = [(s, visit, seed, duration, recordings, analysis, s == 0 and visit == "pre")
                for s in range(n_subjects) for visit in VISITS]
        stage_line(f"demo: simulating and analysing {len(jobs)} recordings ({n_subjects} subjects x pre, post, "
                   f"retest; {workers} at a time)")
        folders = _analyse_cohort(jobs, workers, scheduler)

        comparisons = {}
        for name, labels in (("pre-vs-post", ("pre", "post")), ("pre-vs-retest", ("pre", "retest"))):
            stage_line(f"demo: comparing {labels[0]} with {labels[1]} ({n_permutations} permutations per row)")
            sessions = _sessions(folders, n_subjects, labels)
            _, comparisons[name] = run_comparison(
                sessions, staging / name, labels=labels, n_permutations=n_permutations, seed=seed,
                notes=[f"simulated cohort ({n_subjects} subjects, {duration:g} s per session): "
                       + (f"post sessions carry the planted changes: harmonics 1-{PLANTED.n_low} amplitude x"
                          f"{PLANTED.low_harmonic_gain:g}, and a link from {PLANTED.regions[0]} to "
                          f"{PLANTED.regions[1]} (alpha, correlation {PLANTED.coupling:g}, "
                          f"{1000 * PLANTED.delay:g} ms delay); harmonics from {PLANTED.n_low + 1} up and every "
                          "other region were not changed, so any change there comes from the estimate (the "
                          "sensor inverse and its regularisation are fitted per recording)"
                          if labels[1] == "post" else "retest sessions carry no change (null control)")],
            )

        stage_line(f"demo: rendering and checking a 30-s preview of the {DEMO_PROTOCOL} protocol")
        audio = staging / "stimulus" / f"{DEMO_PROTOCOL}-preview.wav"
        audio.parent.mkdir()
        stimulus.render_protocol(DEMO_PROTOCOL, audio, seconds=30.0, progress=False)
        check = stimulus.check_rendered(audio)

        comparison, null = comparisons["pre-vs-post"], comparisons["pre-vs-retest"]
        planted = _planted_table(comparison)
        planted.to_csv(staging / "planted_vs_found.csv", index=False)
        summary = DemoSummary(
            folder=out, n_subjects=n_subjects, planted=planted,
            n_tests=int(comparison["p"].notna().sum()), n_significant=int((comparison["q"] < 0.05).sum()),
            n_tests_null=int(null["p"].notna().sum()), n_significant_null=int((null["q"] < 0.05).sum()),
            region_ranks=region_ranks(comparison, PLANTED.regions[0][1:]),
            p_min=float(pd.to_numeric(comparison["p_min"], errors="coerce").min()),
            stimulus=f"{audio.name}: strongest modulation {check.peak_modulation_hz:.1f} Hz (protocol: 40 Hz), "
                     f"{check.loudness_lufs:.1f} LUFS, {'passes' if check.ok else 'FAILS'} its safety checks",
        )
        _relocate(staging, out.resolve())
        write_json(staging / "summary.json", {
            "seed": seed, "n_subjects": n_subjects, "duration_s": duration, "planted_change": PLANTED.__dict__,
            "planted_vs_found": planted.to_dict(orient="records"), "n_tests": summary.n_tests,
            "n_significant": summary.n_significant, "n_tests_null": summary.n_tests_null,
            "n_significant_null": summary.n_significant_null, "stimulus": summary.stimulus,
            "planted_pair_rank": summary.region_ranks,
        })
    _print_summary(summary)
    return summary


def _print_summary(summary: DemoSummary) -> None:
    out = summary.folder
    print(f"harmonix demo: simulated pre/post study of {summary.n_subjects} subjects -> {out}/")
    width = max(len(row.planted) for row in summary.planted.itertuples())
    print(f"  {'planted change (post vs pre)':{width}s}   difference   effect d_z   q        found   metric, band")
    for row in summary.planted.itertuples():
        print(f"  {row.planted:{width}s} {row.difference:+12.3g} {row.effect_size:+12.2f}   {row.q:<8.2g} "
              f"{'yes' if row.found else 'NO':5s}   {row.metric}, {row.band}")
    print(f"  pre vs post:   {summary.n_significant} of {summary.n_tests} tests with q < 0.05 (FDR across all; "
          f"smallest attainable p {summary.p_min:.2g})")
    print(f"  pre vs retest: {summary.n_significant_null} of {summary.n_tests_null} tests with q < 0.05 "
          "(null control: nothing was changed)")
    if summary.region_ranks:
        ranks = ", ".join(f"{metric.replace('region_', '').replace('_homotopic', '')} {rank}"
                          for metric, rank in summary.region_ranks.items())
        print(f"  rank of the planted pair among region pairs by effect size: {ranks}")
    print(f"  stimulus: {summary.stimulus}")
    print(f"  look at: {out}/pre-vs-post/report.html (comparison), {out}/pre-vs-post/comparison.csv,")
    print(f"           {out}/analysis/{_session_name(0, 'pre')}/report.html (one recording), "
          f"{out}/planted_vs_found.csv")

"""BIDS-derivatives output: write, find and read harmonix results by their entities.

A derivatives dataset (``--out DERIV``) holds ``dataset_description.json``
(``DatasetType: derivative``, ``GeneratedBy`` harmonix with its version and
command, ``SourceDatasets``), written with :func:`mne_bids.make_dataset_description`,
and per recording, beside each other in ``sub-X[/ses-Y]/eeg/``::

    sub-X[_ses-Y]_task-Z[_run-N]_desc-harmonix_metrics.tsv   tidy metrics (TSV, n/a for empty)
    sub-X[_ses-Y]_task-Z[_run-N]_desc-harmonix_metrics.json  sidecar: every column and unit, Sources,
                                                             and the analysis parameters as Provenance
    sub-X[_ses-Y]_task-Z[_run-N]_desc-harmonix_arrays.npz    PSD, windows, harmonic coefficients, ...
    sub-X[_ses-Y]_task-Z[_run-N]_desc-harmonix_report.html   with --report

Every path is a :class:`mne_bids.BIDSPath`, so :func:`mne_bids.find_matching_paths`
finds outputs by entity (``descriptions='harmonix', suffixes='metrics'``).
The sidecar is renamed into place last and removed first when an output is
replaced: a recording whose sidecar is present is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from harmonix import __version__
from harmonix.errors import InputFileError, OutputError, ParameterError
from harmonix.study.inputs import Recording, dataset_description, is_bids_root
from harmonix.study.provenance import command_line
from harmonix.tables import (
    METRIC_COLUMNS,
    OUTPUT_MARKER,
    STAGING_SUFFIX,
    SessionOutputs,
    _jsonable,
    atomic_write_text,
    create_staging,
    missing_folders,
    remove_if_unused,
    remove_stale_staging,
    uninterruptible,
)

DESCRIPTION = "harmonix"
"""The ``desc-`` entity of every harmonix derivative file."""

PIPELINE_NAME = "harmonix"
_PARTS = {"metrics": ".tsv", "arrays": ".npz", "report": ".html"}
_STRING_COLUMNS = ("session", "condition", "metric", "band", "component", "unit")

COLUMN_DESCRIPTIONS = {
    "session": {"LongName": "Recording", "Description": "Label of the analysed recording (its BIDS basename "
                "without suffix, or its file name)."},
    "condition": {"LongName": "Condition", "Description": "Condition (from the recording's events) the row "
                  "is computed over; n/a for the whole recording."},
    "metric": {"LongName": "Metric", "Description": "Name of the estimator; definitions, formulas and references "
               "are in the harmonix README and docstrings. Proxies (valence_proxy, trauma_proxy, "
               "energy_parameter_*) are research proxies, not diagnoses."},
    "band": {"LongName": "Frequency band", "Description": "Frequency band the row refers to (limits in Hz in "
             "Provenance.bands); broadband/aperiodic for whole-spectrum measures; n/a when not applicable."},
    "component": {"LongName": "Component", "Description": "What the row describes: an EEG channel, a harmonic "
                  "(h000, h001, ...), a region pair, an episode, or a summary (all, mean)."},
    "value": {"LongName": "Value", "Description": "The estimate; n/a when it could not be computed.",
              "Units": "per row, in the unit column"},
    "unit": {"LongName": "Unit", "Description": "Unit of value (SI; '1' dimensionless)."},
}

UNIT_DESCRIPTIONS = {
    "V^2": "volt squared (band power)",
    "V": "volt",
    "Hz": "hertz",
    "s": "second",
    "1": "dimensionless (ratio, fraction, count or index)",
    "bits": "bits (Shannon entropy, base 2)",
    "a.u.": "arbitrary units (harmonic power and energy: projections of the sensors onto the harmonics)",
    "z": "z-score against surrogates",
    "bpm": "beats per minute",
}


# --------------------------------------------------------------------------- paths


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text) or "rec"


def source_bids_path(recording: Recording):
    """The :class:`mne_bids.BIDSPath` of a recording (for plain files, entities made from its name)."""
    import mne_bids

    if recording.is_bids:
        return mne_bids.get_bids_path_from_fname(recording.path, check=False, verbose=False)
    entities = dict(recording.entities)
    if not entities.get("subject"):
        # A plain file has no subject: its name (letters and digits only, as BIDS labels must be) is one.
        entities = {"subject": _label(recording.name)}
    return mne_bids.BIDSPath(**{k: v for k, v in entities.items() if v}, datatype="eeg", suffix="eeg", check=False)


def derivative_path(recording: Recording, root: str | PathLike, part: str = "metrics"):
    """The BIDSPath of one output file (``part``: metrics, arrays, report; ``.json`` sidecar via metrics)."""
    extension = _PARTS[part]
    return source_bids_path(recording).copy().update(
        root=Path(root), description=DESCRIPTION, suffix=part, extension=extension, datatype="eeg", check=False
    )


def _sibling(metrics_path: Path, part: str, extension: str) -> Path:
    """Another part of the same output: ``..._desc-harmonix_metrics.tsv`` -> ``..._desc-harmonix_<part><ext>``."""
    stem = metrics_path.name[: -len("_metrics.tsv")]
    return metrics_path.with_name(f"{stem}_{part}{extension}")


def sidecar_path(metrics_path: str | PathLike) -> Path:
    """The JSON sidecar of a metrics TSV."""
    return _sibling(Path(metrics_path), "metrics", ".json")


def arrays_path(metrics_path: str | PathLike) -> Path:
    """The arrays file of a metrics TSV."""
    return _sibling(Path(metrics_path), "arrays", ".npz")


def report_path(metrics_path: str | PathLike) -> Path:
    """The HTML report of a metrics TSV."""
    return _sibling(Path(metrics_path), "report", ".html")


def is_derivative_metrics(path: str | PathLike) -> bool:
    """True when ``path`` is a harmonix ``*_desc-harmonix_metrics.tsv`` with its sidecar."""
    path = Path(path)
    return path.is_file() and path.name.endswith(f"_desc-{DESCRIPTION}_metrics.tsv") and sidecar_path(path).is_file()


# --------------------------------------------------------------------------- the dataset


def is_harmonix_derivatives(root: str | PathLike) -> bool:
    """True when ``root`` is a derivatives dataset generated by harmonix."""
    description = dataset_description(root) or {}
    generated = description.get("GeneratedBy") or []
    return str(description.get("DatasetType", "")).lower() == "derivative" and any(
        isinstance(g, dict) and g.get("Name") == PIPELINE_NAME for g in generated
    )


def check_root(root: str | PathLike, recordings: Sequence[Recording] = ()) -> None:
    """Refuse a ``--out`` that is not (or cannot become) a harmonix derivatives dataset.

    Raises
    ------
    OutputError
        ``root`` is a file; a non-empty folder that is not a harmonix
        derivatives dataset; or inside a raw BIDS dataset outside its
        ``derivatives/`` folder (results would be mixed with the raw data).
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise OutputError(f"{root}: exists and is not a folder; choose another output path")
    resolved = root.resolve()
    for source in {r.bids_root.resolve() for r in recordings if r.bids_root is not None}:
        if resolved == source or (source in resolved.parents and (source / "derivatives") not in
                                  [resolved, *resolved.parents]):
            raise OutputError(
                f"{root}: is inside the raw BIDS dataset {source}; write results to "
                f"{source / 'derivatives' / PIPELINE_NAME} or outside the dataset"
            )
    if root.is_dir() and any(p for p in root.iterdir() if not p.name.startswith(".")):
        if is_bids_root(root):
            raise OutputError(f"{root}: is a raw BIDS dataset, not a derivatives output; choose another --out")
        if not is_harmonix_derivatives(root):
            raise OutputError(
                f"{root}: folder exists and is not a harmonix derivatives dataset (no dataset_description.json "
                "generated by harmonix); choose another output path or empty it"
            )


def _source_roots(recordings: Sequence[Recording]) -> list[Path]:
    roots = []
    for recording in recordings:
        root = (recording.bids_root or recording.path.parent).resolve()
        if root not in roots:
            roots.append(root)
    return roots


def write_dataset_description(root: str | PathLike, recordings: Sequence[Recording], *, command: str | None = None) -> Path:
    """Write ``dataset_description.json`` of the derivatives dataset (with mne-bids), atomically.

    ``GeneratedBy`` names harmonix, its version and the command;
    ``SourceDatasets`` (and ``DatasetLinks``, which the sidecars' ``Sources``
    BIDS URIs refer to) the raw datasets or folders the recordings came from.
    """
    import mne_bids

    root = Path(root)
    command = command if command is not None else command_line()
    sources = _source_roots(recordings)
    with uninterruptible():
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".dataset_description.", suffix=STAGING_SUFFIX, dir=root))
        (staging / OUTPUT_MARKER).write_text(f"{os.getpid()}\n")
    try:
        mne_bids.make_dataset_description(
            path=staging, name="harmonix derivatives", dataset_type="derivative",
            generated_by=[{"Name": PIPELINE_NAME, "Version": __version__,
                           "Description": f"EEG band, connectome-harmonic, locking and research-proxy metrics. "
                                          f"Command: {command}"}],
            source_datasets=[{"URL": source.as_uri()} for source in sources],
            overwrite=True, verbose=False,
        )
        text = (staging / "dataset_description.json").read_text(encoding="utf-8")
        description = json.loads(text)
        if all(str(a).startswith("[Unspecified") for a in description.get("Authors", [])):
            description.pop("Authors", None)  # mne-bids' placeholders would read as names
        if sources:
            description["DatasetLinks"] = {_link_name(i): s.as_uri() for i, s in enumerate(sources)}
        atomic_write_text(root / "dataset_description.json", json.dumps(description, indent=4) + "\n")
    finally:
        with uninterruptible():
            shutil.rmtree(staging, ignore_errors=True)
    return root / "dataset_description.json"


def _link_name(index: int) -> str:
    return "raw" if index == 0 else f"raw{index + 1}"


def _sources(recording: Recording, roots: Sequence[Path]) -> list[str]:
    """BIDS URIs of the files an output was derived from."""
    from harmonix.study.inputs import recording_files

    base = (recording.bids_root or recording.path.parent).resolve()
    link = _link_name(roots.index(base)) if base in roots else "raw"
    out = []
    for path in recording_files(recording):
        with contextlib.suppress(ValueError):
            out.append(f"bids:{link}:{path.resolve().relative_to(base).as_posix()}")
    return out


# --------------------------------------------------------------------------- writing


def metrics_sidecar(metrics: pd.DataFrame, params: Mapping, sources: Sequence[str]) -> dict:
    """The JSON sidecar of a metrics TSV: columns, units, metrics, bands, Sources, Provenance."""
    columns = {name: dict(COLUMN_DESCRIPTIONS[name]) for name in METRIC_COLUMNS if name in COLUMN_DESCRIPTIONS}
    units = sorted({str(u) for u in metrics.get("unit", pd.Series(dtype=str)) if str(u)})
    columns["unit"]["Levels"] = {u: UNIT_DESCRIPTIONS.get(u, u) for u in units}
    per_metric = metrics.groupby("metric", sort=True)["unit"].first() if len(metrics) else pd.Series(dtype=str)
    columns["metric"]["Levels"] = {m: f"unit {u}" for m, u in per_metric.items()}
    bands = {b.get("name"): f"{b.get('fmin'):g}-{b.get('fmax'):g} Hz" for b in params.get("bands", [])
             if isinstance(b, Mapping) and b.get("fmin") is not None and b.get("fmax") is not None}
    if bands:
        columns["band"]["Levels"] = bands
    return {**columns, "Sources": list(sources), "Provenance": _jsonable(dict(params))}


def _tsv_text(metrics: pd.DataFrame) -> str:
    """The metrics as BIDS TSV: tab-separated, ``n/a`` for empty or missing cells (deterministic bytes)."""
    frame = metrics.copy()
    for column in _STRING_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].fillna("").astype(str).replace("", "n/a")
    return frame.to_csv(sep="\t", index=False, na_rep="n/a", lineterminator="\n")


def write_recording(
    root: str | PathLike,
    recording: Recording,
    outputs: SessionOutputs,
    *,
    sources: Sequence[str] = (),
) -> Path:
    """Write one recording's outputs into the derivatives dataset; return its metrics TSV path.

    Files are written into a hidden staging folder beside their final place,
    then renamed: the old sidecar is removed first and the new one renamed
    last, so an interrupted write never leaves a complete-looking output.
    Parts this write does not produce (an old report) are removed.
    """
    metrics_path = Path(derivative_path(recording, root).fpath)
    folder = metrics_path.parent
    created = missing_folders(folder)
    staging = create_staging(folder, metrics_path.name, created=created)
    done = False
    try:
        parts = {metrics_path: staging / metrics_path.name}
        parts[metrics_path].write_text(_tsv_text(outputs.metrics), encoding="utf-8")
        if outputs.arrays:
            parts[arrays_path(metrics_path)] = staging / arrays_path(metrics_path).name
            np.savez_compressed(parts[arrays_path(metrics_path)], **outputs.arrays)
        if outputs.report is not None:
            parts[report_path(metrics_path)] = staging / report_path(metrics_path).name
            parts[report_path(metrics_path)].write_text(outputs.report(), encoding="utf-8")
        sidecar = sidecar_path(metrics_path)
        staged_sidecar = staging / sidecar.name
        staged_sidecar.write_text(
            json.dumps(metrics_sidecar(outputs.metrics, outputs.params, sources), indent=2, allow_nan=False) + "\n",
            encoding="utf-8")
        with uninterruptible():
            sidecar.unlink(missing_ok=True)
            for stale in (arrays_path(metrics_path), report_path(metrics_path)):
                if stale not in parts:
                    stale.unlink(missing_ok=True)
            for final, staged in parts.items():
                os.replace(staged, final)
            os.replace(staged_sidecar, sidecar)
            done = True
    except OSError as err:
        raise OutputError(f"{metrics_path}: cannot write output ({err.strerror or err})") from err
    finally:
        with uninterruptible():
            shutil.rmtree(staging, ignore_errors=True)
            if not done:
                remove_if_unused(created)
    return metrics_path


def remove_stale(root: str | PathLike) -> None:
    """Remove staging folders of killed runs anywhere in the dataset (see :func:`harmonix.tables.remove_stale_staging`)."""
    root = Path(root)
    if not root.is_dir():
        return
    remove_stale_staging(root)
    for folder in root.glob("sub-*/**/eeg"):
        remove_stale_staging(folder)


# --------------------------------------------------------------------------- reading


def read_sidecar(metrics_path: str | PathLike) -> dict:
    """The JSON sidecar of a metrics TSV ({} when it is missing or unreadable)."""
    try:
        return json.loads(sidecar_path(metrics_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def read_metrics(metrics_path: str | PathLike) -> pd.DataFrame:
    """Read a metrics TSV back into :data:`~harmonix.tables.METRIC_COLUMNS` (``n/a`` -> empty string / NaN)."""
    path = Path(metrics_path)
    try:
        metrics = pd.read_csv(path, sep="\t", keep_default_na=False, na_values={"value": ["n/a"]},
                              dtype={c: str for c in _STRING_COLUMNS})
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InputFileError(f"{path}: cannot read the metrics table ({err})") from None
    for column in _STRING_COLUMNS:
        if column in metrics.columns:
            metrics[column] = metrics[column].replace("n/a", "")
    if "condition" not in metrics.columns:
        metrics.insert(1, "condition", "")
    return metrics


def read_output(metrics_path: str | PathLike) -> tuple[pd.DataFrame, dict]:
    """The metrics and the analysis parameters (the sidecar's ``Provenance``) of one output."""
    sidecar = read_sidecar(metrics_path)
    if "Provenance" not in sidecar:
        raise InputFileError(f"{metrics_path}: its JSON sidecar is missing or has no Provenance; re-run harmonix analyze")
    return read_metrics(metrics_path), sidecar["Provenance"]


def find_outputs(root: str | PathLike, filters: Mapping[str, Sequence[str]] | None = None) -> list[tuple[Path, dict]]:
    """Every harmonix metrics TSV in a derivatives dataset, with its entities.

    Parameters
    ----------
    root : path-like
        The derivatives dataset.
    filters : mapping | None
        ``{entity: values}`` among subject, session, task, acquisition, run.

    Returns
    -------
    list of (Path, dict)
        Sorted by path; only complete outputs (with their sidecar).
    """
    import mne_bids

    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    keys = {"subject": "subjects", "session": "sessions", "task": "tasks", "acquisition": "acquisitions",
            "run": "runs"}
    unknown = set(filters) - set(keys)
    if unknown:
        raise ParameterError(f"unknown entity filter(s) {', '.join(sorted(unknown))}")
    found = mne_bids.find_matching_paths(root, descriptions=DESCRIPTION, suffixes="metrics", extensions=".tsv",
                                         **{keys[k]: v for k, v in filters.items()})
    out = []
    for bids_path in sorted(found, key=lambda p: str(p.fpath)):
        path = Path(bids_path.fpath)
        if sidecar_path(path).is_file():
            entities = {k: v for k, v in bids_path.entities.items() if v is not None and k in keys}
            out.append((path, entities))
    return out

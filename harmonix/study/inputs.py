"""Which recordings a command works on: files, globs, folders and BIDS roots, with entity filters.

:func:`resolve_inputs` turns what the user typed into a list of
:class:`Recording` (one per recording, in the order given, duplicates
dropped). Mistakes in *what* was given (a path that does not exist, a glob
or filter matching nothing, a BIDS root without EEG) are usage errors raised
here, before any work; problems *inside* a recording (unreadable, too short)
are left to the analysis, so that one bad file costs only itself.

BIDS datasets are searched with :func:`mne_bids.find_matching_paths`; a file
inside a BIDS dataset keeps its entities (subject, session, task,
acquisition, run), which name its outputs and pair sessions in ``compare``.
"""

from __future__ import annotations

import glob
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from harmonix.errors import InputFileError, ParameterError

ENTITIES = ("subject", "session", "task", "acquisition", "run")
"""BIDS entities a study can be filtered on (``--subject``, ``--session``, ...)."""

# Formats BIDS allows for EEG (EDF, BDF, BrainVision, EEGLAB); mne-bids reads FIF too.
BIDS_EEG_EXTENSIONS = (".edf", ".bdf", ".vhdr", ".set", ".fif")
# What a plain folder is searched for: formats that are one recording each. Companion
# data files (.eeg, .vmrk, .fdt) and generic extensions (.txt, .dat, .mat) are left out.
FOLDER_EXTENSIONS = (".edf", ".bdf", ".gdf", ".vhdr", ".set", ".fif", ".fif.gz", ".cnt", ".nxe", ".snirf", ".csv")
DIRECTORY_RECORDINGS = (".mff", ".ds", ".mefd")
# MNE side files that share the .fif extension but hold no recording.
_FIF_SIDE_FILES = re.compile(r"[-_](eve|ave|cov|fwd|inv|trans|ica|proj|sol|src|bem|dip)\.fif(\.gz)?$", re.IGNORECASE)
_GLOB_CHARS = re.compile(r"[*?\[]")
_ENTITY_KEYS = {"sub": "subject", "ses": "session", "task": "task", "acq": "acquisition", "run": "run"}
_BIDS_FILE = re.compile(r"^sub-[A-Za-z0-9]+(_[a-z]+-[A-Za-z0-9]+)*_eeg\.")
_OUTPUT_MARKER = ".harmonix-output"  # as harmonix.tables.OUTPUT_MARKER (not imported: keeps this module light)


@dataclass(frozen=True)
class Recording:
    """One recording of a study.

    Attributes
    ----------
    path : Path
        The file to load (for BIDS, the ``*_eeg.<ext>`` file).
    name : str
        Unique label of the recording in this study (``session`` column and
        folder name of the plain layout): its :attr:`base` name, or, when
        several recordings share that, ``<base>-<tag>`` with a tag made from
        its path (:func:`unique_names`: the same whatever the order given).
    entities : dict
        BIDS entities among :data:`ENTITIES` (from the dataset, or from a
        BIDS-style file name); empty for other names.
    bids_root : Path | None
        Root of the BIDS dataset the file belongs to.
    """

    path: Path
    name: str
    entities: Mapping[str, str] = field(default_factory=dict)
    bids_root: Path | None = None
    base: str = ""
    """The name before collisions were resolved (:func:`base_name`); empty: :attr:`name`."""

    @property
    def is_bids(self) -> bool:
        """True when the recording belongs to a BIDS dataset."""
        return self.bids_root is not None


def dataset_description(folder: str | PathLike) -> dict | None:
    """The ``dataset_description.json`` of a folder, or ``None`` when it has none (or it is unreadable)."""
    path = Path(folder) / "dataset_description.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def is_derivatives_root(folder: str | PathLike) -> bool:
    """True when ``folder`` is a BIDS derivatives dataset (``DatasetType: derivative``)."""
    description = dataset_description(folder)
    return bool(description) and str(description.get("DatasetType", "")).lower() == "derivative"


def is_bids_root(folder: str | PathLike) -> bool:
    """True when ``folder`` is a raw BIDS dataset (has ``dataset_description.json``, not a derivative)."""
    return Path(folder).is_dir() and dataset_description(folder) is not None and not is_derivatives_root(folder)


def entities_from_name(name: str) -> dict[str, str]:
    """BIDS entities (:data:`ENTITIES`) in a file name, e.g. ``sub-01_ses-2_task-rest_eeg.edf``.

    Examples
    --------
    >>> entities_from_name("sub-01_ses-2_task-rest_run-03_eeg.edf")
    {'subject': '01', 'session': '2', 'task': 'rest', 'run': '03'}
    >>> entities_from_name("S001R01.edf")
    {}
    """
    found = dict(re.findall(r"(?:^|_)([a-z]+)-([A-Za-z0-9]+)", Path(name).name))
    if "sub" not in found:
        return {}
    return {_ENTITY_KEYS[key]: value for key, value in found.items() if key in _ENTITY_KEYS}


def _bids_dataset_of(path: Path) -> Path | None:
    """The BIDS root above a ``sub-*_eeg.*`` file, or None."""
    if not _BIDS_FILE.match(path.name):
        return None
    for parent in path.resolve().parents:
        if (parent / "dataset_description.json").is_file():
            return None if is_derivatives_root(parent) else parent
    return None


_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")


def recording_stem(path: str | Path, default: str = "recording") -> str:
    """The file name without its extension, every other dot kept.

    Compressed files lose both suffixes (``raw.fif.gz``); a time of day in
    the name stays (a headset export ``...-21.20.04.csv`` is not cut to
    ``...-21``, so two files of the same hour keep distinct names).

    Examples
    --------
    >>> recording_stem("eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv")
    'eegnb_muse_ssvep_s1_2017-09-14-21.20.04'
    >>> recording_stem("sub-01_raw.fif.gz"), recording_stem("S001R01.edf")
    ('sub-01_raw', 'S001R01')
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix
    if suffix.lower() in _COMPRESSION_SUFFIXES:
        name = name[: -len(suffix)]
        suffix = Path(name).suffix
    stem = name[: -len(suffix)] if suffix else name
    return stem or default


def _stem(path: Path) -> str:
    return recording_stem(path)


def _bids_name(path: Path) -> str:
    """BIDS basename without the ``_eeg`` suffix and extension: ``sub-01_ses-1_task-rest``."""
    stem = _stem(path)
    return stem[: -len("_eeg")] if stem.endswith("_eeg") else stem


def _is_recording_file(path: Path) -> bool:
    name = path.name.lower()
    if name.startswith(".") or _FIF_SIDE_FILES.search(name):
        return False
    return any(name.endswith(ext) for ext in FOLDER_EXTENSIONS)


def _bids_recordings(root: Path) -> list[Path]:
    import mne_bids

    found = mne_bids.find_matching_paths(root, datatypes="eeg", suffixes="eeg", extensions=list(BIDS_EEG_EXTENSIONS))
    # find_matching_paths does not descend into derivatives/ or sourcedata/ (BIDS: not raw data).
    return sorted({Path(p.fpath) for p in found})


def _folder_recordings(folder: Path) -> list[Path]:
    """Recordings below a plain folder (recursively), skipping hidden folders and harmonix outputs."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative):
            continue
        if any((folder.joinpath(*relative[:i]) / _OUTPUT_MARKER).is_file() for i in range(len(relative))):
            continue  # inside a harmonix output folder: results, not recordings
        if path.is_dir() and path.suffix.lower() in DIRECTORY_RECORDINGS:
            found.append(path)
        elif path.is_file() and _is_recording_file(path) and not any(
            p.suffix.lower() in DIRECTORY_RECORDINGS for p in path.parents
        ):
            found.append(path)
    return found


def _expand(spec: str) -> list[Path]:
    """The recordings one command-line item stands for (usage errors raised here)."""
    path = Path(spec)
    if path.exists():
        if path.is_dir() and path.suffix.lower() not in DIRECTORY_RECORDINGS:
            if is_derivatives_root(path):
                raise ParameterError(
                    f"{path}: is a BIDS derivatives dataset (analysis results), not recordings; "
                    "give the raw dataset, or pass the derivatives to harmonix compare"
                )
            if is_bids_root(path):
                found = _bids_recordings(path)
                if not found:
                    raise InputFileError(
                        f"{path}: BIDS dataset without EEG recordings (no sub-*/[ses-*/]eeg/*_eeg"
                        f"{{{','.join(BIDS_EEG_EXTENSIONS)}}} files)"
                    )
                return found
            found = _folder_recordings(path)
            if not found:
                raise InputFileError(
                    f"{path}: folder holds no EEG recordings (looked for {', '.join(FOLDER_EXTENSIONS)} files)"
                )
            return found
        return [path]
    if _GLOB_CHARS.search(spec):
        matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))
        if not matches:
            raise InputFileError(f"{spec}: no file matches this pattern")
        out = []
        for match in matches:
            if match.is_dir() and match.suffix.lower() not in DIRECTORY_RECORDINGS:
                out.extend(_expand(str(match)))
            else:
                out.append(match)
        return out
    hint = "" if path.parent.exists() else " (the folder does not exist either)"
    raise InputFileError(f"{path}: no such file or folder{hint}")


def _same_value(entity: str, wanted: str, value: str | None) -> bool:
    if value is None:
        return False
    if entity == "run" and wanted.isdigit() and value.isdigit():
        return int(wanted) == int(value)  # run-1 and run-01 are the same run
    return wanted == value


def matches_filters(entities: Mapping[str, str], filters: Mapping[str, Sequence[str]]) -> bool:
    """True when, for every filtered entity, ``entities`` has one of the wanted values.

    Examples
    --------
    >>> matches_filters({"subject": "01", "run": "02"}, {"subject": ["01", "03"], "run": ["2"]})
    True
    >>> matches_filters({"subject": "01"}, {"session": ["pre"]})
    False
    """
    return all(any(_same_value(e, str(w), entities.get(e)) for w in wanted) for e, wanted in filters.items() if wanted)


def _describe_filters(filters: Mapping[str, Sequence[str]]) -> str:
    return " ".join(f"--{entity} {','.join(values)}" for entity, values in filters.items() if values)


def base_name(path: str | PathLike) -> str:
    """The name a recording's output gets before collisions are resolved.

    The BIDS basename without the ``_eeg`` suffix for BIDS-style names, else
    the file name without its extension(s).

    Examples
    --------
    >>> base_name("data/sub-01_ses-1_task-rest_eeg.edf"), base_name("a/rec.fif.gz")
    ('sub-01_ses-1_task-rest', 'rec')
    """
    path = Path(path)
    return _bids_name(path) if entities_from_name(path.name) else _stem(path)


def path_tag(path: str | PathLike, length: int = 8) -> str:
    """The first ``length`` hex digits of the SHA-1 of a path's absolute, resolved form (its collision tag)."""
    import hashlib

    return hashlib.sha1(str(Path(path).resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:length]


def unique_names(
    paths: Sequence[str | PathLike],
    bases: Sequence[str] | None = None,
    *,
    taken: Mapping[str, Path | None] | None = None,
) -> list[str]:
    """Output names for inputs: collision-proof, deterministic, independent of the order given.

    An input keeps its base name (:func:`base_name`) when no other input of
    the run shares it (case-insensitively: some file systems ignore case) and
    no existing output holds another input under it. Inputs whose base names
    collide are all named ``<base>-<tag>``, the tag being the first 8 hex
    digits of the SHA-1 of the input's resolved path (:func:`path_tag`),
    lengthened in the rare case a tagged name meets another name. The names
    therefore depend only on the set of inputs and on ``taken``, never on
    their order, and the same input gets the same name on every run.

    Parameters
    ----------
    paths : sequence of path-like
        The inputs, each once.
    bases : sequence of str | None
        Their base names (default :func:`base_name` of each path).
    taken : mapping | None
        Names of existing outputs -> the resolved input each holds (``None``:
        unknown, e.g. its input was moved). An input that already has an
        output keeps that name; a name held by another input that still
        exists is not given to anyone else.

    Examples
    --------
    >>> names = unique_names(["a/rec.bdf", "b/rec.vhdr", "rec-2.edf"])
    >>> names[2], names[0].startswith("rec-"), len(set(names))
    ('rec-2', True, 3)
    >>> unique_names(["b/rec.vhdr", "rec-2.edf", "a/rec.bdf"]) == [names[1], names[2], names[0]]
    True
    """
    keys = [Path(p).resolve() for p in paths]
    bases = [base_name(p) for p in paths] if bases is None else [str(b) for b in bases]
    taken = dict(taken or {})
    names: list[str | None] = [None] * len(keys)
    index = {key: i for i, key in enumerate(keys)}
    # 1. An input that already has an output keeps its name (the shortest, should it have several).
    for name in sorted(taken, key=lambda n: (len(n), n)):
        i = index.get(taken[name])
        if i is not None and names[i] is None:
            names[i] = name
    used = {n.casefold() for n in names if n is not None}
    used |= {n.casefold() for n, owner in taken.items() if owner is not None and owner not in index}
    # 2. The others: the base name when it is theirs alone, else base-tag.
    pending = [i for i in range(len(keys)) if names[i] is None]
    counts: dict[str, int] = {}
    for i in pending:
        counts[bases[i].casefold()] = counts.get(bases[i].casefold(), 0) + 1
    length = {i: 0 if counts[bases[i].casefold()] == 1 and bases[i].casefold() not in used else 8 for i in pending}

    def candidate(i: int) -> str:
        return bases[i] if not length[i] else f"{bases[i]}-{path_tag(keys[i], length[i])}"

    while True:
        proposed = {i: candidate(i) for i in pending}
        seen: dict[str, int] = {name: 1 for name in used}
        for name in proposed.values():
            seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
        clashing = [i for i in pending if seen[proposed[i].casefold()] > 1 and 0 < length[i] < 40]
        if not clashing:
            break
        for i in clashing:
            length[i] = min(40, length[i] * 2)
    for i in pending:
        names[i] = proposed[i]
    return [str(n) for n in names]


def resolve_inputs(
    specs: Sequence[str | PathLike],
    *,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> list[Recording]:
    """Expand command-line inputs into recordings.

    Parameters
    ----------
    specs : sequence of str | path-like
        Files, glob patterns (``'data/*.edf'``, ``'**'`` allowed), folders
        (searched recursively for recordings; hidden folders and harmonix
        outputs skipped) and BIDS roots (searched with mne-bids; derivatives/
        and sourcedata/ left out). A file or folder inside a BIDS dataset keeps
        its entities.
    filters : mapping | None
        ``{entity: [values]}`` among :data:`ENTITIES`; a recording is kept
        when, for every filtered entity, its value is one of those given.

    Returns
    -------
    list of Recording
        In the order given, each recording once.

    Raises
    ------
    InputFileError
        A path that does not exist, a pattern that matches nothing, a folder
        or BIDS dataset without recordings.
    ParameterError
        An unknown filter entity, a filter that matches no recording, a
        derivatives dataset given as recordings.
    """
    filters = {k: [str(v) for v in vs] for k, vs in (filters or {}).items() if vs}
    unknown = set(filters) - set(ENTITIES)
    if unknown:
        raise ParameterError(f"unknown entity filter(s) {', '.join(sorted(unknown))}; use {', '.join(ENTITIES)}")
    if not specs:
        raise ParameterError("give at least one recording, folder, pattern or BIDS root")
    seen: set[Path] = set()
    paths: list[Path] = []
    for spec in specs:
        for path in _expand(str(spec)):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                paths.append(path)
    recordings = []
    for path in paths:
        root = _bids_dataset_of(path)
        entities = entities_from_name(path.name)
        name = _bids_name(path) if entities else _stem(path)
        recordings.append(Recording(path=path, name=name, entities=entities, bids_root=root))
    if filters:
        kept = [r for r in recordings if matches_filters(r.entities, filters)]
        if not kept:
            present = []
            for entity in filters:
                values = sorted({r.entities[entity] for r in recordings if entity in r.entities})
                present.append(f"{entity} {', '.join(values) if values else '(none)'}")
            where = ", ".join(str(s) for s in specs[:3]) + (" ..." if len(specs) > 3 else "")
            raise ParameterError(
                f"no recording in {where} matches {_describe_filters(filters)} (present: {'; '.join(present)})"
            )
        recordings = kept
    names = unique_names([r.path for r in recordings], [r.name for r in recordings])
    return [Recording(r.path, n, r.entities, r.bids_root, base=r.name) for r, n in zip(recordings, names)]


_COMPANION_SUFFIXES = (".vmrk", ".eeg", ".fdt")
_BIDS_SIDECARS = (("eeg", ".json"), ("channels", ".tsv"), ("events", ".tsv"), ("electrodes", ".tsv"),
                  ("coordsystem", ".json"))


def recording_files(recording: Recording) -> list[Path]:
    """Every file whose content the analysis of ``recording`` depends on.

    The recording, the data/marker files it refers to (BrainVision
    ``.vmrk``/``.eeg``, EEGLAB ``.fdt``), and for BIDS the sidecars
    :func:`mne_bids.read_raw_bids` applies (``eeg.json``: line frequency and
    reference; ``channels.tsv``: bad channels; ``events.tsv``: events;
    electrodes and coordinate system), found with BIDS inheritance.
    """
    path = recording.path
    files = [path] + [path.with_suffix(s) for s in _COMPANION_SUFFIXES if s != path.suffix
                      and path.with_suffix(s).is_file()]
    if recording.is_bids:
        import mne_bids

        try:
            bids_path = mne_bids.get_bids_path_from_fname(path, check=False, verbose=False)
        except (ValueError, RuntimeError, OSError):
            return files  # an odd name: reading it will say what is wrong
        for suffix, extension in _BIDS_SIDECARS:
            try:
                sidecar = bids_path.find_matching_sidecar(suffix=suffix, extension=extension, on_error="ignore")
            except (RuntimeError, ValueError, OSError):
                sidecar = None  # several candidates or an odd layout: read_raw_bids will say so when loading
            if sidecar is not None and Path(sidecar) not in files:
                files.append(Path(sidecar))
    return files

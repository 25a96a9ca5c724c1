"""Where a study's outputs go, and which input each output holds.

A :class:`Layout` decides an output's place and reads an existing output's
provenance record: :class:`PlainLayout` (``OUT/<recording>/metrics.csv``,
``params.json``, ``arrays.npz``) or :class:`BidsLayout` (a BIDS-derivatives
dataset, see :mod:`harmonix.study.derivatives`); :func:`choose_layout`
picks one for ``--layout``. ``OUT/index.tsv`` (:func:`read_index`,
:func:`write_index`) records which input each output folder holds, so that a
re-run gives every recording the name it had. The runner that fills a layout
is :func:`harmonix.study.batch.run_batch`.
"""

from __future__ import annotations

import abc
import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from harmonix.errors import OutputError, ParameterError
from harmonix.study.inputs import Recording, is_bids_root, unique_names
from harmonix.study.provenance import RECORD_KEY
from harmonix.tables import (
    OUTPUT_MARKER,
    SessionOutputs,
    _check_replaceable,
    atomic_write_text,
    check_not_input,
    missing_folders,
    remove_if_unused,
    remove_stale_staging,
    uninterruptible,
    write_plain_outputs,
)

if TYPE_CHECKING:
    from harmonix.study.batch import BatchResult

__all__ = [
    "INDEX_FILE", "LAYOUTS", "BidsLayout", "Layout", "PlainLayout", "check_outside_raw_bids", "choose_layout",
    "existing_owners", "input_files", "output_input", "read_index", "write_index",
]


LAYOUTS = ("auto", "plain", "bids")
"""Values of ``--layout``: ``auto`` is ``bids`` when every input belongs to a BIDS dataset."""


class Layout(abc.ABC):
    """Where a batch's outputs go, and how to read an existing output's provenance."""

    root: Path

    def prepare(self) -> None:
        """Check the output root and remove staging folders of killed runs (writes nothing)."""

    def remove_leftovers(self) -> None:
        """Remove the staging folders of killed processes (a worker killed mid-write, ``kill -9``)."""
        remove_stale_staging(self.root)

    def assign(self, recordings: Sequence[Recording]) -> list[Recording]:
        """The recordings with the names their outputs get in this layout (default: unchanged)."""
        return list(recordings)

    def check_inputs(self, recordings: Sequence[Recording], protected: Sequence[Path] = ()) -> None:
        """Refuse, before any work, outputs that would replace or sit inside an input (or a ``protected`` path)."""
        inputs = [f for r in recordings for f in input_files(r)] + [Path(p) for p in protected]
        check_not_input(self.root, inputs, replaces=False, what="--out")
        for recording in recordings:
            check_not_input(self.location(recording), inputs)

    def finish(self, result: "BatchResult") -> None:
        """Record what the batch wrote (called at its end, also when it was interrupted)."""

    @abc.abstractmethod
    def location(self, recording: Recording) -> Path:
        """The output of ``recording``: a folder (plain) or a metrics TSV (BIDS)."""

    @abc.abstractmethod
    def metrics_file(self, recording: Recording) -> Path:
        """The metrics table inside :meth:`location`."""

    @abc.abstractmethod
    def existing_record(self, recording: Recording) -> tuple[bool, dict | None]:
        """``(exists, provenance record or None)`` of the current output of ``recording``.

        Raises :class:`~harmonix.errors.OutputError` when the place is taken
        by something harmonix did not write.
        """

    @abc.abstractmethod
    def write(self, recording: Recording, outputs: SessionOutputs) -> Path:
        """Write one recording's outputs atomically; return :meth:`location`."""


class PlainLayout(Layout):
    """``OUT/<recording>/`` with ``metrics.csv``, ``params.json``, ``arrays.npz`` (and ``report.html``)."""

    def __init__(self, root: str | PathLike) -> None:
        self.root = Path(root)

    def prepare(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise OutputError(f"{self.root}: exists and is not a folder; choose another output path")
        self.remove_leftovers()

    def assign(self, recordings: Sequence[Recording]) -> list[Recording]:
        """Names from :func:`~harmonix.study.inputs.unique_names`, keeping those existing outputs give inputs.

        An output folder in ``root`` records its input's path (``params.json``:
        ``input.absolute``); an input that has one keeps its name, and a name
        held by another input that still exists is never given to this one.
        """
        bases = [r.base or r.name for r in recordings]
        taken = existing_owners(self.root, bases)
        names = unique_names([r.path for r in recordings], bases, taken=taken)
        return [dataclasses.replace(r, name=n, base=b) for r, n, b in zip(recordings, names, bases)]

    def location(self, recording: Recording) -> Path:
        return self.root / recording.name

    def finish(self, result: "BatchResult") -> None:
        """Keep ``root/index.tsv`` (output name -> absolute input path) in step with the outputs in ``root``."""
        write_index(self.root, {o.recording.name: o.recording.path for o in result.ok})

    def metrics_file(self, recording: Recording) -> Path:
        return self.location(recording) / "metrics.csv"

    def existing_record(self, recording: Recording) -> tuple[bool, dict | None]:
        folder = self.location(recording)
        _check_replaceable(folder)  # a file, or a foreign folder: refused here, before any work
        if not folder.is_dir() or not any(folder.iterdir()):
            return False, None
        if not (folder / OUTPUT_MARKER).is_file():
            return False, None
        try:
            params = json.loads((folder / "params.json").read_text())
        except (OSError, ValueError):
            return True, None
        # A damaged params.json (not an object) proves nothing about the output: it is then stale.
        return True, params.get(RECORD_KEY) if isinstance(params, dict) else None

    def write(self, recording: Recording, outputs: SessionOutputs) -> Path:
        return write_plain_outputs(self.location(recording), outputs)


class BidsLayout(Layout):
    """A BIDS-derivatives dataset (:mod:`harmonix.study.derivatives`)."""

    def __init__(self, root: str | PathLike, recordings: Sequence[Recording], *, command: str | None = None) -> None:
        from harmonix.study import derivatives

        self.root = Path(root)
        self.recordings = list(recordings)
        self.command = command
        self._described = False
        self._paths = {}
        taken: dict[Path, Recording] = {}
        roots = derivatives._source_roots(self.recordings)
        self._roots = roots
        for recording in self.recordings:
            try:
                path = Path(derivatives.derivative_path(recording, self.root).fpath)
            except (ValueError, RuntimeError) as err:  # mne-bids refuses the entities
                raise ParameterError(f"{recording.path}: cannot name its BIDS-derivative output ({err}); "
                                     "use --layout plain") from None
            if path in taken:
                raise ParameterError(
                    f"{taken[path].path} and {recording.path} would both be written to {path}: give them "
                    "different BIDS entities (or use --layout plain)"
                )
            taken[path] = recording
            self._paths[recording.path] = path

    def prepare(self) -> None:
        from harmonix.study import derivatives

        derivatives.check_root(self.root, self.recordings)
        self.remove_leftovers()

    def remove_leftovers(self) -> None:
        from harmonix.study import derivatives

        derivatives.remove_stale(self.root)

    def location(self, recording: Recording) -> Path:
        return self._paths[recording.path]

    def metrics_file(self, recording: Recording) -> Path:
        return self.location(recording)

    def existing_record(self, recording: Recording) -> tuple[bool, dict | None]:
        from harmonix.study import derivatives

        path = self.location(recording)
        if not derivatives.sidecar_path(path).is_file():
            return False, None  # absent, or a write that was interrupted before its sidecar: redo it
        # A damaged sidecar (not an object) proves nothing about the output: it is then stale.
        sidecar = derivatives.read_sidecar(path)
        provenance = sidecar.get("Provenance") if isinstance(sidecar, dict) else None
        return True, provenance.get(RECORD_KEY) if isinstance(provenance, dict) else None

    def write(self, recording: Recording, outputs: SessionOutputs) -> Path:
        from harmonix.study import derivatives

        described_here = None
        if not self._described:
            # Described once per run, just before its first output: a run that writes nothing leaves nothing.
            description = self.root / "dataset_description.json"
            fresh = not description.exists()
            created = missing_folders(self.root)
            derivatives.write_dataset_description(self.root, self.recordings, command=self.command)
            self._described = True
            described_here = (description, created) if fresh else None
        try:
            return derivatives.write_recording(self.root, recording, outputs,
                                               sources=derivatives._sources(recording, self._roots))
        except BaseException:
            if described_here is not None:  # the first output failed: leave no dataset without outputs
                with uninterruptible():
                    described_here[0].unlink(missing_ok=True)
                    remove_if_unused(described_here[1])
                self._described = False
            raise


def choose_layout(
    recordings: Sequence[Recording],
    out: str | PathLike,
    layout: str = "auto",
    *,
    command: str | None = None,
) -> Layout:
    """The output layout of a batch: ``'bids'`` (derivatives), ``'plain'``, or ``'auto'``.

    ``'auto'`` writes a derivatives dataset when every recording belongs to
    a BIDS dataset, the plain per-file layout otherwise.
    """
    if layout not in LAYOUTS:
        raise ParameterError(f"--layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = "bids" if recordings and all(r.is_bids for r in recordings) else "plain"
    if layout == "bids":
        return BidsLayout(out, recordings, command=command)
    check_outside_raw_bids(out, recordings)
    return PlainLayout(out)


def check_outside_raw_bids(out: str | PathLike, recordings: Sequence[Recording]) -> None:
    """Refuse an output inside a raw BIDS dataset of the inputs (outside its ``derivatives/``)."""
    resolved = Path(out).resolve()
    roots = {r.bids_root.resolve() for r in recordings if r.bids_root is not None}
    roots |= {p for r in recordings for p in Path(r.path).resolve().parents if is_bids_root(p)}
    for source in roots:
        if resolved == source or (source in resolved.parents and (source / "derivatives") not in
                                  [resolved, *resolved.parents]):
            raise OutputError(f"{out}: is inside the raw BIDS dataset {source}; write results to "
                              f"{source / 'derivatives'}/... or outside the dataset")


INDEX_FILE = "index.tsv"
"""Table of a plain output root: which input each output folder holds."""

INDEX_COLUMNS = ("name", "input")
"""Columns of :data:`INDEX_FILE`: the output folder's name and the absolute path of its input."""


def _own_index(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.readline().rstrip("\n") == "\t".join(INDEX_COLUMNS)
    except (OSError, UnicodeDecodeError):
        return False


def read_index(root: str | PathLike) -> dict[str, str]:
    """``{output name: absolute input path}`` from ``root/index.tsv`` ({} when absent or not harmonix's)."""
    path = Path(root) / INDEX_FILE
    if not path.is_file() or not _own_index(path):
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        name, _, source = line.partition("\t")
        if name and source:
            rows[name] = source
    return rows


def output_input(folder: str | PathLike) -> Path | None:
    """The input a harmonix output folder was made from (resolved), or None when unknown or gone."""
    try:
        params = json.loads((Path(folder) / "params.json").read_text())
        source = params.get("input") or {}
        path = source.get("absolute") or source.get("path")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(path, str) or not path:
        return None
    path = Path(path).resolve()
    return path if path.exists() else None


def existing_owners(root: str | PathLike, bases: Iterable[str]) -> dict[str, Path | None]:
    """Harmonix output folders in ``root`` named like ``bases`` (``base`` or ``base-<tag>``) -> their input.

    The input is :func:`output_input` (None when unknown or gone); folders
    harmonix did not write are left out (they are refused when an output
    would take their place).
    """
    root = Path(root)
    bases = {b.casefold() for b in bases}
    owners: dict[str, Path | None] = {}
    if not root.is_dir():
        return owners
    for folder in root.iterdir():
        name = folder.name.casefold()
        stem, _, tag = name.rpartition("-")
        if (name in bases or (stem in bases and tag.isalnum())) and (folder / OUTPUT_MARKER).is_file():
            owners[folder.name] = output_input(folder)
    return owners


def write_index(root: str | PathLike, written: Mapping[str, str | PathLike]) -> None:
    """Add ``{output name: input path}`` to ``root/index.tsv``, keeping rows whose output folder still exists.

    The index is the record of which output holds which input when file
    names collide (``a/rec.bdf`` and ``b/rec.vhdr`` are written to
    ``rec-<tag>`` folders). A file of that name that harmonix did not write
    is left alone.
    """
    root = Path(root)
    index = root / INDEX_FILE
    rows = {name: source for name, source in read_index(root).items() if (root / name / OUTPUT_MARKER).is_file()}
    rows.update({name: str(Path(source).resolve()) for name, source in written.items()})
    if not rows:
        return
    text = "\t".join(INDEX_COLUMNS) + "\n" + "".join(f"{n}\t{rows[n]}\n" for n in sorted(rows))
    try:
        if index.is_file() and index.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    if index.exists() and not _own_index(index):
        return
    atomic_write_text(index, text)


def input_files(recording: Recording) -> list[Path]:
    """The recording and its companion files (without BIDS sidecars: those are read, never near an output)."""
    path = Path(recording.path)
    from harmonix.study.inputs import _COMPANION_SUFFIXES

    return [path] + [path.with_suffix(s) for s in _COMPANION_SUFFIXES if s != path.suffix]

"""Tidy result tables, JSON sidecars, and atomic output folders.

Every analysis writes one row per session x metric x band x component
(channel, harmonic, pair...) with the columns :data:`METRIC_COLUMNS`, and a
``params.json`` sidecar with the parameters, library versions and the input
file's SHA-256, so that a result can be reproduced. Outputs are written into a
hidden staging folder that is renamed into place only when complete: an
interrupted or failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harmonix import __version__
from harmonix.errors import InputFileError, OutputError

METRIC_COLUMNS = ("session", "condition", "metric", "band", "component", "value", "unit")
"""Columns of every metrics table, in order (``condition`` is empty for whole-recording metrics)."""

_VERSIONED_PACKAGES = ("mne", "numpy", "scipy", "specparam", "librosa", "soundfile", "pandas")


@dataclass
class MetricRows:
    """Accumulates tidy metric rows for one session.

    Examples
    --------
    >>> rows = MetricRows("rec01")
    >>> rows.add_matrix("band_power", "V^2", [[1.0, 2.0]], components=["Cz"], bands=["alpha", "beta"])
    >>> rows.to_frame()[["metric", "band", "component", "value"]].values.tolist()
    [['band_power', 'alpha', 'Cz', 1.0], ['band_power', 'beta', 'Cz', 2.0]]
    """

    session: str
    _rows: list[tuple] = field(default_factory=list)

    def add(
        self, metric: str, value: float, unit: str, *, band: str = "", component: str = "", condition: str = ""
    ) -> None:
        """Add one scalar row (``condition`` empty: the whole recording)."""
        self._rows.append((self.session, condition, metric, band, component, float(value), unit))

    def add_matrix(
        self,
        metric: str,
        unit: str,
        values: Sequence[Sequence[float]] | np.ndarray,
        *,
        components: Sequence[str],
        bands: Sequence[str],
        condition: str = "",
    ) -> None:
        """Add a ``(n_components, n_bands)`` matrix as one row per cell."""
        values = np.asarray(values, dtype=float)
        if values.shape != (len(components), len(bands)):
            raise ValueError(f"{metric}: shape {values.shape} != ({len(components)}, {len(bands)})")
        for i, component in enumerate(components):
            for j, band in enumerate(bands):
                self.add(metric, values[i, j], unit, band=band, component=component, condition=condition)

    def to_frame(self) -> pd.DataFrame:
        """Return the rows as a DataFrame with :data:`METRIC_COLUMNS`."""
        return pd.DataFrame(self._rows, columns=list(METRIC_COLUMNS))


def file_sha256(path: str | os.PathLike, *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks (inputs are never modified)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(chunk_bytes), b""):
                digest.update(chunk)
    except OSError as err:
        raise InputFileError(f"{path}: cannot read file to hash it ({err.strerror})") from err
    return digest.hexdigest()


def input_fingerprint(paths: Iterable[str | os.PathLike]) -> dict[str, str]:
    """``{path: sha256}`` for a recording and its companion files."""
    return {str(p): file_sha256(p) for p in paths if Path(p).is_file()}


def software_versions() -> dict[str, str]:
    """Versions of harmonix, Python and the numerical libraries it relies on."""
    versions = {"harmonix": __version__, "python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return _jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable({k: getattr(value, k) for k in value.__dataclass_fields__})
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike, payload: dict) -> None:
    """Write ``payload`` as indented JSON (NumPy values and dataclasses converted)."""
    text = json.dumps(_jsonable(payload), indent=2, sort_keys=False, allow_nan=False)
    try:
        Path(path).write_text(text + "\n")
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror})") from err


OUTPUT_MARKER = ".harmonix-output"
"""File that marks a folder as written by harmonix (and so safe to replace).

While the folder is being staged it holds the writing process' id, so that a
staging folder left by a killed run can be told from one still being written
(:func:`remove_stale_staging`).
"""

STAGING_SUFFIX = ".partial"
"""Suffix of the hidden staging folders outputs are written into before the rename."""


_CRITICAL = 0
_PENDING_INTERRUPT = False


def interrupt_handler(signum, frame) -> None:
    """Signal handler (SIGINT, SIGTERM) that raises :class:`KeyboardInterrupt`, unless a rename is under way.

    Inside :func:`uninterruptible` the interruption is held back and raised
    when the section ends, so that a staging folder is never left half
    created, half renamed or half removed.
    """
    global _PENDING_INTERRUPT
    if _CRITICAL:
        _PENDING_INTERRUPT = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def uninterruptible() -> Iterator[None]:
    """Hold back an interruption (with :func:`interrupt_handler` installed) until the block ends.

    Examples
    --------
    >>> with uninterruptible():
    ...     pass  # create or rename a staging folder here
    """
    global _CRITICAL, _PENDING_INTERRUPT
    _CRITICAL += 1
    try:
        yield
    finally:
        _CRITICAL -= 1
        if not _CRITICAL and _PENDING_INTERRUPT:
            _PENDING_INTERRUPT = False
            raise KeyboardInterrupt


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_not_input(
    output: str | os.PathLike,
    inputs: Iterable[str | os.PathLike],
    *,
    replaces: bool = True,
    what: str = "",
) -> None:
    """Refuse an output path that would replace, or write into, one of the ``inputs``.

    Refused: ``output`` is an input; an input lies inside ``output`` (it
    would be deleted when ``output`` is replaced; not checked with
    ``replaces=False``, for a folder that outputs are only added to);
    ``output`` lies inside an input folder (an analysis folder, a directory
    recording). ``what`` names the option in the message (e.g. ``--out``).

    Raises
    ------
    OutputError
        Naming the output and the input.

    Examples
    --------
    >>> check_not_input("results/rec", ["data/rec.edf"])
    >>> check_not_input("data/rec.edf", ["data/rec.edf"])
    Traceback (most recent call last):
    ...
    harmonix.errors.OutputError: data/rec.edf: is an input of this command (data/rec.edf); choose another output path
    """
    label = f"{what} {output}" if what else str(output)
    final = Path(os.path.abspath(output))
    resolved = final.resolve()
    for given in inputs:
        source = Path(os.path.abspath(given))
        for out, src in ((final, source), (resolved, source.resolve())):
            if out == src:
                raise OutputError(f"{label}: is an input of this command ({given}); choose another output path")
            if replaces and out in src.parents:
                raise OutputError(f"{label}: holds the input {given}, which writing this output would replace; "
                                  "choose another output path")
            if src in out.parents:  # inside an input folder (or under a file, which no output can be)
                raise OutputError(f"{label}: is inside the input {given}; write results outside the inputs")


def missing_folders(path: str | os.PathLike) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, deepest first."""
    path = Path(os.path.abspath(path))
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    return missing


def remove_if_unused(folders: Iterable[Path]) -> None:
    """Remove folders this run created that hold nothing (or only :data:`OUTPUT_MARKER`), deepest first."""
    for folder in folders:
        with contextlib.suppress(OSError):
            if not folder.is_dir():
                continue
            content = list(folder.iterdir())
            if all(p.name == OUTPUT_MARKER and p.is_file() for p in content):
                for marker in content:
                    marker.unlink()
                folder.rmdir()


def _check_replaceable(final: Path) -> None:
    if final.exists() and not final.is_dir():
        raise OutputError(f"{final}: exists and is not a folder; choose another output path")
    if final.is_dir() and any(final.iterdir()) and not (final / OUTPUT_MARKER).is_file():
        raise OutputError(
            f"{final}: folder exists and was not written by harmonix; choose another output path or empty it"
        )
    cwd = Path.cwd().resolve()
    if final.resolve() == cwd or final.resolve() in cwd.parents:
        raise OutputError(f"{final}: refusing to replace the current folder or one of its parents")


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def create_staging(
    folder: Path,
    name: str,
    *,
    created: Sequence[Path] = (),
    target: Path | None = None,
) -> Path:
    """Create the hidden staging folder ``folder/.<name>.<random>.partial`` (and ``folder`` if needed).

    It holds :data:`OUTPUT_MARKER` with this process' id, so that
    :func:`remove_stale_staging` can tell a killed run's leftovers from a
    running one's. Created with interruptions held back, so a signal never
    leaves a staging folder without its marker.

    Raises
    ------
    OutputError
        Naming ``target`` (default ``folder``); what was made is removed
        again, with the ``created`` folders (see :func:`missing_folders`) left empty.
    """
    staging = None
    try:
        with uninterruptible():
            folder.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=STAGING_SUFFIX, dir=folder))
            # mkdtemp makes the folder private (0700); the result should have the permissions of a plain mkdir.
            staging.chmod(0o777 & ~_current_umask())
            (staging / OUTPUT_MARKER).write_text(f"{os.getpid()} {socket.gethostname()}\n")
    except OSError as err:
        with uninterruptible():
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            remove_if_unused(created)
        raise OutputError(f"{target or folder}: cannot create the output folder ({err.strerror})") from err
    return staging


@contextlib.contextmanager
def atomic_output_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a staging folder that replaces ``final`` only if the block succeeds.

    The staging folder is a hidden sibling of ``final`` (same file system, so
    the renames are atomic). On any exception it is removed and ``final`` is
    left as it was. An existing ``final`` is replaced only if it is empty or
    was itself written by harmonix (it holds :data:`OUTPUT_MARKER`): user
    files are never deleted. File-system failures become :class:`OutputError`.
    """
    final = Path(final)
    _check_replaceable(final)
    created = missing_folders(final.parent)
    staging = create_staging(final.parent, final.name, created=created, target=final)
    try:
        yield staging
        with uninterruptible():
            backup = None
            if final.exists():
                backup = final.with_name(f".{final.name}.old-{staging.name}")
                os.replace(final, backup)
            try:
                os.replace(staging, final)
            except OSError:
                if backup is not None:
                    os.replace(backup, final)  # the previous output stays as it was
                raise
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
    except OSError as err:
        with uninterruptible():
            shutil.rmtree(staging, ignore_errors=True)
            remove_if_unused(created)
        raise OutputError(f"{final}: cannot write output ({err.strerror or err})") from err
    except BaseException:
        with uninterruptible():
            shutil.rmtree(staging, ignore_errors=True)
            remove_if_unused(created)
        raise


def write_session_outputs(
    folder: str | os.PathLike,
    metrics: pd.DataFrame,
    params: dict,
    *,
    arrays: dict[str, np.ndarray] | None = None,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Atomically write ``metrics.csv``, ``params.json`` (and ``arrays.npz``) into ``folder``.

    ``extra(staging)`` may write more files (e.g. a report) into the staging
    folder; if it fails, nothing is kept.
    """
    with atomic_output_dir(folder) as staging:
        metrics.to_csv(staging / "metrics.csv", index=False)
        write_json(staging / "params.json", params)
        if arrays:
            np.savez_compressed(staging / "arrays.npz", **arrays)
        if extra is not None:
            extra(staging)
    return Path(folder)


@dataclass(frozen=True)
class SessionOutputs:
    """Everything one analysed recording writes, handed to a layout's writer.

    Attributes
    ----------
    metrics : DataFrame
        The tidy metric rows (:data:`METRIC_COLUMNS`).
    params : dict
        The ``params.json`` content (parameters, versions, provenance).
    arrays : dict | None
        Arrays for ``arrays.npz``.
    report : callable | None
        Returns the HTML report's text; called only when the report is written.
    """

    metrics: pd.DataFrame
    params: dict
    arrays: dict[str, np.ndarray] | None = None
    report: Callable[[], str] | None = None


def write_plain_outputs(folder: str | os.PathLike, outputs: SessionOutputs) -> Path:
    """Write ``outputs`` as one folder (``metrics.csv``, ``params.json``, ``arrays.npz``, ``report.html``)."""
    extra = None
    if outputs.report is not None:
        def extra(staging: Path) -> None:
            (staging / "report.html").write_text(outputs.report(), encoding="utf-8")

    return write_session_outputs(folder, outputs.metrics, outputs.params, arrays=outputs.arrays, extra=extra)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file under a temporary name beside it, then rename it into place."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with uninterruptible():  # a short write: a temporary file is never left behind
            try:
                handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(text)
                os.chmod(temporary, 0o666 & ~_current_umask())
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError, UnboundLocalError):
                    os.unlink(temporary)
                raise
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror or err})") from err


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def remove_stale_staging(folder: str | os.PathLike) -> list[Path]:
    """Remove staging folders a killed harmonix run left in ``folder``; return them.

    Only hidden ``.*.partial`` folders holding :data:`OUTPUT_MARKER` whose
    writing process no longer exists are removed (an interrupted run cleans
    up after itself; a ``kill -9`` cannot). A folder staged on another host (a
    cluster worker on a shared file system) is left alone: whether its process
    lives cannot be told from here. Nothing else is touched.
    """
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for path in folder.glob(f".*{STAGING_SUFFIX}"):
        marker = path / OUTPUT_MARKER
        if not (path.is_dir() and marker.is_file()):
            continue
        try:
            pid_text, _, host = marker.read_text().strip().partition(" ")
            pid = int(pid_text or 0)
        except (OSError, ValueError):
            continue
        if host and host != socket.gethostname():
            continue
        if pid and (pid == os.getpid() or _process_alive(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


FAILURES_FILE = "failures.tsv"
"""Name of the table of recordings a batch could not analyse."""

FAILURE_COLUMNS = ("path", "error_kind", "message")
"""Columns of :data:`FAILURES_FILE`."""


def write_failures(folder: str | os.PathLike, rows: Sequence[tuple[str, str, str]]) -> Path:
    """Write ``failures.tsv`` (path, error kind, one-line message) into ``folder``, atomically.

    An existing ``failures.tsv`` that harmonix did not write (another header)
    is left alone and :class:`OutputError` raised.
    """
    path = Path(folder) / FAILURES_FILE
    _check_own_failures(path)
    clean = [[" ".join(str(v).split()) for v in row] for row in rows]  # tabs/newlines in messages would break rows
    text = "\t".join(FAILURE_COLUMNS) + "\n" + "".join("\t".join(row) + "\n" for row in clean)
    atomic_write_text(path, text)
    return path


def _check_own_failures(path: Path) -> bool:
    """True when ``path`` exists and is a harmonix failures table; OutputError when it is someone else's."""
    if not path.exists():
        return False
    try:
        with open(path, encoding="utf-8") as stream:
            header = stream.readline().rstrip("\n")
    except (OSError, UnicodeDecodeError):
        header = None
    if header != "\t".join(FAILURE_COLUMNS):
        raise OutputError(f"{path}: exists and was not written by harmonix; move it away or choose another output")
    return True


def remove_failures(folder: str | os.PathLike) -> None:
    """Remove a ``failures.tsv`` harmonix wrote earlier (a re-run without failures makes it stale)."""
    path = Path(folder) / FAILURES_FILE
    with contextlib.suppress(OutputError):
        if _check_own_failures(path):
            path.unlink(missing_ok=True)

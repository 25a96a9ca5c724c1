"""Load EEG recordings from any format MNE reads, headset CSV exports and BIDS.

:func:`load_eeg` is the single entry point: it picks the reader from the file
extension (or the BIDS layout), turns reader failures into
:class:`~harmonix.errors.InputFileError`, then applies the channel
conventions of :mod:`harmonix.io.channels` and a standard montage.
:func:`load_eeg_with_report` also says what was changed, for the CLI.
"""

from __future__ import annotations

import configparser
import logging
import re
import struct
import sys
import warnings
import xml.etree.ElementTree
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from os import PathLike
from pathlib import Path
from typing import Any, Union

import mne
import scipy.io.matlab

from harmonix.errors import DataWarning, InputFileError, ParameterError
from harmonix.io.channels import MontageResult, apply_channel_conventions, set_standard_montage
from harmonix.io.file_checks import (
    EDF_WARNINGS_EXPLAINED,
    OMITTED_MARKERS,
    TRUNCATED,
    check_brainvision_size,
    check_edf_header,
    check_eeglab_size,
    markers_past_end,
)
from harmonix.io.headset_csv import _read_headset_csv, describe_marker_codes

__all__ = ["LoadReport", "load_eeg", "load_eeg_with_report", "supported_extensions"]

EEGInstance = Union[mne.io.BaseRaw, mne.BaseEpochs]

# Every failure of a third-party reader on a user's file is a problem with that
# file; these are the exception types readers raise on corrupt or truncated input.
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    ArithmeticError,
    RuntimeError,
    AssertionError,  # MNE's readers assert on file structure (e.g. a zero-byte Curry file)
    struct.error,
    configparser.Error,  # BrainVision .vhdr/.vmrk headers are INI files: random bytes, no [section]
    scipy.io.matlab.MatReadError,  # EEGLAB .set through pymatreader/scipy.io: empty or not a MAT file
    xml.etree.ElementTree.ParseError,  # XML headers (EGI .mff, NEDF) that are not XML
)

# Readers of mne.io.read_raw that never give EEG, or that read_raw cannot call
# (they need arguments it does not pass): their extensions are refused by name.
_NOT_EEG_READERS = {
    "read_raw_boxy": "BOXY optical (fNIRS) data",
    "read_raw_nirx": "NIRx fNIRS data",
    "read_raw_snirf": "SNIRF fNIRS data",
    "read_raw_eyelink": "EyeLink eye-tracking data",
    "read_raw_artemis123": "Artemis123 MEG data",
    "read_raw_fil": "FIL OPM MEG data",
    "read_raw_fieldtrip": "FieldTrip structures, which need an info object (mne.io.read_raw_fieldtrip)",
    "read_raw_nicolet": "Nicolet data, which need the channel type (mne.io.read_raw_nicolet)",
}

_EPOCHS_FIF = ("-epo.fif", "_epo.fif", "-epo.fif.gz", "_epo.fif.gz")
_DIRECTORY_FORMATS = (".mff", ".ds", ".mefd")
# Data/marker files of two-file formats: point users to the header that must be opened.
_COMPANIONS = {".fdt": ".set", ".vmrk": ".vhdr", ".eeg": ".vhdr"}
_BIDS_NAME = re.compile(r"^sub-[A-Za-z0-9]+(_[a-z]+-[A-Za-z0-9]+)*_eeg\.")
# Used when MNE's private reader table is unavailable (it moved between versions).
_FALLBACK_EXTENSIONS = (".edf", ".bdf", ".gdf", ".vhdr", ".ahdr", ".set", ".fif", ".fif.gz", ".cnt", ".mff", ".nxe")


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_eeg_with_report` read and changed.

    Attributes
    ----------
    source : str
        The file (or BIDS path) as given.
    reader : str
        The function that read it, e.g. ``'mne.io.read_raw_edf'``.
    kind : {'raw', 'epochs'}
        Continuous recording or epochs.
    n_channels : int
        Channels of all types.
    sfreq : float
        Sampling rate in Hz.
    duration : float
        Length in s (of one epoch for epoched data).
    renamed : tuple of (str, str)
        ``(old, new)`` channel names.
    retyped : tuple of (str, str, str)
        ``(name, old_type, new_type)``.
    montage : MontageResult
        Whether and why a montage was applied.
    notes : tuple of str
        Anything else worth telling the user (timestamp irregularities, kept names,
        cells repaired with ``repair=True``).
    bids : dict
        For files read from a BIDS dataset, what its sidecars set: ``root``,
        ``entities``, ``line_freq`` (Hz, ``PowerLineFrequency``), ``reference``
        (``EEGReference``), ``n_events`` (from ``events.tsv``) and
        ``bad_channels`` (from ``channels.tsv``); empty otherwise.
    warnings : tuple of str
        Inconsistencies the reader found in the file and worked around (an EDF
        header whose record count does not match the file size, channels
        without a physical range, a stale header...): MNE's own warnings
        during reading plus harmonix's header checks, one line each. They are
        also issued as warnings: harmonix's header checks as
        :class:`~harmonix.errors.DataWarning` (which the CLI prints, one
        ``harmonix: warning:`` line each), MNE's own as MNE issues them (only
        when ``verbose`` lets MNE warn).
    """

    source: str
    reader: str
    kind: str
    n_channels: int
    sfreq: float
    duration: float
    renamed: tuple[tuple[str, str], ...]
    retyped: tuple[tuple[str, str, str], ...]
    montage: MontageResult
    notes: tuple[str, ...] = ()
    bids: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line (for the CLI)."""
        out = [
            f"read {self.source} with {self.reader}: {self.kind}, {self.n_channels} channels, "
            f"{self.sfreq:g} Hz, {self.duration:.2f} s"
        ]
        if self.renamed:
            out.append("renamed channels: " + ", ".join(f"{old} -> {new}" for old, new in self.renamed))
        if self.retyped:
            out.append("channel types: " + ", ".join(f"{name} {old} -> {new}" for name, old, new in self.retyped))
        out.append("montage: " + self.montage.reason)
        out.extend(self.notes)
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


@lru_cache(maxsize=1)
def _mne_readers() -> dict[str, tuple[str, ...]] | None:
    """``{extension: reader function names}`` of :func:`mne.io.read_raw`, or None when unavailable."""
    try:
        from mne.io._read_raw import _get_supported

        return {
            ext: tuple(getattr(func, "__name__", str(func)) for func in readers.values())
            for ext, readers in _get_supported().items()
        }
    except (ImportError, AttributeError, TypeError):
        return None


def _not_eeg(ext: str) -> str | None:
    """What MNE reads ``ext`` as, when every reader of that extension is one harmonix refuses."""
    readers = (_mne_readers() or {}).get(ext)
    if not readers or not all(name in _NOT_EEG_READERS for name in readers):
        return None
    return " or ".join(_NOT_EEG_READERS[name] for name in readers)


def supported_extensions() -> tuple[str, ...]:
    """Return the file extensions :func:`load_eeg` accepts, sorted.

    These are the extensions of :func:`mne.io.read_raw` whose readers give
    EEG (not fNIRS, eye tracking or MEG-only systems, and not readers that
    need extra arguments), plus ``.csv`` (headset exports) and ``-epo.fif``
    (MNE epochs).

    Examples
    --------
    >>> {".edf", ".bdf", ".vhdr", ".set", ".fif", ".csv"} <= set(supported_extensions())
    True
    >>> ".txt" in supported_extensions()  # MNE reads .txt as BOXY fNIRS data
    False
    """
    readers = _mne_readers()
    mne_exts = _FALLBACK_EXTENSIONS if readers is None else tuple(ext for ext in readers if _not_eeg(ext) is None)
    return tuple(sorted({*mne_exts, ".csv", "-epo.fif"}))


def _extension(path: Path) -> str:
    name = path.name.lower()
    known = {*supported_extensions(), *(_mne_readers() or {})}
    matches = [ext for ext in known if name.endswith(ext) and ext != "-epo.fif"]
    return max(matches, key=len) if matches else path.suffix.lower()


def _is_epochs_fif(path: Path) -> bool:
    return path.name.lower().endswith(_EPOCHS_FIF)


_MISSING_MODULE = re.compile(r"the module (\S+?) is needed")
_MAX_DETAIL = 240


def _one_line(text: str) -> str:
    """``text`` on one line of printable characters, cut to a readable length."""
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3].rstrip() + "..."


def _describe_read_error(err: BaseException) -> str:
    """What a reader's exception says about the file, on one line."""
    if isinstance(err, configparser.Error):
        # The message quotes the offending line, which for a binary file is noise.
        first = str(getattr(err, "message", "") or err).strip().splitlines()[0] if str(err).strip() else ""
        line = getattr(err, "lineno", None)
        return _one_line(f"not an INI-style header: {first}" + (f" (line {line})" if line else ""))
    text = str(err).strip()
    if not text:
        # MNE's asserts on file structure carry no message.
        return f"its structure is not what the reader expects ({type(err).__name__})"
    return _one_line(text)


@contextmanager
def _reading(path: Path | str, what: str) -> Iterator[None]:
    """Re-raise reader failures as InputFileError naming the file and the problem."""
    try:
        yield
    except InputFileError:
        raise
    except MemoryError as err:
        raise InputFileError(f"{path}: not enough memory to load it as {what}; pass preload=False") from err
    except ImportError as err:
        module = getattr(err, "name", None) or "a missing package"
        raise InputFileError(
            f"{path}: reading {what} needs the Python package {module}, which is not installed"
        ) from err
    except _READ_ERRORS as err:
        missing = _MISSING_MODULE.search(str(err))
        if missing:  # MNE's soft imports raise RuntimeError("... the module mffpy is needed ...")
            raise InputFileError(
                f"{path}: reading {what} needs the Python package {missing.group(1)}, which is not installed "
                f"(pip install {missing.group(1)})"
            ) from err
        raise InputFileError(
            f"{path}: cannot be read as {what} (corrupt, truncated or not that format): {_describe_read_error(err)}"
        ) from err
    except Exception as err:
        # MNE raises a bare ``Exception`` on some corrupt files (undecodable EDF
        # annotations, among others). This block wraps only the third-party
        # reader call, so a bare Exception there is about the file; any other
        # type not listed in _READ_ERRORS is a bug and propagates.
        if type(err) is not Exception:
            raise
        raise InputFileError(
            f"{path}: cannot be read as {what} (corrupt, truncated or not that format): {_describe_read_error(err)}"
        ) from err


def _verbosity_level(verbose: Any) -> int | None:
    """The logging level MNE would use for ``verbose`` (None: cannot tell)."""
    if verbose is None:
        return mne.utils.logger.getEffectiveLevel()
    if isinstance(verbose, bool):
        return logging.INFO if verbose else logging.WARNING
    if isinstance(verbose, int):
        return verbose
    if isinstance(verbose, str):
        level = logging.getLevelName(verbose.upper())
        return level if isinstance(level, int) else None
    return None


class _DropBelow(logging.Filter):
    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _ReaderMessages:
    """Collect what a reader warns about, whatever the caller's MNE verbosity.

    MNE only issues its warnings (``mne.utils.warn``: a Python warning, and a
    log record for file handlers) when its logger is at WARNING or more
    verbose; with ``verbose='error'`` (as the CLI sets) a stale EDF record
    count or a channel without a physical range would go unnoticed. Inside
    this context the reader runs at WARNING at least (:attr:`verbose`), the
    extra records are kept off MNE's handlers, and every warning is recorded;
    :meth:`replay` re-issues the Python warnings afterwards when the caller's
    verbosity allows them, so that its warning filters decide what is shown,
    as before.
    """

    def __init__(self, verbose: Any) -> None:
        level = _verbosity_level(verbose)
        self._quiet_level = level if level is not None and level > logging.WARNING else None
        self.verbose = "WARNING" if self._quiet_level is not None else verbose
        self.caught: list[warnings.WarningMessage] = []
        self._collect = _Collect()

    def __enter__(self) -> _ReaderMessages:
        logger = mne.utils.logger
        self._filters = []
        if self._quiet_level is not None:
            for handler in logger.handlers:
                quiet = _DropBelow(self._quiet_level)
                handler.addFilter(quiet)
                self._filters.append((handler, quiet))
        logger.addHandler(self._collect)
        self._warnings = warnings.catch_warnings(record=True)
        self.caught = self._warnings.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._warnings.__exit__(*exc_info)
        mne.utils.logger.removeHandler(self._collect)
        for handler, quiet in self._filters:
            handler.removeFilter(quiet)

    def messages(self) -> list[str]:
        """One line per distinct warning about the file (not library deprecations or numpy FP notes)."""
        out: list[str] = []
        texts = [
            str(w.message)
            for w in self.caught
            if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning))
            and " encountered in " not in str(w.message)
        ]
        for text in (*texts, *self._collect.messages):
            line = _one_line(text)
            if line and line not in out:
                out.append(line)
        return out

    def replay(self, skip: tuple[str, ...] = ()) -> None:
        """Issue the recorded Python warnings again, through the caller's filters.

        Only when the caller's verbosity would have let MNE issue them: with
        ``verbose='error'`` they stay in the load report only. Messages
        starting with one of ``skip`` (said better by harmonix) are dropped.
        """
        if self._quiet_level is not None:
            return
        for w in self.caught:
            if not (skip and str(w.message).startswith(skip)):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno or 0)


def _is_bids_path(path: Any) -> bool:
    # A BIDSPath can only exist if mne_bids is already imported; avoid importing it otherwise.
    module = sys.modules.get("mne_bids")
    return module is not None and isinstance(path, module.BIDSPath)


def _bids_root(path: Path) -> Path | None:
    if not _BIDS_NAME.match(path.name):
        return None
    for parent in path.resolve().parents:
        if (parent / "dataset_description.json").is_file():
            return parent
    return None


def _read_bids(path: Any, preload: bool, verbose: Any) -> EEGInstance:
    import mne_bids

    if not _is_bids_path(path):
        path = mne_bids.get_bids_path_from_fname(path, verbose=verbose)
    raw = mne_bids.read_raw_bids(path, verbose=verbose)
    if preload:
        raw.load_data(verbose=verbose)
    return raw


def _bids_facts(path: Any, inst: EEGInstance) -> dict:
    """What the BIDS sidecars of ``path`` set on ``inst``, for the load report and provenance."""
    import json

    import mne_bids

    bids_path = path if _is_bids_path(path) else mne_bids.get_bids_path_from_fname(path, check=False, verbose=False)
    sidecar = {}
    try:
        found = bids_path.find_matching_sidecar(suffix=bids_path.datatype or "eeg", extension=".json",
                                                on_error="ignore")
        if found is not None:
            sidecar = json.loads(Path(found).read_text(encoding="utf-8"))
    except (OSError, ValueError, RuntimeError):
        sidecar = {}
    line_freq = inst.info.get("line_freq")
    return {
        "root": str(bids_path.root),
        "entities": {k: v for k, v in bids_path.entities.items() if v is not None},
        "line_freq": None if line_freq is None else float(line_freq),
        "reference": sidecar.get("EEGReference"),
        "n_events": len(inst.annotations) if isinstance(inst, mne.io.BaseRaw) else None,
        "bad_channels": list(inst.info["bads"]),
    }


def _describe_bids(facts: dict) -> str:
    line = f"{facts['line_freq']:g} Hz" if facts.get("line_freq") else "not given"
    parts = [f"BIDS sidecars: line frequency {line}, reference {facts.get('reference') or 'not given'}"]
    if facts.get("n_events") is not None:
        parts.append(f"{facts['n_events']} events from events.tsv")
    if facts.get("bad_channels"):
        parts.append(f"bad channels from channels.tsv: {', '.join(facts['bad_channels'])}")
    return "; ".join(parts)


def _read_eeglab(path: Path, preload: bool, verbose: Any) -> EEGInstance:
    try:
        return mne.io.read_raw_eeglab(path, preload=preload, verbose=verbose)
    except TypeError as err:
        # MNE refuses epoched .set files with this hint; the header says trials > 1.
        if "read_epochs_eeglab" not in str(err):
            raise
    return mne.read_epochs_eeglab(path, verbose=verbose)


def _read_fif(path: Path, preload: bool, verbose: Any) -> EEGInstance:
    with warnings.catch_warnings():
        # harmonix accepts any file name; MNE's "raw.fif / -epo.fif" naming advice is not actionable here.
        warnings.filterwarnings("ignore", message=".*does not conform to MNE naming", category=RuntimeWarning)
        if _is_epochs_fif(path):
            return mne.read_epochs(path, preload=preload, verbose=verbose)
        try:
            return mne.io.read_raw_fif(path, preload=preload, verbose=verbose)
        except ValueError as err:
            # Epochs saved without the -epo.fif suffix: MNE finds no raw data block.
            if "No raw data" not in str(err):
                raise
        return mne.read_epochs(path, preload=preload, verbose=verbose)


def _check_fif_buffers(inst: EEGInstance, path: Path) -> None:
    """Raise InputFileError when a data buffer of a lazily read FIF file lies past the end of the file.

    MNE reads the tag directory of a cut FIF file without complaint and fails
    only when the samples are read ("cannot reshape array ..."), long after
    loading when ``preload=False``.
    """
    if not isinstance(inst, mne.io.BaseRaw) or inst.preload:
        return
    for name, extras in zip(inst.filenames, inst._raw_extras):
        entries = [e for e in (extras.get("ent") or []) if e is not None] if isinstance(extras, dict) else []
        if not entries or name is None:
            continue
        end = max(int(e.pos) + 16 + int(e.size) for e in entries)  # 16-byte tag header, then the data
        size = Path(name).stat().st_size
        if end > size:
            raise InputFileError(
                f"{path}: file is truncated: its data buffers end at byte {end} but the file has {size} bytes; "
                "re-export or re-copy it"
            )


def _read_mne(path: Path, preload: bool, verbose: Any) -> EEGInstance:
    return mne.io.read_raw(path, preload=preload, verbose=verbose)


def _read_edf(path: Path, preload: bool, verbose: Any) -> EEGInstance:
    read = mne.io.read_raw_bdf if path.suffix.lower() == ".bdf" else mne.io.read_raw_edf
    try:
        return read(path, preload=preload, verbose=verbose)
    except Exception as err:
        # Annotations in a legacy 8-bit encoding: MNE raises a bare Exception that
        # suggests encoding='latin1'. Latin-1 decodes any byte, so retry with it.
        if type(err) is not Exception or "encoding='latin1'" not in str(err):
            raise
    warnings.warn(
        f"{path}: the annotations are not UTF-8; read them as latin-1", DataWarning, stacklevel=2
    )
    return read(path, preload=preload, verbose=verbose, encoding="latin1")


def _choose_reader(path: Path) -> tuple[str, str, Callable[[Path, bool, Any], EEGInstance]]:
    """Return (label, format description, reader) for a file path."""
    ext = _extension(path)
    if _bids_root(path) is not None:
        return "mne_bids.read_raw_bids", "BIDS EEG", _read_bids
    if ext == ".set":
        return "mne.io.read_raw_eeglab", "EEGLAB .set", _read_eeglab
    if ext in (".fif", ".fif.gz"):
        return "mne.io.read_raw_fif", "FIF", _read_fif
    if ext in (".edf", ".bdf"):
        return f"mne.io.read_raw_{ext[1:]}", f"{ext} file", _read_edf
    readers = {".gdf": "read_raw_gdf", ".vhdr": "read_raw_brainvision"}
    return f"mne.io.{readers.get(ext, 'read_raw')}", f"{ext} file", _read_mne


def _check_path(path: Path) -> None:
    if not path.exists():
        hint = " (the folder does not exist either)" if not path.parent.exists() else ""
        raise InputFileError(f"{path}: no such file{hint}")
    ext = _extension(path)
    header = path.with_suffix(_COMPANIONS.get(path.suffix.lower(), path.suffix))
    if header != path and header.is_file():
        raise InputFileError(f"{path}: is the data part of a two-file recording; load {header.name} instead")
    if ext not in supported_extensions() and not _is_epochs_fif(path):
        listing = ", ".join(supported_extensions())
        other = _not_eeg(ext)
        if other is not None:
            raise InputFileError(
                f"{path}: {ext!r} files are not EEG recordings harmonix reads: MNE reads {ext} as {other}; "
                f"supported: {listing}"
            )
        raise InputFileError(f"{path}: unknown EEG file extension {ext or '(none)'!r}; supported: {listing}")
    if path.is_dir() and ext not in _DIRECTORY_FORMATS:
        raise InputFileError(f"{path}: is a folder, not an EEG file")
    if not path.is_dir() and ext in _DIRECTORY_FORMATS:
        raise InputFileError(f"{path}: is a file, but {ext} recordings are folders; give the {ext} folder")
    if path.is_file() and path.stat().st_size == 0:
        raise InputFileError(f"{path}: the file is empty (0 bytes)")


def _check_sfreq(inst: EEGInstance, sfreq: float | None, source: str) -> None:
    if sfreq is not None and abs(inst.info["sfreq"] - sfreq) > 1e-6 * sfreq:
        raise ParameterError(
            f"{source}: the file declares {inst.info['sfreq']:g} Hz but sfreq={sfreq:g} was given; sfreq only "
            "applies to files without a sampling rate (headset CSV). Resample with inst.resample() instead"
        )


def _duration(inst: EEGInstance) -> float:
    if isinstance(inst, mne.BaseEpochs):
        return float(len(inst.times) / inst.info["sfreq"])
    return float(inst.n_times / inst.info["sfreq"])


def _read_any(
    path: Any, *, sfreq: float | None, preload: bool, verbose: Any, repair: bool = False
) -> tuple[EEGInstance, str, tuple[str, ...], tuple[str, ...]]:
    """Dispatch to the right reader; return (inst, reader label, notes, warnings)."""
    if _is_bids_path(path):
        messages = _ReaderMessages(verbose)
        with _reading(path, "BIDS EEG"), messages:
            inst = _read_bids(path, preload, messages.verbose)
        messages.replay()
        return inst, "mne_bids.read_raw_bids", (), tuple(messages.messages())
    path = Path(path)
    _check_path(path)
    ext = _extension(path)
    if ext == ".csv":
        with _reading(path, "headset CSV"):
            raw, timing, markers, notes, repairs = _read_headset_csv(
                path, sfreq=sfreq, verbose=verbose, repair=repair
            )
        notes += ((timing.describe(),) if timing else ()) + ((describe_marker_codes(markers),) if markers else ())
        for text in repairs:  # the samples analysed are not all the file's: a warning, not a note
            warnings.warn(f"{path}: {text}", DataWarning, stacklevel=3)
        return raw, "harmonix.io.read_headset_csv", notes, repairs
    found: list[str] = []
    if ext in (".edf", ".bdf"):
        found = check_edf_header(path, 3 if ext == ".bdf" else 2)
    elif ext in (".vhdr", ".ahdr"):
        check_brainvision_size(path)
    elif ext == ".set":
        check_eeglab_size(path)
    label, what, reader = _choose_reader(path)
    messages = _ReaderMessages(verbose)
    with _reading(path, what), messages:
        inst = reader(path, preload, messages.verbose)
    explained = EDF_WARNINGS_EXPLAINED if found else ()
    if ext in (".vhdr", ".ahdr"):
        past_end = markers_past_end(path, messages.messages())
        if past_end:
            found.append(past_end)
            explained = OMITTED_MARKERS
    reported = [m for m in messages.messages() if not (explained and m.startswith(explained))]
    for text in reported:
        if TRUNCATED.search(text):  # e.g. eXimia: a size that is not a whole number of samples
            raise InputFileError(f"{path}: {text}; re-export or re-copy it")
    for text in found:
        warnings.warn(f"{path}: {text}", DataWarning, stacklevel=3)
    messages.replay(skip=explained)
    notes = ()
    if label != "mne_bids.read_raw_bids" and _BIDS_NAME.match(path.name):
        notes = ("file name follows BIDS but no dataset_description.json was found above it; read as a plain file",)
    if isinstance(inst, mne.BaseEpochs):
        label = "mne.read_epochs_eeglab" if ext == ".set" else "mne.read_epochs"
    _check_sfreq(inst, sfreq, str(path))
    _check_samples(inst, str(path))
    if ext == ".fif":  # in a .fif.gz the positions are those of the uncompressed stream
        _check_fif_buffers(inst, path)
    return inst, label, notes, (*found, *reported)


def _check_samples(inst: EEGInstance, source: str) -> None:
    if not inst.info["sfreq"] > 0:
        raise InputFileError(f"{source}: the file declares a sampling rate of {inst.info['sfreq']:g} Hz")
    if isinstance(inst, mne.io.BaseRaw) and inst.n_times == 0:
        raise InputFileError(f"{source}: the file holds no samples")
    if isinstance(inst, mne.BaseEpochs) and (len(inst.times) == 0 or len(inst.events) == 0):
        raise InputFileError(f"{source}: the file holds no epochs")


def load_eeg_with_report(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    montage: str | mne.channels.DigMontage | None = "standard_1005",
    preload: bool = True,
    verbose: bool | str | int | None = None,
    repair: bool = False,
    channel_types: Mapping[str, str] | None = None,
) -> tuple[EEGInstance, LoadReport]:
    """Load an EEG recording and report what was normalised.

    Same parameters as :func:`load_eeg`.

    Returns
    -------
    inst : mne.io.Raw | mne.Epochs
        The recording.
    report : LoadReport
        Reader used, renamed and re-typed channels, montage decision, notes,
        and the warnings about the file (:attr:`LoadReport.warnings`).

    Examples
    --------
    >>> raw, report = load_eeg_with_report("S001R01.edf")  # doctest: +SKIP
    >>> print("\\n".join(report.lines()))  # doctest: +SKIP
    read S001R01.edf with mne.io.read_raw_edf: raw, 64 channels, 160 Hz, 61.00 s
    renamed channels: Fc5. -> FC5, ...
    montage: 64 of 64 EEG channels positioned from montage 'standard_1005'
    """
    inst, reader, notes, found = _read_any(path, sfreq=sfreq, preload=preload, verbose=verbose, repair=repair)
    bids = {}
    if reader == "mne_bids.read_raw_bids":
        bids = _bids_facts(path, inst)  # before renaming: the sidecars name channels as the file does
        notes = (*notes, _describe_bids(bids))
    conventions = apply_channel_conventions(inst)
    if channel_types:
        notes = (*notes, _set_user_channel_types(inst, channel_types, getattr(path, "fpath", path)))
    montage_result = set_standard_montage(inst, montage)
    report = LoadReport(
        source=str(getattr(path, "fpath", path)),
        reader=reader,
        kind="epochs" if isinstance(inst, mne.BaseEpochs) else "raw",
        n_channels=len(inst.ch_names),
        sfreq=float(inst.info["sfreq"]),
        duration=_duration(inst),
        renamed=conventions.renamed,
        retyped=conventions.retyped,
        montage=montage_result,
        notes=tuple(notes) + conventions.notes,
        bids=bids,
        warnings=tuple(found),
    )
    return inst, report


def load_eeg(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    montage: str | mne.channels.DigMontage | None = "standard_1005",
    preload: bool = True,
    verbose: bool | str | int | None = None,
    repair: bool = False,
    channel_types: Mapping[str, str] | None = None,
) -> EEGInstance:
    """Load an EEG recording from any supported format.

    Formats: every extension :func:`mne.io.read_raw` knows (EDF/EDF+, BDF,
    GDF, BrainVision ``.vhdr``, EEGLAB ``.set``, FIF, CNT, EGI ``.mff``, ...),
    epoched EEGLAB ``.set`` and MNE ``-epo.fif`` files (returned as
    :class:`mne.Epochs`), consumer-headset CSV exports (see
    :func:`~harmonix.io.read_headset_csv`), and files inside a BIDS dataset
    (``sub-01_task-rest_eeg.edf`` below a folder holding
    ``dataset_description.json``, or an :class:`mne_bids.BIDSPath`), read
    with :func:`mne_bids.read_raw_bids` so that the sidecars' channel types
    and events apply.

    After reading, channel names are normalised (``Fc5.`` -> ``FC5``,
    ``EEG Fp1-REF`` -> ``Fp1``, T3 -> T7), non-EEG channels are typed by name
    (EOG, ECG, EMG, stim, AUX as misc), and a standard montage is set when at
    least three EEG channels are in it and the file has no positions of its
    own. The file is only read, never written.

    Parameters
    ----------
    path : path-like | mne_bids.BIDSPath
        The recording. For BrainVision give the ``.vhdr``; for EEGLAB the
        ``.set`` (the ``.fdt`` must sit beside it).
    sfreq : float | None
        Sampling rate in Hz for files that do not store one (headset CSV).
        For other formats it must equal the file's rate, or ``None``.
    montage : str | mne.channels.DigMontage | None
        Montage to apply when the file has no positions; ``None`` skips it.
    preload : bool
        Load the data into memory. ``False`` reads lazily where the reader
        allows; headset CSV and EEGLAB epochs are always loaded.
    verbose : bool | str | int | None
        MNE verbosity. Whatever it is, the reader's warnings about the file
        are collected into :attr:`LoadReport.warnings`; they are issued as
        Python warnings too unless ``verbose`` is ``'error'`` or stricter
        (harmonix's own EDF/BDF header warnings always are).
    repair : bool
        Headset CSV only: interpolate isolated non-numeric or empty cells and
        estimate the rate around backward timestamp jumps, instead of
        refusing the file (what was done goes into the report's notes).
    channel_types : mapping of str to str | None
        Channel types that override the typing by name, applied after the
        names are normalised, e.g. ``{"Right AUX": "eeg"}`` to analyse a
        headset's auxiliary electrode as EEG (noted in the report).

    Returns
    -------
    inst : mne.io.Raw | mne.Epochs
        Data in volts, shape (n_channels, n_times) per epoch.

    Raises
    ------
    InputFileError
        Missing, empty or unknown file (extensions of non-EEG formats that
        MNE reads, such as ``.txt`` for BOXY fNIRS, are refused by name), a
        file that is corrupt or truncated (detected from the header's
        declared size for EDF/BDF, BrainVision binary ``.eeg`` and EEGLAB
        ``.fdt`` data files), an EDF/BDF header whose values make the data
        untrustworthy (0 samples per record, physical minimum = maximum on
        EEG channels, no record duration), a reader that needs a package
        that is not installed, and headset CSVs with non-numeric cells or
        backward timestamp jumps (unless ``repair=True``).
    ParameterError
        ``sfreq`` contradicts the file, or a CSV has no usable (numeric)
        timestamps and no ``sfreq``.

    Examples
    --------
    >>> raw = load_eeg("S001R01.edf")  # doctest: +SKIP
    >>> raw.ch_names[:3]  # doctest: +SKIP
    ['FC5', 'FC3', 'FC1']
    """
    inst, _ = load_eeg_with_report(
        path, sfreq=sfreq, montage=montage, preload=preload, verbose=verbose, repair=repair,
        channel_types=channel_types,
    )
    return inst


_USER_TYPES = ("eeg", "misc", "eog", "ecg", "emg", "stim", "bio", "resp", "gsr", "temperature")


def _set_user_channel_types(inst: EEGInstance, channel_types: Mapping[str, str], path) -> str:
    """Apply the user's ``{name: type}`` after harmonix's own typing by name; return the note for the report."""
    unknown = [name for name in channel_types if name not in inst.ch_names]
    if unknown:
        raise ParameterError(f"{path}: channel types given for {', '.join(map(repr, unknown))}, not in the file "
                             f"(its channels: {', '.join(inst.ch_names)})")
    wrong = {name: kind for name, kind in channel_types.items() if kind not in _USER_TYPES}
    if wrong:
        raise ParameterError(f"{path}: unknown channel type(s) {', '.join(f'{n}={k}' for n, k in wrong.items())}; "
                             f"use one of {', '.join(_USER_TYPES)}")
    inst.set_channel_types(dict(channel_types), on_unit_change="ignore", verbose=False)
    return "channel types set by the user: " + ", ".join(f"{n}={k}" for n, k in channel_types.items())

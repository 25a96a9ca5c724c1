"""Load EEG recordings from any format MNE reads, headset CSV exports and BIDS.

:func:`load_eeg` is the single entry point: it picks the reader from the file
extension (or the BIDS layout), turns reader failures into
:class:`~harmonix.errors.InputFileError`, then applies the channel
conventions of :mod:`harmonix.io.channels` and a standard montage.
:func:`load_eeg_with_report` also says what was changed, for the CLI.
"""

from __future__ import annotations

import re
import struct
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Union

import mne

from harmonix.errors import InputFileError, ParameterError
from harmonix.io.channels import MontageResult, apply_channel_conventions, set_standard_montage
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
    AssertionError,  # MNE's readers assert on file structure (e.g. a text file given to the BOXY reader)
    struct.error,
)

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
        Anything else worth telling the user (timestamp irregularities, kept names).
    bids : dict
        For files read from a BIDS dataset, what its sidecars set: ``root``,
        ``entities``, ``line_freq`` (Hz, ``PowerLineFrequency``), ``reference``
        (``EEGReference``), ``n_events`` (from ``events.tsv``) and
        ``bad_channels`` (from ``channels.tsv``); empty otherwise.
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
        return out


def supported_extensions() -> tuple[str, ...]:
    """Return the file extensions :func:`load_eeg` accepts, sorted.

    These are all extensions of :func:`mne.io.read_raw` plus ``.csv``
    (headset exports) and ``-epo.fif`` (MNE epochs).

    Examples
    --------
    >>> {".edf", ".bdf", ".vhdr", ".set", ".fif", ".csv"} <= set(supported_extensions())
    True
    """
    try:
        from mne.io._read_raw import _get_supported

        mne_exts = tuple(_get_supported())
    except (ImportError, AttributeError, TypeError):
        mne_exts = _FALLBACK_EXTENSIONS
    return tuple(sorted({*mne_exts, ".csv", "-epo.fif"}))


def _extension(path: Path) -> str:
    name = path.name.lower()
    matches = [ext for ext in supported_extensions() if name.endswith(ext) and ext != "-epo.fif"]
    return max(matches, key=len) if matches else path.suffix.lower()


def _is_epochs_fif(path: Path) -> bool:
    return path.name.lower().endswith(_EPOCHS_FIF)


@contextmanager
def _reading(path: Path | str, what: str) -> Iterator[None]:
    """Re-raise reader failures as InputFileError naming the file and the problem."""
    try:
        yield
    except InputFileError:
        raise
    except MemoryError as err:
        raise InputFileError(f"{path}: not enough memory to load it as {what}; pass preload=False") from err
    except _READ_ERRORS as err:
        detail = str(err).strip() or type(err).__name__
        raise InputFileError(
            f"{path}: cannot be read as {what} (corrupt, truncated or not that format): {detail}"
        ) from err


def _check_edf_size(path: Path, bytes_per_sample: int) -> None:
    """Raise InputFileError when an EDF/BDF file is shorter than its header declares.

    MNE reads a truncated EDF silently (fewer records, or zeros), so the file
    size is compared with the header's record count and record size.
    """
    with path.open("rb") as fh:
        fixed = fh.read(256)
        if len(fixed) < 256:
            raise InputFileError(f"{path}: truncated EDF/BDF header ({len(fixed)} of 256 bytes)")
        try:
            header_bytes = int(fixed[184:192].decode("ascii").strip())
            n_records = int(fixed[236:244].decode("ascii").strip())
            n_signals = int(fixed[252:256].decode("ascii").strip())
        except (UnicodeDecodeError, ValueError) as err:
            raise InputFileError(f"{path}: not a valid EDF/BDF header (bad header-size or record-count field)") from err
        if n_signals < 1 or header_bytes != 256 * (n_signals + 1):
            raise InputFileError(
                f"{path}: not a valid EDF/BDF header ({n_signals} signals but a {header_bytes}-byte header)"
            )
        fh.seek(256 + 216 * n_signals)
        field = fh.read(8 * n_signals)
    if len(field) < 8 * n_signals:
        raise InputFileError(f"{path}: truncated EDF/BDF header")
    try:
        per_record = sum(int(field[i : i + 8].decode("ascii").strip()) for i in range(0, len(field), 8))
    except (UnicodeDecodeError, ValueError) as err:
        raise InputFileError(f"{path}: not a valid EDF/BDF header (bad samples-per-record field)") from err
    if n_records < 0:
        return  # -1 = "unknown" while recording; readers derive it from the size.
    record_bytes = per_record * bytes_per_sample
    expected = header_bytes + n_records * record_bytes
    actual = path.stat().st_size
    if actual < expected:
        complete = (actual - header_bytes) // record_bytes if record_bytes else 0
        raise InputFileError(
            f"{path}: file is truncated: the header declares {n_records} data records ({expected} bytes) "
            f"but the file has {actual} bytes ({max(complete, 0)} complete records); re-export or re-copy it"
        )


def _truncated(data: Path, header: Path, declared: str, expected: int, actual: int) -> InputFileError:
    return InputFileError(
        f"{data}: file is truncated: {header.name} declares {declared} ({expected} bytes) "
        f"but the file has {actual} bytes; re-export or re-copy it"
    )


# Bytes per sample of the BrainVision binary formats MNE reads.
_BRAINVISION_BYTES = {"INT_16": 2, "UINT_16": 2, "INT_32": 4, "IEEE_FLOAT_32": 4}


def _brainvision_header(path: Path) -> dict[str, str]:
    """The ``key=value`` lines of a BrainVision header's [Common Infos] and [Binary Infos]."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    fields: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
        elif section in ("common infos", "binary infos") and "=" in line and not line.startswith(";"):
            key, value = line.split("=", 1)
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def _check_brainvision_size(path: Path) -> None:
    """Raise InputFileError when a BrainVision binary data file is shorter than its header declares.

    MNE reads a truncated ``.eeg`` silently (fewer samples). With ``DataPoints``
    in the header the size must be ``DataPoints x channels x bytes per sample``;
    without it, the size must at least be a whole number of samples of all
    channels. Headers that cannot be parsed, ASCII data, unknown binary
    formats and missing data files are left to MNE's reader.
    """
    try:
        fields = _brainvision_header(path)
        n_channels = int(fields["numberofchannels"])
    except (OSError, KeyError, ValueError):
        return
    if fields.get("dataformat", "BINARY").upper() != "BINARY":
        return
    width = _BRAINVISION_BYTES.get(fields.get("binaryformat", "INT_16").upper())
    name = fields.get("datafile", "").replace("$b", path.stem)
    data = path.parent / name
    if width is None or n_channels < 1 or not name or not data.is_file():
        return
    actual = data.stat().st_size
    frame = n_channels * width
    try:
        n_points = int(fields["datapoints"])
    except (KeyError, ValueError):
        n_points = None
    if n_points is not None and n_points > 0:
        expected = n_points * frame
        if actual < expected:
            raise _truncated(data, path, f"{n_points} samples of {n_channels} channels", expected, actual)
    elif actual % frame:
        expected = (actual // frame + 1) * frame
        raise _truncated(
            data, path, f"{n_channels} channels of {width}-byte samples (a multiple of {frame} bytes)", expected, actual
        )


def _eeglab_fields(path: Path) -> tuple[int, int, int, Any] | None:
    """``(nbchan, pnts, trials, data)`` from an EEGLAB .set, or None when it cannot be read cheaply."""
    import numpy as np
    import scipy.io

    try:
        mat = scipy.io.loadmat(
            path,
            squeeze_me=True,
            struct_as_record=False,
            variable_names=["EEG", "nbchan", "pnts", "trials", "data"],
        )
        eeg = mat.get("EEG")
        get = (lambda key: getattr(eeg, key)) if eeg is not None else mat.__getitem__
        sizes = [int(np.asarray(get(key)).item()) for key in ("nbchan", "pnts", "trials")]
        return sizes[0], sizes[1], sizes[2], get("data")
    except Exception:  # MATLAB v7.3 or an odd layout: leave the verdict to MNE's reader
        return None


def _check_eeglab_size(path: Path) -> None:
    """Raise InputFileError when the .fdt of an EEGLAB .set is shorter than its header declares.

    The .fdt holds float32 samples, ``nbchan x pnts x trials x 4`` bytes.
    Only checked when the folder holds a .fdt (so .set files with embedded data are
    not read twice) and the .set is a MATLAB v5 file that names it.
    """
    if not any(path.parent.glob("*.fdt")) and not any(path.parent.glob("*.FDT")):
        return
    fields = _eeglab_fields(path)
    if fields is None or not isinstance(fields[3], str):
        return
    n_channels, n_points, n_trials, name = fields
    data = path.parent / Path(name.strip()).name
    if not data.is_file():
        data = path.with_suffix(".fdt")
    if not data.is_file() or min(n_channels, n_points, n_trials) < 1:
        return
    expected = n_channels * n_points * n_trials * 4
    actual = data.stat().st_size
    if actual < expected:
        declared = f"{n_channels} channels x {n_points} samples x {n_trials} trial(s) of float32"
        raise _truncated(data, path, declared, expected, actual)


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


def _read_mne(path: Path, preload: bool, verbose: Any) -> EEGInstance:
    return mne.io.read_raw(path, preload=preload, verbose=verbose)


def _choose_reader(path: Path) -> tuple[str, str, Callable[[Path, bool, Any], EEGInstance]]:
    """Return (label, format description, reader) for a file path."""
    ext = _extension(path)
    if _bids_root(path) is not None:
        return "mne_bids.read_raw_bids", "BIDS EEG", _read_bids
    if ext == ".set":
        return "mne.io.read_raw_eeglab", "EEGLAB .set", _read_eeglab
    if ext in (".fif", ".fif.gz"):
        return "mne.io.read_raw_fif", "FIF", _read_fif
    readers = {".edf": "read_raw_edf", ".bdf": "read_raw_bdf", ".gdf": "read_raw_gdf", ".vhdr": "read_raw_brainvision"}
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
        raise InputFileError(
            f"{path}: unknown EEG file extension {ext or '(none)'!r}; supported: {', '.join(supported_extensions())}"
        )
    if path.is_dir() and ext not in _DIRECTORY_FORMATS:
        raise InputFileError(f"{path}: is a folder, not an EEG file")


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
    path: Any, *, sfreq: float | None, preload: bool, verbose: Any
) -> tuple[EEGInstance, str, tuple[str, ...]]:
    """Dispatch to the right reader; return (inst, reader label, notes)."""
    if _is_bids_path(path):
        with _reading(path, "BIDS EEG"):
            return _read_bids(path, preload, verbose), "mne_bids.read_raw_bids", ()
    path = Path(path)
    _check_path(path)
    ext = _extension(path)
    if ext == ".csv":
        with _reading(path, "headset CSV"):
            raw, timing, markers = _read_headset_csv(path, sfreq=sfreq, verbose=verbose)
        notes = ((timing.describe(),) if timing else ()) + ((describe_marker_codes(markers),) if markers else ())
        return raw, "harmonix.io.read_headset_csv", notes
    if ext in (".edf", ".bdf"):
        _check_edf_size(path, 3 if ext == ".bdf" else 2)
    elif ext in (".vhdr", ".ahdr"):
        _check_brainvision_size(path)
    elif ext == ".set":
        _check_eeglab_size(path)
    label, what, reader = _choose_reader(path)
    with _reading(path, what):
        inst = reader(path, preload, verbose)
    notes = ()
    if label != "mne_bids.read_raw_bids" and _BIDS_NAME.match(path.name):
        notes = ("file name follows BIDS but no dataset_description.json was found above it; read as a plain file",)
    if isinstance(inst, mne.BaseEpochs):
        label = "mne.read_epochs_eeglab" if ext == ".set" else "mne.read_epochs"
    _check_sfreq(inst, sfreq, str(path))
    return inst, label, notes


def load_eeg_with_report(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    montage: str | mne.channels.DigMontage | None = "standard_1005",
    preload: bool = True,
    verbose: bool | str | int | None = None,
) -> tuple[EEGInstance, LoadReport]:
    """Load an EEG recording and report what was normalised.

    Same parameters as :func:`load_eeg`.

    Returns
    -------
    inst : mne.io.Raw | mne.Epochs
        The recording.
    report : LoadReport
        Reader used, renamed and re-typed channels, montage decision, notes.

    Examples
    --------
    >>> raw, report = load_eeg_with_report("S001R01.edf")  # doctest: +SKIP
    >>> print("\\n".join(report.lines()))  # doctest: +SKIP
    read S001R01.edf with mne.io.read_raw_edf: raw, 64 channels, 160 Hz, 61.00 s
    renamed channels: Fc5. -> FC5, ...
    montage: 64 of 64 EEG channels positioned from montage 'standard_1005'
    """
    inst, reader, notes = _read_any(path, sfreq=sfreq, preload=preload, verbose=verbose)
    bids = {}
    if reader == "mne_bids.read_raw_bids":
        bids = _bids_facts(path, inst)  # before renaming: the sidecars name channels as the file does
        notes = (*notes, _describe_bids(bids))
    conventions = apply_channel_conventions(inst)
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
    )
    return inst, report


def load_eeg(
    path: str | PathLike,
    *,
    sfreq: float | None = None,
    montage: str | mne.channels.DigMontage | None = "standard_1005",
    preload: bool = True,
    verbose: bool | str | int | None = None,
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
        MNE verbosity.

    Returns
    -------
    inst : mne.io.Raw | mne.Epochs
        Data in volts, shape (n_channels, n_times) per epoch.

    Raises
    ------
    InputFileError
        Missing file, unknown extension, or a file that is corrupt or
        truncated (detected from the header's declared size for EDF/BDF,
        BrainVision binary ``.eeg`` and EEGLAB ``.fdt`` data files).
    ParameterError
        ``sfreq`` contradicts the file, or a CSV has no usable (numeric)
        timestamps and no ``sfreq``.

    Examples
    --------
    >>> raw = load_eeg("S001R01.edf")  # doctest: +SKIP
    >>> raw.ch_names[:3]  # doctest: +SKIP
    ['FC5', 'FC3', 'FC1']
    """
    inst, _ = load_eeg_with_report(path, sfreq=sfreq, montage=montage, preload=preload, verbose=verbose)
    return inst

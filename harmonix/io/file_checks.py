"""A recording file's own consistency, checked around MNE's reader.

MNE reads some damaged files without complaint, or only with a log message:
an EDF/BDF header whose record count, record duration, samples per record or
scaling disagree with the file; a BrainVision or EEGLAB data file shorter
than its header says; markers past the end of the data (a truncated copy).
These checks read only headers and file sizes. What cannot be trusted is an
:class:`~harmonix.errors.InputFileError`; what can be read with a known
correction comes back as warning texts for the load report
(:func:`harmonix.io.load_eeg_with_report`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harmonix.errors import InputFileError


def _edf_fields(raw: bytes, n_signals: int, offset: int, width: int) -> list[str]:
    """The ``n_signals`` ASCII fields of ``width`` bytes starting at ``offset`` of an EDF header."""
    chunk = raw[offset : offset + width * n_signals]
    return [chunk[i : i + width].decode("ascii", "replace").strip() for i in range(0, len(chunk), width)]


def _edf_numbers(path: Path, values: list[str], labels: list[str], what: str, lenient: set[int]) -> list[float]:
    """The numbers of one header field; NaN for the channels in ``lenient`` (annotations) that have none."""
    out = []
    for i, (label, value) in enumerate(zip(labels, values)):
        try:
            out.append(float(value))
        except ValueError:
            if i not in lenient:
                raise InputFileError(
                    f"{path}: not a valid EDF/BDF header (channel {label!r}: {what} {value!r} is not a number)"
                ) from None
            out.append(float("nan"))
    return out


def check_edf_header(path: Path, bytes_per_sample: int) -> list[str]:
    """Check an EDF/BDF header against itself and the file size; return warnings, raise on untrustworthy data.

    MNE reads a truncated EDF silently (fewer records, or zeros) and works
    around inconsistent headers with warnings only, so the header is read
    here first. Refused (InputFileError): a file shorter than the header's
    record count and record size; no samples per data record; a data-record
    duration that is not positive (the sampling rate would be a guess); EEG
    channels whose physical or digital minimum equals the maximum (no scale
    from digital values to volts: every sample would be the same value).
    Returned as warnings: a record count of -1 (unknown) or smaller than the
    records present (all complete records are read), bytes after the last
    complete record (ignored), and channels without samples or range that
    are not EEG.
    """
    from harmonix.io.channels import infer_channel_types

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
        signals = fh.read(256 * n_signals)
    if len(signals) < 256 * n_signals:
        raise InputFileError(f"{path}: truncated EDF/BDF header")
    try:
        duration = float(fixed[244:252].decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise InputFileError(f"{path}: not a valid EDF/BDF header (bad data-record duration field)") from None
    # Field offsets inside the per-signal header block (EDF specification).
    labels = _edf_fields(signals, n_signals, 0, 16)
    annotations = {i for i, label in enumerate(labels) if label.lower() in ("edf annotations", "bdf annotations")}
    ranges = [
        _edf_numbers(path, _edf_fields(signals, n_signals, offset * n_signals, 8), labels, what, annotations)
        for offset, what in ((104, "physical minimum"), (112, "physical maximum"), (120, "digital minimum"),
                             (128, "digital maximum"))
    ]
    pmin, pmax, dmin, dmax = ranges
    units = _edf_fields(signals, n_signals, 96 * n_signals, 8)
    try:
        samples = [int(v) for v in _edf_fields(signals, n_signals, 216 * n_signals, 8)]
    except ValueError as err:
        raise InputFileError(f"{path}: not a valid EDF/BDF header (bad samples-per-record field)") from err

    per_record = sum(samples)
    if per_record <= 0:
        raise InputFileError(
            f"{path}: the EDF/BDF header declares 0 samples per data record for every channel; there is no data to read"
        )
    if not duration > 0:
        raise InputFileError(
            f"{path}: the EDF/BDF header gives a data-record duration of {duration:g} s, so the sampling rate is "
            "unknown; fix the header (the duration of one record in seconds)"
        )
    non_eeg = infer_channel_types(labels)
    is_eeg = [i not in annotations and labels[i] not in non_eeg for i in range(n_signals)]
    found: list[str] = []
    for problem, bad in (
        ("physical minimum = maximum", [pmin[i] == pmax[i] for i in range(n_signals)]),
        ("digital minimum = maximum", [dmin[i] == dmax[i] for i in range(n_signals)]),
    ):
        eeg_bad = [labels[i] for i in range(n_signals) if bad[i] and is_eeg[i]]
        if eeg_bad:
            example = next(i for i in range(n_signals) if bad[i] and is_eeg[i])
            value = (f"{pmin[example]:g} {units[example]}".strip() if problem.startswith("physical")
                     else f"{dmin[example]:g}")
            several = len(eeg_bad) > 1
            raise InputFileError(
                f"{path}: the EDF/BDF header gives {problem} (both {value}) for EEG channel{'s' if several else ''} "
                f"{', '.join(eeg_bad)}: {'their' if several else 'its'} samples cannot be scaled to volts "
                "(every sample would be the same value); re-export the recording with a valid range"
            )
        other = [labels[i] for i in range(n_signals) if bad[i] and not is_eeg[i] and i not in annotations]
        if other:
            found.append(
                f"{problem} in the header for non-EEG channel(s) {', '.join(other)}: their values are unscaled"
            )
    # EDF requires digital maximum > minimum; swapped, the scale is negative and MNE reads the channel upside down.
    inverted = [labels[i] for i in range(n_signals) if dmin[i] > dmax[i] and i not in annotations]
    if inverted:
        found.append(
            f"digital minimum > maximum in the header for channel(s) {', '.join(inverted)}: read with inverted "
            "polarity (amplitudes and power are unaffected, phase is flipped by 180 degrees)"
        )
    empty = [labels[i] for i in range(n_signals) if samples[i] <= 0 and i not in annotations]
    if empty:
        found.append(f"channel(s) {', '.join(empty)} have 0 samples per data record in the header: read as zeros")

    record_bytes = per_record * bytes_per_sample
    actual = path.stat().st_size
    complete, trailing = divmod(max(actual - header_bytes, 0), record_bytes)
    if n_records >= 0:
        expected = header_bytes + n_records * record_bytes
        if actual < expected:
            raise InputFileError(
                f"{path}: file is truncated: the header declares {n_records} data records ({expected} bytes) "
                f"but the file has {actual} bytes ({complete} complete records); re-export or re-copy it"
            )
    if complete == 0:
        raise InputFileError(f"{path}: the file holds no complete data record ({record_bytes} bytes each)")
    if n_records < 0:
        meaning = "unknown" if n_records == -1 else "invalid; -1 means unknown"
        found.append(
            f"the header's record count is {n_records} ({meaning}); read the {complete} complete records found"
        )
    elif complete > n_records:
        found.append(
            f"the header declares {n_records} data records but the file holds {complete}; all {complete} are read "
            "(the header was probably not updated when the recording stopped)"
        )
    if trailing:
        found.append(f"{trailing} bytes after the last complete data record are ignored (an incomplete record)")
    return found


# A reader's warning that the file is cut short: the data cannot be trusted.
TRUNCATED = re.compile(r"\btruncated\b", re.IGNORECASE)

# MNE's warnings that check_edf_header already reports, in its own words.
EDF_WARNINGS_EXPLAINED = (
    "Number of records from the header does not match the file size",
    "Physical range is not defined",
    "Scaling factor will not be defined",
)


# MNE's warning when markers lie past the last sample (mne.Annotations cropped to the data).
OMITTED_MARKERS = ("Omitted ",)
_OMITTED = re.compile(r"Omitted (\d+) annotation\(s\) that were outside data range")


def markers_past_end(path: Path, messages: list[str]) -> str | None:
    """Say what MNE's 'Omitted N annotation(s)' means for a BrainVision recording, or None.

    Without ``DataPoints`` in the header, a data file cut at a whole sample
    frame reads as a shorter recording; markers recorded after its last
    sample are then the only sign that data are missing.
    """
    found = next((m for m in map(_OMITTED.match, messages) if m), None)
    if found is None:
        return None
    try:
        fields = _brainvision_header(path)
    except OSError:
        fields = {}
    markers = fields.get("markerfile", "").replace("$b", path.stem) or "the marker file"
    data = fields.get("datafile", "").replace("$b", path.stem) or "the data file"
    return (
        f"{found.group(1)} marker(s) in {markers} lie past the end of the data and were left out: "
        f"{data} may be truncated (re-export or re-copy it if the recording was longer)"
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


def check_brainvision_size(path: Path) -> None:
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


def check_eeglab_size(path: Path) -> None:
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

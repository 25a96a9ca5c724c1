"""A generator of bad inputs for every harmonix command (the corpus of issue 13).

Each :class:`Case` writes its inputs into a folder and names the command line
that must handle them. The corpus test runs every case and holds harmonix to
one promise: a case either succeeds, or ends with exit status 1 or 2 and one
line per failed input on stderr (``harmonix: error: ...``), never a traceback;
nothing partial is left; nothing it was given is modified.

Categories: ``eeg-file`` (zero-byte, random, truncated and garbled files of
every format MNE reads, plus extensions no EEG reader owns), ``eeg-content``
(NaN/Inf, flat, too short, odd rates and channel counts, bad annotations),
``headset-csv`` (malformed consumer-headset exports), ``protocol`` (hostile
stimulation protocols), ``audio`` (broken music inputs and rendered files
for ``--check``), ``analysis-folder`` (corrupt outputs given to ``compare``),
``collision`` (names and paths that collide with inputs or each other).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

SFREQ = 128.0
CHANNELS = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8", "T7", "T8", "Fz", "Cz", "Pz"]


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it and the command that must handle it.

    ``make(folder)`` (or ``make(folder, data)`` when ``needs_data``, ``data``
    being the real-data folder) writes the inputs into ``folder`` and returns
    the command's arguments (without the leading ``harmonix``); outputs go
    under ``folder`` too. ``ok`` lists the exit statuses that count as
    handled (a case that may legitimately succeed, such as a recording
    analysed with a band skipped, includes 0). ``check(folder, stdout,
    stderr, code)``, when given, asserts what a correct outcome must show
    beyond that (a rendered file under its ceiling, a warning, a result not
    lost).
    """

    category: str
    name: str
    make: Callable[..., list[str]]
    ok: tuple[int, ...] = (2,)
    check: Callable[[Path, str, str, int], None] | None = None
    needs_data: bool = False

def _raw(n_times: int = int(20 * SFREQ), *, channels=CHANNELS, sfreq: float = SFREQ, seed: int = 0) -> mne.io.RawArray:
    rng = np.random.default_rng(seed)
    data = 1e-5 * rng.standard_normal((len(channels), n_times))
    raw = mne.io.RawArray(data, mne.create_info(list(channels), sfreq, "eeg"), verbose=False)
    return raw


def _save_fif(raw: mne.io.BaseRaw, path: Path) -> Path:
    raw.save(path, overwrite=True, verbose=False)
    return path


def _save_edf(raw: mne.io.BaseRaw, path: Path) -> Path:
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose=False)
    return path


def analyze_args(folder: Path, *inputs: Path | str, extra: tuple[str, ...] = (), quiet: bool = True) -> list[str]:
    """``harmonix analyze`` of ``inputs`` into ``folder/out`` (harmonics off, two bands: the cases are about input).

    ``quiet=False`` keeps warnings on stderr, for the cases that must warn.
    """
    return [*(["-q"] if quiet else []), "analyze", *map(str, inputs), "--harmonics", "off", "--bands", "alpha,beta",
            *extra, "--out", str(folder / "out")]


# --------------------------------------------------------------------------- EEG files

_EEG_EXTENSIONS = (".edf", ".bdf", ".gdf", ".fif", ".set", ".vhdr", ".cnt", ".eeg", ".csv", ".txt", ".xyz")


def _eeg_file_cases() -> list[Case]:
    cases = []
    for ext in _EEG_EXTENSIONS:
        def zero(folder: Path, ext=ext) -> list[str]:
            path = folder / f"empty{ext}"
            path.write_bytes(b"")
            return analyze_args(folder, path)

        def random_bytes(folder: Path, ext=ext) -> list[str]:
            path = folder / f"noise{ext}"
            path.write_bytes(np.random.default_rng(len(ext)).integers(0, 256, 4096, dtype=np.uint8).tobytes())
            return analyze_args(folder, path)

        cases.append(Case("eeg-file", f"zero-byte {ext}", zero))
        cases.append(Case("eeg-file", f"random bytes {ext}", random_bytes))

    def truncated(kind: str) -> Callable[[Path], list[str]]:
        def make(folder: Path) -> list[str]:
            full = folder / f"full.{kind}"
            raw = _raw()
            (_save_edf if kind in ("edf",) else _save_fif)(raw, full if kind == "edf" else folder / "full_raw.fif")
            source = full if kind == "edf" else folder / "full_raw.fif"
            data = source.read_bytes()
            cut = folder / (f"cut.{kind}" if kind == "edf" else "cut_raw.fif")
            cut.write_bytes(data[: len(data) // 3])
            source.unlink()
            return analyze_args(folder, cut)
        return make

    cases.append(Case("eeg-file", "truncated EDF", truncated("edf")))
    cases.append(Case("eeg-file", "truncated FIF", truncated("fif")))

    def garbled_vhdr(folder: Path) -> list[str]:
        path = folder / "rec.vhdr"
        path.write_text("Brain Vision Data Exchange Header File Version 1.0\n[Common Infos\nDataFile=rec.eeg\n=\n")
        (folder / "rec.eeg").write_bytes(b"\0" * 64)
        return analyze_args(folder, path)

    def vhdr_without_data(folder: Path) -> list[str]:
        path = folder / "rec.vhdr"
        path.write_text("Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nDataFile=missing.eeg\n"
                        "MarkerFile=missing.vmrk\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\nNumberOfChannels=2\n"
                        "SamplingInterval=4000\n[Binary Infos]\nBinaryFormat=INT_16\n[Channel Infos]\n"
                        "Ch1=Cz,,0.1,µV\nCh2=Pz,,0.1,µV\n")
        return analyze_args(folder, path)

    def edf_zero_samples(folder: Path) -> list[str]:
        path = _save_edf(_raw(), folder / "rec.edf")
        header = bytearray(path.read_bytes())
        n_signals = int(header[252:256].decode().strip())
        # samples per record of every signal -> 0
        start = 256 + n_signals * (16 + 80 + 8 + 8 + 8 + 8 + 8 + 80)
        for i in range(n_signals):
            header[start + 8 * i : start + 8 * (i + 1)] = b"0       "
        path.write_bytes(bytes(header))
        return analyze_args(folder, path)

    def edf_physical_equal(folder: Path) -> list[str]:
        path = _save_edf(_raw(), folder / "rec.edf")
        header = bytearray(path.read_bytes())
        n_signals = int(header[252:256].decode().strip())
        pmin = 256 + n_signals * (16 + 80 + 8)
        pmax = pmin + 8 * n_signals
        for i in range(n_signals):
            header[pmax + 8 * i : pmax + 8 * (i + 1)] = header[pmin + 8 * i : pmin + 8 * (i + 1)]
        path.write_bytes(bytes(header))
        return analyze_args(folder, path)

    def edf_wrong_record_count(folder: Path) -> list[str]:
        path = _save_edf(_raw(), folder / "rec.edf")
        header = bytearray(path.read_bytes())
        header[236:244] = b"9999    "
        path.write_bytes(bytes(header))
        return analyze_args(folder, path)

    def missing_file(folder: Path) -> list[str]:
        return analyze_args(folder, folder / "does-not-exist.edf")

    def a_folder_as_file(folder: Path) -> list[str]:
        (folder / "rec.edf").mkdir()
        return analyze_args(folder, folder / "rec.edf")

    cases += [
        Case("eeg-file", "garbled BrainVision header", garbled_vhdr),
        Case("eeg-file", "BrainVision header without its data file", vhdr_without_data),
        Case("eeg-file", "EDF with 0 samples per record", edf_zero_samples),
        Case("eeg-file", "EDF with physical min = max", edf_physical_equal),
        Case("eeg-file", "EDF header declaring too many records", edf_wrong_record_count),
        Case("eeg-file", "missing file", missing_file),
        Case("eeg-file", "a folder named like a recording", a_folder_as_file),
    ]
    return cases


# --------------------------------------------------------------------------- EEG content

def _content_cases() -> list[Case]:
    def with_data(name: str, mutate: Callable[[np.ndarray], np.ndarray], *, sfreq=SFREQ, n=int(20 * SFREQ),
                  channels=CHANNELS, ok=(2,), extra=(), check=None):
        def make(folder: Path) -> list[str]:
            raw = _raw(n, channels=channels, sfreq=sfreq)
            raw._data = mutate(raw.get_data())
            return analyze_args(folder, _save_fif(raw, folder / "rec_raw.fif"), extra=extra, quiet=check is None)
        return Case("eeg-content", name, make, ok=ok, check=check)

    def nan(x):
        x[2, 100:120] = np.nan
        return x

    def inf(x):
        x[0, 5] = np.inf
        return x

    def flat(x):
        x[3] = 0.0
        return x

    def constant(x):
        x[4] = 1e-3
        return x

    def all_flat(x):
        return np.zeros_like(x)

    def huge(x):
        return x * 1e6

    def tiny(x):
        return x * 1e-10

    def annotate_everything(folder: Path) -> list[str]:
        raw = _raw()
        raw.set_annotations(mne.Annotations([0.0], [raw.times[-1] + 1 / SFREQ], ["BAD_all"]))
        return analyze_args(folder, _save_fif(raw, folder / "rec_raw.fif"))

    def only_misc_channels(folder: Path) -> list[str]:
        raw = _raw(channels=["AUX1", "AUX2"])
        raw.set_channel_types({"AUX1": "misc", "AUX2": "misc"})
        return analyze_args(folder, _save_fif(raw, folder / "rec_raw.fif"))

    return [
        with_data("NaN samples", nan),
        with_data("Inf sample", inf),
        with_data("a flat channel", flat),
        with_data("a flat channel with --mark-flat", flat, ok=(0,), extra=("--mark-flat",)),
        with_data("a constant channel", constant),
        with_data("every channel flat", all_flat),
        with_data("amplitudes around 10 V", huge, ok=(0, 2), check=_warns_when_it_succeeds),
        with_data("amplitudes around 1e-15 V", tiny, ok=(0, 2)),
        with_data("0.79 s long", lambda x: x, n=int(0.79 * SFREQ), ok=(0, 2)),
        with_data("2 samples", lambda x: x, n=2),
        with_data("sampled at 20 Hz", lambda x: x, sfreq=20.0, n=400, ok=(0, 2)),
        with_data("one channel", lambda x: x, channels=["Cz"], ok=(0,)),
        Case("eeg-content", "every sample annotated bad", annotate_everything),
        Case("eeg-content", "no EEG channel", only_misc_channels),
    ]


# --------------------------------------------------------------------------- headset CSV

def _muse_csv(rows: int = 2560, *, rate: float = 256.0) -> str:
    rng = np.random.default_rng(3)
    lines = ["timestamps,TP9,AF7,AF8,TP10,Right AUX,Marker0"]
    for i in range(rows):
        values = ",".join(f"{v:.3f}" for v in rng.normal(0, 10, 5))
        lines.append(f"{1500000000 + i / rate:.6f},{values},0")
    return "\n".join(lines) + "\n"


def _csv_cases() -> list[Case]:
    def csv_case(name: str, text: Callable[[], str], ok=(2,), extra=()) -> Case:
        def make(folder: Path) -> list[str]:
            path = folder / "muse.csv"
            path.write_text(text())
            return ["-q", "analyze", str(path), "--harmonics", "off", "--bands", "alpha,beta", *extra,
                    "--out", str(folder / "out")]
        return Case("headset-csv", name, make, ok=ok)

    def non_numeric() -> str:
        lines = _muse_csv().splitlines()
        parts = lines[500].split(",")
        parts[2] = "n/a?"
        lines[500] = ",".join(parts)
        return "\n".join(lines) + "\n"

    def backwards() -> str:
        lines = _muse_csv().splitlines()
        parts = lines[1000].split(",")
        parts[0] = f"{float(parts[0]) - 5:.6f}"
        lines[1000] = ",".join(parts)
        return "\n".join(lines) + "\n"

    return [
        csv_case("header only", lambda: "timestamps,TP9,AF7,AF8,TP10\n"),
        csv_case("no timestamps column and no --sfreq", lambda: "a,b,c\n1,2,3\n4,5,6\n"),
        csv_case("a non-numeric cell", non_numeric),
        csv_case("a backward timestamp jump", backwards),
        csv_case("binary garbage with a .csv name", lambda: "\x00\x01\x02" * 100),
        csv_case("ragged rows", lambda: _muse_csv(400).replace("\n1500000000.1", "\n1500000000.1,1,2", 1)),
    ]


# --------------------------------------------------------------------------- real files, damaged

_REAL_FILES = {  # name in the data folder -> the files that make up the recording
    "EDF (PhysioNet EEGMMIDB)": ("eegmmidb_S001R01.edf",),
    "BDF (BioSemi)": ("mne_biosemi_test.bdf",),
    "FIF": ("ssvep_exo_s01_raw.fif",),
    "EEGLAB .set": ("eeglab_data.set", "eeglab_data.fdt"),
    "BrainVision": ("test.vhdr", "test.eeg", "test.vmrk"),
    "Muse CSV": ("eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv",),
}
_TRUNCATE_AT = (0.0005, 0.05, 0.5, 0.97)


def _copy_recording(data: Path, folder: Path, files: tuple[str, ...]) -> list[Path]:
    paths = []
    for name in files:
        target = folder / name
        target.write_bytes((data / name).read_bytes())
        paths.append(target)
    return paths


def _warns_when_it_succeeds(folder: Path, out: str, err: str, code: int) -> None:
    """A recording harmonix cannot fully trust (a header at odds with the file, implausible units) may be
    analysed, but never without a warning."""
    if code == 0:
        assert "harmonix: warning:" in err, "a questionable recording was analysed without a warning"


def _real_file_cases() -> list[Case]:
    """Every real recording truncated at several points: of its data file, and of its header where it has one."""
    cases = []
    for label, files in _REAL_FILES.items():
        damaged = [files[-2] if len(files) == 3 else files[-1]]  # the data file (.eeg, .fdt) or the only file
        if len(files) > 1:
            damaged.append(files[0])  # the header (.vhdr, .set)
        for victim in damaged:
            for fraction in _TRUNCATE_AT:
                def make(folder: Path, data: Path, files=files, victim=victim, fraction=fraction) -> list[str]:
                    paths = _copy_recording(data, folder, files)
                    target = folder / victim
                    content = target.read_bytes()
                    target.write_bytes(content[: max(1, int(len(content) * fraction))])
                    return analyze_args(folder, paths[0], quiet=False)

                # A data file cut short is a shorter recording whose header (or markers) say otherwise: it
                # may be analysed, but only with a warning. A cut header cannot be read, except a BrainVision
                # header that lost only its trailing comments (the impedance table).
                data_file = victim == files[-1 if len(files) == 1 else -2]
                ok, check = ((0, 2), _warns_when_it_succeeds) if data_file and fraction >= 0.05 else ((2,), None)
                if label == "Muse CSV":
                    ok, check = ((0, 2) if fraction >= 0.05 else (2,)), None  # a CSV cut mid-row is a shorter CSV
                if victim.endswith(".vhdr") and fraction > 0.9:
                    ok = (0, 2)
                cases.append(Case("eeg-file", f"{label}: {victim} cut to {fraction:g}", make, ok=ok, check=check,
                                  needs_data=True))
    return cases


# EDF/BDF header (byte offsets of the fixed part, then the per-signal fields, 8 bytes unless noted)
_EDF_GLOBAL = {"version": (0, 8), "start date": (168, 8), "start time": (176, 8), "header bytes": (184, 8),
               "record count": (236, 8), "record duration": (244, 8), "signal count": (252, 4)}
_EDF_SIGNAL = {"label": (0, 16), "physical minimum": (104, 8), "physical maximum": (112, 8),
               "digital minimum": (120, 8), "digital maximum": (128, 8), "samples per record": (216, 8)}
_EDF_SIGNAL_BYTES = 256
# value written, and whether a recording so damaged may still be analysed (with a warning) or must be refused
_EDF_DAMAGE = {
    "version": [(b"abc", (0, 2))],
    "start date": [(b"99.99.99", (0, 2))],
    "start time": [(b"xx:yy:zz", (0, 2))],
    "header bytes": [(b"0", (2,)), (b"abc", (0, 2)), (b"99999999", (2,))],
    "record count": [(b"0", (0, 2)), (b"-5", (0, 2)), (b"abc", (2,)), (b"9999", (2,))],
    "record duration": [(b"0", (2,)), (b"-1", (2,)), (b"abc", (2,)), (b"1e9", (0, 2))],
    "signal count": [(b"0", (2,)), (b"abc", (2,)), (b"999", (2,))],
    "label": [(b"EEG", (0, 2)), (b"", (0, 2))],
    "physical minimum": [(b"abc", (2,)), ("= maximum", (2,))],
    "physical maximum": [(b"nan", (2,))],
    "digital minimum": [("= maximum", (2,)), ("> maximum", (0, 2))],
    "samples per record": [(b"0", (2,)), (b"-3", (2,)), (b"abc", (2,)), (b"99999", (2,))],
}


def _damage_edf_header(header: bytearray, field_name: str, value) -> None:
    n_signals = int(header[252:256].decode("ascii").strip())
    if field_name in _EDF_GLOBAL:
        start, width = _EDF_GLOBAL[field_name]
        header[start: start + width] = value.ljust(width)[:width]
        return
    offset, width = _EDF_SIGNAL[field_name]
    for i in range(n_signals):
        # the per-signal fields are stored field by field: offset * n_signals + i * width
        start = _EDF_SIGNAL_BYTES + offset * n_signals + i * width
        if value == "= maximum":
            other = start + width * n_signals
            header[start: start + width] = header[other: other + width]
        elif value == "> maximum":
            other = start + width * n_signals
            lo, hi = bytes(header[start: start + width]), bytes(header[other: other + width])
            header[start: start + width], header[other: other + width] = hi, lo
        else:
            header[start: start + width] = value.ljust(width)[:width]


def _edf_header_cases() -> list[Case]:
    cases = []
    sources = {"EDF": lambda folder, data: _save_edf(_raw(), folder / "rec.edf"),
               "BDF": lambda folder, data: _copy_recording(data, folder, ("mne_biosemi_test.bdf",))[0]}
    for kind, source in sources.items():
        for field_name, damages in _EDF_DAMAGE.items():
            for value, ok in damages:
                def make(folder: Path, data: Path | None = None, source=source, field_name=field_name,
                         value=value) -> list[str]:
                    path = source(folder, data)
                    content = bytearray(path.read_bytes())
                    _damage_edf_header(content, field_name, value)
                    path.write_bytes(bytes(content))
                    return analyze_args(folder, path, quiet=False)

                shown = value if isinstance(value, str) else value.decode() or "(blank)"
                cases.append(Case("eeg-file", f"{kind} header: {field_name} {shown}", make, ok=ok,
                                  check=_warns_when_it_succeeds if field_name in (
                                      "record count", "record duration", "header bytes", "digital minimum") else None,
                                  needs_data=kind == "BDF"))
    return cases


# --------------------------------------------------------------------------- more EEG content

def _more_content_cases() -> list[Case]:
    def fif_with(name: str, prepare: Callable[[mne.io.RawArray, Path], tuple[str, ...]], ok=(2,), n=int(20 * SFREQ),
                 sfreq=SFREQ, check=None) -> Case:
        def make(folder: Path) -> list[str]:
            raw = _raw(n, sfreq=sfreq)
            extra = prepare(raw, folder)
            return analyze_args(folder, _save_fif(raw, folder / "rec_raw.fif"), extra=extra, quiet=check is None)
        return Case("eeg-content", name, make, ok=ok, check=check)

    def nan_channel(raw, folder):
        raw._data[1] = np.nan
        return ()

    def annotation_past_end(raw, folder):
        raw.set_annotations(mne.Annotations([5.0, 18.0], [1.0, 30.0], ["BAD_blink", "BAD_beyond"]))
        return ()

    def events_missing(raw, folder):
        return ("--conditions", "rest,task")

    def tmin_after_tmax(raw, folder):
        raw.set_annotations(mne.Annotations([2.0, 8.0, 14.0], [0.0] * 3, ["go"] * 3))
        return ("--conditions", "go", "--tmin", "2", "--tmax", "1")

    def events_file_garbage(raw, folder):
        (folder / "events.tsv").write_bytes(b"\x00\xff garbage \x01\n")
        return ("--events", str(folder / "events.tsv"), "--conditions", "go")

    def events_file_missing(raw, folder):
        return ("--events", str(folder / "no-such-events.tsv"), "--conditions", "go")

    def events_file_no_onset(raw, folder):
        (folder / "events.tsv").write_text("duration\ttrial_type\n1.0\tgo\n")
        return ("--events", str(folder / "events.tsv"), "--conditions", "go")

    def events_beyond_recording(raw, folder):
        (folder / "events.tsv").write_text("onset\tduration\ttrial_type\n500\t2\tgo\n600\t2\tgo\n")
        return ("--events", str(folder / "events.tsv"), "--conditions", "go")

    def conditions_protocol_garbage(raw, folder):
        (folder / "cond.toml").write_text("[[segments]\nduration = ")
        return ("--protocol", str(folder / "cond.toml"))

    def unknown_channel_names(raw, folder):
        raw.rename_channels({name: f"X{i}" for i, name in enumerate(raw.ch_names)})
        return ()

    return [
        fif_with("a channel all NaN", nan_channel),
        fif_with("a bad annotation running past the end (MNE limits it)", annotation_past_end, ok=(0,)),
        fif_with("--conditions without any events", events_missing),
        fif_with("--tmin after --tmax", tmin_after_tmax),
        fif_with("--events file of binary garbage", events_file_garbage),
        fif_with("--events file missing", events_file_missing),
        fif_with("--events file without an onset column", events_file_no_onset),
        fif_with("--events all after the recording ends", events_beyond_recording),
        fif_with("--protocol (conditions) of broken TOML", conditions_protocol_garbage),
        fif_with("channel names no montage knows", unknown_channel_names, ok=(0,)),
        fif_with("sampled at 1 Hz", lambda raw, folder: (), n=100, sfreq=1.0, ok=(0, 2)),
        fif_with("sampled at 20 kHz for 2 s", lambda raw, folder: (), n=40000, sfreq=20000.0, ok=(0,)),
    ]


def _more_csv_cases() -> list[Case]:
    def edit(row: int, column: int, value: str) -> Callable[[], str]:
        def text() -> str:
            lines = _muse_csv().splitlines()
            parts = lines[row].split(",")
            parts[column] = value
            lines[row] = ",".join(parts)
            return "\n".join(lines) + "\n"
        return text

    def constant_timestamps() -> str:
        lines = _muse_csv(600).splitlines()
        return "\n".join([lines[0]] + ["1500000000.0," + line.split(",", 1)[1] for line in lines[1:]]) + "\n"

    def forward_gap() -> str:
        lines = _muse_csv().splitlines()
        for i in range(1200, len(lines)):
            parts = lines[i].split(",")
            parts[0] = f"{float(parts[0]) + 10:.6f}"
            lines[i] = ",".join(parts)
        return "\n".join(lines) + "\n"

    def csv_case(name: str, text: Callable[[], str] | bytes, ok=(2,)) -> Case:
        def make(folder: Path) -> list[str]:
            path = folder / "muse.csv"
            path.write_bytes(text if isinstance(text, bytes) else text().encode("utf-8"))
            return analyze_args(folder, path)
        return Case("headset-csv", name, make, ok=ok)

    return [
        csv_case("a 'nan' cell", edit(700, 3, "nan")),
        csv_case("an 'inf' cell", edit(700, 3, "inf")),
        csv_case("an empty cell", edit(900, 2, "")),
        csv_case("an empty timestamp", edit(900, 0, "")),
        csv_case("a text timestamp", edit(901, 0, "noon")),
        csv_case("every timestamp the same", constant_timestamps),
        csv_case("a 10 s forward gap in the timestamps", forward_gap, ok=(0,)),
        csv_case("semicolon-separated", lambda: _muse_csv(600).replace(",", ";")),
        csv_case("a UTF-8 byte-order mark", lambda: "\ufeff" + _muse_csv(), ok=(0,)),
        csv_case("non-UTF-8 bytes in the header", b"timestamps,TP9,\xff\xfe\n" + _muse_csv(50).encode()[60:]),
        csv_case("one data row", lambda: _muse_csv(1)),
        csv_case("timestamps in milliseconds", lambda: "\n".join(
            [_muse_csv().splitlines()[0]] + [f"{1.5e12 + i * 3.90625:.3f}," + line.split(",", 1)[1]
                                             for i, line in enumerate(_muse_csv().splitlines()[1:])]) + "\n",
                 ok=(0, 2)),
    ]


# --------------------------------------------------------------------------- stimulation protocols

_RENDER_SFREQ = "48000"


def _protocol_text(voices: str, *, duration: float = 12.0, safety: str = "", top: str = "") -> str:
    return (f'{top}\n[safety]\nfade_in = 5\nfade_out = 5\n{safety}\n[[segments]]\nduration = {duration}\n'
            f"{voices}\n")


def _voice(kind: str, **params) -> str:
    body = "\n".join(f"{key} = {json.dumps(value)}" for key, value in params.items())
    return f'[[segments.voices]]\ntype = "{kind}"\n{body}\n'


def stimulate_args(folder: Path, protocol: Path | str, *extra: str, out: Path | None = None) -> list[str]:
    return ["-q", "stimulate", str(protocol), "-o", str(out or folder / "out" / "render.wav"), "--sfreq",
            _RENDER_SFREQ, *extra]


def _under_ceiling(ceiling: float = -1.0, target: float | None = -23.0):
    """A render must exist, and measure (independently, 16x) at or below its ceiling and target."""
    def check(folder: Path, out: str, err: str, code: int) -> None:
        from audio_checks import check_file

        renders = [p for p in folder.rglob("*") if p.suffix in (".wav", ".flac") and p.parent.name == "out"]
        assert renders, "nothing was rendered"
        for path in renders:
            check_file(path, ceiling, target)
            assert path.with_suffix(".json").is_file(), f"{path} has no sidecar"
    return check


def _protocol_cases() -> list[Case]:
    def refused(name: str, text: str | bytes, *extra: str) -> Case:
        def make(folder: Path) -> list[str]:
            path = folder / "protocol.toml"
            path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
            return stimulate_args(folder, path, *extra)
        return Case("protocol", name, make)

    def rendered(name: str, text: str, *extra: str) -> Case:
        def make(folder: Path) -> list[str]:
            path = folder / "protocol.toml"
            path.write_text(text)
            return stimulate_args(folder, path, *extra)
        safety = tomllib.loads(text).get("safety", {})
        return Case("protocol", name, make, ok=(0,), check=_under_ceiling(safety.get("peak_dbfs", -1.0),
                                                                          safety.get("loudness_lufs", -23.0)))

    beat = _voice("binaural", carrier=200, beat=10)
    cases = [
        refused("TOML syntax error", "[[segments]\nduration = 1"),
        refused("empty file", ""),
        refused("binary garbage", bytes(range(256)) * 8),
        refused("no segments", "[safety]\nfade_in = 5\n"),
        refused("segments is a number", "segments = 3\n"),
        refused("a voice without a type", _protocol_text("[[segments.voices]]\nbeat = 10\n")),
        refused("an unknown voice type", _protocol_text(_voice("laser", rate=10))),
        refused("an unknown voice parameter", _protocol_text(_voice("binaural", carrier=200, beat=10, volume=3))),
        refused("an unknown top-level key", "author = 'x'\n" + _protocol_text(beat)),
        refused("an unknown safety key", _protocol_text(beat, safety="max_volume = 3")),
        refused("a beat given as text", _protocol_text(_voice("binaural", carrier=200, beat="ten"))),
        refused("a NaN beat", _protocol_text('[[segments.voices]]\ntype = "binaural"\nbeat = nan\n')),
        refused("an infinite duration", _protocol_text(beat, duration=float("inf")).replace("inf", "inf")),
        refused("a negative duration", _protocol_text(beat, duration=-5)),
        refused("a zero duration", _protocol_text(beat, duration=0)),
        refused("a duration of 1e12 s", _protocol_text(beat, duration=1e12)),
        refused("a duration of 1e12 s with --override", _protocol_text(beat, duration=1e12), "--override"),
        refused("a negative noise seed", _protocol_text(_voice("noise", color="white", seed=-1))),
        refused("a noise seed beyond 64 bits", _protocol_text('[[segments.voices]]\ntype = "noise"\n'
                                                            "seed = 18446744073709551616\n")),
        refused("a fractional noise seed", _protocol_text(_voice("noise", seed=1.5))),
        refused("a 100 Hz beat without --override", _protocol_text(_voice("binaural", carrier=400, beat=100))),
        refused("loudness 0 LUFS without --override", _protocol_text(beat, safety="loudness_lufs = 0")),
        refused("peak 0 dBFS without --override", _protocol_text(beat, safety="peak_dbfs = 0")),
        refused("peak +3 dBFS with --override", _protocol_text(beat, safety="peak_dbfs = 3"), "--override"),
        refused("no fade-in without --override", _protocol_text(beat).replace("fade_in = 5", "fade_in = 0")),
        refused("a 30 kHz carrier", _protocol_text(_voice("tone", freq=30000))),
        refused("a carrier above Nyquist", _protocol_text(_voice("tone", freq=15000)), "--sfreq", "16000"),
        refused("a level of +50 dBFS", _protocol_text(_voice("tone", freq=440, level=50))),
        refused("10001 harmonics", _protocol_text(_voice("tone", freq=100, harmonics=[0.001] * 10001))),
        refused("all harmonics zero", _protocol_text(_voice("tone", freq=100, harmonics=[0, 0]))),
        refused("a slide of three values", _protocol_text(_voice("binaural", carrier=200, beat=[10, 6, 4]))),
        refused("a slide of text", _protocol_text(_voice("binaural", carrier=200, beat=["a", "b"]))),
        refused("channels = 0", _protocol_text(beat, top="channels = 0")),
        refused("channels as text", _protocol_text(beat, top='channels = "two"')),
        refused("one name for two voice types", _protocol_text(
            _voice("tone", name="v", freq=300) + _voice("noise", name="v"))),
        refused("deeply nested tables", "a = " + "[" * 200 + "]" * 200 + "\n"),
        refused("a sample rate of 0", _protocol_text(beat), "--sfreq", "0"),
        refused("a negative sample rate", _protocol_text(beat), "--sfreq", "-44100"),
        refused("a sample rate of 1 GHz", _protocol_text(beat), "--sfreq", "1e9"),
        refused("--seconds 0", _protocol_text(beat), "--seconds", "0"),
        refused("--seconds -1", _protocol_text(beat), "--seconds", "-1"),
        # the two protocols that broke the -1 dBFS ceiling through the 4x meter, and more of their kind
        rendered("white-noise bursts with sharp edges (48 kHz)", _protocol_text(
            _voice("bursts", rate=4, burst=0.05, edge=0.0, color="white", level=-1), safety="loudness_lufs = -14")),
        rendered("16 kHz clicks at 48 kHz", _protocol_text(
            _voice("clicks", rate=40, pip=0.0002, carrier=16000, level=-1), safety="loudness_lufs = -14")),
        rendered("square isochronic tones at -14 LUFS", _protocol_text(
            _voice("isochronic", carrier=1000, rate=10, duty=0.95, edge=0.0, level=-1),
            safety="loudness_lufs = -14")),
        rendered("a 15.9 kHz binaural carrier", _protocol_text(_voice("binaural", carrier=15900, beat=40, level=-1))),
        rendered("32 partials on a high f0", _protocol_text(_voice("stack", f0=480, partials=32, rhythms=[4, 7]))),
        rendered("four in-phase tones at -1 dBFS each", _protocol_text(
            "".join(_voice("tone", freq=f, level=-1) for f in (100, 1000, 5000, 12000)),
            safety="loudness_lufs = -14")),
        refused("a level of +6 dBFS", _protocol_text(_voice("tone", freq=440, level=6))),
        rendered("brown noise at a -6 dBFS ceiling", _protocol_text(_voice("noise", color="brown", seed=7),
                                                                    safety="peak_dbfs = -6")),
        rendered("200 Hz clicks with --override", _protocol_text(_voice("clicks", rate=200, carrier=8000)),
                 "--override"),
        rendered("loudness -14 LUFS and peak -1 dBFS on white noise", _protocol_text(
            _voice("noise", color="white", level=-1), safety="loudness_lufs = -14")),
    ]
    return cases


# --------------------------------------------------------------------------- audio: music inputs and --check

def _write_wav(path: Path, samples: np.ndarray, sfreq: int = 44100, subtype: str = "FLOAT") -> Path:
    import soundfile

    soundfile.write(str(path), samples, sfreq, subtype=subtype)
    return path


def _tone(seconds: float, sfreq: int = 44100, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sfreq)) / sfreq
    return amplitude * np.sin(2 * np.pi * 220 * t)


_PRISTINE: dict[str, Path] = {}


def _scratch() -> Path:
    import atexit
    import shutil
    import tempfile

    if "scratch" not in _PRISTINE:
        folder = Path(tempfile.mkdtemp(prefix="harmonix-corpus-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _PRISTINE["scratch"] = folder
    return _PRISTINE["scratch"]


def pristine_render() -> Path:
    """A short render with its sidecar, made once per test session (the ``--check`` cases damage copies)."""
    if "render" not in _PRISTINE:
        from harmonix.cli import main

        folder = _scratch() / "render"
        folder.mkdir()
        (folder / "protocol.toml").write_text(_protocol_text(_voice("binaural", carrier=200, beat=10)))
        code = main(stimulate_args(folder, folder / "protocol.toml"))
        assert code == 0, "the pristine render failed"
        _PRISTINE["render"] = folder / "out" / "render.wav"
    return _PRISTINE["render"]


def _copy_render(folder: Path) -> Path:
    source = pristine_render()
    target = folder / "render.wav"
    target.write_bytes(source.read_bytes())
    target.with_suffix(".json").write_bytes(source.with_suffix(".json").read_bytes())
    return target


def _audio_cases() -> list[Case]:
    def check_case(name: str, damage: Callable[[Path], None], ok=(2,)) -> Case:
        def make(folder: Path) -> list[str]:
            path = _copy_render(folder)
            damage(path)
            return ["-q", "stimulate", "--check", str(path)]
        return Case("audio", f"--check: {name}", make, ok=ok)

    def one_sample(path: Path) -> None:
        _write_wav(path, np.zeros((1, 2)), 48000, "PCM_16")

    def sidecar_text(text: str) -> Callable[[Path], None]:
        return lambda path: path.with_suffix(".json").write_text(text)

    def sidecar_folder(path: Path) -> None:
        path.with_suffix(".json").unlink()
        path.with_suffix(".json").mkdir()

    def nan_samples(path: Path) -> None:
        samples = _tone(12.0, 48000)[:, None].repeat(2, axis=1)
        samples[1000:1010] = np.nan
        _write_wav(path, samples, 48000)

    def louder(path: Path) -> None:
        import soundfile

        samples, sfreq = soundfile.read(str(path), always_2d=True)
        _write_wav(path, samples * 4, sfreq)

    def music_case(name: str, write: Callable[[Path], Path], ok=(2,), needs_data=False) -> Case:
        def make(folder: Path, data: Path | None = None) -> list[str]:
            path = write(folder) if not needs_data else write(folder, data)
            return ["-q", "music", str(path), "--no-resonance", "--out", str(folder / "out")]
        return Case("audio", f"music: {name}", make, ok=ok, needs_data=needs_data)

    def truncated_ogg(folder: Path, data: Path) -> Path:
        content = (data / "sorohanro_-_solo-trumpet-06.hq.ogg").read_bytes()
        path = folder / "trumpet.ogg"
        path.write_bytes(content[: len(content) // 10])
        return path

    def garbage(name: str) -> Callable[[Path], Path]:
        def write(folder: Path) -> Path:
            path = folder / name
            path.write_bytes(np.random.default_rng(5).integers(0, 256, 50000, dtype=np.uint8).tobytes())
            return path
        return write

    def wav(name: str, samples: Callable[[], np.ndarray], sfreq: int = 44100) -> Callable[[Path], Path]:
        return lambda folder: _write_wav(folder / name, samples(), sfreq)

    def nan_music() -> np.ndarray:
        x = _tone(5.0)
        x[100] = np.nan
        return x

    def stimulate_music(name: str, write: Callable[[Path], Path], ok=(2,), check=None) -> Case:
        def make(folder: Path) -> list[str]:
            music = write(folder)
            proto = folder / "protocol.toml"
            proto.write_text(_protocol_text(_voice("am", source="music", rate=10, depth=0.7)))
            return stimulate_args(folder, proto, "--music", str(music))
        return Case("audio", f"stimulate --music: {name}", make, ok=ok, check=check)

    def not_silence(folder: Path, out: str, err: str, code: int) -> None:
        assert "silence" not in err, f"a misleading reason: {err}"

    return [
        check_case("a 1-sample WAV", one_sample),
        check_case("a sidecar that is not JSON", sidecar_text("{ not json")),
        check_case("a sidecar that is a JSON list", sidecar_text("[1, 2, 3]")),
        check_case("a sidecar of another program", sidecar_text('{"generator": "other", "loudness": 3}')),
        check_case("a sidecar path that is a folder", sidecar_folder),
        check_case("a zero-byte WAV", lambda path: path.write_bytes(b"")),
        check_case("a WAV of random bytes", lambda path: path.write_bytes(b"RIFF" + bytes(range(256)) * 20)),
        check_case("NaN samples", nan_samples, ok=(1, 2)),
        check_case("a file 12 dB louder than its sidecar says", louder, ok=(1,)),
        music_case("a zero-byte WAV", lambda folder: (folder / "x.wav").write_bytes(b"") or folder / "x.wav"),
        music_case("a garbage MP3", garbage("song.mp3")),
        music_case("a garbage OGG", garbage("song.ogg")),
        music_case("an OGG cut to a tenth", truncated_ogg, ok=(0, 2), needs_data=True),
        music_case("a 0.3 s WAV", wav("short.wav", lambda: _tone(0.3)), ok=(0, 2)),
        music_case("NaN samples", wav("nan.wav", nan_music)),
        music_case("+40 dBFS samples", wav("loud.wav", lambda: _tone(5.0, amplitude=100.0)), ok=(0, 2)),
        music_case("digital silence", wav("silent.wav", lambda: np.zeros(44100 * 5)), ok=(0, 2)),
        music_case("a 1-sample WAV", wav("one.wav", lambda: np.zeros(1))),
        music_case("8 channels", wav("eight.wav", lambda: np.tile(_tone(5.0)[:, None], (1, 8))), ok=(0,)),
        music_case("a text file", lambda folder: (folder / "notes.txt").write_text("la la") or folder / "notes.txt"),
        stimulate_music("at +40 dBFS", wav("loud.wav", lambda: _tone(20.0, amplitude=100.0)), ok=(0, 2),
                        check=not_silence),
        stimulate_music("with NaN samples", wav("nan.wav", lambda: np.where(np.arange(44100 * 20) == 5, np.nan,
                                                                            _tone(20.0))), check=not_silence),
        stimulate_music("0.3 s long", wav("short.wav", lambda: _tone(0.3)), ok=(0, 2), check=not_silence),
        stimulate_music("a garbage MP3", garbage("song.mp3")),
        stimulate_music("digital silence", wav("silent.wav", lambda: np.zeros(44100 * 20)), ok=(0, 2)),
    ]


# --------------------------------------------------------------------------- analysis folders for compare

def pristine_results() -> Path:
    """Four short recordings (two subjects, pre and post) analysed once per test session."""
    if "results" not in _PRISTINE:
        from harmonix.cli import main

        folder = _scratch() / "analyses"
        folder.mkdir()
        recordings = [_save_fif(_raw(seed=i), folder / f"sub-0{i // 2 + 1}_ses-{('pre', 'post')[i % 2]}_raw.fif")
                      for i in range(4)]
        code = main(["-q", "analyze", *map(str, recordings), "--harmonics", "off", "--bands", "alpha,beta",
                     "--out", str(folder / "results")])
        assert code == 0, "the pristine analyses failed"
        _PRISTINE["results"] = folder / "results"
    return _PRISTINE["results"]


def _copy_results(folder: Path) -> tuple[list[Path], list[Path]]:
    import shutil

    results = folder / "results"
    shutil.copytree(pristine_results(), results)
    sessions = sorted(p for p in results.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [p for p in sessions if "pre" in p.name], [p for p in sessions if "post" in p.name]


def compare_args(folder: Path, pre: list[Path], post: list[Path], *extra: str) -> list[str]:
    return ["-q", "compare", *map(str, pre), "--post", *map(str, post), "--harmonics", "off", "--permutations",
            "200", *extra, "--out", str(folder / "out")]


def _analysis_cases() -> list[Case]:
    def broken(name: str, damage: Callable[[Path], None], ok=(1, 2)) -> Case:
        def make(folder: Path) -> list[str]:
            pre, post = _copy_results(folder)
            damage(pre[0])
            return compare_args(folder, pre, post)
        return Case("analysis-folder", name, make, ok=ok)

    def write(name: str, content: bytes | str) -> Callable[[Path], None]:
        def damage(victim: Path) -> None:
            target = victim / name
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        return damage

    def remove(name: str) -> Callable[[Path], None]:
        return lambda victim: (victim / name).unlink()

    def truncate(name: str) -> Callable[[Path], None]:
        def damage(victim: Path) -> None:
            content = (victim / name).read_bytes()
            (victim / name).write_bytes(content[: len(content) // 2])
        return damage

    def non_numeric_values(victim: Path) -> None:
        text = (victim / "metrics.csv").read_text().splitlines()
        cells = text[1].split(",")
        text[1] = ",".join(cells[:-2] + ["abc", cells[-1]])
        (victim / "metrics.csv").write_text("\n".join(text) + "\n")

    def wrong_shape_arrays(victim: Path) -> None:
        np.savez(victim / "arrays.npz", window_band_power=np.zeros((3, 2)), window_starts=np.zeros(7),
                 ch_names=np.array(["x"]))

    def pickled_arrays(victim: Path) -> None:
        np.savez(victim / "arrays.npz", window_band_power=np.array([{"a": 1}], dtype=object))

    def params_edit(**changes) -> Callable[[Path], None]:
        def damage(victim: Path) -> None:
            params = json.loads((victim / "params.json").read_text())
            params.update(changes)
            (victim / "params.json").write_text(json.dumps(params))
        return damage

    def emptied(victim: Path) -> None:
        for path in victim.iterdir():
            path.unlink() if path.is_file() else None

    def a_file_instead(folder: Path) -> list[str]:
        pre, post = _copy_results(folder)
        (folder / "fake").write_text("not a folder")
        return compare_args(folder, [*pre[:1], folder / "fake"], post)

    def missing_folder(folder: Path) -> list[str]:
        pre, post = _copy_results(folder)
        return compare_args(folder, [pre[0], folder / "no-such-analysis"], post)

    return [
        broken("arrays.npz not a zip", write("arrays.npz", b"PK\x03\x04 not a zip")),
        broken("arrays.npz truncated", truncate("arrays.npz")),
        broken("arrays.npz empty", write("arrays.npz", b"")),
        broken("arrays.npz arrays of the wrong shape", wrong_shape_arrays),
        broken("arrays.npz holding a pickled object", pickled_arrays),
        broken("arrays.npz missing", remove("arrays.npz"), ok=(0, 1, 2)),  # not needed across subjects
        broken("params.json not JSON", write("params.json", "{ not json")),
        broken("params.json not an object", write("params.json", "[1, 2, 3]")),
        broken("params.json truncated", truncate("params.json")),
        broken("params.json missing", remove("params.json")),
        broken("params.json with sfreq as text", params_edit(sfreq="fast")),

        broken("metrics.csv garbage", write("metrics.csv", b"garbage\n\x00\x01")),
        broken("metrics.csv wrong columns", write("metrics.csv", "a,b\n1,2\n")),
        broken("metrics.csv non-numeric value", non_numeric_values),
        broken("metrics.csv header only", lambda victim: (victim / "metrics.csv").write_text(
            (victim / "metrics.csv").read_text().splitlines()[0] + "\n")),
        broken("metrics.csv missing", remove("metrics.csv")),
        broken("an empty analysis folder", emptied),
        Case("analysis-folder", "a file given as an analysis folder", a_file_instead, ok=(1, 2)),
        Case("analysis-folder", "a missing analysis folder", missing_folder, ok=(1, 2)),
    ]


# --------------------------------------------------------------------------- collisions

def _count_analyses(expected: int) -> Callable[[Path, str, str, int], None]:
    """Every input has its own finished analysis folder: nothing was lost to a name collision."""
    def check(folder: Path, out: str, err: str, code: int) -> None:
        analyses = [p for p in (folder / "out").iterdir() if (p / "metrics.csv").is_file()]
        assert len(analyses) == expected, f"{len(analyses)} analyses for {expected} inputs: {analyses}"
        sources = {json.loads((p / "params.json").read_text()).get("input", {}).get("path") for p in analyses}
        assert len(sources) == expected, f"two analyses of one input: {sources}"
    return check


def _collision_cases() -> list[Case]:
    def same_stems(folder: Path) -> list[str]:
        (folder / "a").mkdir()
        (folder / "b").mkdir()
        paths = [_save_fif(_raw(seed=1), folder / "a" / "rec_raw.fif"), _save_fif(_raw(seed=2), folder / "b" / "rec_raw.fif")]
        return analyze_args(folder, *paths)

    def stems_and_suffix(folder: Path) -> list[str]:
        (folder / "a").mkdir()
        (folder / "b").mkdir()
        paths = [_save_edf(_raw(seed=1), folder / "a" / "rec.edf"), _save_fif(_raw(seed=2), folder / "b" / "rec.fif"),
                 _save_edf(_raw(seed=3), folder / "rec-2.edf")]
        return analyze_args(folder, *paths)

    def out_is_input(folder: Path) -> list[str]:
        path = _save_fif(_raw(), folder / "rec_raw.fif")
        return [*analyze_args(folder, path)[:-1], str(path)]

    def out_inside_a_file(folder: Path) -> list[str]:
        path = _save_fif(_raw(), folder / "rec_raw.fif")
        return [*analyze_args(folder, path)[:-1], str(folder / "rec_raw.fif" / "out")]

    def compare_out_is_input(folder: Path) -> list[str]:
        pre, post = _copy_results(folder)
        return compare_args(folder, pre, post)[:-1] + [str(pre[0])]

    def compare_out_inside_input(folder: Path) -> list[str]:
        pre, post = _copy_results(folder)
        return compare_args(folder, pre, post)[:-1] + [str(pre[0] / "comparison")]

    def same_file_pre_and_post(folder: Path) -> list[str]:
        pre, post = _copy_results(folder)
        return [a for a in compare_args(folder, pre, [pre[0], post[1]]) if a != "-q"]

    def warns_same(folder: Path, out: str, err: str, code: int) -> None:
        assert "harmonix: warning:" in err and "both the pre and the post" in err, f"no warning that pre and post are one file: {err}"

    def sessions_csv_same_names(folder: Path) -> list[str]:
        rows = ["subject,session,path"]
        for subject in ("A", "B"):
            (folder / subject).mkdir()
            for session, seed in (("pre", 0), ("post", 1)):
                offset = {"A": 0, "B": 10}[subject]
                path = _save_fif(_raw(seed=seed + offset), folder / subject / f"{session}_raw.fif")
                rows.append(f"{subject},{session},{path}")
        (folder / "sessions.csv").write_text("\n".join(rows) + "\n")
        return ["-q", "compare", str(folder / "sessions.csv"), "--harmonics", "off", "--permutations", "200",
                "--out", str(folder / "out")]

    def paired_by_path(folder: Path, out: str, err: str, code: int) -> None:
        """Each subject's sessions are its own recordings, and each used the analysis of that very file."""
        import pandas as pd

        table = pd.read_csv(folder / "out" / "sessions.csv", dtype=str)
        assert sorted(table["subject"]) == ["A", "A", "B", "B"], table
        for row in table.itertuples():
            assert Path(row.path).parent.name == row.subject, f"subject {row.subject} uses {row.path}"
            params = json.loads((Path(row.analysis) / "params.json").read_text())
            assert params["input"]["path"] == row.path, f"{row.analysis} analysed {params['input']['path']}"

    def music_out_is_input(folder: Path) -> list[str]:
        path = _write_wav(folder / "song.wav", _tone(3.0))
        return ["-q", "music", str(path), "--no-resonance", "--out", str(path)]

    def render_over_music(folder: Path) -> list[str]:
        music = _write_wav(folder / "song.wav", _tone(20.0))
        proto = folder / "protocol.toml"
        proto.write_text(_protocol_text(_voice("am", source="music", rate=10, depth=0.7)))
        return stimulate_args(folder, proto, "--music", str(music), out=music)

    def render_over_protocol(folder: Path) -> list[str]:
        proto = folder / "protocol.toml"
        proto.write_text(_protocol_text(_voice("binaural", carrier=200, beat=10)))
        return stimulate_args(folder, proto, out=proto)

    def render_beside_foreign_json(folder: Path) -> list[str]:
        proto = folder / "protocol.toml"
        proto.write_text(_protocol_text(_voice("binaural", carrier=200, beat=10)))
        (folder / "x.json").write_text('{"mine": true}')
        return stimulate_args(folder, proto, out=folder / "x.wav")

    def render_sidecar_is_folder(folder: Path) -> list[str]:
        proto = folder / "protocol.toml"
        proto.write_text(_protocol_text(_voice("binaural", carrier=200, beat=10)))
        (folder / "x.json").mkdir()
        return stimulate_args(folder, proto, out=folder / "x.wav")

    def invalid_protocol_new_folders(folder: Path) -> list[str]:
        proto = folder / "protocol.toml"
        proto.write_text(_protocol_text(_voice("laser")))
        return stimulate_args(folder, proto, out=folder / "new" / "dirs" / "x.wav")

    return [
        Case("collision", "two inputs named rec in two folders", same_stems, ok=(0,), check=_count_analyses(2)),
        Case("collision", "a/rec.edf, b/rec.fif and rec-2.edf", stems_and_suffix, ok=(0,), check=_count_analyses(3)),
        Case("collision", "analyze --out is the input file", out_is_input),
        Case("collision", "analyze --out inside a file", out_inside_a_file),
        Case("collision", "compare --out is an input analysis folder", compare_out_is_input),
        Case("collision", "compare --out inside an input analysis folder", compare_out_inside_input),
        Case("collision", "one analysis as pre and post", same_file_pre_and_post, ok=(0,), check=warns_same),
        Case("collision", "sessions CSV with A/x and B/x of the same names", sessions_csv_same_names, ok=(0,),
             check=paired_by_path),
        Case("collision", "music --out is the music file", music_out_is_input),
        Case("collision", "stimulate -o is the --music file", render_over_music),
        Case("collision", "stimulate -o is the protocol", render_over_protocol),
        Case("collision", "stimulate beside a foreign x.json", render_beside_foreign_json),
        Case("collision", "stimulate where the sidecar path is a folder", render_sidecar_is_folder),
        Case("collision", "an invalid protocol with -o new/dirs/x.wav", invalid_protocol_new_folders),
    ]


# --------------------------------------------------------------------------- harmonics cache

CACHE_MODES = 20


def pristine_cache_entry() -> Path:
    """One cache entry of the default connectome's harmonics (``CACHE_MODES`` modes), computed once."""
    if "cache" not in _PRISTINE:
        from harmonix.cli import main

        folder = _scratch() / "cache"
        previous = os.environ.get("HARMONIX_CACHE")
        os.environ["HARMONIX_CACHE"] = str(folder)
        try:
            assert main(["-q", "harmonics", "--n", str(CACHE_MODES), "--out", str(_scratch() / "harmonics")]) == 0
        finally:
            if previous is None:
                os.environ.pop("HARMONIX_CACHE")
            else:
                os.environ["HARMONIX_CACHE"] = previous
        (entry,) = folder.glob("*.npz")
        _PRISTINE["cache"] = entry
    return _PRISTINE["cache"]


def _cache_cases() -> list[Case]:
    def poisoned(name: str, poison: Callable[[dict], None] | bytes) -> Case:
        def make(folder: Path) -> list[str]:
            entry = pristine_cache_entry()
            target = folder / "cache" / entry.name
            target.parent.mkdir(exist_ok=True)
            if isinstance(poison, bytes):
                target.write_bytes(poison)
            else:
                arrays = dict(np.load(entry, allow_pickle=False))
                poison(arrays)
                np.savez(target, **arrays)
            return ["harmonics", "--n", str(CACHE_MODES), "--out", str(folder / "out")]

        def says_recomputed(folder: Path, out: str, err: str, code: int) -> None:
            assert "recomputed" in out + err, f"the damaged cache entry was used silently: {out} {err}"
        return Case("cache", name, make, ok=(0,), check=says_recomputed)

    def random_mode(arrays: dict) -> None:
        arrays["eigenvectors"][:, 3] = np.random.default_rng(0).standard_normal(arrays["eigenvectors"].shape[0])

    def rotated(arrays: dict) -> None:  # orthonormal still, but no longer eigenvectors
        v = arrays["eigenvectors"]
        c, s = np.cos(0.3), np.sin(0.3)
        v[:, [4, 9]] = v[:, [4, 9]] @ np.array([[c, -s], [s, c]])

    def shifted_values(arrays: dict) -> None:
        arrays["eigenvalues"][5:] *= 1.5

    def pickled(arrays: dict) -> None:
        arrays["eigenvectors"] = np.array([{"x": 1}], dtype=object)

    return [
        poisoned("a random mode under the right key", random_mode),
        poisoned("two modes rotated into each other", rotated),
        poisoned("eigenvalues scaled", shifted_values),
        poisoned("a pickled object instead of modes", pickled),
        poisoned("random bytes under the right name", bytes(range(256)) * 16),
    ]


def all_cases() -> list[Case]:
    """Every case of the corpus (Hypothesis protocol fuzzing lives in ``test_stimulus_safety.py``)."""
    return (_eeg_file_cases() + _real_file_cases() + _edf_header_cases() + _content_cases() + _more_content_cases()
            + _csv_cases() + _more_csv_cases() + _protocol_cases() + _audio_cases() + _analysis_cases()
            + _collision_cases() + _cache_cases())

"""Conditions from events (harmonix.io.conditions): specs, events files, trial windows, real recordings."""

from __future__ import annotations

import json

import mne
import numpy as np
import pytest

from harmonix.errors import InputFileError, ParameterError
from harmonix.io import load_eeg, read_headset_csv
from harmonix.io.condition_specs import (
    frequency_from_name,
    parse_condition_frequencies,
    parse_conditions,
    parse_frequencies,
)
from harmonix.io.conditions import Condition, condition_trials, conditions_from_events
from harmonix.io.events import bad_spans, list_events, read_events_file
from harmonix.io.protocol_conditions import conditions_from_protocol, frequencies_from_protocol

R04 = "eegmmidb_S001R04.edf"
SSVEP_FIF = "ssvep_exo_s01_raw.fif"
SSVEP_EVE = "ssvep_exo_s01-eve.fif"
MUSE_SSVEP = "eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv"

# Documented in ../shared/data/README.md (not measured here).
R04_COUNTS = {"rest": 15, "left": 8, "right": 7}  # "T0 rest x15, T1 left x8, T2 right x7, each about 4.1 s"
SSVEP_EXO_SPEC = "rest=1,f13=2,f21=3,f17=4"  # "1 = rest, 2 = 13 Hz, 3 = 21 Hz, 4 = 17 Hz"; 8 trials of 5 s per class


def _stim_raw(codes: dict[int, int], n_times: int = 3000, sfreq: float = 100.0) -> mne.io.RawArray:
    """One EEG channel plus a stim channel with ``{sample: code}``."""
    data = np.zeros((2, n_times))
    data[0] = np.random.default_rng(0).normal(size=n_times) * 1e-6
    for sample, code in codes.items():
        data[1, sample] = code
    return mne.io.RawArray(data, mne.create_info(["Oz", "STI"], sfreq, ["eeg", "stim"]), verbose=False)


# --------------------------------------------------------------------------- parsing


def test_parse_conditions_forms():
    assert parse_conditions("rest=T0,left=T1,right=T2") == {"rest": ("T0",), "left": ("T1",), "right": ("T2",)}
    assert parse_conditions(" stim = 2|3 | 4 , rest=1 ") == {"stim": ("2", "3", "4"), "rest": ("1",)}
    # codes may hold spaces and slashes (BrainVision), the frequency suffix is stripped
    assert parse_conditions("a=Stimulus/S  1@13Hz") == {"a": ("Stimulus/S  1",)}
    assert parse_condition_frequencies("rest=1,f13=2,21Hz=3,x=4@17,y=5@7.5 Hz") == {
        "f13": 13.0, "21Hz": 21.0, "x": 17.0, "y": 7.5}


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("", "expected 'name=code"),
        ("rest", "is not name=code"),
        ("rest=", "needs event codes"),
        ("rest=T0|", "needs event codes"),
        ("=T0", "no condition name"),
        ("rest=T0,,left=T1", "empty entry"),
        ("rest=T0,rest=T1", "given twice"),
        ("a=1@fast", "frequency after '@'"),
        ("a=1@0", "frequency after '@'"),
        ("a=1=2", "more than one '='"),
    ],
)
def test_parse_conditions_errors(spec, match):
    with pytest.raises(ParameterError, match=match) as err:
        parse_conditions(spec)
    assert "\n" not in str(err.value)


def test_parse_frequencies():
    assert parse_frequencies("13,17,21") == (13.0, 17.0, 21.0)
    assert parse_frequencies(" 40Hz, 7.5 hz") == (40.0, 7.5)
    assert parse_frequencies([13, 17.5]) == (13.0, 17.5)
    for bad, match in [("", "expected"), ("13,x", "not a frequency"), ("13,-1", "not a frequency"),
                       ("0", "not a positive"), ("13,13", "given twice"), ([float("nan")], "not a positive")]:
        with pytest.raises(ParameterError, match=match):
            parse_frequencies(bad)


def test_frequency_from_name():
    assert frequency_from_name("f13") == 13.0
    assert frequency_from_name("13Hz") == frequency_from_name("13 hz") == 13.0
    assert frequency_from_name("F40.5") == 40.5
    for name in ("rest", "13", "left", "f", "Hz", "f0"):
        assert frequency_from_name(name) is None


# --------------------------------------------------------------------------- windows on synthetic recordings


def test_window_blocks_and_frequencies():
    raw = _stim_raw({100: 1, 700: 2, 1300: 1, 1900: 2, 2950: 1})
    rest, f13 = conditions_from_events(raw, "rest=1,f13=2", tmin=0.5, tmax=5.0)
    assert isinstance(rest, Condition)
    # the trial at 2950 runs past the end (3000 samples) and is left out, with a note
    assert rest.starts.tolist() == [150, 1350] and rest.stops.tolist() == [600, 1800]
    assert any("1 trial left out: beyond the recording" in n for n in rest.notes)
    assert rest.frequency is None and f13.frequency == 13.0 and f13.n_trials == 2
    assert rest.window == (0.5, 5.0) and rest.origin == "stim channel STI" and rest.sfreq == 100.0
    assert "rest: 2 trials (1; stim channel STI), 4.5 s" in rest.describe()
    # an explicit frequency overrides the name; pooled codes
    (both,) = conditions_from_events(raw, {"stim": ["1", "2"]}, tmax=2.0, frequencies={"stim": 9.0})
    assert both.frequency == 9.0 and both.starts.tolist() == [100, 700, 1300, 1900]
    # blocks from a start marker to the next end marker
    raw = _stim_raw({100: 5, 400: 9, 1000: 5, 1600: 9, 2000: 5})
    (block,) = conditions_from_events(raw, "on=5", block_end="9")
    assert block.starts.tolist() == [100, 1000] and block.stops.tolist() == [400, 1600]
    assert any("no end marker" in n for n in block.notes) and block.window is None
    with pytest.raises(ParameterError, match="either tmax .* or block_end"):
        conditions_from_events(raw, "on=5", block_end="9", tmax=1.0)
    with pytest.raises(ParameterError, match="block end marker: event code '8' is not in the recording"):
        conditions_from_events(raw, "on=5", block_end="8")


def test_annotation_durations_bad_spans_and_trials():
    raw = _stim_raw({})
    raw.set_annotations(mne.Annotations([1.0, 6.0, 12.0, 20.0], [2.0, 2.0, 2.5, 2.0], ["go", "go", "go", "stop"]))
    (go,) = conditions_from_events(raw, "go=go")
    assert go.starts.tolist() == [100, 600, 1200] and go.lengths.tolist() == [200, 200, 250]
    assert condition_trials(raw, go).shape == (3, 1, 200)  # cut to the shortest, EEG only (stim excluded)
    assert condition_trials(raw, go, picks="all", n_times=50).shape == (3, 2, 50)
    raw.set_annotations(raw.annotations + mne.Annotations([6.5], [0.0], ["BAD_jump"]))
    assert bad_spans(raw).tolist() == [[650, 651]]
    (go,) = conditions_from_events(raw, "go=go")
    assert go.n_trials == 2 and go.notes == ("1 trial left out: overlap BAD_/EDGE annotations",)
    # BAD_ annotations are not event codes
    assert "BAD_jump" not in list_events(raw)[0].distinct()
    with pytest.raises(ParameterError, match="no trials left of 1 events .*overlap BAD_") as err:
        raw.set_annotations(raw.annotations + mne.Annotations([19.0], [5.0], ["bad_muscle"]))
        conditions_from_events(raw, "stop=stop")
    assert "\n" not in str(err.value)


def test_error_messages_name_file_condition_and_codes():
    raw = _stim_raw({100: 1, 700: 2})
    with pytest.raises(ParameterError, match=r"^rec\.fif: condition 'x': event code '3' is not in the recording "
                                             r"\(the recording has stim channel STI: 1 \(1\), 2 \(1\)\)$"):
        conditions_from_events(raw, "a=1,x=3", tmax=1.0, source="rec.fif")
    with pytest.raises(ParameterError, match="have no duration; give tmax"):
        conditions_from_events(raw, "a=1")
    with pytest.raises(ParameterError, match="tmin=2 s must be below tmax=1 s"):
        conditions_from_events(raw, "a=1", tmin=2, tmax=1)
    with pytest.raises(ParameterError, match="frequencies name condition 'b'"):
        conditions_from_events(raw, "a=1", tmax=1.0, frequencies={"b": 3.0})
    with pytest.raises(ParameterError, match="has no events .*give an events file"):
        conditions_from_events(mne.io.RawArray(np.zeros((1, 100)), mne.create_info(1, 100.0, "eeg"),
                                               verbose=False), "a=1", tmax=0.1)
    with pytest.raises(ParameterError, match="mne.io.Raw or mne.Epochs"):
        conditions_from_events(np.zeros((2, 10)), "a=1", tmax=1.0)
    with pytest.raises(ParameterError, match="is not name=code"):
        conditions_from_events(raw, "a", tmax=1.0)


def test_headset_text_and_numeric_markers(tmp_path):
    # A headset CSV whose marker column holds labels: both the label (annotation) and its code (stim) work.
    n = 2000
    t = np.arange(n) / 256.0
    marker = [""] * n
    for i in (100, 900):
        marker[i] = "left"
    marker[500] = "right"
    lines = ["timestamps,TP9,AF7,Marker0"] + [f"{t[i]:.6f},{np.sin(i)},{np.cos(i)},{marker[i]}" for i in range(n)]
    path = tmp_path / "muse.csv"
    path.write_text("\n".join(lines) + "\n")
    raw = read_headset_csv(path, verbose=False)
    by_label = conditions_from_events(raw, "l=left,r=right", tmax=1.0)
    by_code = conditions_from_events(raw, "l=1,r=2", tmax=1.0)
    assert [c.starts.tolist() for c in by_label] == [c.starts.tolist() for c in by_code] == [[100, 900], [500]]
    assert by_label[0].origin == "annotations" and by_code[0].origin == "stim channel STI"


def test_epochs_select_by_code_and_tag():
    events = np.array([[100, 0, 1], [300, 0, 2], [500, 0, 3], [700, 0, 1]])
    epochs = mne.EpochsArray(np.random.default_rng(1).normal(size=(4, 2, 100)), mne.create_info(2, 100.0, "eeg"),
                             events=events, tmin=-0.2, event_id={"sq/a": 1, "sq/b": 2, "c": 3}, verbose=False)
    sq, a, c = conditions_from_events(epochs, "sq=sq,a=sq/a,c=3", tmin=0.0, tmax=0.5)
    assert sq.epochs.tolist() == [0, 1, 3] and a.epochs.tolist() == [0, 3] and c.epochs.tolist() == [2]
    assert a.starts.tolist() == [100, 700] and a.lengths.tolist() == [50, 50] and a.window == (0.0, 0.5)
    trials = condition_trials(epochs, a)
    np.testing.assert_array_equal(trials, epochs.get_data()[[0, 3]][:, :, 20:70])
    (whole,) = conditions_from_events(epochs, {"all": "sq"})
    assert whole.lengths.tolist() == [100, 100, 100] and condition_trials(epochs, whole).shape == (3, 2, 100)
    with pytest.raises(ParameterError, match="outside the epochs"):
        conditions_from_events(epochs, "a=1", tmax=3.0)
    with pytest.raises(ParameterError, match="continuous recording"):
        conditions_from_events(epochs, "a=1", block_end="2")


# --------------------------------------------------------------------------- events files


def test_read_events_file_formats_and_errors(tmp_path):
    eve = tmp_path / "x-eve.txt"
    mne.write_events(eve, np.array([[10, 0, 1], [50, 0, 2]]), overwrite=True, verbose=False)
    events, event_id = read_events_file(eve)
    assert events.tolist() == [[10, 0, 1], [50, 0, 2]] and event_id == {"1": 1, "2": 2}

    tsv = tmp_path / "sub-01_task-x_events.tsv"
    tsv.write_text("onset\tduration\ttrial_type\tvalue\n1.0\t2.0\tleft\t7\n3.5\tn/a\tright\t9\n5.0\t0\tBAD_x\t0\n")
    events, event_id = read_events_file(tsv, sfreq=100.0, first_samp=5)
    assert events.tolist() == [[105, 0, 7], [355, 0, 9]] and event_id == {"left": 7, "right": 9}
    tsv.write_text("onset\tduration\ttrial_type\tsample\n1.0\t2.0\tb\t100\n3.5\t1\ta\t350\n")
    events, event_id = read_events_file(tsv)
    assert events.tolist() == [[100, 0, 2], [350, 0, 1]] and event_id == {"a": 1, "b": 2}

    tsv.write_text("onset\tduration\ttrial_type\n1.0\t2.0\tleft\n")
    with pytest.raises(ParameterError, match="no 'sample' column; give the recording's sampling rate"):
        read_events_file(tsv)
    bad_tsv = tmp_path / "bad_events.tsv"
    bad_tsv.write_text("start\tkind\n1\ta\n")
    with pytest.raises(InputFileError, match="needs an 'onset' column; columns are start, kind"):
        read_events_file(bad_tsv)
    garbage = tmp_path / "garbage.eve"
    garbage.write_text("this is not\nan events file\n")
    with pytest.raises(InputFileError, match="garbage.eve: not a readable MNE events file"):
        read_events_file(garbage)
    garbage_fif = tmp_path / "g-eve.fif"
    garbage_fif.write_bytes(b"\x00\x01not a fif")
    with pytest.raises(InputFileError, match="not a readable MNE events file") as err:
        read_events_file(garbage_fif)
    assert "\n" not in str(err.value)
    with pytest.raises(InputFileError, match="events file not found"):
        read_events_file(tmp_path / "missing-eve.fif")
    odd = tmp_path / "events.csv"
    odd.write_text("1,2,3\n")
    with pytest.raises(InputFileError, match="unknown events file type"):
        read_events_file(odd)


# --------------------------------------------------------------------------- protocol sidecars


_PROTOCOL = """
name = "blocks"
[safety]
fade_in = 5
fade_out = 5
[[segments]]
label = "rest"
duration = 10
[[segments.voices]]
type = "noise"
level = -30
[[segments]]
label = "stim"
duration = 10
[[segments.voices]]
type = "am"
rate = 13
[[segments]]
label = "rest"
duration = 10
[[segments.voices]]
type = "noise"
level = -30
[[segments]]
label = "sweep"
duration = 10
[[segments.voices]]
type = "binaural"
beat = [10, 4]
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from harmonix.stimulus.protocol import parse_protocol_text
    from harmonix.stimulus.render import render_protocol

    out = tmp_path_factory.mktemp("render") / "blocks.wav"
    return render_protocol(parse_protocol_text(_PROTOCOL, source="blocks.toml"), out, sfreq=8000, progress=False)


def test_conditions_from_protocol_sidecar(rendered, tmp_path):
    raw = _stim_raw({300: 4}, n_times=6000)
    rest, stim, sweep = conditions_from_protocol(raw, rendered.sidecar, onset_marker="4")
    assert (rest.name, stim.name, sweep.name) == ("rest", "stim", "sweep")
    assert rest.starts.tolist() == [300, 2300] and rest.stops.tolist() == [1300, 3300]
    assert stim.starts.tolist() == [1300] and stim.frequency == 13.0 and rest.frequency is None
    assert sweep.frequency is None and "slides 10->4 Hz" in sweep.notes[0]
    assert frequencies_from_protocol(rendered.sidecar) == (13.0,)
    # a preview render (parameters.seconds) is placed at its scaled times
    meta = json.loads(rendered.sidecar.read_text())
    meta["parameters"]["seconds"] = 20.0
    meta["parameters"]["segments"] = [{"start": s * 5.0, "duration": 5.0} for s in range(4)]
    _, stim_short, _ = conditions_from_protocol(raw, meta, onset_marker="4")
    assert stim_short.starts.tolist() == [800] and stim_short.lengths.tolist() == [500]
    # a recording too short for the end of the protocol: those segments are left out, with a note
    short = _stim_raw({300: 4}, n_times=3400)
    with pytest.raises(ParameterError, match="protocol condition 'sweep' of blocks.json: no trials left .*beyond"):
        conditions_from_protocol(short, rendered.sidecar, onset_marker="4")


def test_protocol_sidecar_errors(rendered, tmp_path):
    raw = _stim_raw({300: 4}, n_times=6000)
    with pytest.raises(ParameterError, match="protocol onset marker of blocks.json: event code '9' is not in the "
                                             r"recording \(the recording has stim channel STI: 4 \(1\)\)"):
        conditions_from_protocol(raw, rendered.sidecar, onset_marker="9")
    foreign = tmp_path / "other.json"
    foreign.write_text(json.dumps({"file": "x.wav", "segments": []}))
    with pytest.raises(InputFileError, match="other.json: not a harmonix render sidecar"):
        conditions_from_protocol(raw, foreign, onset_marker="4")
    foreign.write_text("{not json")
    with pytest.raises(InputFileError, match="not a readable JSON file"):
        frequencies_from_protocol(foreign)
    with pytest.raises(InputFileError, match="protocol sidecar not found"):
        frequencies_from_protocol(tmp_path / "missing.json")
    meta = json.loads(rendered.sidecar.read_text())
    meta["parameters"]["segments"] = meta["parameters"]["segments"][:2]
    with pytest.raises(InputFileError, match="do not match the sidecar's protocol"):
        frequencies_from_protocol(meta)


# --------------------------------------------------------------------------- real recordings


@pytest.mark.real_data
def test_eegmmidb_r04_rest_left_right(shared_data):
    raw = load_eeg(shared_data / R04, preload=False, verbose=False)
    conds = conditions_from_events(raw, "rest=T0,left=T1,right=T2")
    assert not raw.preload  # only the annotations were read
    assert {c.name: c.n_trials for c in conds} == R04_COUNTS
    sfreq = raw.info["sfreq"]
    for c in conds:
        assert c.origin == "annotations" and c.notes == () and c.frequency is None
        # trials are the annotations' own durations, "about 4.1 s"
        assert np.all(np.abs(c.lengths / sfreq - 4.1) <= 0.15)
    # the trials tile the run without overlapping
    spans = sorted((int(s), int(e)) for c in conds for s, e in zip(c.starts, c.stops))
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    trials = condition_trials(raw, conds[1], picks=["C3", "C4"])
    assert trials.shape == (8, 2, conds[1].lengths.min())
    # a fixed window instead of the durations
    rest, = conditions_from_events(raw, "rest=T0", tmin=0.5, tmax=3.5)
    assert rest.n_trials == 15 and set(rest.lengths.tolist()) == {480}


@pytest.mark.real_data
def test_eegmmidb_absent_code_is_one_line_error(shared_data):
    raw = load_eeg(shared_data / R04, preload=False, verbose=False)
    with pytest.raises(ParameterError) as err:
        conditions_from_events(raw, "rest=T0,imagery=T4")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("eegmmidb_S001R04.edf: condition 'imagery': event code 'T4' is not in the recording")
    assert "annotations: T0 (15), T1 (8), T2 (7)" in message


@pytest.mark.real_data
def test_ssvep_exo_events_file(shared_data):
    raw = load_eeg(shared_data / SSVEP_FIF, preload=False, verbose=False)
    # the raw holds no stim channel and no annotations: its events are in the -eve.fif beside it
    assert "stim" not in raw.get_channel_types() and len(raw.annotations) == 0
    assert list_events(raw) == ()
    with pytest.raises(ParameterError, match="has no events .*give an events file"):
        conditions_from_events(raw, SSVEP_EXO_SPEC, tmax=5.0)
    events, event_id = read_events_file(shared_data / SSVEP_EVE)
    assert event_id == {"1": 1, "2": 2, "3": 3, "4": 4} and len(events) == 32
    from_array = conditions_from_events(raw, SSVEP_EXO_SPEC, tmax=5.0, events=events, event_id=event_id)
    from_path = conditions_from_events(raw, SSVEP_EXO_SPEC, tmax=5.0, events=shared_data / SSVEP_EVE)
    assert [c.name for c in from_path] == ["rest", "f13", "f21", "f17"]
    assert [c.frequency for c in from_path] == [None, 13.0, 21.0, 17.0]
    for a, b in zip(from_array, from_path):
        assert a.n_trials == b.n_trials == 8 and np.array_equal(a.starts, b.starts)
        assert set(b.lengths.tolist()) == {int(5 * raw.info["sfreq"])}
    assert from_path[0].origin == SSVEP_EVE
    with pytest.raises(ParameterError, match=r"event code '5' is not in the recording \(the recording has "
                                             r"ssvep_exo_s01-eve.fif: 1 \(8\), 2 \(8\), 3 \(8\), 4 \(8\)\)"):
        conditions_from_events(raw, "rest=1,f30=5", tmax=5.0, events=shared_data / SSVEP_EVE)


@pytest.mark.real_data
def test_muse_csv_markers_as_codes(shared_data):
    raw = load_eeg(shared_data / MUSE_SSVEP, verbose=False)
    m1, m2 = conditions_from_events(raw, "m1=1@30Hz,m2=2@20Hz", tmax=3.0)
    # README: marker 1 = 30 Hz (x14), marker 2 = 20 Hz (x18), 3 s trials
    assert (m1.n_trials, m2.n_trials) == (14, 18)
    assert (m1.frequency, m2.frequency) == (30.0, 20.0)
    assert m1.origin == "stim channel STI"
    assert condition_trials(raw, m2, picks=["Right AUX"]).shape == (18, 1, 768)


@pytest.mark.real_data
def test_brainvision_codes(shared_data):
    raw = load_eeg(shared_data / "test.vhdr", verbose=False)
    a, b, stim = conditions_from_events(raw, "a=253,b=Stimulus/S255,s=Stimulus", tmax=0.05)
    # README: Stimulus/S253 x2, S255 x5
    assert (a.n_trials, b.n_trials, stim.n_trials) == (2, 5, 7)


def test_bids_events(tmp_path):
    mne_bids = pytest.importorskip("mne_bids")
    import warnings

    raw = mne.io.RawArray(np.random.default_rng(0).normal(size=(2, 3000)) * 1e-6,
                          mne.create_info(["Cz", "Oz"], 100.0, "eeg"), verbose=False)
    raw.set_meas_date(1e9)
    raw.set_annotations(mne.Annotations([1, 5, 9], [2, 2, 2], ["rest", "stim", "rest"]))
    path = mne_bids.BIDSPath(subject="01", task="x", root=tmp_path, datatype="eeg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mne_bids.write_raw_bids(raw, path, format="EDF", allow_preload=True, verbose=False)
    folder = tmp_path / "sub-01" / "eeg"
    # through mne-bids: events.tsv rows become annotations with their durations
    loaded = load_eeg(folder / "sub-01_task-x_eeg.edf", verbose=False)
    rest, stim = conditions_from_events(loaded, "rest=rest,stim=stim")
    assert rest.starts.tolist() == [100, 900] and rest.lengths.tolist() == [200, 200] and stim.n_trials == 1
    # the events.tsv alone, as an events file (its 'sample' column), with a window
    events, event_id = read_events_file(folder / "sub-01_task-x_events.tsv")
    assert sorted(event_id) == ["rest", "stim"]
    rest2, stim2 = conditions_from_events(loaded, "rest=rest,stim=stim", tmax=2.0,
                                          events=folder / "sub-01_task-x_events.tsv")
    assert rest2.starts.tolist() == [100, 900] and stim2.starts.tolist() == [500]

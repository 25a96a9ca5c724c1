"""Channel-name and channel-type conventions, and standard montages.

Recording systems spell the same 10-05 electrode in many ways: PhysioNet pads
names with dots (``Fc5.``, ``Cz..``), clinical EDF exports prefix the type and
append the reference (``EEG Fp1-REF``, ``EEG FP1-LE``), and older systems use
the 10-20 names T3/T4/T5/T6 for today's T7/T8/P7/P8. Readers also type every
channel ``eeg`` when the file does not say otherwise, so EOG, ECG or trigger
channels end up averaged into the EEG. The functions here fix both, so that a
standard montage can be set by name and analyses pick the right channels.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import mne
import numpy as np

from harmonix.errors import ChannelError

__all__ = [
    "MIN_MONTAGE_CHANNELS",
    "ChannelConventions",
    "MontageResult",
    "apply_channel_conventions",
    "channel_positions",
    "infer_channel_types",
    "info_with_positions",
    "normalize_channel_names",
    "set_standard_montage",
]

MIN_MONTAGE_CHANNELS = 3
"""EEG channels that must match a montage before it is applied (fewer give no usable topography)."""

_REFERENCE_MONTAGE = "standard_1005"

# 10-20 (1958) names renamed in the 10-10 system (Nuwer et al. 1998); same positions.
_OLD_1020_NAMES = {"t3": "T7", "t4": "T8", "t5": "P7", "t6": "P8"}

# Reference suffixes of referential clinical derivations. A bipolar suffix such as
# "-F7" is deliberately absent: "Fp1-F7" is not the signal at Fp1.
_REFERENCE_SUFFIXES = ("ref", "le", "re", "ar", "avg", "av", "car", "a1", "a2", "a1a2", "m1", "m2", "m1m2", "lm")
_PREFIX = re.compile(r"^eeg[\s_:\-]*", re.IGNORECASE)
_SUFFIX = re.compile(r"[\s_]*-\s*(" + "|".join(_REFERENCE_SUFFIXES) + r")$", re.IGNORECASE)

# First match wins, so the specific physiological types come before the catch-all misc.
_TYPE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("stim", r"^(sti(m)?\b|sti\s*\d+$|status$|trig(ger)?|markers?\d*$|events?$)"),
        ("eog", r"eog|^(loc|roc)$"),
        ("ecg", r"ecg|ekg"),
        ("emg", r"emg"),
        ("resp", r"^resp|respiration|breath"),
        ("gsr", r"^(gsr|eda)\b"),
        ("temperature", r"^temp(erature)?\b"),
        ("misc", r"aux|^exg\s*\d+$|^misc|^acc(el)?|^gyro|^ppg|^pulse|^spo2|^photo|^light"),
    )
)

# Types a reader assigns when the file says nothing; only those are re-typed by name.
_GENERIC_TYPES = frozenset({"eeg", "misc"})


@dataclass(frozen=True)
class MontageResult:
    """What :func:`set_standard_montage` did.

    Attributes
    ----------
    applied : bool
        Whether positions were set from the montage.
    name : str | None
        The montage's name, or ``None`` when none was requested.
    positioned : tuple of str
        EEG channels that have a position afterwards (from the montage or the file).
    reason : str
        One sentence saying why the montage was, or was not, applied.
    """

    applied: bool
    name: str | None
    positioned: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ChannelConventions:
    """What :func:`apply_channel_conventions` changed.

    Attributes
    ----------
    renamed : tuple of (str, str)
        ``(old, new)`` for every renamed channel, in channel order.
    retyped : tuple of (str, str, str)
        ``(name, old_type, new_type)`` for every channel whose type changed
        (``name`` is the name after renaming).
    notes : tuple of str
        Names that could not be normalised, and why.
    """

    renamed: tuple[tuple[str, str], ...]
    retyped: tuple[tuple[str, str, str], ...]
    notes: tuple[str, ...]


def _builtin_name(montage: str) -> str:
    # MNE 1.13 renamed 'standard_*' to 'colin27_*' (same positions) and warns on the
    # old name; translate it only where the new name exists, so older MNE still works.
    if montage.startswith("standard_"):
        modern = "colin27_" + montage[len("standard_") :]
        if modern in mne.channels.get_builtin_montages():
            return modern
    return montage


@lru_cache(maxsize=8)
def standard_montage(name: str = _REFERENCE_MONTAGE) -> mne.channels.DigMontage:
    """The built-in montage ``name`` under its current MNE name (``standard_1005`` -> ``colin27_1005``)."""
    try:
        return mne.channels.make_standard_montage(_builtin_name(name))
    except ValueError as err:
        builtin = ", ".join(mne.channels.get_builtin_montages())
        raise ChannelError(f"unknown montage {name!r}; choose one of: {builtin}") from err


@lru_cache(maxsize=8)
def _spelling(montage_name: str) -> dict[str, str]:
    """Map lower-case electrode names to the montage's own spelling."""
    return {name.lower(): name for name in standard_montage(montage_name).ch_names}


def _normalize_one(name: str, spelling: Mapping[str, str]) -> str:
    core = _PREFIX.sub("", name.strip())
    core = _SUFFIX.sub("", core).strip().rstrip(".").strip()
    key = core.lower()
    if key in _OLD_1020_NAMES:
        return _OLD_1020_NAMES[key]
    if key in spelling:
        return spelling[key]
    # Unknown electrodes keep their name except for the PhysioNet padding, which is
    # never part of a name; prefixes/suffixes stay because the rest may be meaningful.
    return name.strip().rstrip(".") or name


def normalize_channel_names(names: Iterable[str], *, montage: str = _REFERENCE_MONTAGE) -> dict[str, str]:
    """Map channel names to the standard 10-05 spelling.

    Rules, in order: strip surrounding blanks, an ``EEG`` prefix (``EEG Fp1``),
    a reference suffix (``-REF``, ``-LE``, ``-A1``, ...; bipolar pairs such as
    ``Fp1-F7`` are left alone) and PhysioNet's trailing dots (``Cz..``); then
    rename the old 10-20 names T3/T4/T5/T6 to T7/T8/P7/P8, and fix the case by
    a case-insensitive lookup in ``montage`` (``FP1`` and ``fp1`` become
    ``Fp1``). Names that match no electrode only lose blanks and trailing dots.

    Parameters
    ----------
    names : iterable of str
        Channel names as stored in the file.
    montage : str
        Built-in MNE montage whose spelling is the reference.

    Returns
    -------
    mapping : dict of str to str
        ``{old: new}`` for the names that change. When two channels would end
        up with the same name, both keep their original names (MNE requires
        unique names, and guessing which one is "the" electrode is unsafe).

    Examples
    --------
    >>> normalize_channel_names(["Fc5.", "Cz..", "EEG FP1-LE", "T3", "Status"])
    {'Fc5.': 'FC5', 'Cz..': 'Cz', 'EEG FP1-LE': 'Fp1', 'T3': 'T7'}
    """
    mapping, _ = _plan_renames(list(names), montage)
    return mapping


def _plan_renames(names: list[str], montage: str) -> tuple[dict[str, str], list[str]]:
    """Return the safe renames and the names kept because renaming would duplicate one."""
    spelling = _spelling(montage)
    proposed = {name: _normalize_one(name, spelling) for name in names}
    # A new name collides if two channels propose it, or if it is already another
    # channel's name (e.g. a file holding both T3 and T7).
    counts = Counter(proposed.values())
    mapping, kept = {}, []
    for old, new in proposed.items():
        if new == old:
            continue
        if counts[new] == 1 and new not in proposed.keys() - {old}:
            mapping[old] = new
        else:
            kept.append(old)
    return mapping, kept


def infer_channel_types(names: Iterable[str]) -> dict[str, str]:
    """Guess the MNE channel type of non-EEG channels from their names.

    Recognised (case-insensitive): stim/trigger (``STI``, ``STI 014``,
    ``Status``, ``Trigger``, ``Marker*``, ``Events``), ``eog`` (``EOG``,
    ``HEOG``, ``VEOG``, ``EOG1``, ``LOC``/``ROC``), ``ecg`` (``ECG``, ``EKG``),
    ``emg``, ``resp``, ``gsr`` (``GSR``, ``EDA``), ``temperature`` and ``misc``
    (``AUX``, ``Right AUX``, BioSemi ``EXG1``-``EXG8``, accelerometer, PPG).
    BioSemi's external EXG inputs are typed misc because they carry whatever
    the experimenter plugged in (often EOG or mastoids) and have no scalp position.

    Parameters
    ----------
    names : iterable of str
        Channel names.

    Returns
    -------
    types : dict of str to str
        ``{name: type}`` for the names that match a rule; other names are absent.

    Examples
    --------
    >>> infer_channel_types(["Fp1", "HEOG", "EKG", "Right AUX", "Marker0"])
    {'HEOG': 'eog', 'EKG': 'ecg', 'Right AUX': 'misc', 'Marker0': 'stim'}
    """
    types = {}
    for name in names:
        stripped = name.strip()
        for kind, pattern in _TYPE_PATTERNS:
            if pattern.search(stripped):
                types[name] = kind
                break
    return types


def apply_channel_conventions(
    inst: mne.io.BaseRaw | mne.BaseEpochs, *, montage: str = _REFERENCE_MONTAGE
) -> ChannelConventions:
    """Rename channels to the standard spelling and type non-EEG channels, in place.

    Channel types are only changed where the reader left the generic ``eeg``
    or ``misc`` type, so types the file declares itself (a BDF ``Status``
    channel, BIDS ``channels.tsv``) are kept. Types are inferred from the
    original name, so ``EOG ROC-REF`` is typed ``eog`` even though it keeps its
    name.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        Modified in place, like MNE's own ``rename_channels``.
    montage : str
        Built-in montage whose spelling the names follow.

    Returns
    -------
    conventions : ChannelConventions
        The renamed and re-typed channels.

    See Also
    --------
    normalize_channel_names, infer_channel_types
    """
    original = list(inst.ch_names)
    mapping, kept = _plan_renames(original, montage)
    notes = ()
    if kept:
        notes = (f"kept the original names of {', '.join(kept)}: normalising them would duplicate a channel name",)
    if mapping:
        inst.rename_channels(mapping)
    current = dict(zip(inst.ch_names, inst.get_channel_types()))
    new_types = {}
    for old, kind in infer_channel_types(original).items():
        name = mapping.get(old, old)
        if current[name] in _GENERIC_TYPES and current[name] != kind:
            new_types[name] = kind
    if new_types:
        # MNE warns that the unit changes (V -> AU for stim); the data are untouched.
        inst.set_channel_types(new_types, on_unit_change="ignore")
    return ChannelConventions(
        renamed=tuple((old, mapping[old]) for old in original if old in mapping),
        retyped=tuple((name, current[name], kind) for name, kind in new_types.items()),
        notes=notes,
    )


def _has_position(loc: np.ndarray) -> bool:
    pos = loc[:3]
    return bool(np.all(np.isfinite(pos)) and np.any(pos != 0))


def channel_positions(info: mne.Info) -> np.ndarray:
    """Electrode positions of every channel of ``info``, as stored with the recording.

    Parameters
    ----------
    info : mne.Info

    Returns
    -------
    positions : ndarray, shape (n_channels, 3)
        Head-frame coordinates in m (``info['chs'][i]['loc'][:3]``); a row of
        NaN for a channel without a position (MNE stores zeros or NaN there).

    Examples
    --------
    >>> info = mne.create_info(["Cz", "X1"], 100.0, "eeg")
    >>> _ = info.set_montage(standard_montage(), on_missing="ignore")
    >>> np.isnan(channel_positions(info)).any(axis=1).tolist()
    [False, True]
    """
    positions = np.full((len(info["chs"]), 3), np.nan)
    for i, ch in enumerate(info["chs"]):
        if _has_position(ch["loc"]):
            positions[i] = ch["loc"][:3]
    return positions


def info_with_positions(ch_names: Sequence[str], positions: np.ndarray, sfreq: float = 1000.0) -> mne.Info:
    """An EEG ``Info`` whose channels sit where ``positions`` says (the inverse of :func:`channel_positions`).

    Parameters
    ----------
    ch_names : sequence of str
    positions : ndarray, shape (n_channels, 3)
        Head-frame coordinates in m; rows with NaN leave that channel without
        a position.
    sfreq : float
        Sampling rate written into the ``Info`` (Hz).

    Returns
    -------
    info : mne.Info

    Raises
    ------
    ChannelError
        ``positions`` not one row of three coordinates per channel.
    """
    names = [str(n) for n in ch_names]
    positions = np.asarray(positions, dtype=float)
    if positions.shape != (len(names), 3):
        raise ChannelError(f"positions must be shaped ({len(names)}, 3) for {len(names)} channels, "
                           f"got {positions.shape}")
    info = mne.create_info(names, float(sfreq), "eeg")
    placed = {name: pos for name, pos in zip(names, positions) if np.all(np.isfinite(pos))}
    if placed:
        montage = mne.channels.make_dig_montage(ch_pos=placed, coord_frame="head")
        info.set_montage(montage, on_missing="ignore")
    return info


def set_standard_montage(
    inst: mne.io.BaseRaw | mne.BaseEpochs,
    montage: str | mne.channels.DigMontage | None = _REFERENCE_MONTAGE,
    *,
    min_channels: int = MIN_MONTAGE_CHANNELS,
) -> MontageResult:
    """Give EEG channels positions from a standard montage, in place, when sensible.

    Nothing is changed when ``montage`` is ``None``, when the file already
    carries EEG positions (e.g. EEGLAB channel locations, BIDS
    ``electrodes.tsv``: measured positions beat a template), or when fewer than
    ``min_channels`` EEG channels are in the montage. Channels not in the
    montage stay without position (``on_missing="ignore"``).

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        Modified in place.
    montage : str | mne.channels.DigMontage | None
        A built-in montage name (see ``mne.channels.get_builtin_montages``),
        a montage object, or ``None`` to skip.
    min_channels : int
        Matching EEG channels needed before the montage is applied.

    Returns
    -------
    result : MontageResult
        Whether it was applied, to which channels, and why.

    Examples
    --------
    >>> info = mne.create_info(["Fp1", "Cz", "Oz", "EOG"], 100.0, ["eeg", "eeg", "eeg", "eog"])
    >>> raw = mne.io.RawArray(np.zeros((4, 10)), info, verbose=False)
    >>> set_standard_montage(raw).positioned
    ('Fp1', 'Cz', 'Oz')
    """
    picks = mne.pick_types(inst.info, eeg=True, exclude=[])
    eeg = [inst.ch_names[i] for i in picks]
    located = tuple(inst.ch_names[i] for i in picks if _has_position(inst.info["chs"][i]["loc"]))
    if montage is None:
        return MontageResult(False, None, located, "no montage requested")
    # Resolve the name first so that a typo fails even when the file has positions.
    name, dig = (montage, standard_montage(montage)) if isinstance(montage, str) else ("custom", montage)
    if located:
        return MontageResult(False, name, located, f"kept the {len(located)} EEG positions stored in the file")
    matched = [ch for ch in eeg if ch in set(dig.ch_names)]
    if len(matched) < min_channels:
        reason = (
            f"only {len(matched)} of {len(eeg)} EEG channels are in montage {name!r} "
            f"(need {min_channels}); channels have no positions"
        )
        return MontageResult(False, name, (), reason)
    # MNE warns that non-EEG channels (BrainVision misc, EOG) named like electrodes get no
    # position; leaving them unpositioned is the intent here. verbose="error", not a warnings
    # filter alone: with a file handler on MNE's logger (a user's log file) MNE also logs the
    # warning, and its console handler prints it.
    inst.set_montage(dig, on_missing="ignore", verbose="error")
    reason = f"{len(matched)} of {len(eeg)} EEG channels positioned from montage {name!r}"
    return MontageResult(True, name, tuple(matched), reason)

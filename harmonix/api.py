"""The library's front door: analyse MNE objects or plain arrays, read analyses back.

:func:`analyze` takes what an MNE user has in hand (a Raw, an Epochs) or a
NumPy array with its sampling rate, and runs the same one-pass analysis as
``harmonix analyze`` (:func:`harmonix.pipeline.analyze_eeg`); the result is an
:class:`~harmonix.pipeline.result.Analysis` (tidy metrics, parameters,
arrays). :func:`read_analysis` reads a folder written by ``harmonix analyze``
back into the same object.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mne
import numpy as np

from harmonix.errors import ParameterError
from harmonix.pipeline.result import Analysis

__all__ = ["analyze", "read_analysis"]


def _as_instance(data, sfreq: float | None, ch_names: Sequence[str] | None) -> mne.io.BaseRaw | mne.BaseEpochs:
    """A Raw or Epochs from ``data``; arrays are wrapped as EEG in V, named ``ch_names`` (default EEG001...)."""
    if isinstance(data, (mne.io.BaseRaw, mne.BaseEpochs)):
        if sfreq is not None and float(sfreq) != float(data.info["sfreq"]):
            raise ParameterError(f"sfreq={sfreq} contradicts the object's own {data.info['sfreq']:g} Hz; leave it out")
        return data
    if isinstance(data, (str, Path)):
        raise ParameterError(f"analyze() takes data, not a path ({data}); read it with harmonix.io.load_eeg first")
    try:
        array = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"analyze() needs an mne.io.Raw, mne.Epochs or a numeric array, got "
                             f"{type(data).__name__}") from err
    if array.ndim not in (2, 3):
        raise ParameterError(f"an array must be (n_channels, n_times) or (n_epochs, n_channels, n_times), got shape "
                             f"{array.shape}")
    if sfreq is None:
        raise ParameterError("an array needs its sampling rate: analyze(data, sfreq=...)")
    sfreq = float(sfreq)
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ParameterError(f"sfreq must be a positive number of Hz, got {sfreq!r}")
    n_channels = array.shape[-2]
    names = [f"EEG{i + 1:03d}" for i in range(n_channels)] if ch_names is None else [str(c) for c in ch_names]
    if len(names) != n_channels or len(set(names)) != n_channels:
        raise ParameterError(f"ch_names must name each of the {n_channels} channels once, got {len(names)} names")
    info = mne.create_info(names, sfreq, "eeg")
    if array.ndim == 2:
        inst = mne.io.RawArray(array, info, verbose=False)
    else:
        inst = mne.EpochsArray(array, info, verbose=False)
    if ch_names is not None:
        from harmonix.io.channels import set_standard_montage

        set_standard_montage(inst, "standard_1005")
    return inst


def analyze(
    data,
    sfreq: float | None = None,
    *,
    ch_names: Sequence[str] | None = None,
    session: str = "recording",
    harmonic_model=None,
    verbose: bool | str | int | None = None,
    **options,
) -> Analysis:
    """Analyse one EEG recording: band power, peaks, aperiodic fit, envelopes, locking, harmonics, proxies.

    Parameters
    ----------
    data : mne.io.Raw | mne.Epochs | ndarray
        The recording in V: an MNE object, or an array shaped
        ``(n_channels, n_times)`` (continuous) or ``(n_epochs, n_channels,
        n_times)`` (epochs). Never modified.
    sfreq : float | None
        Sampling rate (Hz) of an array; not given for MNE objects.
    ch_names : sequence of str | None
        Names of an array's channels (10-20/10-10 names get a standard
        montage and can be decomposed onto connectome harmonics); default
        ``EEG001``...
    session : str
        Label in the ``session`` column.
    harmonic_model : HarmonicModel | bool | None
        Connectome harmonics to decompose onto: a model, ``True`` for the
        default (:func:`harmonix.harmonics.model.default_harmonic_model`), or
        ``None``/``False`` for none.
    verbose : bool | str | int | None
        MNE-style verbosity of the harmonix logger for this call.
    **options
        Passed to :func:`harmonix.pipeline.analyze_eeg` (``bands``,
        ``psd_method``, ``notch``, ``conditions``, ``steady_state``, ...).

    Returns
    -------
    analysis : Analysis

    Raises
    ------
    ParameterError
        Not a Raw, Epochs or numeric 2-D/3-D array; an array without
        ``sfreq``; wrong ``ch_names``; unknown options.
    DataQualityError, ChannelError
        NaN samples, no EEG channel (from the analysis itself).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> result = analyze(rng.normal(0, 1e-5, (4, 2560)), sfreq=128.0)
    >>> sorted(set(result.metrics["metric"]))[:3]
    ['aperiodic_exponent', 'aperiodic_offset', 'aperiodic_r_squared']
    """
    from harmonix.pipeline import analyze_eeg
    from harmonix.log import verbosity

    inst = _as_instance(data, sfreq, ch_names)
    if harmonic_model is True:
        from harmonix.harmonics.model import default_harmonic_model

        harmonic_model = default_harmonic_model()
    elif harmonic_model is False:
        harmonic_model = None
    with verbosity(verbose):
        try:
            return analyze_eeg(inst, session=session, harmonic_model=harmonic_model, **options)
        except TypeError as err:
            if "unexpected keyword" in str(err):
                raise ParameterError(f"analyze(): {err}") from None
            raise


def read_analysis(folder: str | Path) -> Analysis:
    """Read a folder written by ``harmonix analyze`` (or ``music``) back as an :class:`Analysis`.

    The same checks as every reader of an analysis folder: a missing or
    damaged ``metrics.csv``, ``params.json`` or ``arrays.npz`` is one
    :class:`~harmonix.errors.InputFileError` line naming the file.

    Parameters
    ----------
    folder : path

    Returns
    -------
    analysis : Analysis
        ``metrics`` (tidy table), ``params`` (``params.json``) and ``arrays``
        (every array of ``arrays.npz``; empty when there is none).
    """
    from harmonix.compare.sessions import read_analysis as read_tables
    from harmonix.compare.sessions import read_arrays_file

    folder = Path(folder)
    metrics, params = read_tables(folder)
    arrays_path = folder / "arrays.npz"
    arrays = dict(read_arrays_file(arrays_path)) if arrays_path.is_file() else {}
    return Analysis(metrics, params, arrays)

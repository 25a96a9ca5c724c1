r"""Forward model: simulated cortical sources -> EEG sensors -> :class:`mne.io.RawArray`.

Source activity is given either in harmonic space, as coefficients
:math:`a_k(t)` of a :class:`~harmonix.harmonics.basis.HarmonicBasis`
(vertex activity :math:`x(t) = \Psi a(t)`), or in region space, as one time
course :math:`s_r(t)` per region carried uniformly by every vertex of the
region (:math:`x(t) = R\,s(t)` with :math:`R` the vertex-by-region indicator).
The sensors are

.. math:: y(t) = L\,x(t) = (L\Psi)\,a(t) \quad\text{or}\quad (L R)\,s(t),

with the leadfield :math:`L` (n_sensors x n_vertices). The small gain matrices
:math:`L\Psi` (n_sensors x n_modes) and :math:`LR` (n_sensors x n_regions) are
formed once; the vertex-by-time array is never built, so memory is
independent of the number of vertices.

Units
-----
The default model's leadfield (tvb-data ``projection_eeg_65_surface_16k``)
and the simulated sources are in arbitrary units. By default the clean
sensor signal (per-channel mean removed, as an AC-coupled EEG amplifier
does) is scaled so that its RMS over all channels and samples is
``signal_rms`` = 10 µV, a typical scalp EEG amplitude (Nunez & Srinivasan
2006), and the Raw is in V. ``signal_rms=None`` keeps leadfield x source
units (use it with a leadfield in V/(A·m) and sources in A·m).

Noise
-----
Sensor noise is independent Gaussian noise on every channel, white by
default (or with PSD :math:`\propto f^{-\chi}`, ``noise_exponent=χ``), with
the variance set from the clean signal's mean power :math:`P_s`:

.. math:: \sigma^2 = P_s \, 10^{-\mathrm{SNR_{dB}}/10},

so the realised SNR, :math:`10\log_{10}(\|y\|^2/\|n\|^2)`, equals the
request up to sampling fluctuation (well under 0.1 dB for a few seconds of
63 channels). The noise comes from ``numpy.random.default_rng(seed)``:
equal seeds give identical recordings.

References
----------
.. [1] P. L. Nunez and R. Srinivasan, "Electric Fields of the Brain: The
   Neurophysics of EEG", 2nd ed., Oxford University Press, 2006.
.. [2] P. Sanz Leon et al., "The Virtual Brain: a simulator of primate brain
   network dynamics", Frontiers in Neuroinformatics 7:10, 2013 (tvb-data
   leadfield and connectome).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mne
import numpy as np

from harmonix.errors import DataQualityError, ParameterError
from harmonix.harmonics.connectome import region_indices
from harmonix.io.channels import standard_montage

DEFAULT_SIGNAL_RMS = 10e-6
"""RMS (V) of the clean simulated EEG when it is scaled (``signal_rms`` default)."""

SPACES = ("harmonic", "region")
"""Source spaces accepted by :func:`sensor_signals` and :func:`simulate_raw`."""


def _leadfield(connectome) -> np.ndarray:
    if getattr(connectome, "leadfield", None) is None:
        raise ParameterError(f"connectome {connectome.name!r} has no leadfield to project sources to sensors")
    return np.asarray(connectome.leadfield, dtype=float)


def harmonic_gain(connectome, basis, *, n_modes: int | None = None) -> np.ndarray:
    """Sensor pattern of every harmonic, :math:`L\\Psi`, shape (n_sensors, n_modes).

    Parameters
    ----------
    connectome : Connectome
        With a leadfield on the basis' vertices.
    basis : HarmonicBasis
    n_modes : int | None
        Use the first ``n_modes`` harmonics (default all).
    """
    lead = _leadfield(connectome)
    if basis.n_vertices != lead.shape[1]:
        raise ParameterError(f"the basis has {basis.n_vertices} vertices but the leadfield {lead.shape[1]}")
    n = basis.n_modes if n_modes is None else int(n_modes)
    if not 1 <= n <= basis.n_modes:
        raise ParameterError(f"n_modes must be between 1 and {basis.n_modes}, got {n_modes}")
    return lead @ basis.eigenvectors[:, :n]


def region_gain(connectome, regions: Sequence[str | int] | None = None) -> np.ndarray:
    """Sensor pattern of unit activity on every vertex of each region, :math:`LR`.

    Parameters
    ----------
    connectome : Connectome
    regions : sequence of str | int | None
        Region labels or indices (default: all regions, in order).

    Returns
    -------
    gain : ndarray, shape (n_sensors, n_regions)
        Column ``r``: the sum of the leadfield columns of region ``r``'s
        vertices (zero for a region without cortical vertices).
    """
    lead = _leadfield(connectome)
    indices = list(range(connectome.n_regions)) if regions is None else region_indices(connectome, regions)
    indicator = (np.asarray(connectome.region_map)[:, None] == np.asarray(indices)[None, :]).astype(float)
    return lead @ indicator


def sensor_signals(activity, connectome, *, basis=None, space: str | None = None,
                   regions: Sequence[str | int] | None = None) -> np.ndarray:
    """Clean sensor signals of source activity (leadfield units x source units).

    Parameters
    ----------
    activity : ndarray, shape (n_modes, n_times) or (n_regions, n_times)
        Harmonic coefficients (``space='harmonic'``, the first ``n_modes``
        modes of ``basis``) or region time courses (``space='region'``, one
        row per entry of ``regions``, default all regions).
    connectome : Connectome
    basis : HarmonicBasis | None
        Needed for ``space='harmonic'``.
    space : {'harmonic', 'region'} | None
        Default: ``'harmonic'`` when a basis is given, else ``'region'``.
    regions : sequence | None
        Regions of the rows of a region-space ``activity``.

    Returns
    -------
    sensors : ndarray, shape (n_sensors, n_times)
    """
    x = np.asarray(activity, dtype=float)
    if x.ndim != 2:
        raise ParameterError(f"activity must be (n_sources, n_times), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DataQualityError("source activity contains NaN or Inf values")
    space = ("harmonic" if basis is not None else "region") if space is None else space
    if space not in SPACES:
        raise ParameterError(f"space must be one of {SPACES}, got {space!r}")
    if space == "harmonic":
        if basis is None:
            raise ParameterError("harmonic-space activity needs the basis it is expressed in (basis=...)")
        if x.shape[0] > basis.n_modes:
            raise ParameterError(f"activity has {x.shape[0]} rows but the basis only {basis.n_modes} modes")
        gain = harmonic_gain(connectome, basis, n_modes=x.shape[0])
    else:
        gain = region_gain(connectome, regions)
        if gain.shape[1] != x.shape[0]:
            raise ParameterError(f"activity has {x.shape[0]} rows but {gain.shape[1]} regions were named")
    return gain @ x


@dataclass(frozen=True)
class SimulatedEEG:
    """A simulated recording with what went into it.

    Attributes
    ----------
    raw : mne.io.RawArray
        EEG in V (or leadfield units with ``signal_rms=None``), channels named
        as the leadfield rows, standard 10-05 montage.
    clean : ndarray, shape (n_sensors, n_times)
        The noise-free sensor signal in the Raw's units.
    noise_std : float
        Standard deviation of the added sensor noise (Raw units).
    snr_db : float | None
        Requested SNR (``None``: no noise).
    scale : float
        Factor applied to leadfield x source units.
    seed : int | None
        Seed of the noise generator.
    missing_positions : tuple of str
        Channels the standard montage has no position for (e.g. ``CB1``, ``CB2``).
    """

    raw: mne.io.RawArray
    clean: np.ndarray
    noise_std: float
    snr_db: float | None
    scale: float
    seed: int | None
    missing_positions: tuple[str, ...] = ()


def _noise(shape: tuple[int, int], sfreq: float, exponent: float, rng: np.random.Generator) -> np.ndarray:
    if exponent == 0:
        return rng.standard_normal(shape)
    from harmonix.simulate.synthetic import powerlaw_noise

    return powerlaw_noise(shape[0], shape[1], sfreq, exponent, rng)


def simulate_raw(
    activity,
    sfreq: float,
    connectome,
    *,
    basis=None,
    space: str | None = None,
    regions: Sequence[str | int] | None = None,
    snr_db: float | None = 20.0,
    signal_rms: float | None = DEFAULT_SIGNAL_RMS,
    noise_exponent: float = 0.0,
    remove_dc: bool = True,
    seed: int | None = 0,
) -> SimulatedEEG:
    """EEG of simulated sources: leadfield projection, scaling, sensor noise, montage.

    Parameters
    ----------
    activity : ndarray, shape (n_sources, n_times)
        Harmonic coefficients or region time courses (see :func:`sensor_signals`).
    sfreq : float
        Sampling rate in Hz.
    connectome : Connectome
        With leadfield and sensor names.
    basis, space, regions
        See :func:`sensor_signals`.
    snr_db : float | None
        Sensor SNR in dB, :math:`10\\log_{10}(P_{signal}/P_{noise})` over all
        channels; ``None`` adds no noise.
    signal_rms : float | None
        RMS in V of the clean signal after scaling (default 10 µV); ``None``
        keeps leadfield x source units.
    noise_exponent : float
        0 (default): white noise; :math:`\\chi > 0`: PSD :math:`\\propto f^{-\\chi}`.
    remove_dc : bool
        Remove each channel's mean from the clean signal (AC coupling) before
        scaling and noise.
    seed : int | None
        Seed of the noise.

    Returns
    -------
    sim : SimulatedEEG

    Raises
    ------
    ParameterError
        Bad rates, shapes, SNR or scale.
    DataQualityError
        The sources produce no signal at the sensors (all zero).
    """
    try:
        sfreq = float(sfreq)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"sfreq must be a positive number of Hz, got {sfreq!r}") from err
    if not (np.isfinite(sfreq) and sfreq > 0):
        raise ParameterError(f"sfreq must be a positive number of Hz, got {sfreq!r}")
    if snr_db is not None and not np.isfinite(float(snr_db)):
        raise ParameterError(f"snr_db must be a finite number of dB or None, got {snr_db!r}")
    if signal_rms is not None and not (np.isfinite(float(signal_rms)) and float(signal_rms) > 0):
        raise ParameterError(f"signal_rms must be a positive number of V or None, got {signal_rms!r}")
    if not (np.isfinite(float(noise_exponent)) and float(noise_exponent) >= 0):
        raise ParameterError(f"noise_exponent must be >= 0, got {noise_exponent!r}")
    _leadfield(connectome)
    if connectome.sensor_names is None:
        raise ParameterError(f"connectome {connectome.name!r} has no sensor names")
    clean = sensor_signals(activity, connectome, basis=basis, space=space, regions=regions)
    if remove_dc:
        clean = clean - clean.mean(axis=1, keepdims=True)
    power = float(np.mean(clean**2))
    if not power > 0:
        raise DataQualityError("the simulated sources produce no signal at the sensors (all zero)")
    scale = 1.0 if signal_rms is None else float(signal_rms) / np.sqrt(power)
    clean = clean * scale
    power *= scale**2
    rng = np.random.default_rng(seed)
    noise_std = 0.0
    data = clean
    if snr_db is not None:
        noise_std = float(np.sqrt(power * 10 ** (-float(snr_db) / 10)))
        data = clean + noise_std * _noise(clean.shape, sfreq, float(noise_exponent), rng)
    info = mne.create_info(list(connectome.sensor_names), sfreq, "eeg")
    raw = mne.io.RawArray(data, info, verbose=False)
    montage = standard_montage()
    missing = tuple(name for name in connectome.sensor_names if name not in montage.ch_names)
    raw.set_montage(montage, on_missing="ignore", verbose=False)
    return SimulatedEEG(raw, clean, noise_std, None if snr_db is None else float(snr_db), scale, seed, missing)

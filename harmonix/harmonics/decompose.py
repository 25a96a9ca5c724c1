"""Decompose activity into connectome harmonics: from vertices or from EEG sensors.

From vertices the coefficients are a projection, ``a(t) = Ψᵀ x(t)`` (graph
bases) or ``Ψᵀ B x(t)`` (Laplace–Beltrami), see
:meth:`~harmonix.harmonics.basis.HarmonicBasis.project`.

From sensors, ``y(t) = G Ψ a(t) + noise`` with ``G`` the EEG leadfield
(sensors x vertices). With ``M = H G Ψ`` (``H`` the average-reference
operator, applied to data and model alike, since EEG potentials are only known
up to a common reference) the coefficients are the Tikhonov-regularised least
squares solution

.. math::

    \\hat a_\\alpha = \\arg\\min_a \\|H y - M a\\|^2 + \\alpha \\|a\\|^2
                  = V \\operatorname{diag}\\Big(\\frac{s_i}{s_i^2 + \\alpha}\\Big) U^\\top H y,

with ``M = U S Vᵀ`` (thin SVD). ``α`` is chosen by generalised
cross-validation (Golub, Heath & Wahba 1979), minimising over a grid

.. math::

    \\mathrm{GCV}(\\alpha) = \\frac{\\sum_t \\|(I - A_\\alpha) H y(t)\\|^2}
                               {\\big(\\operatorname{tr}(I - A_\\alpha)\\big)^2},
    \\qquad A_\\alpha = M (M^\\top M + \\alpha I)^{-1} M^\\top,

so the residual norm and the trace come straight from the SVD. The number of
harmonics estimable from sensors is limited by the number of sensors: a few
tens, the spatially smoothest ones, which is what the default
(:data:`DEFAULT_SENSOR_MODES`) asks for.

Harmonic power and energy follow Atasoy et al. 2017 (Sci Rep 7:17661):
``P_k(t) = |a_k(t)|`` and ``E_k(t) = λ_k² |a_k(t)|²``, here on the analytic
(band-limited) coefficients of each frequency band, so ``|a_k(t)|`` is the
instantaneous amplitude of harmonic ``k`` in that band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ChannelError, ParameterError
from harmonix.spectral.bands import Band
from harmonix.spectral.filterbank import DEFAULT_CHUNK_SECONDS, iter_analytic_blocks

DEFAULT_SENSOR_MODES = 30
"""Harmonics estimated from EEG sensors by default (well below the ~60 sensors of a 10-10 cap)."""

MIN_MATCHED_CHANNELS = 8
"""Fewest recording channels that must match leadfield sensors for a sensor decomposition."""

DEFAULT_LOW_MODES = 10
"""Harmonics counted as 'lowest' in :attr:`HarmonicSpectrum.low_energy_fraction`."""


@dataclass(frozen=True)
class ChannelMatch:
    """Which recording channels correspond to which leadfield sensors (by name)."""

    names: tuple[str, ...]
    recording_indices: np.ndarray
    sensor_indices: np.ndarray
    unmatched_recording: tuple[str, ...]
    unmatched_sensors: tuple[str, ...]

    def summary(self) -> str:
        """One line for logs: counts and the recording channels left out."""
        left = f"; not in the leadfield: {', '.join(self.unmatched_recording)}" if self.unmatched_recording else ""
        return f"{len(self.names)} channels matched to leadfield sensors{left}"


def match_channels(
    ch_names: Sequence[str],
    sensor_names: Sequence[str],
    *,
    min_channels: int = MIN_MATCHED_CHANNELS,
    source: str = "<recording>",
) -> ChannelMatch:
    """Match recording channels to leadfield sensors by name, ignoring case.

    Raises
    ------
    ChannelError
        When fewer than ``min_channels`` channels match.

    Examples
    --------
    >>> m = match_channels(["Fp1", "CZ", "EOG"], ["Cz", "Fp1", "Oz"], min_channels=2)
    >>> m.names, m.recording_indices.tolist(), m.sensor_indices.tolist(), m.unmatched_recording
    (('Fp1', 'CZ'), [0, 1], [1, 0], ('EOG',))
    """
    lookup = {name.lower(): i for i, name in enumerate(sensor_names)}
    rec_idx, sens_idx = [], []
    for i, name in enumerate(ch_names):
        j = lookup.get(name.lower())
        if j is not None:
            rec_idx.append(i)
            sens_idx.append(j)
    if len(rec_idx) < min_channels:
        raise ChannelError(
            f"{source}: only {len(rec_idx)} of {len(ch_names)} channels match the leadfield's sensors "
            f"(need at least {min_channels}); sensor names are 10-10 labels such as {', '.join(list(sensor_names)[:5])}"
        )
    matched_sensors = set(sens_idx)
    return ChannelMatch(
        names=tuple(ch_names[i] for i in rec_idx),
        recording_indices=np.array(rec_idx, dtype=int),
        sensor_indices=np.array(sens_idx, dtype=int),
        unmatched_recording=tuple(n for i, n in enumerate(ch_names) if i not in set(rec_idx)),
        unmatched_sensors=tuple(n for j, n in enumerate(sensor_names) if j not in matched_sensors),
    )


def average_reference(x: np.ndarray) -> np.ndarray:
    """Subtract the mean over rows (sensors): ``H x`` with ``H = I - 11ᵀ/n``."""
    return x - x.mean(axis=0, keepdims=True)


@dataclass(frozen=True)
class SensorInverse:
    """Regularised map from average-referenced sensor data to harmonic coefficients.

    Attributes
    ----------
    operator : ndarray, shape (n_modes, n_sensors)
        ``W_α = V diag(s / (s² + α)) Uᵀ H``; coefficients are ``W_α @ y``.
    alpha : float
        Chosen Tikhonov parameter, in units of the squared largest singular value
        of ``M`` times :attr:`alpha_relative`.
    alpha_relative : float
        ``α / s_max²`` (scale-free).
    alphas_relative, gcv : ndarray
        The grid searched and the GCV score at each point.
    singular_values : ndarray
        Of ``M = H G Ψ``.
    params : dict
        Method, number of modes and sensors, reference.
    """

    operator: np.ndarray
    alpha: float
    alpha_relative: float
    alphas_relative: np.ndarray
    gcv: np.ndarray
    singular_values: np.ndarray
    params: dict = field(default_factory=dict)

    def apply(self, y: np.ndarray) -> np.ndarray:
        """Coefficients ``(n_modes, n_times)`` of sensor data ``(n_sensors, n_times)``."""
        return self.operator @ y


def gcv_curve(singular_values: np.ndarray, projected: np.ndarray, residual_outside: float, n_rows: int,
              alphas: np.ndarray) -> np.ndarray:
    """GCV score for each ``α`` from the SVD of the model.

    Parameters
    ----------
    singular_values : ndarray, shape (r,)
        ``s_i`` of ``M``.
    projected : ndarray, shape (r,)
        ``Σ_t (u_iᵀ y(t))²``: data energy along each left singular vector.
    residual_outside : float
        ``Σ_t ‖y(t)‖² - Σ_i projected_i``: energy outside the range of ``M``.
    n_rows : int
        Number of (sensor) equations, the trace of the identity.
    alphas : ndarray
        Tikhonov parameters to score.
    """
    s2 = singular_values[np.newaxis, :] ** 2
    a = alphas[:, np.newaxis]
    shrink = a / (s2 + a)  # 1 - filter factor
    rss = (shrink**2 * projected[np.newaxis, :]).sum(axis=1) + residual_outside
    dof = n_rows - (s2 / (s2 + a)).sum(axis=1)
    return rss / dof**2


def sensor_inverse(
    gain: np.ndarray,
    data: np.ndarray | None = None,
    *,
    second_moment: np.ndarray | None = None,
    alphas_relative: np.ndarray | None = None,
) -> SensorInverse:
    """Tikhonov inverse of ``gain = G Ψ`` with ``α`` chosen by GCV on ``data``.

    Parameters
    ----------
    gain : ndarray, shape (n_sensors, n_modes)
        Leadfield times harmonics, for the matched sensors (not yet referenced).
    data : ndarray, shape (n_sensors, n_times) | None
        Sensor data used to choose ``α`` (typically the recording itself);
        average-referenced here.
    second_moment : ndarray, shape (n_sensors, n_sensors) | None
        Instead of ``data``: :math:`C = \\sum_t y(t) y(t)^T`, all GCV needs
        (``Σ_t (u_iᵀ H y)² = u_iᵀ H C H u_i``), so that a recording streamed
        block by block gives the same ``α`` as the whole array.
    alphas_relative : ndarray | None
        Grid of ``α / s_max²``; default 60 log-spaced values from 1e-8 to 10.

    Returns
    -------
    inverse : SensorInverse
    """
    gain = np.asarray(gain, dtype=float)
    if (data is None) == (second_moment is None):
        raise ParameterError("give exactly one of data and second_moment")
    if data is not None:
        data = np.asarray(data, dtype=float)
        if data.ndim != 2:
            raise ParameterError(f"data must be (n_sensors, n_times), got shape {data.shape}")
        if not np.isfinite(data).all():
            raise ParameterError("sensor data for the harmonic decomposition contain NaN or Inf")
        second_moment = data @ data.T
    second_moment = np.asarray(second_moment, dtype=float)
    if gain.ndim != 2 or second_moment.shape != (gain.shape[0], gain.shape[0]):
        raise ParameterError(
            f"gain (n_sensors, n_modes) and data (n_sensors, ...) disagree: {gain.shape}, {second_moment.shape}")
    if not np.isfinite(second_moment).all():
        raise ParameterError("sensor data for the harmonic decomposition contain NaN or Inf")
    model = average_reference(gain)
    referenced = average_reference(average_reference(second_moment).T)  # H C H
    u, s, vt = np.linalg.svd(model, full_matrices=False)
    keep = s > s[0] * 1e-12  # the average reference removes one dimension
    u, s, vt = u[:, keep], s[keep], vt[keep]
    grid = np.logspace(-8, 1, 60) if alphas_relative is None else np.asarray(alphas_relative, dtype=float)
    projected = np.einsum("si,st,ti->i", u, referenced, u)
    outside = max(float(np.trace(referenced) - projected.sum()), 0.0)
    # The reference removes one equation, so the residual lives in n_sensors - 1 dimensions.
    scores = gcv_curve(s, projected, outside, model.shape[0] - 1, grid * s[0] ** 2)
    best = int(np.argmin(scores))
    alpha = float(grid[best] * s[0] ** 2)
    # U's columns lie in the range of H (the model was referenced), so U^T y = U^T H y:
    # the operator applies the average reference by itself.
    operator = (vt.T * (s / (s**2 + alpha))) @ u.T
    return SensorInverse(
        operator=operator,
        alpha=alpha,
        alpha_relative=float(grid[best]),
        alphas_relative=grid,
        gcv=scores,
        singular_values=s,
        params={
            "method": "Tikhonov, alpha by generalised cross-validation (Golub, Heath & Wahba 1979)",
            "reference": "average",
            "n_sensors": int(gain.shape[0]),
            "n_modes": int(gain.shape[1]),
            "alpha_at_grid_edge": best in (0, len(grid) - 1),
        },
    )


@dataclass(frozen=True)
class HarmonicSpectrum:
    """Time-averaged harmonic power and energy of one band (Atasoy et al. 2017).

    Attributes
    ----------
    band : str
        Band name.
    mean_power : ndarray, shape (n_modes,)
        ``⟨P_k⟩_t = ⟨|a_k(t)|⟩_t`` (units of the coefficients).
    mean_energy : ndarray, shape (n_modes,)
        ``⟨E_k⟩_t = λ_k² ⟨|a_k(t)|²⟩_t``.
    total_energy : float
        ``Σ_k ⟨E_k⟩_t``.
    entropy : float
        Repertoire entropy ``-Σ_k p_k log2 p_k`` (bits) of the normalised mean
        power ``p_k = ⟨P_k⟩ / Σ_j ⟨P_j⟩``; ``log2(n_modes)`` when all harmonics
        are equally active, 0 when one dominates.
    low_energy_fraction : float
        ``Σ_{k<n_low} ⟨E_k⟩ / Σ_k ⟨E_k⟩``: share of the energy carried by the
        ``n_low`` lowest harmonics.
    low_power_fraction : float
        ``Σ_{k<n_low} ⟨|a_k|²⟩ / Σ_k ⟨|a_k|²⟩``: the same share without the
        ``λ_k²`` weighting (energy weighting makes low harmonics count little;
        the constant harmonic has ``λ_0 = 0`` and no energy at all).
    n_low : int
        Number of harmonics counted as lowest.
    """

    band: str
    mean_power: np.ndarray
    mean_energy: np.ndarray
    total_energy: float
    entropy: float
    low_energy_fraction: float
    low_power_fraction: float
    n_low: int


def harmonic_spectrum(
    amplitude_sum: np.ndarray, squared_sum: np.ndarray, n_times: int, eigenvalues: np.ndarray, *, band: str,
    n_low: int = DEFAULT_LOW_MODES,
) -> HarmonicSpectrum:
    """Summaries from accumulated ``Σ_t |a_k|`` and ``Σ_t |a_k|²`` (see :class:`HarmonicSpectrum`)."""
    mean_power = amplitude_sum / n_times
    mean_squared = squared_sum / n_times
    mean_energy = np.asarray(eigenvalues) ** 2 * mean_squared
    p = mean_power / mean_power.sum() if mean_power.sum() > 0 else np.full_like(mean_power, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = float(-np.nansum(np.where(p > 0, p * np.log2(p), 0.0)))
    n_low = min(n_low, len(mean_squared))
    return HarmonicSpectrum(
        band, mean_power, mean_energy, float(mean_energy.sum()), entropy,
        _leading_share(mean_energy, n_low), _leading_share(mean_squared, n_low), n_low,
    )


def _leading_share(values: np.ndarray, n: int) -> float:
    total = values.sum()
    return float(values[:n].sum() / total) if total > 0 else float("nan")


def band_harmonic_spectra(
    data: np.ndarray,
    sfreq: float,
    bands: Sequence[Band],
    operator: np.ndarray,
    eigenvalues: np.ndarray,
    *,
    n_low: int = DEFAULT_LOW_MODES,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    keep_coefficients: bool = False,
) -> tuple[list[HarmonicSpectrum], np.ndarray | None]:
    """Harmonic spectra per band of sensor (or vertex) data, streamed in chunks.

    The filter-bank analytic signal ``z_b(t)`` of ``data`` is mapped to
    complex harmonic coefficients ``a_b(t) = W z_b(t)`` (``W``: a
    :class:`SensorInverse` operator, or ``Ψᵀ`` for vertex data), whose modulus
    is the instantaneous amplitude of each harmonic in band ``b``.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times) or (n_epochs, n_channels, n_times)
        Epochs are filtered one by one and their time averages pooled.
    operator : ndarray, shape (n_modes, n_channels)
    eigenvalues : ndarray, shape (n_modes,)
    keep_coefficients : bool
        Also return all coefficients as complex64 ``(n_bands, n_modes, n_times)``
        (continuous data only).

    Returns
    -------
    spectra : list of HarmonicSpectrum
        One per band.
    coefficients : ndarray | None
    """
    n_modes = operator.shape[0]
    epochs = data if data.ndim == 3 else data[np.newaxis]
    amp_sum = np.zeros((len(bands), n_modes))
    sq_sum = np.zeros((len(bands), n_modes))
    keep = keep_coefficients and data.ndim == 2
    coefficients = np.empty((len(bands), n_modes, data.shape[-1]), np.complex64) if keep else None
    # Projection and filtering are linear and commute: project first when that
    # shrinks the data (vertices -> harmonics), filter first otherwise.
    project_first = n_modes < epochs.shape[1]
    for epoch in epochs:
        signal = operator @ epoch if project_first else epoch
        for block in iter_analytic_blocks(signal, sfreq, bands, chunk_seconds=chunk_seconds):
            a = block.values if project_first else np.einsum("kc,bct->bkt", operator, block.values)
            amplitude = np.abs(a)
            amp_sum += amplitude.sum(axis=-1)
            sq_sum += np.square(amplitude).sum(axis=-1)
            if coefficients is not None:
                coefficients[:, :, block.start : block.stop] = a
    n_samples = epochs.shape[0] * epochs.shape[-1]
    spectra = [
        harmonic_spectrum(amp_sum[b], sq_sum[b], n_samples, eigenvalues, band=band.name, n_low=n_low)
        for b, band in enumerate(bands)
    ]
    return spectra, coefficients


@dataclass(frozen=True)
class SensorDecomposition:
    """Everything needed to turn a recording's channels into harmonic coefficients.

    Attributes
    ----------
    match : ChannelMatch
        Recording channels used, in the order of the operator's columns.
    inverse : SensorInverse
        Regularised inverse of ``G Ψ`` for those channels.
    eigenvalues : ndarray, shape (n_modes,)
        Eigenvalues of the harmonics estimated.
    """

    match: ChannelMatch
    inverse: SensorInverse
    eigenvalues: np.ndarray

    def params(self) -> dict:
        """JSON-ready description for a sidecar."""
        return {
            "channels_matched": list(self.match.names),
            "channels_not_in_leadfield": list(self.match.unmatched_recording),
            "n_modes": int(self.eigenvalues.size),
            "alpha_relative": self.inverse.alpha_relative,
            **self.inverse.params,
        }


def sensor_decomposition(
    leadfield: np.ndarray | None,
    sensor_names: Sequence[str] | None,
    eigenvectors: np.ndarray,
    eigenvalues: np.ndarray,
    ch_names: Sequence[str],
    data: np.ndarray | None,
    *,
    second_moment: np.ndarray | None = None,
    n_modes: int = DEFAULT_SENSOR_MODES,
    min_channels: int = MIN_MATCHED_CHANNELS,
    source: str = "<recording>",
) -> SensorDecomposition:
    """Match channels to the leadfield and build the GCV-regularised inverse.

    Parameters
    ----------
    leadfield : ndarray, shape (n_sensors, n_vertices) | None
        EEG gain matrix of the connectome model.
    sensor_names : sequence of str | None
        Names of the leadfield's rows.
    eigenvectors, eigenvalues : ndarray
        Harmonic basis ``Ψ`` (n_vertices, n_basis) and its eigenvalues.
    ch_names : sequence of str
        Recording channel names (rows of ``data``).
    data : ndarray, shape (n_channels, n_times) or (n_epochs, n_channels, n_times) | None
        The recording, used to choose the regularisation by GCV.
    second_moment : ndarray, shape (n_channels, n_channels) | None
        Instead of ``data``: ``Σ_t y(t) y(t)ᵀ`` over the recording's samples
        (all GCV needs; see :func:`sensor_inverse`).
    n_modes : int
        Lowest harmonics to estimate (at most the number of basis modes).
    """
    if leadfield is None or sensor_names is None:
        raise ChannelError(f"{source}: the connectome model has no EEG leadfield; sensor data cannot be decomposed")
    n_modes = min(int(n_modes), eigenvectors.shape[1])
    match = match_channels(ch_names, sensor_names, min_channels=min_channels, source=source)
    gain = leadfield[match.sensor_indices] @ eigenvectors[:, :n_modes]
    if data is not None:
        rows = data[..., match.recording_indices, :]
        flat = rows.reshape(-1, rows.shape[-2], rows.shape[-1]).transpose(1, 0, 2).reshape(rows.shape[-2], -1)
        inverse = sensor_inverse(gain, flat)
    else:
        index = np.asarray(match.recording_indices)
        inverse = sensor_inverse(gain, second_moment=np.asarray(second_moment)[np.ix_(index, index)])
    return SensorDecomposition(match, inverse, np.asarray(eigenvalues[:n_modes]))

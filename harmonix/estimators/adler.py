"""The Adler fit: detuning and coupling of two oscillators from their phase difference.

For two phase oscillators, or one oscillator and a periodic drive, the phase
difference :math:`\\phi` follows the Adler equation (Adler 1946; Pikovsky,
Rosenblum & Kurths 2001, ch. 3)

.. math:: \\frac{d\\phi}{dt} = \\Delta\\omega - K \\sin(\\phi - \\alpha),

locked when :math:`|\\Delta\\omega| < K`. :func:`fit_adler` estimates
:math:`\\Delta\\omega`, :math:`K` and :math:`\\alpha` from the unwrapped phase
difference (see its docstring for the estimators and their errors).

References
----------
Adler R. (1946). A study of locking phenomena in oscillators. Proc IRE 34:351-357.
Pikovsky A., Rosenblum M., Kurths J. (2001). Synchronization: a universal
concept in nonlinear sciences. Cambridge University Press (ch. 3 and 9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harmonix.errors import ParameterError
from harmonix.estimators.locking import _check_phases, _positive



@dataclass(frozen=True)
class AdlerFit:
    """Result of :func:`fit_adler` for :math:`d\\phi/dt = \\Delta\\omega - K \\sin(\\phi - \\alpha)`.

    Attributes
    ----------
    dw : float
        Detuning :math:`\\Delta\\omega` in rad/s (natural-frequency difference a - b).
    K : float
        Coupling strength in rad/s (half-width of the locking range in
        angular frequency). Negative K (repulsive coupling, lock near
        :math:`\\phi = \\pi`) is possible with ``include_cos=False``.
    dw_ci, K_ci : tuple of float
        Confidence intervals (level ``confidence``), effective-sample-size corrected.
    locked : bool
        Inside the locking range :math:`|\\Delta\\omega| < |K|`; when the fit
        is not identifiable, decided from the observed phase slips (fewer than
        one net cycle slipped over the record).
    slip_frequency : float
        Observed mean :math:`\\frac{1}{2\\pi}\\,d\\phi/dt` in Hz (signed; 0 when locked).
    r_squared : float
        Fraction of the variance of the derivative (Fourier method) or of the
        phase increments (least-squares method) explained by the model.
    n_samples : int
        Observations used in the regression.
    n_effective : float
        Effective number of independent observations behind the CIs.
    identifiable : bool
        False when the trace does not separate :math:`\\Delta\\omega` from K
        (e.g. a noise-free locked trace sitting at its fixed point, where only
        :math:`\\Delta\\omega / K = \\sin\\phi^*` is determined); dw, K are then
        NaN or have wide CIs.
    diffusion : float
        Phase-diffusion coefficient D in rad^2/s, from the residual variance of
        forward increments (:math:`\\mathrm{Var} = 2 D \\tau`); NaN for the
        central / Savitzky-Golay derivatives.
    phase_offset : float
        :math:`\\alpha` in rad (0 unless ``include_cos``).
    method : str
    confidence : float
    """

    dw: float
    K: float
    dw_ci: tuple[float, float]
    K_ci: tuple[float, float]
    locked: bool
    slip_frequency: float
    r_squared: float
    n_samples: int
    n_effective: float
    identifiable: bool
    diffusion: float
    phase_offset: float
    method: str
    confidence: float

    @property
    def predicted_slip_frequency(self) -> float:
        """Slip frequency of the noise-free model, :math:`\\operatorname{sign}(\\Delta\\omega)\\sqrt{\\Delta\\omega^2 - K^2}/2\\pi` Hz (0 inside the locking range)."""
        if not (np.isfinite(self.dw) and np.isfinite(self.K)):
            return float("nan")
        return float(np.sign(self.dw) * math.sqrt(max(self.dw**2 - self.K**2, 0.0)) / (2 * math.pi))

    @property
    def locking_margin(self) -> float:
        """:math:`|K| - |\\Delta\\omega|` in rad/s: positive inside the locking range."""
        return float(abs(self.K) - abs(self.dw))


def _hac_cov(design: np.ndarray, resid: np.ndarray, bandwidth: int) -> tuple[np.ndarray, float]:
    """OLS covariance inflated by the Newey-West (Bartlett) factor; returns (cov, n_eff)."""
    n_obs, n_par = design.shape
    bread = np.linalg.pinv(design.T @ design)
    dof = max(n_obs - n_par, 1)
    cov_ols = bread * (resid @ resid) / dof
    scores = design * resid[:, None]
    meat = scores.T @ scores
    for lag in range(1, min(bandwidth, n_obs - 1) + 1):
        weight = 1.0 - lag / (bandwidth + 1.0)
        s = scores[lag:].T @ scores[:-lag]
        meat += weight * (s + s.T)
    cov_hac = bread @ meat @ bread * n_obs / dof
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.diag(cov_hac) / np.diag(cov_ols)
    ratios = ratios[np.isfinite(ratios)]
    inflation = max(1.0, float(ratios.max())) if ratios.size else 1.0
    return cov_ols * inflation, n_obs / inflation


def _adler_flow(phi: np.ndarray, tau: float, dw: float, K: float, alpha: float) -> np.ndarray:
    """Deterministic flow of the Adler equation over tau (RK4, vectorised over starting phases)."""
    rate = abs(dw) + abs(K)
    n_sub = int(min(200, max(1, math.ceil(rate * tau / 0.1))))
    h = tau / n_sub

    def f(p: np.ndarray) -> np.ndarray:
        return dw - K * np.sin(p - alpha)

    p = phi.copy()
    for _ in range(n_sub):
        k1 = f(p)
        k2 = f(p + 0.5 * h * k1)
        k3 = f(p + 0.5 * h * k2)
        k4 = f(p + h * k3)
        p += h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return p


def _phase_difference(phase_a: np.ndarray, phase_b: np.ndarray) -> np.ndarray:
    a = np.asarray(phase_a)
    b = np.asarray(phase_b)
    a = np.angle(a) if np.iscomplexobj(a) else a
    b = np.angle(b) if np.iscomplexobj(b) else b
    a = _check_phases(a, "phase_a")
    b = _check_phases(b, "phase_b")
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ParameterError(
            f"phase_a and phase_b must be 1-D series of the same length, got shapes {a.shape} and {b.shape}"
        )
    return np.unwrap(a - b)


def fit_adler(
    phase_a: np.ndarray,
    phase_b: np.ndarray,
    sfreq: float,
    *,
    method: str = "fourier",
    derivative: str = "forward",
    lag: int = 1,
    include_cos: bool = False,
    confidence: float = 0.95,
    hac_bandwidth: int | None = None,
) -> AdlerFit:
    """Fit the Adler equation to the phase difference of two oscillators.

    Model (Adler 1946; Pikovsky et al. 2001, ch. 3), with
    :math:`\\phi = \\phi_a - \\phi_b` unwrapped (rad):

    .. math::

        \\frac{d\\phi}{dt} = \\Delta\\omega - K \\sin(\\phi - \\alpha) + \\sqrt{2D}\\,\\xi(t),

    :math:`\\Delta\\omega` the detuning and K the coupling (rad/s), :math:`\\alpha`
    a phase offset (0 unless ``include_cos``), :math:`\\xi` white noise. Inside
    the locking range :math:`|\\Delta\\omega| < |K|` the phase difference rests
    near the stable fixed point :math:`\\sin(\\phi^* - \\alpha) = \\Delta\\omega / K`;
    outside it slips at :math:`\\sqrt{\\Delta\\omega^2 - K^2}/2\\pi` Hz.

    Methods
    -------
    ``"fourier"`` (default): linear regression of a derivative estimate
    :math:`y_t` on the Fourier basis :math:`[1, \\sin\\phi_t (, \\cos\\phi_t)]`:
    :math:`y_t = \\Delta\\omega - K \\sin\\phi_t (+ b\\cos\\phi_t)`; with the
    cosine term :math:`K = \\sqrt{a^2 + b^2}`, :math:`\\alpha = \\operatorname{atan2}(b, -a)`.
    ``derivative`` picks :math:`y_t`:

    - ``"forward"``: :math:`(\\phi_{t+L} - \\phi_t)/(L/f_s)` - the Euler
      (Ito) drift estimator; its noise is independent of :math:`\\phi_t`, so it
      is unbiased for intrinsic phase diffusion (bias ~ :math:`\\kappa L/(2 f_s)`
      relative, :math:`\\kappa = \\sqrt{K^2 - \\Delta\\omega^2}` when locked:
      keep the lag short against 1/K);
    - ``"central"``: :math:`(\\phi_{t+L} - \\phi_{t-L})/(2L/f_s)`;
    - ``"savgol"``: Savitzky-Golay first derivative (window 2L+1, order 2).

    The last two smooth measurement noise on the phase but their errors are
    correlated with :math:`\\phi_t` when the phase itself diffuses, which
    attenuates K; prefer them only for phases with large observation noise.

    ``"least-squares"``: nonlinear least squares on the unwrapped phase
    difference, one step ahead: minimise :math:`\\sum_t (\\phi_{t+L} -
    \\Phi_\\tau(\\phi_t; \\Delta\\omega, K, \\alpha))^2` with :math:`\\Phi_\\tau`
    the exact (RK4) flow of the noise-free equation over :math:`\\tau = L/f_s`,
    started from the Fourier estimate. No discretisation bias, so longer lags
    can average observation noise.

    Confidence intervals: normal intervals from the regression covariance
    :math:`\\hat\\sigma^2 (X^T X)^{-1}` (X the design, or the Jacobian for
    least squares), widened for autocorrelation by an effective sample size
    :math:`N_\\mathrm{eff} = N / \\max(1, \\max_j V^{HAC}_{jj}/V^{OLS}_{jj})`,
    :math:`V^{HAC}` the Newey-West (Bartlett kernel) covariance with bandwidth
    ``hac_bandwidth`` (default :math:`\\max(2L, \\lceil 4 (N/100)^{2/9}\\rceil)`).
    The covariance used is :math:`V^{OLS} N / N_\\mathrm{eff}`.

    Identifiability: inside the locking range a noise-free trace sits at
    :math:`\\phi^*` where :math:`\\sin\\phi` does not vary, so only
    :math:`\\Delta\\omega/K` is determined; it is the noise-driven excursions
    (or a transient) that separate them. Near the fixed point the dynamics
    are linear (relaxation rate :math:`\\kappa = \\sqrt{K^2 - \\Delta\\omega^2}`), so
    the precision depends on the number of relaxation times observed
    (:math:`\\sim \\kappa T`), not on the noise amplitude, as long as the noise
    dominates round-off and observation error. ``identifiable`` is False when the
    design is rank deficient (then dw = K = NaN) or the standard error of dw or
    K exceeds a quarter of :math:`\\max(|\\Delta\\omega|, |K|)`; ``locked`` is
    then decided from the phase slips actually observed.

    Parameters
    ----------
    phase_a, phase_b : ndarray, shape (n_times,)
        Phases in rad (wrapped or not), or complex analytic signals (their
        angle is used). The per-sample change of the difference must stay
        below pi (sampling well above the detuning).
    sfreq : float
        Sampling rate in Hz.
    method : {"fourier", "least-squares"}
    derivative : {"forward", "central", "savgol"}
        Fourier method only.
    lag : int
        L in samples (>= 1).
    include_cos : bool
        Fit the phase offset :math:`\\alpha` (general first-order Fourier model).
    confidence : float
        Confidence level of the intervals, in (0, 1).
    hac_bandwidth : int | None
        Newey-West bandwidth in samples.

    Returns
    -------
    fit : AdlerFit

    Examples
    --------
    >>> sfreq, dw, K = 250.0, 2 * np.pi * 2.0, 2 * np.pi * 1.0
    >>> t = np.arange(int(20 * sfreq)) / sfreq
    >>> c = np.sqrt(dw**2 - K**2)  # exact drifting solution of the Adler equation
    >>> phi = 2 * np.arctan((K + c * np.tan(0.5 * c * t)) / dw)
    >>> fit = fit_adler(np.unwrap(phi), np.zeros_like(phi), sfreq, method="least-squares")
    >>> round(fit.dw / (2 * np.pi), 3), round(fit.K / (2 * np.pi), 3), fit.locked
    (2.0, 1.0, False)
    """
    from scipy import optimize, signal, stats

    if method not in ("fourier", "least-squares"):
        raise ParameterError(f"method must be 'fourier' or 'least-squares', got {method!r}")
    if derivative not in ("forward", "central", "savgol"):
        raise ParameterError(f"derivative must be 'forward', 'central' or 'savgol', got {derivative!r}")
    if int(lag) != lag or lag < 1:
        raise ParameterError(f"lag must be a positive integer number of samples, got {lag}")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence}")
    lag = int(lag)
    sfreq = _positive(sfreq, "sfreq")
    phi = _phase_difference(phase_a, phase_b)
    n_par = 3 if include_cos else 2
    min_samples = max(10 * n_par, 2 * lag + 10)
    if phi.size < min_samples:
        raise ParameterError(
            f"the Adler fit needs at least {min_samples} samples for lag={lag}, got {phi.size}"
        )
    tau = lag / sfreq
    duration = (phi.size - 1) / sfreq
    slip = float((phi[-1] - phi[0]) / duration / (2 * math.pi))
    slips_observed = abs(phi[-1] - phi[0]) / (2 * math.pi)

    # derivative estimate and regressors
    if derivative == "forward" or method == "least-squares":
        x_phi = phi[:-lag]
        y = (phi[lag:] - phi[:-lag]) / tau
    elif derivative == "central":
        x_phi = phi[lag:-lag]
        y = (phi[2 * lag :] - phi[: -2 * lag]) / (2 * tau)
    else:
        y = signal.savgol_filter(phi, 2 * lag + 1, 2, deriv=1, delta=1.0 / sfreq)[lag:-lag]
        x_phi = phi[lag:-lag]
    columns = [np.ones_like(x_phi), np.sin(x_phi)] + ([np.cos(x_phi)] if include_cos else [])
    design = np.column_stack(columns)
    bandwidth = hac_bandwidth if hac_bandwidth is not None else max(2 * lag, math.ceil(4 * (y.size / 100) ** (2 / 9)))
    z_crit = float(stats.norm.ppf(0.5 + confidence / 2))

    # rank check on the standardised regressors
    spread = design[:, 1:].std(axis=0)
    if np.any(spread < 1e-9):
        return AdlerFit(
            dw=float("nan"), K=float("nan"), dw_ci=(-math.inf, math.inf), K_ci=(-math.inf, math.inf),
            locked=bool(slips_observed < 1.0), slip_frequency=slip, r_squared=float("nan"),
            n_samples=int(y.size), n_effective=float("nan"), identifiable=False,
            diffusion=float("nan"), phase_offset=0.0, method=method, confidence=confidence,
        )

    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    cov, n_eff = _hac_cov(design, resid, int(bandwidth))
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else float("nan")
    diffusion = float(resid.var() * tau / 2.0) if derivative == "forward" else float("nan")

    if method == "fourier":
        dw = float(coef[0])
        if include_cos:
            a, b = coef[1], coef[2]
            K = float(math.hypot(a, b))
            alpha = float(math.atan2(b, -a))
            grad = np.array([-a, b]) / K if K > 0 else np.array([1.0, 0.0])  # dK/d(a, b)
            var_k = float(grad @ cov[1:, 1:] @ grad)
        else:
            K = float(-coef[1])
            alpha = 0.0
            var_k = float(cov[1, 1])
        var_dw = float(cov[0, 0])
    else:
        start = [float(coef[0]), float(-coef[1])]
        if include_cos:
            a, b = coef[1], coef[2]
            start = [float(coef[0]), float(math.hypot(a, b)), float(math.atan2(b, -a))]
        x0_phi, x1_phi = phi[:-lag], phi[lag:]

        def residuals(params: np.ndarray) -> np.ndarray:
            alpha_ = params[2] if include_cos else 0.0
            return (x1_phi - _adler_flow(x0_phi, tau, params[0], params[1], alpha_)) / tau

        scale = max(abs(start[0]), abs(start[1]), 1.0)
        sol = optimize.least_squares(residuals, np.array(start), x_scale=[scale, scale] + ([1.0] if include_cos else []))
        params = sol.x
        resid = sol.fun
        jac = -sol.jac  # d(model)/d(params) in the units of y
        cov, n_eff = _hac_cov(jac, resid, int(bandwidth))
        dw, K = float(params[0]), float(params[1])
        alpha = float(params[2]) if include_cos else 0.0
        if include_cos and K < 0:
            K, alpha = -K, float(np.angle(np.exp(1j * (alpha + math.pi))))
        var_dw, var_k = float(cov[0, 0]), float(cov[1, 1])
        r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else float("nan")
        diffusion = float(resid.var() * tau / 2.0)

    se_dw, se_k = math.sqrt(max(var_dw, 0.0)), math.sqrt(max(var_k, 0.0))
    scale = max(abs(dw), abs(K), 1e-12)
    identifiable = bool(np.isfinite(se_dw) and np.isfinite(se_k) and se_dw < 0.25 * scale and se_k < 0.25 * scale)
    locked = bool(abs(dw) < abs(K)) if identifiable else bool(slips_observed < 1.0)
    return AdlerFit(
        dw=dw,
        K=K,
        dw_ci=(dw - z_crit * se_dw, dw + z_crit * se_dw),
        K_ci=(K - z_crit * se_k, K + z_crit * se_k),
        locked=locked,
        slip_frequency=slip,
        r_squared=float(r2),
        n_samples=int(y.size),
        n_effective=float(n_eff),
        identifiable=identifiable,
        diffusion=diffusion,
        phase_offset=alpha,
        method=method,
        confidence=float(confidence),
    )


__all__ = ["AdlerFit", "fit_adler"]

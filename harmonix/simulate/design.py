r"""Harmonic-targeted stimulation: the rhythm that puts the wave model's energy into chosen harmonics.

The wave model (:mod:`harmonix.simulate.wave`) says how much energy a sound's
envelope puts into harmonic :math:`k` when it drives the auditory cortex:
:math:`E_k = c_k^2 \int S(f)\,|H_k(f)|^2\,df`, with :math:`S` the envelope's
modulation spectrum, :math:`H_k` the mode's transfer function and
:math:`c_k` the drive pattern's coefficient on the mode. A design chooses
the stimulus so that the share of energy in the target set :math:`T`,

.. math:: J = \frac{\sum_{k \in T} E_k}{\sum_k E_k},

is as large as possible.

The stimulus is a harmonic stack (partials of ``f0``, each amplitude-modulated
at one of up to three rhythms, depth within [0, 1]) with rhythms in the
safety range and within the modulation spectrum's range. Its envelope
spectrum is a set of lines :math:`S(f) = \sum_j w_j \delta(f - r_j)`, so

.. math:: J = \frac{\sum_j w_j A_T(r_j)}{\sum_j w_j A(r_j)} \le \max_j \frac{A_T(r_j)}{A(r_j)},
   \qquad A_T(r) = \sum_{k\in T} c_k^2 |H_k(r)|^2,\ A(r) = \sum_k c_k^2 |H_k(r)|^2 :

a mixture of rhythms never beats its best single rhythm, and the depth
scales every :math:`E_k` alike. The design is therefore a search over one
rate: a log-spaced grid over the admissible range, then golden-section
refinement around the best grid point, within a fixed budget of evaluations
of :math:`J` (so that a random search can be given the same budget). The
depth is set to its maximum, 1, for the most energy at the same share.

:func:`random_design` searches the full parameter space (stacks of one to
three rhythms and their rates) at random with the same budget: the baseline
a design must beat. The result is written as an ordinary protocol
(:func:`design_protocol_text`), so it renders, plays and verifies like any
other, with the predicted resonance profile in a JSON sidecar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harmonix.errors import ParameterError
from harmonix.stimulus.protocol import RATE_RANGE_HZ

MODULATION_RANGE_HZ = (0.5, 64.0)
"""Envelope frequencies the resonance profile of a rendered sound covers (its modulation spectrum)."""
DEFAULT_BUDGET = 200
GOLDEN = (math.sqrt(5) - 1) / 2


def parse_targets(spec: str | Sequence[int], n_modes: int) -> np.ndarray:
    """Harmonic numbers from ``'1-10'``, ``'2,5,7'``, ``'1-3,8'`` or a sequence; checked against ``n_modes``.

    Harmonic numbers are the indices of the modes (``h000`` is the constant
    mode, which no spatial pattern excites; it may not be a target).
    """
    if isinstance(spec, str):
        numbers: list[int] = []
        for item in filter(None, (p.strip() for p in spec.split(","))):
            low, sep, high = item.partition("-")
            try:
                numbers += list(range(int(low), int(high) + 1)) if sep else [int(low)]
            except ValueError:
                raise ParameterError(f"--target {spec!r}: give harmonic numbers such as 1-10 or 2,5,7") from None
    else:
        numbers = [int(v) for v in spec]
    targets = np.unique(np.asarray(numbers, dtype=int))
    if targets.size == 0:
        raise ParameterError("no target harmonic given")
    if targets.min() < 1 or targets.max() >= n_modes:
        raise ParameterError(f"target harmonics {spec!r} are out of reach: the model has harmonics 1-{n_modes - 1} "
                             "(h000, the constant mode, cannot be targeted)")
    if targets.size >= n_modes - 1:
        raise ParameterError(f"target harmonics {spec!r} cover every harmonic of the model: nothing to design for")
    return targets


@dataclass(frozen=True)
class ResonanceTarget:
    """The wave model's response seen from a target set: :math:`A_T(r)` and :math:`A(r)` (module docstring)."""

    model: object
    projection: np.ndarray
    targets: np.ndarray
    rate_range: tuple[float, float]

    def energy(self, rates: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Energy per mode of an envelope with lines at ``rates`` (Hz) of power ``weights``."""
        rates = np.atleast_1d(np.asarray(rates, dtype=float))
        weights = np.ones_like(rates) if weights is None else np.asarray(weights, dtype=float)
        return self.projection[:, None] ** 2 * self.model.gain(rates) ** 2 @ weights

    def share(self, rates, weights=None) -> float:
        """:math:`J`: the targets' share of the energy."""
        energy = self.energy(rates, weights)
        total = energy.sum()
        return float(energy[self.targets].sum() / total) if total > 0 else 0.0


@dataclass(frozen=True)
class Design:
    """A designed (or randomly found) stack: its rhythms and weights, and the share it predicts."""

    rates: tuple[float, ...]
    weights: tuple[float, ...]
    share: float
    evaluations: int
    method: str


def admissible_rates(rate_range: tuple[float, float] | None = None) -> tuple[float, float]:
    """The safety range of rhythms intersected with the modulation spectrum's range."""
    low, high = RATE_RANGE_HZ if rate_range is None else rate_range
    low, high = max(low, MODULATION_RANGE_HZ[0], RATE_RANGE_HZ[0]), min(high, RATE_RANGE_HZ[1])
    if not low < high:
        raise ParameterError(f"no admissible rhythm between {low:g} and {high:g} Hz")
    return float(low), float(high)


def design_rate(target: ResonanceTarget, *, budget: int = DEFAULT_BUDGET) -> Design:
    """The best single rhythm: a log grid (3/4 of the budget), then golden-section refinement."""
    if budget < 8:
        raise ParameterError(f"the design budget must allow at least 8 evaluations, got {budget}")
    low, high = target.rate_range
    n_grid = int(budget * 3 // 4)
    grid = np.geomspace(low, high, n_grid)
    shares = np.array([target.share([r]) for r in grid])
    best = int(np.argmax(shares))
    a, b = math.log(grid[max(best - 1, 0)]), math.log(grid[min(best + 1, n_grid - 1)])
    rate, share, used = float(grid[best]), float(shares[best]), n_grid
    x1, x2 = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    f1, f2 = target.share([math.exp(x1)]), target.share([math.exp(x2)])
    used += 2
    while used < budget:
        if f1 >= f2:
            b, x2, f2 = x2, x1, f1
            x1 = b - GOLDEN * (b - a)
            f1 = target.share([math.exp(x1)])
        else:
            a, x1, f1 = x1, x2, f2
            x2 = a + GOLDEN * (b - a)
            f2 = target.share([math.exp(x2)])
        used += 1
    for x, f in ((x1, f1), (x2, f2)):
        if f > share:
            rate, share = math.exp(x), f
    return Design((rate,), (1.0,), share, used, "grid + golden section (single rhythm)")


def stack_weights(n_rhythms: int, partials: int = 6) -> np.ndarray:
    """Envelope line power of each rhythm of a stack: partial ``k`` (amplitude ``1/k``) pulses at rhythm
    ``(k - 1) % n_rhythms``, so rhythm ``j`` carries the squared sum of its partials' amplitudes."""
    k = np.arange(1, partials + 1)
    amplitude = (1.0 / k) / np.sum(1.0 / k)
    return np.array([amplitude[(k - 1) % n_rhythms == j].sum() ** 2 for j in range(n_rhythms)])


def random_design(target: ResonanceTarget, *, budget: int = DEFAULT_BUDGET, seed: int = 0) -> Design:
    """Random search over stacks of one to three rhythms (log-uniform rates) with ``budget`` evaluations.

    The candidates are the stimuli a protocol can express (:func:`stack_weights`), so the best one renders
    as it was scored."""
    rng = np.random.default_rng(seed)
    low, high = target.rate_range
    best = None
    for _ in range(int(budget)):
        n = int(rng.integers(1, 4))
        rates = np.exp(rng.uniform(math.log(low), math.log(high), n))
        weights = stack_weights(n)
        share = target.share(rates, weights)
        if best is None or share > best.share:
            best = Design(tuple(map(float, rates)), tuple(map(float, weights)), share, int(budget), "random search")
    return best


def resonance_target(targets, harmonic_model=None, *, rate_range=None, n_modes: int | None = None) -> ResonanceTarget:
    """The default wave model (auditory drive) seen from ``targets`` (a spec such as ``'1-10'`` or indices)."""
    from harmonix.simulate.wave import AUDITORY_REGIONS, WaveModel, project_drive, region_pattern

    if harmonic_model is None:
        from harmonix.harmonics.model import default_harmonic_model

        harmonic_model = default_harmonic_model(kind="laplace-beltrami")
    basis, connectome = harmonic_model.basis, harmonic_model.connectome
    model = WaveModel.from_basis(basis, mesh=connectome.mesh, n_modes=n_modes)
    projection = project_drive(basis, region_pattern(connectome, list(AUDITORY_REGIONS)), n_modes=model.n_modes)
    return ResonanceTarget(model, projection, parse_targets(targets, model.n_modes), admissible_rates(rate_range))


def design_protocol_text(design: Design, *, name: str, targets: np.ndarray, minutes: float = 20.0,
                         f0: float = 110.0, level: float = -12.0) -> str:
    """The design as a protocol TOML: a 2-min ramp of depth, the plateau, a 5-min cool-down of depth."""
    rhythms = ", ".join(f"{r:.4f}" for r in design.rates)
    if minutes * 60 < 420 + 60:
        raise ParameterError(f"a designed protocol lasts at least 8 min (ramp, plateau, cool-down); got {minutes:g}")
    plateau = minutes * 60 - 420
    hs = ", ".join(f"h{k:03d}" for k in targets)
    voice = (f'[[segments.voices]]\ntype = "stack"\nname = "stack"\nf0 = {f0:g}\npartials = 6\n'
             f"rhythms = [{rhythms}]\nlevel = {level:g}\n")
    return (f'description = "Harmonic-targeted stack designed for {hs} of the wave model (predicted share '
            f'{design.share:.3f}; {design.method})"\nname = "{name}"\nchannels = 2\n\n'
            "[safety]\nloudness_lufs = -23\npeak_dbfs = -1\nfade_in = 10\nfade_out = 20\n\n"
            f'[[segments]]\nlabel = "ramp"\nduration = 120\nshape = "smooth"\n{voice}depth = [0.2, 1.0]\n\n'
            f'[[segments]]\nlabel = "plateau"\nduration = {plateau:g}\n{voice}depth = 1.0\n\n'
            f'[[segments]]\nlabel = "cool-down"\nduration = 300\nshape = "smooth"\n{voice}depth = [1.0, 0.2]\n')


def rendered_share(protocol, target: ResonanceTarget, *, seconds: float = 60.0, sfreq: float = 16000.0) -> float:
    """The targets' share in the resonance profile of a rendered preview (``seconds`` long) of ``protocol``.

    The same measurement for every candidate: the protocol compressed to
    ``seconds`` (:meth:`~harmonix.stimulus.protocol.Protocol.scaled`),
    synthesised, its envelope's modulation spectrum taken
    (:func:`~harmonix.spectral.audio.modulation_spectrum`) and passed through
    the model (:func:`~harmonix.simulate.wave.resonance_profile`).
    """
    from harmonix.io.audio import Audio
    from harmonix.simulate.wave import resonance_profile
    from harmonix.stimulus import render as R

    proto = R.resolve_protocol(protocol, seconds=seconds)
    samples = np.concatenate(list(R.synthesize(proto, sfreq=sfreq)), axis=1)
    profile = resonance_profile(Audio(samples, sfreq=sfreq, source=proto.source), target.model, target.projection)
    return float(profile.fraction[target.targets].sum())


def design_sidecar(out):
    """``designed.toml`` -> ``designed.resonance.json`` (``designed.json`` is the rendered audio's sidecar)."""
    from pathlib import Path

    out = Path(out)
    return out.with_name(out.stem + ".resonance.json")


def write_design(targets: str, out, *, budget: int = DEFAULT_BUDGET, seed: int = 0, minutes: float = 20.0,
                 compare: bool = True) -> dict:
    """Design for ``targets``, write ``out`` (.toml) and its sidecar (:func:`design_sidecar`); return the sidecar.

    The sidecar holds the design, the predicted resonance profile (share per
    harmonic), and, with ``compare``, the rendered-preview shares of the
    design, of the best random-search candidate with the same budget, and of
    every built-in preset.
    """
    import json
    from pathlib import Path

    from harmonix import __version__
    from harmonix.stimulus import protocol as P
    from harmonix.tables import atomic_write_text

    out = Path(out)
    if out.suffix != ".toml":
        raise ParameterError(f"{out}: a designed protocol is written as TOML; give -o NAME.toml")
    target = resonance_target(targets)
    design = design_rate(target, budget=budget)
    text = design_protocol_text(design, name=out.stem, targets=target.targets, minutes=minutes)
    proto = P.parse_protocol_text(text, source=str(out))
    energy = target.energy(np.asarray(design.rates), np.asarray(design.weights))
    sidecar = {
        "harmonix_version": __version__, "targets": [int(k) for k in target.targets],
        "rates_hz": list(design.rates), "predicted_share": design.share, "evaluations": design.evaluations,
        "method": design.method, "rate_range_hz": list(target.rate_range),
        "model": {"kind": "wave (damped neural field on Laplace-Beltrami harmonics)", "n_modes": target.model.n_modes,
                  "gamma_s": target.model.gamma_s, "r_s": target.model.r_s, "drive": "auditory regions"},
        "predicted_fraction": [float(v) for v in energy / energy.sum()],
    }
    if compare:
        from harmonix.stimulus.protocol import list_presets

        chance = random_design(target, budget=budget, seed=seed)
        random_text = design_protocol_text(chance, name="random", targets=target.targets, minutes=minutes)
        sidecar["comparison_rendered_share"] = {
            "designed": rendered_share(proto, target),
            "random_search": rendered_share(P.parse_protocol_text(random_text), target),
            **{f"preset {name}": rendered_share(name, target) for name in list_presets()},
        }
        sidecar["random_search"] = {"rates_hz": list(chance.rates), "weights": list(chance.weights),
                                    "predicted_share": chance.share, "seed": seed}
    atomic_write_text(out, text)
    atomic_write_text(design_sidecar(out), json.dumps(sidecar, indent=2) + "\n")
    return sidecar

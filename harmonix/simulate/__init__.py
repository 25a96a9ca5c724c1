"""Simulation core: synthetic recordings, oscillator networks, annealing, the wave model, the forward model.

Entry points: :func:`harmonix.simulate.run.simulate_recording` (``harmonix simulate``),
:mod:`~harmonix.simulate.oscillators` (Kuramoto, Stuart-Landau), :mod:`~harmonix.simulate.schedules`,
:mod:`~harmonix.simulate.spin_glass`, :mod:`~harmonix.simulate.wave`, :mod:`~harmonix.simulate.forward`,
:mod:`~harmonix.simulate.synthetic`.
"""

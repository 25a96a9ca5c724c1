"""harmonix: EEG and audio analysis for the Neural Annealing framework.

Data flow one way: ``io`` -> ``spectral`` -> ``harmonics`` -> ``estimators``
-> ``proxies`` -> ``compare``/``report``. The front door:

- :func:`analyze` - one EEG recording (an ``mne.io.Raw``, ``mne.Epochs``, or an
  array shaped ``(n_channels, n_times)`` / ``(n_epochs, n_channels, n_times)``
  with ``sfreq``) -> :class:`Analysis`;
- :func:`analyze_music` - one music recording (:class:`harmonix.io.audio.Audio`);
- :func:`read_analysis` - a folder written by ``harmonix analyze`` -> :class:`Analysis`;
- :class:`HarmonixError` - what every entry point raises on bad input.

The rest is imported on first use, so that ``import harmonix`` stays light.
"""

__version__ = "0.1.0"

from harmonix.errors import HarmonixError

__all__ = ["HarmonixError", "Analysis", "analyze", "analyze_music", "read_analysis", "__version__"]


def __getattr__(name: str):
    if name in ("analyze", "read_analysis"):
        from harmonix import api

        return getattr(api, name)
    if name == "analyze_music":
        from harmonix.pipeline import analyze_music

        return analyze_music
    if name == "Analysis":
        from harmonix.pipeline.result import Analysis

        return Analysis
    raise AttributeError(f"module 'harmonix' has no attribute {name!r}")

"""harmonix: EEG and audio analysis for the Neural Annealing framework.

Data flow one way: ``io`` -> ``spectral`` -> ``harmonics`` -> ``estimators``
-> ``proxies`` -> ``compare``/``report``. Every public function works on plain
arrays shaped ``(n_channels, n_times)`` or on MNE objects.
"""

__version__ = "0.1.0"

from harmonix.errors import HarmonixError

__all__ = ["HarmonixError", "__version__"]

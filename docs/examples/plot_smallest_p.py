"""
How many subjects can a pilot study test?
=========================================

An exact sign-flip permutation test of ``n`` paired subjects cannot give a
p-value below ``2 / 2**n``; with five or fewer subjects nothing can reach
q < 0.05 however large the effect. ``harmonix.compare.permutation.smallest_p`` gives
that floor; every comparison table carries it as ``p_min``.
"""

import matplotlib.pyplot as plt
import numpy as np

from harmonix.compare.permutation import smallest_p

subjects = np.arange(2, 13)
floor = [smallest_p(2**n, exact=True) for n in subjects]
fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(subjects, floor, "o-")
ax.axhline(0.05, color="C3", ls="--", label="0.05")
ax.set_xlabel("paired subjects")
ax.set_ylabel("smallest attainable p")
ax.legend()
fig.tight_layout()

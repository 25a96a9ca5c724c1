"""
Analyse an array of EEG
=======================

``harmonix.analyze`` takes an ``mne.io.Raw``, an ``mne.Epochs`` or a plain
array with its sampling rate. Here, two minutes of simulated EEG with an
alpha rhythm and 60 Hz mains hum: the analysis finds the hum, removes it with
a notch, and measures band power per channel.
"""

import matplotlib.pyplot as plt
import numpy as np

import harmonix

rng = np.random.default_rng(0)
sfreq = 250.0
t = np.arange(int(120 * sfreq)) / sfreq
channels = ["Fz", "Cz", "Pz", "Oz"]
alpha = 12e-6 * np.sin(2 * np.pi * 10 * t) * np.array([0.3, 0.6, 1.0, 1.4])[:, None]
data = rng.normal(0, 8e-6, (4, t.size)) + alpha + 20e-6 * np.sin(2 * np.pi * 60 * t)

analysis = harmonix.analyze(data, sfreq=sfreq, ch_names=channels)
print(analysis.params["line_noise"]["summary"])

power = analysis.to_data_frame().query("metric == 'band_power' and band == 'alpha' and condition == ''")
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(power["component"], power["value"] * 1e12)
ax.set_ylabel("alpha power (µV²)")
ax.set_title("Alpha grows from front to back")
fig.tight_layout()

"""Figures and the self-contained HTML report.

- :mod:`harmonix.report.figures`: functions returning
  :class:`matplotlib.figure.Figure` (cortex, spectra, scalp maps, CDNS,
  locking matrices, energy trace), for notebooks and for the report;
  :mod:`harmonix.report.comparison_figures`: the forest plot and the
  harmonic spectra before and after of a comparison.
- :mod:`harmonix.report.html`: :func:`~harmonix.report.html.analysis_report` and
  :func:`~harmonix.report.html.write_analysis_report`;
  :mod:`harmonix.report.comparison`: :func:`~harmonix.report.comparison.comparison_report`;
  both built on :mod:`harmonix.report.page`, one HTML file with the
  figures embedded.
"""

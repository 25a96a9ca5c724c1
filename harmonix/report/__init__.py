"""Figures (functions returning matplotlib figures) and, later, the HTML report."""

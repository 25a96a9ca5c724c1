"""Sphinx configuration of the harmonix documentation (build: see README, "Documentation")."""

import os
import sys
from pathlib import Path

import harmonix

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

project = "harmonix"
author = "the harmonix developers"
copyright = "2026, the harmonix developers"
version = release = harmonix.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
exclude_patterns = ["_build", "examples", "auto_examples/*.ipynb", "auto_examples/*.py.md5", "auto_examples/*.zip"]
html_theme = "alabaster"
html_title = f"harmonix {version}"
# Formulas are rendered by MathJax from its CDN; offline they show as their LaTeX source.

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
}

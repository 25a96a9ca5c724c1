"""Estimators: injection locking, entrainment, consonance (CDNS), complexity."""

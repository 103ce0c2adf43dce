"""Reproducible benchmark of the CDS Hooks service (synthetic data, load generator, profiler). See README.md."""

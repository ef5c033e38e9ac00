"""Datasets: the synthetic privacy-action benchmark (and real ones later)."""

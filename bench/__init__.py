"""Benchmarks of the portal (``make bench``): see ``bench/run.py`` and README "Benchmarks"."""

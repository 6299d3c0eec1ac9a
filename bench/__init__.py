"""Aviary's benchmarks (`manage.py bench NAME`); see bench/README.md."""

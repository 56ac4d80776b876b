"""Runs: a whole scenario in order, written to one atomic output folder with ``run.json``; the Dask fan-out."""

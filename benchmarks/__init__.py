"""The benchmark suite behind `make bench`: how fast the app, the explanations, the RFI detector and training are.

Every measurement runs with 2 torch threads, after a warm-up, as the median of repeated runs. `python -m
benchmarks` runs them all, prints a table and writes benchmarks/results.json. The functions take sizes and
repeat counts as arguments, so tests/test_benchmarks.py runs the same code on tiny inputs.
"""

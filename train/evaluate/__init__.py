"""Evaluation: the studies, the test sets and the one report that writes `results.json`, RESULTS.md and the
detectors' calibration. `python -m train.evaluate` runs them all (`run.py`)."""

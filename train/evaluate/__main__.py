"""python -m train.evaluate: every study, table and calibration file (see `run.py`)."""

from .run import main

main()

"""Allow `python3 -m hyperion_lab` with workbench/lab/ on PYTHONPATH."""
import sys

from hyperion_lab.cli import main

sys.exit(main())

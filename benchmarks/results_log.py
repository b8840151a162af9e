"""``ResultsLog``: print a benchmark's lines and save them to ``benchmarks/results/``.

The saved file starts with the command that reproduces it and the machine it ran on
(``Command:`` / ``Machine:`` lines), which the documentation's benchmark pages show.
"""

import os
import platform
import sys
from pathlib import Path

import sklearn
import skorch
import torch

RESULTS = Path(__file__).parent / "results"


class ResultsLog:
    """Call it with a line to print it; ``save()`` writes every line to ``results/<name>``."""

    def __init__(self, name):
        self.path = RESULTS / name
        self.lines = []

    def __call__(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def save(self):
        command = " ".join(["python3", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
        threads = torch.get_num_threads()
        gpu = f"{torch.cuda.get_device_name()}, " if torch.cuda.is_available() else ""
        machine = (f"{gpu}{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}, torch {torch.__version__}, scikit-learn "
                   f"{sklearn.__version__}, skorch {skorch.__version__}, "
                   f"{threads} torch thread{'s' if threads != 1 else ''}.")
        header = [f"Command: {command}", f"Machine: {machine}", ""]
        self.path.write_text("\n".join(header + self.lines) + "\n")
        print(f"saved to {self.path}")

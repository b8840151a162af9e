"""``ResultsLog``: print a benchmark's lines and save them to ``benchmarks/results/``.

The saved file starts with the command that reproduces it and the machine it ran on
(``Command:`` / ``Machine:`` lines, the latter from :func:`machine`), which the documentation's
benchmark pages show.
"""

import os
import platform
import sys
from pathlib import Path

import sklearn
import skorch
import torch

RESULTS = Path(__file__).parent / "results"


def processor():
    """The processor's model name and widest vector instructions, e.g. ``"Intel(R) Xeon(R)
    Processor, AVX-512"``: ratios between contenders move with them (a wide product gains more
    from AVX-512 than a pass over memory does), so two results files compare only on one."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    names = [line.split(":", 1)[1].strip() for line in text.splitlines()
             if line.startswith("model name")]
    flags = next((set(line.split(":", 1)[1].split()) for line in text.splitlines()
                  if line.startswith("flags")), set())
    vector = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"),
                                           ("avx", "AVX")) if flag in flags), None)
    return ", ".join(part for part in (names[0] if names else platform.machine(), vector) if part)


def machine(*details):
    """The ``Machine:`` line's text: the processor, its cores, Python and torch, then
    ``details`` (what else the benchmark pins or uses), ending with a full stop."""
    parts = [processor(), f"{os.cpu_count()} cores", f"Python {platform.python_version()}",
             f"torch {torch.__version__}", *details]
    return ", ".join(parts) + "."


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
        line = machine(f"scikit-learn {sklearn.__version__}", f"skorch {skorch.__version__}",
                       f"{threads} torch thread{'s' if threads != 1 else ''}")
        if torch.cuda.is_available():
            line = f"{torch.cuda.get_device_name()}, {line}"
        header = [f"Command: {command}", f"Machine: {line}", ""]
        self.path.write_text("\n".join(header + self.lines) + "\n")
        print(f"saved to {self.path}")

"""What a long job cost: its wall time and the peak memory of its process.

The nightly commands (``compute_kpi``, ``run_reminders``) end with "… in N s, peak memory
M MB", so an operator sees at once when a job's time or memory starts to grow with the data.
"""

from __future__ import annotations

import resource
import sys


def peak_memory_mb() -> float:
    """The peak resident memory of this process so far, in MB (``getrusage``'s
    ``ru_maxrss``: kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cost_line(seconds: float) -> str:
    """ "in 12.34 s, peak memory 85 MB" """
    return f"in {seconds:.2f} s, peak memory {peak_memory_mb():.0f} MB"

"""Cold start of `polytail --help`: what every command pays before doing anything.

Target: under 300 ms. Each run is a fresh process (no warm imports), as a user sees it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness import Figure, latency_figures, record, time_each

RUNS = 30


def main() -> None:
    script = Path(sys.executable).parent / "polytail"
    command = (
        [str(script), "--help"] if script.exists() else [sys.executable, "-m", "polytail", "--help"]
    )
    subprocess.run(command, capture_output=True, check=True)  # warm the OS file cache
    samples = time_each(lambda: subprocess.run(command, capture_output=True, check=True), RUNS)
    figures = latency_figures("cli_help", samples, "ms")
    p99 = figures[1].value
    figures.append(Figure("cli_help_target_met", int(p99 < 300), "bool", "p99 < 300 ms"))
    record("cli_startup", figures)


if __name__ == "__main__":
    main()

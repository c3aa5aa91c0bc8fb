"""Run every benchmark (bench/bench_*.py), each in its own process, then refresh the
results table in docs/PERFORMANCE.md from bench/results.json.

    python bench/run.py              # all
    python bench/run.py domain cli   # only those whose name contains a word
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE = ROOT / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"


def main(words: list[str]) -> int:
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    if words:
        scripts = [script for script in scripts if any(word in script.stem for word in words)]
    failed = []
    for script in scripts:
        result = subprocess.run([sys.executable, str(script)], cwd=ROOT, check=False)
        if result.returncode != 0:
            failed.append(script.name)
    render_table()
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def render_table() -> None:
    results = json.loads((ROOT / "bench" / "results.json").read_text())["benchmarks"]
    lines = [BEGIN, ""]
    for bench in sorted(results):
        entry = results[bench]
        host = entry["machine"]
        lines += [
            f"### `{bench}`",
            "",
            f"{host['cpu']}, {host['cores']} cores, Python {host['python']}, "
            f"{host['system']}; run {entry['ran_at'][:10]}.",
            "",
            "| figure | value | unit | note |",
            "|---|---:|---|---|",
        ]
        lines += [
            "| {name} | {value} | {unit} | {note} |".format(**{"note": "", **figure})
            for figure in entry["figures"]
        ]
        lines.append("")
    lines.append(END)
    text = PERFORMANCE.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    PERFORMANCE.write_text(text[:start] + "\n".join(lines) + text[end:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

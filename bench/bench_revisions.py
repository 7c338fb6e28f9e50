"""Two revisions' concurrency benchmark, run in turns on this machine, compared.

    python bench/bench_revisions.py BEFORE AFTER [ROUNDS]

Each revision is exported with `git archive` into a temporary folder and its own
bench/bench_concurrency.py is run there, BEFORE then AFTER, ROUNDS times (3 by default), so
that both meet the same load on this noisy machine. Environment variables are passed on
(BENCH_LEVELS, DATABASE_URL and REDIS_URL, BENCH_ACCESS...); unless set, the levels are 1,
10 and 50, three runs each, with few idle sockets and short long replies, which the
comparison does not read. Prints, per level, the median over rounds of each revision's
added time to first token (p50) and server CPU per token, and AFTER's ratio to BEFORE.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = {"added TTFT p50": "added", "server CPU per token": "cpu"}


def export(revision: str, into: Path) -> Path:
    into.mkdir()
    archive = subprocess.run(
        [shutil.which("git") or "git", "archive", revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run([shutil.which("tar") or "tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def number(cell: str) -> float:
    return float(re.sub(r"[^0-9.+-]", "", cell.split()[0]))


def run(checkout: Path) -> dict[int, dict[str, float]]:
    env = {
        "BENCH_LEVELS": "1,10,50",
        "BENCH_RUNS": "3",
        "BENCH_IDLE_SOCKETS": "10",
        "BENCH_LONG_TOKENS": "400",
        **os.environ,
    }
    out = subprocess.run(
        [sys.executable, "bench/bench_concurrency.py"],
        cwd=checkout,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line for line in out.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    found = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        found[int(cells[0])] = {
            key: number(cells[header.index(name)])
            for name, key in COLUMNS.items()
            if name in header
        }
    return found


def main(before: str, after: str, rounds: int) -> None:
    results: dict[str, list[dict[int, dict[str, float]]]] = {before: [], after: []}
    with tempfile.TemporaryDirectory(prefix="bench-revisions-") as tmp:
        checkouts = {rev: export(rev, Path(tmp) / f"rev{n}") for n, rev in enumerate(results)}
        for round_ in range(rounds):
            for revision, checkout in checkouts.items():
                results[revision].append(run(checkout))
                print(f"round {round_ + 1}: {revision} done", file=sys.stderr, flush=True)
    print(f"\n{before} (before) and {after} (after), each run {rounds} times in turns; medians")
    print("| streams | added TTFT p50 before | after | after / before "
          "| CPU per token before | after | after / before |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for level in sorted(results[before][0]):
        row = [str(level)]
        for key, unit in (("added", "ms"), ("cpu", "µs")):
            values = [
                statistics.median(r[level][key] for r in results[rev] if key in r[level])
                if all(key in r[level] for r in results[rev])
                else None
                for rev in (before, after)
            ]
            if None in values:
                row += ["-", "-", "-"]
                continue
            ratio = values[1] / values[0] if values[0] else float("nan")
            row += [f"{values[0]:.1f} {unit}", f"{values[1]:.1f} {unit}", f"{ratio:.2f}x"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 3)

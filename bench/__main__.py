"""Run every benchmark and rewrite BENCHMARKS.md with the machine, the command and the figures.

A benchmark module ``bench/<name>.py`` has ``run() -> dict``. The dict may carry ``title``,
``what`` (what was measured), ``command`` (how to reproduce), ``notes``, and ``rows``: a list of
dicts rendered as a table (typically measure / omamori / peer / ratio). Any other keys are shown
as a two-column table. One failing benchmark is reported in the file, not fatal to the others.

    python -m bench                 # all
    python -m bench ct_read capture # some
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "BENCHMARKS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "-"
    except (OSError, subprocess.SubprocessError):
        return "-"


def modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def load() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def render(name: str, result: dict[str, Any], seconds: float,
           loads: tuple[tuple[float, ...], tuple[float, ...]] | None = None) -> str:
    shared = ""
    if loads is not None:
        (b1, _b5, _b15), (a1, a5, _a15) = loads
        shared = (f" Load average at the start / end of this section: {b1:.2f} / {a1:.2f} (1 min), {a5:.2f} "
                  f"(5 min at the end), on {os.cpu_count()} cores shared with other work: read each figure "
                  "beside it, and the ratios (both tools in the same run) before the absolute numbers.")
    lines = [f"## {result.get('title', name)}", f"<!-- bench:{name} -->", "",
             f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, commit {commit()}.{shared}", ""]
    if result.get("what"):
        lines += [str(result["what"]), ""]
    rows = result.get("rows")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        cols: list[str] = []
        for r in rows:
            cols += [k for k in r if k not in cols]
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for r in rows:
            lines.append("| " + " | ".join(_cell(r.get(c, "")) for c in cols) + " |")
        lines.append("")
    rest = {k: v for k, v in result.items() if k not in {"title", "what", "rows", "notes", "command"}}
    if rest:
        lines += ["| figure | value |", "|---|---|"]
        lines += [f"| {k} | {_cell(v)} |" for k, v in rest.items()]
        lines.append("")
    lines.append(f"Reproduce: `{result.get('command', f'.venv/bin/python -m bench {name}')}` "
                 f"(this run took {seconds:.0f} s).")
    if result.get("notes"):
        lines += ["", str(result["notes"])]
    return "\n".join(lines) + "\n"


def merge(existing: str, header: str, sections: dict[str, str]) -> str:
    """The file with the sections just run replaced (or added); the other benchmarks' sections kept
    as they were, each with the run it came from."""
    chunks: list[tuple[str, str]] = []
    body = existing[existing.find("\n## ") + 1:] if "\n## " in existing else ""
    head = existing[:len(existing) - len(body)]
    # A section written before sections named their run: the run the old header named.
    old_run = next((ln.split(":", 1)[1].strip() for ln in head.splitlines() if ln.startswith("- date:")), "")
    old_machine = next((ln.split(":", 1)[1].strip() for ln in head.splitlines() if ln.startswith("- machine:")), "")
    for part in body.split("\n## ") if body else []:
        part = part if part.startswith("## ") else "## " + part
        marker = part.find("<!-- bench:")
        key = part[marker + 11:part.find(" -->", marker)] if marker >= 0 else part.splitlines()[0]
        if "\nMeasured " not in part and old_run:
            first, _, rest = part.partition("\n")
            part = f"{first}\n\nMeasured {old_run} on {old_machine} (a full `make bench` run).\n{rest}"
        chunks.append((key, part.rstrip("\n") + "\n"))
    # A section from before the markers whose benchmark has a marked section now (kept or just run)
    # is that benchmark's old run: drop it rather than show the benchmark twice.
    titles = {part.splitlines()[0] for key, part in chunks if "<!-- bench:" in part}
    titles |= {text.splitlines()[0] for text in sections.values()}
    chunks = [(key, part) for key, part in chunks if "<!-- bench:" in part or part.splitlines()[0] not in titles]
    out, done = [], set()
    for key, part in chunks:
        if key in sections:
            out.append(sections[key])
            done.add(key)
        else:
            out.append(part)
    out += [text for key, text in sections.items() if key not in done]
    return header + "\n" + "\n".join(out)


def main(argv: list[str]) -> int:
    names = argv or modules()
    sections: dict[str, str] = {}
    failed = 0
    for name in names:
        print(f"bench {name} ...", flush=True)
        t0 = time.monotonic()
        before = load()
        try:
            result = importlib.import_module(f"bench.{name}").run()
            sections[name] = render(name, result, time.monotonic() - t0, (before, load()))
            print(f"bench {name}: done in {time.monotonic() - t0:.0f} s", flush=True)
        except Exception as e:
            failed += 1
            sections[name] = f"## {name}\n<!-- bench:{name} -->\n\nFAILED in this run: `{type(e).__name__}: {e}`\n"
            traceback.print_exc()
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`.venv/bin/python -m bench`; `python -m bench NAME` re-runs one section and",
        "keeps the others). Every section comes from one run on one machine, named in the section, with the",
        "peer tool measured in the same run. Speed lives here, never in timed test assertions.",
        "",
        "The machine these figures come from may be shared (the project's development machines are: two",
        "cores for several engineers' tests and benchmarks at once). Each section therefore gives the load",
        "average at its start and end; a figure taken under a load above the core count is a lower bound of",
        "what the code does on a quiet machine, and `make bench` there measures it again.",
        "",
        f"- last run: `{'.venv/bin/python -m bench ' + ' '.join(argv) if argv else 'make bench'}` at "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC,"
        f" commit {commit()}, on {machine()}",
        "",
    ]
    existing = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
    OUT.write_text(merge(existing, "\n".join(header), sections), encoding="utf-8")
    print(f"wrote {OUT}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

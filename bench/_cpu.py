"""CPU seconds of the processes a measurement starts: every process below this one, sampled from /proc.

The kernel's account of waited-for children (getrusage RUSAGE_CHILDREN) misses a browser whose parent
does not wait for it (Chromium under Playwright's driver was a third of a capture's CPU), so the tree is
read directly: each descendant's own user + system time, the last value seen before it exits (at most
one sampling interval of a short-lived process is lost). Processes that were already running when the
block began count only from then.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _label(pid: int) -> str:
    """What a process is, for the split: its name, and a Chromium child's ``--type`` (renderer, gpu...)."""
    try:
        # A zygote's child rewrites its command line as one space-separated string.
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return "?"
    name = Path(argv[0].decode(errors="replace")).name if argv and argv[0] else "?"
    if name.startswith("python"):
        return "python"
    kind = next((a.decode(errors="replace").split("=", 1)[1] for a in argv if a.startswith(b"--type=")), "")
    if "chrom" in name:
        return f"chromium {kind or 'main'}"
    return name


def _tree(root: int) -> dict[int, float]:
    """pid -> CPU seconds of every process below ``root``."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    below: dict[int, float] = {}
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    stack = [root]
    while stack:
        for kid in children.get(stack.pop(), []):
            below[kid] = cpu[kid]
            stack.append(kid)
    return below


class TreeCPU:
    """``with TreeCPU() as m: ...`` then ``m.seconds``: CPU of every descendant while the block ran."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.seconds = 0.0
        self._seen: dict[int, float] = {}
        self._labels: dict[int, str] = {}
        self._base: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-cpu", daemon=True)

    def _sample(self) -> None:
        for pid, cpu in _tree(os.getpid()).items():
            if cpu >= self._seen.get(pid, 0.0):
                self._seen[pid] = cpu
            label = _label(pid)  # read again each time: a zygote's child renames itself once forked
            if label != "?":
                self._labels[pid] = label

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> TreeCPU:
        self._base = _tree(os.getpid())
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.seconds = sum(cpu - self._base.get(pid, 0.0) for pid, cpu in self._seen.items())

    def split(self) -> dict[str, float]:
        """CPU seconds per kind of process (python, node, chromium main / renderer / gpu-process...),
        largest first: where a measurement's CPU went."""
        out: dict[str, float] = {}
        for pid, cpu in self._seen.items():
            label = self._labels.get(pid, "?")
            out[label] = out.get(label, 0.0) + cpu - self._base.get(pid, 0.0)
        return dict(sorted(((k, round(v, 2)) for k, v in out.items()), key=lambda kv: -kv[1]))

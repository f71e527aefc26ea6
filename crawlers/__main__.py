"""``python -m crawlers``: one batch (``crawlers.run``) or, with ``--serve``, the long-lived crawler
(``crawlers.serve``). The choice is made here so that neither module imports the other."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from crawlers.job import Job, Target
from crawlers.run import __doc__ as run_doc
from crawlers.run import run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m crawlers", description=run_doc)
    p.add_argument("--job", required=True)
    p.add_argument("--targets", help="JSON lines: {id, url, addresses, profile}")
    p.add_argument("--records", help="JSON lines out, one per target")
    p.add_argument("--serve", action="store_true",
                   help="long-lived: batches as JSON lines on stdin, one browser for all (crawlers.serve)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    job = Job.load(a.job)
    if a.serve:
        from crawlers.serve import serve  # Scrapy and the browser only when serving

        return serve(job)
    if not a.targets or not a.records:
        p.error("--targets and --records are required (or --serve)")
    targets = [Target.parse(line) for line in Path(a.targets).read_text(encoding="utf-8").splitlines() if line.strip()]
    summary = run(job, targets, Path(a.records))
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

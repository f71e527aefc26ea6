"""The message_lint job: the firm's mail and SMS templates, linted every day (guideline IV.4(5)).

``lint-messages`` gates a release pipeline; this job watches the template folders themselves
(``lint.template_dirs``: where the firm's systems read their templates from), so a template edited
outside the pipeline is caught too. One Finding per template file with a problem (kind
``message_link``), resolved when the file is fixed or removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select

from watcher.context import Context
from watcher.core.models import Finding, FindingKind, FindingStatus, Severity
from watcher.core.texts import text
from watcher.owned.checks import CheckRun, run_checks
from watcher.owned.message_links import Rules, expand, lint_file

MAX_FILES = 5000


def _subject(path: Path) -> str:
    return f"template:{path}"[-253:]


def check_templates(run: CheckRun) -> None:
    conf = run.ctx.settings.lint
    if not conf.template_dirs:
        return
    follow = None
    if conf.follow_redirects:
        from watcher.owned.link_follow import make_follow

        follow = make_follow(run.ctx)
    rules = Rules.from_brands(run.ctx.brands, conf.short_domains, conf.tracking_domains, follow=follow)
    files = expand([run.ctx.settings.path(d) for d in conf.template_dirs])[:MAX_FILES]
    seen: set[str] = set()
    for path in files:
        subject = _subject(path)
        seen.add(subject)
        try:
            problems = lint_file(path, rules, conf.max_file_bytes)
        except OSError as e:
            run.error(FindingKind.MESSAGE_LINK, subject, e)
            continue
        run.counts["templates"] += 1
        if not problems:
            run.ok(FindingKind.MESSAGE_LINK, subject)
            continue
        run.fail(FindingKind.MESSAGE_LINK, subject, text("lint.finding_title", file=path.name, n=len(problems)),
                 severity=Severity.HIGH, brand_id=None,
                 detail=text("mail.problems", items=[p.reason for p in problems[:20]]),
                 data={"file": str(path), "problems": [p.as_dict("en") for p in problems[:50]],
                       "problems_ja": [p.as_dict("ja") for p in problems[:50]]})
    for f in list(run.session.exec(select(Finding).where(Finding.kind == FindingKind.MESSAGE_LINK,
                                                         Finding.status == FindingStatus.OPEN))):
        if f.subject not in seen:  # the file was fixed away or removed
            run.ok(FindingKind.MESSAGE_LINK, f.subject)


def run(ctx: Context) -> dict[str, Any]:
    return run_checks(ctx, (check_templates,), job="message_lint")

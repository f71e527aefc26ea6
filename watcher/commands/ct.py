"""``omamori ct ...`` (log positions, one pass, backfill) and ``omamori match`` (screen a name list)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlmodel import Session, select

from watcher.commands.invocation import console, context, err, lang, say, word
from watcher.core.reasons import reason_text

if TYPE_CHECKING:
    from watcher.context import Context
    from watcher.discovery.ct.loglist import LogInfo

cli = typer.Typer(help="Certificate transparency: log positions, reading, backfill.", no_args_is_help=True)



def _logs(ctx: Context, only: str | None) -> list[LogInfo]:
    from watcher.discovery.ct.jobs import configured_logs

    logs = configured_logs(ctx)
    if only:
        logs = [lg for lg in logs if only.lower() in lg.description.lower() or only in lg.url or only == lg.log_id]
        if not logs:
            err.print(f"[red]{escape(say('cli.ct.no_log', only=only))}[/]")
            raise typer.Exit(2)
    return logs


@cli.command("logs")
def logs_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every log of the log list with its saved position (next index, verified tree size, state)."""
    from watcher.core.models import LogPosition

    ctx = context()
    with Session(ctx.engine) as s:
        positions = {p.log_id: p for p in s.exec(select(LogPosition))}
    rows: list[dict[str, Any]] = []
    for lg in _logs(ctx, None):
        p = positions.get(lg.log_id)
        rows.append({"log": lg.description, "api": lg.api, "url": lg.url, "state": p.state if p else "not read yet",
                     "next_index": p.next_index if p else None, "tree_size": p.tree_size if p else None,
                     "behind": (p.tree_size - p.next_index) if p and p.next_index >= 0 else None,
                     "failed": p.entries_failed if p else 0, "verified_at": p.verified_at if p else None,
                     "error": p.last_error if p else ""})
    if as_json:
        for r in rows:
            print(json.dumps(r, default=str, ensure_ascii=False))
        return
    t = Table(*(say(f"cli.col.{c}") for c in ("ct_log", "api", "next_index", "tree_size", "behind", "failed", "state",
                                                "verified", "last_error")), title=say("cli.ct.title"))
    for r in rows:
        state = say("cli.ct.not_read_yet") if r["state"] == "not read yet" else word("ctstate", r["state"])
        t.add_row(r["log"], r["api"], _n(r["next_index"]), _n(r["tree_size"]), _n(r["behind"]), str(r["failed"]),
                  state, f"{r['verified_at']:%Y-%m-%d %H:%M}" if r["verified_at"] else "-", r["error"][:50])
    console.print(t)


def _n(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err, transient=False)


@cli.command("read")
def read_cmd(
    log: Annotated[str | None, typer.Option("--log", help="only this log (part of its description or URL)")] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many entries per log")] = None,
) -> None:
    """Read every log once from its saved position (what the ct_poll job does), with progress."""
    from watcher.discovery.ct.reader import LogReader

    ctx = context()
    failed: list[str] = []
    with _progress() as prog:
        for info in _logs(ctx, log):
            task = prog.add_task(info.description, total=None)

            def step(n: int, end: int, task: TaskID = task) -> None:
                prog.update(task, advance=n, total=end)

            res = LogReader(ctx, info).run(max_entries=limit, progress=step)
            prog.update(task, description=escape(say("cli.ct.progress", log=info.description, read=res.read,
                                                      matched=res.matched)
                                                  + (say("cli.ct.bad_entries", n=res.failed) if res.failed else ""))
                        + (f", [red]{escape(res.error[:60])}[/]" if res.error else ""))
            if res.error:
                failed.append(f"{info.description}: {res.error[:200]}")
    for line in failed:
        err.print(f"[red]{escape(say('cli.ct.not_read', what=line))}[/]", highlight=False)
    if failed:
        raise typer.Exit(1)


@cli.command("backfill")
def backfill_cmd(
    since: Annotated[str | None, typer.Option(help="read entries logged since this date (YYYY-MM-DD, UTC)")] = None,
    start: Annotated[int | None, typer.Option(help="first index")] = None,
    end: Annotated[int | None, typer.Option(help="index after the last (default: the tree size)")] = None,
    log: Annotated[str | None, typer.Option("--log", help="only this log (part of its description or URL)")] = None,
) -> None:
    """Read a past range again (a brand added late); the saved positions are not moved."""
    from watcher.discovery.ct.reader import LogReader

    if (since is None) == (start is None):
        err.print(f"[red]{escape(say('cli.ct.since_or_start'))}[/]")
        raise typer.Exit(2)
    when = None
    if since is not None:
        try:
            when = datetime.fromisoformat(since).replace(tzinfo=UTC) if len(since) <= 10 else \
                datetime.fromisoformat(since).astimezone(UTC)
        except ValueError:
            err.print(f"[red]{escape(say('cli.ct.not_a_date', since=since))}[/]")
            raise typer.Exit(2) from None
    ctx = context()
    total = {"read": 0, "matched": 0, "candidates": 0, "failed": 0}
    with _progress() as prog:
        for info in _logs(ctx, log):
            reader = LogReader(ctx, info)
            try:
                first = reader.index_at(when) if when is not None else (start or 0)
            except Exception as e:  # one log's trouble is reported, the others go on
                err.print(f"{info.description}: [red]{type(e).__name__}: {e}[/]")
                continue
            task = prog.add_task(escape(say("cli.ct.from", log=info.description, first=f"{first:,}")), total=None)

            def step(n: int, last: int, task: TaskID = task, first: int = first) -> None:
                prog.update(task, advance=n, total=last - first)

            res = reader.backfill(first, end if end is not None else 2**62, progress=step)
            for k in total:
                total[k] += getattr(res, k)
            if res.error:
                err.print(f"{info.description}: [red]{res.error}[/]")
    console.print(say("cli.ct.totals", **{k: f"{v:,}" for k, v in total.items()}), highlight=False)


def match(
    file: Annotated[str, typer.Argument(help="a file of host names or URLs, one a line; '-' for stdin")] = "-",
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="also print names that do not match")] = False,
    max_line: Annotated[int, typer.Option(help="a longer line is reported and skipped")] = 4096,
) -> None:
    """Screen a list of host names: print the ones that match a brand, with the brand and the reasons.

    Every line is screened on its own: a line that is not a name (broken URL, random bytes, too long)
    is reported on stderr with its number (with --json, as an ``error`` row) and the rest go on."""
    from watcher.core.inputs import bounded_lines, sniff
    from watcher.discovery.ct.matcher import matcher_for
    from watcher.discovery.discover import host_of

    ctx = context()
    if not ctx.brands:
        where = ctx.settings.path(ctx.settings.service.brands_file)
        err.print(f"[red]{escape(say('cli.match.no_brands', path=str(where)))}[/]")
        raise typer.Exit(2)
    m = matcher_for(ctx)
    try:
        stream = sys.stdin.buffer if file == "-" else Path(file).open("rb")  # noqa: SIM115
    except OSError as e:
        err.print(f"[red]{escape(say('cli.match.unreadable', path=file, error=str(e.strerror or e)))}[/]")
        raise typer.Exit(2) from None
    found = bad = lines = 0

    def report_bad(n: int, shown: str, why: str) -> None:
        nonlocal bad
        bad += 1
        if as_json:
            print(json.dumps({"line": n, "input": shown, "error": why}, ensure_ascii=False))
        else:
            err.print(f"[yellow]{escape(say('cli.match.line', n=n))}[/] {escape(repr(shown))}: {escape(why)}",
                      highlight=False)

    with stream:
        for n, raw in bounded_lines(stream, max_line):
            lines += 1
            enc = sniff(raw) if n == 1 and raw else None
            if enc and enc.startswith(("utf-16", "utf-32")):
                err.print(f"[red]{escape(say('cli.match.encoding', path=file, enc=enc, upper=enc.upper()))}[/]")
                raise typer.Exit(2)
            if raw is None:
                report_bad(n, "", say("cli.match.too_long", max=f"{max_line:,}"))
                continue
            text = raw.decode("utf-8", "replace").lstrip("\ufeff").strip()
            if not text or text.startswith("#"):
                continue
            shown = text[:200]
            try:
                name = host_of(text)[0]
                res = m.match(("*." if name.wildcard else "") + name.ascii)
            except Exception as e:  # InvalidName, or anything a hostile line provokes: that line only
                report_bad(n, shown, str(e)[:200] or type(e).__name__)
                continue
            if res is None:
                if show_all:
                    print(json.dumps({"line": n, "input": text, "match": None}) if as_json else f"-  {text}")
                continue
            found += 1
            if as_json:
                print(json.dumps({"line": n, "input": text, **res.as_dict()}, ensure_ascii=False))
            elif res.owned:
                console.print(f"[green]{escape(say('cli.match.ours'))}[/] {escape(text)} ({res.brand}): "
                              f"{escape(reason_text(res.reasons[0].as_dict(), lang()))}", highlight=False)
            else:
                console.print(f"[bold red]{res.brand}[/] {escape(text)}  [bold]{escape(say('cli.match.points', points=res.points))}[/]",
                              highlight=False)
                for r in res.reasons:
                    console.print(f"    {r.kind}: {escape(reason_text(r.as_dict(), lang()))} (+{r.points})", highlight=False)
    err.print(escape(say("cli.match.summary", lines=lines, found=found, bad=bad)))

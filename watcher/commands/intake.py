"""omamori intake: reports from people (mailbox, .eml files, feeds)."""

from __future__ import annotations

import imaplib
from pathlib import Path
from typing import Annotated, Any

import typer

from watcher.commands.invocation import context, say
from watcher.core.inputs import InputRefused
from watcher.discovery.intake import (
    MAX_FEED_BYTES,
    import_feed,
    read_eml_dir,
    read_imap,
)

# ---------------------------------------------------------------- CLI

cli = typer.Typer(help="Reports from people: mailbox, .eml files, feeds / 通報の取り込み", no_args_is_help=True)


def _progress_bar(label: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _print(summary: dict[str, Any]) -> None:
    from rich.console import Console

    con = Console()
    for k, v in summary.items():
        con.print(f"[bold]{k}[/]: {v}", highlight=False)


@cli.command("eml")
def eml_cmd(folder: Annotated[Path, typer.Argument(help="folder of .eml files", exists=True, file_okay=False)]) -> None:
    """Read every .eml file of FOLDER as a report / .eml ファイルを通報として取り込む."""

    ctx = context()
    with _progress_bar("メール / mail") as bar:
        task = bar.add_task("eml", total=None)
        summary = read_eml_dir(ctx, folder, progress=lambda d, t: bar.update(task, completed=d, total=t))
    _print(summary)


@cli.command("feed")
def feed_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (url,date,description) or JSON lines", exists=True,
                                         dir_okay=False)],
    all_rows: Annotated[bool, typer.Option("--all", help="every row, not only rows naming our brands")] = False,
    name: Annotated[str, typer.Option(help="the feed's name in reasons (default: the file name)")] = "",
    max_bytes: Annotated[int, typer.Option(help="a larger file is refused")] = MAX_FEED_BYTES,
) -> None:
    """Import a phishing URL list / フィッシング URL リストの取り込み.

    A row that cannot be read (too long, an unclosed quote, no usable URL) is reported with its line
    number and counted; every other row is imported."""

    ctx = context()
    try:
        with _progress_bar("フィード / feed") as bar:
            task = bar.add_task("feed", total=None)
            summary = import_feed(ctx, file, all_rows=all_rows, name=name, max_bytes=max_bytes,
                                  progress=lambda d, t: bar.update(task, completed=d, total=t))
    except InputRefused as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    problems = summary.pop("problems", [])
    _print(summary)
    for p in problems:
        typer.echo(f"  {p}", err=True)
    if summary["errors"] > len(problems):
        typer.echo(say("cli.intake.more", n=summary["errors"] - len(problems)), err=True)


@cli.command("imap")
def imap_cmd() -> None:
    """Read the unseen messages of the abuse mailbox (config section imap) / 通報用メールボックスの読み込み."""

    ctx = context()
    if not ctx.settings.imap.host:
        typer.echo(say("cli.intake.no_imap"), err=True)
        raise typer.Exit(2)
    try:
        with _progress_bar("IMAP") as bar:
            task = bar.add_task("imap", total=None)
            summary = read_imap(ctx, progress=lambda d, t: bar.update(task, completed=d, total=t))
    except (imaplib.IMAP4.error, OSError, RuntimeError) as e:
        typer.echo(say("cli.intake.imap_failed", error=f"{type(e).__name__}: {e}"), err=True)
        raise typer.Exit(1) from None
    _print(summary)

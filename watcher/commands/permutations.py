"""omamori permutations: scan the typosquat permutations now, list them, and the newly registered ones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from sqlmodel import Session, select

from watcher.commands.invocation import context, say
from watcher.core.models import PermutationState
from watcher.discovery.fuzzers import permutations
from watcher.discovery.permutations import (
    scan,
)

# ---------------------------------------------------------------- CLI

cli = typer.Typer(help="Typosquat permutations of the official domains / 公式ドメインの類似ドメイン検査",
                  no_args_is_help=True)


@cli.command("scan")
def scan_cmd(
    domain: Annotated[list[str] | None, typer.Option("--domain", "-d", help="scan only these domains")] = None,
    brand: Annotated[str | None, typer.Option(help="scan only this brand's domains")] = None,
) -> None:
    """Generate, resolve and record lookalikes now (the daily job) / 類似ドメインを生成して名前解決."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


    ctx = context()
    with Progress(TextColumn("DNS 名前解決 / resolving"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task("resolve", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = scan(ctx, domains=domain or None, brand=brand, progress=progress)
    con = Console()
    for k, v in summary.items():
        con.print(f"[bold]{k}[/]: {v}", highlight=False)


@cli.command("list")
def list_cmd(
    domain: Annotated[str, typer.Argument(help="an official domain")],
    fuzzer: Annotated[str | None, typer.Option(help="only names made by this fuzzer")] = None,
) -> None:
    """Print the permutations of DOMAIN without resolving them / 生成のみ (名前解決なし)."""
    for p in permutations(domain):
        if fuzzer is None or p.fuzzer == fuzzer:
            typer.echo(f"{p.fuzzer}\t{p.name}")


def _when(v: datetime | None) -> str:
    return v.strftime("%Y-%m-%d") if v else "-"


@cli.command("registered")
def registered_cmd() -> None:
    """List the permutations that existed at the last scan / 登録済みの類似ドメイン."""

    ctx = context()
    with Session(ctx.engine) as s:
        for st in s.exec(select(PermutationState).where(PermutationState.exists == True)  # noqa: E712
                         .order_by(PermutationState.name)):
            typer.echo(f"{st.name}\t{st.fuzzer}\t" + say("cli.perm.first_seen", date=_when(st.first_seen_existing_at)))

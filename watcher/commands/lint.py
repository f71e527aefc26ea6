"""omamori lint-messages: login links in the firm's mail and SMS templates (guideline IV.4(5))."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from watcher.commands.invocation import config_path, context, err
from watcher.core.brands import BrandSpec
from watcher.core.config import ConfigError, Settings, load_settings
from watcher.core.inputs import InputRefused
from watcher.core.texts import text
from watcher.owned.message_links import Problem, Rules, expand, lint_file


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


def _settings() -> Settings:
    try:
        return load_settings(config_path())
    except ConfigError as e:
        err.print(f"[red]config error:[/] {e}")
        raise typer.Exit(2) from None


def lint_messages(
    paths: Annotated[list[Path], typer.Argument(help="templates or folders: text, HTML, .eml, images and PDFs "
                                                     "(QR codes)")],
    brands_file: Annotated[Path | None, typer.Option("--brands", help="brands file (default: from config)")] = None,
    shortener: Annotated[list[str] | None, typer.Option(help="one of the firm's own short-link domains "
                                                             "(adds to lint.short_domains)")] = None,
    tracking_domain: Annotated[list[str] | None, typer.Option(help="a click-tracking host of the firm's mail "
                                                                   "platform (adds to lint.tracking_domains)")] = None,
    follow: Annotated[bool | None, typer.Option("--follow/--no-follow", help="follow shortener and tracking "
                                                "redirects to where they end (default: lint.follow_redirects)")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text, json (one object a line) or sarif")] = Format.TEXT,
    as_json: Annotated[bool, typer.Option("--json", help="same as --format json")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the report here (sarif, json)")] = None,
    lang: Annotated[str | None, typer.Option(help="language of the reasons: ja or en (default: service.language)")]
    = None,
    max_bytes: Annotated[int | None, typer.Option(help="a larger file is refused (templates are small; default: "
                                                       "lint.max_file_bytes)")] = None,
) -> None:
    """Check email and SMS templates for login links (guideline IV.4(5)); exit 1 if any, 2 if a file is unreadable."""
    settings = _settings()
    brands: list[BrandSpec]
    if brands_file is not None:
        from watcher.core.brands import load_brands

        try:
            brands = load_brands(brands_file)
        except ConfigError as e:
            err.print(f"[red]brands error:[/] {e}")
            raise typer.Exit(2) from None
    else:
        brands = context().brands
    do_follow = settings.lint.follow_redirects if follow is None else follow
    follower = None
    if do_follow:
        from watcher.owned.link_follow import make_follow

        follower = make_follow(context())
    rules = Rules.from_brands(brands, [*settings.lint.short_domains, *(shortener or [])],
                              [*settings.lint.tracking_domains, *(tracking_domain or [])], follow=follower)
    language = lang or settings.service.language
    if fmt == Format.TEXT and as_json:
        fmt = Format.JSON
    problems: list[Problem] = []
    unreadable = 0
    files = expand(paths)
    for f in files:
        try:
            problems.extend(lint_file(f, rules, max_bytes or settings.lint.max_file_bytes))
        except InputRefused as e:  # one line that names the file and the fix (watcher.core.inputs)
            unreadable += 1
            typer.echo(f"{e}", err=True)
        except OSError as e:
            unreadable += 1
            typer.echo(text("lint.unreadable", path=str(f), error=str(e.strerror or e)[:300]).render(language),
                       err=True)
    if fmt == Format.SARIF:
        from watcher.owned.sarif import sarif

        report = json.dumps(sarif(problems, language), ensure_ascii=False, indent=1)
        if output:
            output.write_text(report, encoding="utf-8")
        else:
            typer.echo(report)
    elif fmt == Format.JSON:
        lines = "\n".join(json.dumps(p.as_dict(language), ensure_ascii=False) for p in problems)
        if output:
            output.write_text(lines + "\n", encoding="utf-8")
        elif lines:
            typer.echo(lines)
    else:
        for p in problems:
            typer.echo(p.render(language))
    if fmt == Format.TEXT:
        summary = text("lint.summary", files=len(files), problems=len(problems)).render(language)
        if unreadable:
            summary += text("lint.summary_unreadable", n=unreadable).render(language)
        typer.echo(summary, err=True)
    if unreadable:
        raise typer.Exit(2)
    if problems:
        raise typer.Exit(1)

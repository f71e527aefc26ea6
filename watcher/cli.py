"""The ``omamori`` command line: the root of the house.

It imports every command module (``watcher/commands/``) and puts their commands and groups on one
Typer app; the modules know nothing of each other or of this file. ``--config`` (or
``OMAMORI_CONFIG``) and ``--lang`` (or ``OMAMORI_LANG``) are handed to ``commands.invocation``, which
every command asks for its Context and its reader's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from watcher.commands import (
    alerts,
    brands,
    candidates,
    capture,
    case,
    ct,
    dashboard,
    data,
    db,
    feeds,
    findings,
    intake,
    inventory,
    invocation,
    lint,
    look,
    mailauth,
    permutations,
    report,
    service,
    takedown,
    user,
    worker,
)

app = typer.Typer(
    name="omamori",
    help="omamori — brand protection and phishing takedown for securities firms (JSDA guideline IV.4).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="config file (default data/config.toml)",
                                                envvar="OMAMORI_CONFIG")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="ja or en: the language of what omamori prints "
                                             "(default: the config's service.language)", envvar="OMAMORI_LANG")]
    = None,
) -> None:
    invocation.set_config(config, lang)


# Single commands: the service and the look at one name.
app.command("run")(service.run)
app.command("worker")(worker.worker)
app.command("job")(service.job_cmd)
app.command("jobs")(service.jobs_cmd)
app.command("status")(service.status)
app.command("check")(look.check)
app.command("add")(look.add)
app.command("dashboard")(dashboard.dashboard)
app.command("match")(ct.match)
app.command("lint-messages")(lint.lint_messages)

# Groups, one module each.
GROUPS: tuple[tuple[str, typer.Typer], ...] = (
    ("brands", brands.cli),
    ("db", db.cli),
    ("user", user.cli),
    ("ct", ct.cli),
    ("permutations", permutations.cli),
    ("intake", intake.cli),
    ("feeds", feeds.cli),
    ("capture", capture.cli),
    ("takedown", takedown.cli),
    ("case", case.cli),
    ("candidates", candidates.cli),
    ("findings", findings.cli),
    ("alerts", alerts.cli),
    ("inventory", inventory.cli),
    ("mailauth", mailauth.cli),
    ("report", report.cli),
    ("data", data.cli),
)
for _name, _group in GROUPS:
    app.add_typer(_group, name=_name)


def main() -> None:
    app()

"""omamori user: dashboard users (password hashes for the config)."""

from __future__ import annotations

import typer

from watcher.core.auth import hash_password

cli = typer.Typer(help="Dashboard users.", no_args_is_help=True)


@cli.command("hash-password")
def hash_password_cmd() -> None:
    """Read a password (twice, hidden) and print the hash for [[dashboard.users]] in config."""

    pw = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    print(hash_password(pw))



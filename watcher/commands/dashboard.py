"""omamori dashboard: serve the Streamlit dashboard for this invocation's config."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from watcher.commands.invocation import config_path, context
from watcher.core.config import ROOT


def dashboard(port: Annotated[int | None, typer.Option(help="port (default from config)")] = None) -> None:
    """Serve the Streamlit dashboard."""
    ctx = context()
    env = dict(os.environ)
    path = config_path()
    if path:
        env["OMAMORI_CONFIG"] = str(path.resolve())
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
           "--server.headless", "true", "--server.port", str(port or ctx.settings.dashboard.port),
           "--server.address", ctx.settings.dashboard.address, "--browser.gatherUsageStats", "false"]
    # Become Streamlit (exec), so a supervisor's SIGTERM reaches it instead of leaving it orphaned.
    os.chdir(ROOT)
    os.execve(sys.executable, cmd, env)



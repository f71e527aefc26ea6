"""A throw-away PostgreSQL cluster for `make demo-cluster` (and anyone who needs one): Debian's
binaries, a private data directory, a free port on 127.0.0.1, trust authentication, removed on stop.

initdb refuses to run as root, so as root the cluster runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PgCluster:
    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql; `make setup` does it as root)")
        self.bindir = Path(found[-1]).parent
        self.base = Path(tempfile.mkdtemp(prefix="omamori-demo-pg-"))
        self.port = 0
        self.prefix: list[str] = []

    def start(self, database: str = "omamori") -> str:
        """Start the cluster and create ``database``; returns its SQLAlchemy URL."""
        data, sock = self.base / "data", self.base / "sock"
        data.mkdir()
        sock.mkdir()
        if os.geteuid() == 0:
            for p in (self.base, data, sock):
                shutil.chown(p, "postgres", "postgres")
            os.chmod(self.base, 0o755)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        subprocess.run([*self.prefix, str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-instructions"], check=True, capture_output=True)
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(sock / "pg.log"), "-w",
                        "-o", f"-p {self.port} -k {sock} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True)
        subprocess.run([*self.prefix, str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "postgres", database], check=True, capture_output=True)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), "-m", "fast", "-w",
                        "stop"], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

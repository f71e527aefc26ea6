"""Not built yet: see the open issue that owns this module."""


def run(ctx):
    raise NotImplementedError("run: not built yet")

def ingest_reports(ctx):
    raise NotImplementedError("ingest_reports: not built yet")

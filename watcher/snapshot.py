"""Not built yet: see the open issue that owns this module."""


def run_due(ctx):
    raise NotImplementedError("run_due: not built yet")

"""Not built yet: see the open issue that owns this module."""


def scan(ctx):
    raise NotImplementedError("scan: not built yet")

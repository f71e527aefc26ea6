"""Not built yet: see the open issue that owns this module."""


def run(ctx):
    raise NotImplementedError("run: not built yet")

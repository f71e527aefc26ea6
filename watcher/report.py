"""Not built yet: see the open issue that owns this module."""


def weekly(ctx):
    raise NotImplementedError("weekly: not built yet")

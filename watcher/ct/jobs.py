"""Not built yet: see the open issue that owns this module."""


def poll(ctx):
    raise NotImplementedError("poll: not built yet")

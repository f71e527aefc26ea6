"""Fixtures of the takedown tests (defined in tdlab.py, shared with the helpers)."""

from tests.takedown.tdlab import ctx, make_ctx, world

__all__ = ["ctx", "make_ctx", "world"]

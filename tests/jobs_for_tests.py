"""Jobs used by tests/test_schedule.py to exercise the job runner (not product jobs)."""

import threading

CALLS: list[str] = []


def ok(ctx):
    CALLS.append("ok")
    return {"found": 3}


def broken(ctx):
    CALLS.append("broken")
    raise RuntimeError("the log server answered 500")


def patient(ctx):
    """A long loop that checks its run at every batch boundary, as every product job does."""
    while True:
        ctx.run.check()
        ctx.run.wait(0.05)


RELEASE = threading.Event()


def stuck(ctx):
    """A job blocked where nothing can reach it (no batch boundary, no socket to close)."""
    RELEASE.wait(30)
    return {"released": True}

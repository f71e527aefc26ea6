"""Jobs used by tests/test_schedule.py to exercise the job runner (not product jobs)."""

CALLS: list[str] = []


def ok(ctx):
    CALLS.append("ok")
    return {"found": 3}


def broken(ctx):
    CALLS.append("broken")
    raise RuntimeError("the log server answered 500")

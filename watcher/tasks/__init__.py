"""The task queue: the work that grows with candidates and brands, run by any number of workers.

A floor above ``capture``, ``discovery``, ``owned`` and ``takedowns`` and below ``schedule``:

- ``catalog``: TASKS, the task functions (check claimed candidates, check new ones, dispatch the due
  ones, run the takedown side now), each ``(ctx, **json_args) -> summary``.
- ``queue``: where a deferred task goes. ``ThreadQueue`` runs it in this process (SQLite, one
  process: ``omamori run`` needs nothing else); ``PgQueue`` puts it in procrastinate's tables on the
  PostgreSQL omamori already uses, for ``omamori worker`` on any host (``pgqueue``).
- ``nudge``: the Context's ``Nudge`` that turns "a CT match made candidates" or "a check found a
  phishing page" into tasks deferred at once.
- ``dispatch``: the ``snapshot`` job when workers do the checks: claim due candidates, one task per
  batch.

Tasks are idempotent by what they claim in the database, not by the queue: a check presents the
claim it was given (``snapshot.claim_due``), so a task retried after its worker died re-checks only
what was not committed; the takedown outbox claims each request before it is sent (at most once).
"""

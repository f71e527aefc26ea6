"""Fixtures of the report, alert and sharing tests: a Context on the lab's servers, and a week of cases."""

from tests.owned.conftest import make_ctx

__all__ = ["make_ctx"]

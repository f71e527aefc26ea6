"""Schema migrations: an empty database upgrades to head, and the models match the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from watcher.core.db import current_revision, head_revision, make_engine, upgrade


def test_models_and_migrations_agree(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models changed without a migration in watcher/core/migrations/versions: {diff}"
    upgrade(engine)  # running it again is a no-op
    engine.dispose()

"""The schema comes from alembic migrations; the migrated schema matches the code's tables."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from auditor import store
from auditor.core.errors import AuditInputError


def test_migrated_schema_matches_the_models(db_url):
    engine = store.connect(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), store.metadata)
    assert diff == [], f"store.py changed without a migration in auditor/migrations/versions: {diff}"
    assert store.schema_revision(engine) is not None
    engine.dispose()


def test_connecting_again_is_a_no_op(db_url):
    store.connect(db_url).dispose()
    engine = store.connect(db_url)
    assert store.count_rows(engine, store.runs) == 0
    engine.dispose()


def test_a_database_from_before_migrations_is_refused_clearly(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    legacy = create_engine(url)
    with legacy.begin() as conn:
        conn.execute(text("create table runs (run_id integer primary key)"))
    legacy.dispose()
    with pytest.raises(AuditInputError, match="旧程序"):
        store.connect(url)

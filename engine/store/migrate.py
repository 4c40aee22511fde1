"""Schema migrations (Alembic), applied by `safeflow serve` at start and by `safeflow db upgrade`.

Each engine owns a branch of migrations rooted at the foundation revision, so engines built in
parallel never fight over one linear history; `upgrade` applies every head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
FORM_INDEX_PREFIX = "ixf_"  # the names of the indexes forms ask for (engine.store.records)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate's filter: expression indexes forms create at publish time are data, not schema
    (the migration environment and the test that models and migrations agree both use it)."""
    return not (type_ == "index" and name and name.startswith(FORM_INDEX_PREFIX))


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, target: str = "heads") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def downgrade(engine: Engine, target: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, target)


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def expected_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def is_current(engine: Engine) -> bool:
    return current_heads(engine) == expected_heads()


def revision(engine: Engine, message: str, rev_id: str, head: str = "head") -> None:
    """Autogenerate a migration (developer tool; review the file before committing)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id, head=head)

"""A record inserted (`insert_record`) or updated (`update_record`) on the driver's cursor is,
for the session and the database, the row the ORM's flush would have written and loaded; an
update of a row another writer changed since it was read writes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm.exc import StaleDataError

from engine.runtime.site import Site
from engine.store.base import utcnow
from engine.store.models import Record
from engine.store.records import insert_record, update_record
from engine.store.types import JSONText


def _row(**overrides: object) -> Record:
    now = utcnow()
    values: dict[str, object] = {"form": "hazard", "form_version": 2, "data": {"title": "漏油", "n": 3},
                                 "status": "active", "owner_id": None, "department_id": None,
                                 "search_text": "漏油", "created_at": now, "updated_at": now, "deleted_at": None}
    return Record(**{**values, **overrides})


def test_the_row_is_written_and_attached_as_loaded(site: Site) -> None:
    with site.session() as session:
        row = insert_record(session, _row())
        assert row.id is not None and row.row_version == 1
        statements: list[str] = []
        event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert session.get(Record, row.id) is row  # from the identity map, no query
        assert not session.dirty and not session.new and statements == []
        created = row.created_at
    with site.session() as session:
        stored = session.get(Record, row.id)
        assert stored is not None
        assert (stored.form, stored.form_version, stored.data, stored.status, stored.search_text,
                stored.row_version, stored.deleted_at) == ("hazard", 2, {"title": "漏油", "n": 3}, "active", "漏油",
                                                           1, None)
        assert stored.created_at == created and stored.created_at.tzinfo is not None


def test_columns_left_unset_take_their_defaults(site: Site) -> None:
    with site.session() as session:
        row = insert_record(session, Record(form="hazard", form_version=1, data={"title": "x"}))
        assert (row.status, row.row_version, row.deleted_at) == ("active", 1, None)
        assert row.created_at is not None and row.created_at.tzinfo is not None and row.updated_at is not None


def test_an_update_in_the_same_session_keeps_optimistic_locking(site: Site) -> None:
    with site.session() as session:
        row = insert_record(session, _row())
        row.data = {"title": "漏油", "n": 4}
        session.flush()
        assert row.row_version == 2
        record_id = row.id
    with site.session() as session:
        stale = session.get(Record, record_id)
        assert stale is not None
        session.execute(text("UPDATE records SET row_version = 7 WHERE id = :id"), {"id": record_id})
        stale.status = "closed"
        with pytest.raises(StaleDataError):
            session.flush()
        session.rollback()


def test_pending_orm_writes_go_first(site: Site) -> None:
    with site.session() as session:
        earlier = _row(search_text="first")
        session.add(earlier)
        later = insert_record(session, _row(search_text="second"))
        assert earlier.id is not None and earlier.id < later.id
    with site.session() as session:
        texts = session.execute(select(Record.search_text).order_by(Record.id)).scalars().all()
    assert texts == ["first", "second"]


def test_a_document_given_as_text_is_stored_as_that_text(site: Site) -> None:
    data = {"b": 1, "a": [1.5, None]}
    with site.session() as session:
        row = insert_record(session, _row(data=data), data=JSONText(data, '{"a":[1.5,null],"b":1}'))
        assert row.data == data and type(row.data) is dict
    with site.session() as session:
        stored = session.execute(text("SELECT data FROM records WHERE id = :id"), {"id": row.id}).scalar_one()
    assert (json.loads(stored) if isinstance(stored, str) else stored) == data


def test_a_rolled_back_insert_leaves_nothing(site: Site) -> None:
    with pytest.raises(RuntimeError), site.session() as session:
        insert_record(session, _row())
        raise RuntimeError("the write fails after the insert")
    with site.session() as session:
        assert session.execute(select(Record.id)).first() is None


def test_an_update_writes_the_changed_columns_and_bumps_the_version(site: Site) -> None:
    with site.session() as session:
        row = insert_record(session, _row())
        assert update_record(session, row, data={"title": "漏油", "n": 5}, search_text="漏油 5")
        assert row.row_version == 2 and row.data == {"title": "漏油", "n": 5}
        assert not session.dirty
        record_id = row.id
    with site.session() as session:
        stored = session.get(Record, record_id)
        assert stored is not None
        assert (stored.data, stored.search_text, stored.row_version, stored.status) == (
            {"title": "漏油", "n": 5}, "漏油 5", 2, "active")


def test_an_update_of_a_row_another_writer_changed_since_it_was_read_writes_nothing(site: Site) -> None:
    with site.session() as session:
        record_id = insert_record(session, _row()).id
    with site.session() as reader:
        row = reader.get(Record, record_id)
        assert row is not None and row.row_version == 1
        reader.commit()  # the row stays loaded as read (version 1)
        with site.session() as other:
            moved = other.get(Record, record_id)
            assert moved is not None and update_record(other, moved, status="closed")
        assert not update_record(reader, row, data={"title": "stale"})
        assert row.data == {"title": "漏油", "n": 3}
    with site.session() as session:
        stored = session.get(Record, record_id)
        assert stored is not None
        assert (stored.data, stored.status, stored.row_version) == ({"title": "漏油", "n": 3}, "closed", 2)

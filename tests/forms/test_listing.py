"""Listing records: filters compiled to SQL, sort, keyset pages, search, scopes in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.errors import InvalidInput
from engine.forms.listing import ListQuery
from engine.runtime.site import Site
from engine.store.access import Access, load_principal
from tests.forms.support import HAZARD, publish_form, records
from tests.helpers import make_department, make_user


def _seed(site: Site, rows: list[dict]) -> list[int]:
    with site.session() as session:
        service = records(site, session)
        return [service.create("hazard", row).id for row in rows]


def test_a_filter_expression_runs_in_sql(site: Site) -> None:
    publish_form(site, HAZARD)
    ids = _seed(site, [{"title": "a", "l": 1, "e": 1, "c": 1}, {"title": "b", "l": 5, "e": 5, "c": 5},
                       {"title": "c", "level": "major", "l": 10, "e": 10, "c": 10}])
    with site.session() as session:
        found, _ = records(site, session).list("hazard", ListQuery(filter='score >= 100 and level == "general"'))
    assert [r.id for r in found] == [ids[1]]


def test_a_filter_can_use_dates_relative_to_today(site: Site) -> None:
    publish_form(site, HAZARD)
    ids = _seed(site, [{"title": "a", "level": "major"}, {"title": "b"}])
    with site.session() as session:
        found, _ = records(site, session).list("hazard", ListQuery(filter="due >= today() + 6d"))
    assert [r.id for r in found] == [ids[0]]


def test_a_bad_filter_is_a_located_error(site: Site) -> None:
    publish_form(site, HAZARD)
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        records(site, session).list("hazard", ListQuery(filter="scroe > 3"))
    problem = caught.value.problems[0]
    assert problem.path == "filter" and problem.column == 1
    assert "score" in problem.message("en")


def test_keyset_pages_cover_every_record_once_in_sort_order_with_nulls_last(site: Site) -> None:
    publish_form(site, HAZARD)
    rows = [{"title": f"t{i}", **({"l": i % 4, "e": 1, "c": 1} if i % 3 else {})} for i in range(23)]
    _seed(site, rows)
    seen, cursor = [], None
    with site.session() as session:
        service = records(site, session)
        while True:
            page, cursor = service.list("hazard", ListQuery(sort=["-score"], limit=5, cursor=cursor))
            seen += [(r.data.get("score"), r.id) for r in page]
            if cursor is None:
                break
    assert len(seen) == 23 and len({i for _, i in seen}) == 23
    scores = [s for s, _ in seen]
    present = [s for s in scores if s is not None]
    assert present == sorted(present, reverse=True)
    assert scores[len(present):] == [None] * (23 - len(present))


def test_text_search_finds_words_in_text_fields_and_rows(site: Site) -> None:
    publish_form(site, HAZARD)
    ids = _seed(site, [{"title": "Oil leak near pump"}, {"title": "Blocked exit",
                                                          "measures": [{"action": "Remove PALLETS"}]}])
    with site.session() as session:
        service = records(site, session)
        assert [r.id for r in service.list("hazard", ListQuery(search="oil"))[0]] == [ids[0]]
        assert [r.id for r in service.list("hazard", ListQuery(search="pallets"))[0]] == [ids[1]]


def test_a_department_scope_is_applied_in_sql(site: Site) -> None:
    publish_form(site, HAZARD)
    north, south = make_department(site, "north"), make_department(site, "south")
    alice = make_user(site, "alice", department=north)
    bob = make_user(site, "bob", department=south)
    with site.session() as session:
        service = records(site, session)
        mine = service.create("hazard", {"title": "north"}, principal=load_principal(session, alice),
                              access=Access(scope="all"))
        service.create("hazard", {"title": "south"}, principal=load_principal(session, bob),
                       access=Access(scope="all"))
    with site.session() as session:
        service = records(site, session)
        found, _ = service.list("hazard", principal=load_principal(session, alice),
                                access=Access(scope="department"))
    assert [r.id for r in found] == [mine.id]


def test_indexed_fields_get_an_expression_index(site: Site) -> None:
    publish_form(site, HAZARD)
    with site.session() as session:
        if site.db.dialect == "sqlite":
            names = {r[0] for r in session.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
        else:
            names = {r[0] for r in session.execute(text("SELECT indexname FROM pg_indexes"))}
    assert {"ixf_title_text", "ixf_level_text", "ixf_score_integer"} <= names


def test_the_planner_uses_the_index_for_an_indexed_field(site: Site) -> None:
    publish_form(site, HAZARD)
    if site.db.dialect != "sqlite":
        pytest.skip("PostgreSQL picks plans by statistics; SQLite's choice is deterministic")
    from sqlalchemy import select

    from engine.forms.catalog import FormCatalog
    from engine.store.models import Record
    from engine.store.records import column_for

    with site.session() as session:
        compiled = FormCatalog(session).current("hazard")
        query = select(Record.id).where(Record.form == "hazard", column_for(compiled.definition)("score") > 5)
        sql = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r) for r in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ixf_score_integer" in plan

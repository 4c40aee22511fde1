"""The viewer's row scope is part of the SQL: a department-scoped viewer's numbers are their
department's, whatever the dataset asks."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Forbidden
from engine.identity import org
from engine.reports import Dataset, QueryContext, Viewer, run_dataset
from engine.store.access import load_principal
from tests.helpers import SETUP, grant, make_user
from tests.reports.support import NOW, Plant, reader

BY_AREA = {"source": {"form": "hazard"}, "dimensions": [{"field": "area"}],
           "measures": [{"key": "n", "agg": "count"}, {"key": "s", "agg": "sum", "field": "score"}]}


def as_user(plant: Plant, user_id: int, body: dict[str, Any] = BY_AREA, cap: str | None = None) -> list[list[Any]]:
    with plant.site.session() as session:
        principal = load_principal(session, user_id)
        result = run_dataset(session, Dataset.model_validate(body),
                             QueryContext(now=NOW, tz=plant.site.settings.tz, viewer=Viewer(principal, cap)))
    return result.rows


def test_a_department_scoped_viewer_sees_only_their_departments_numbers(plant):
    viewer = reader(plant.site, "d2_lead", plant.departments["D2"], "department")
    # D2 holds r3 (B, 20) and r4 (B, 80)
    assert as_user(plant, viewer) == [["B", 2, 100]]


def test_a_subtree_scoped_viewer_sees_everything_below_their_department(plant):
    viewer = reader(plant.site, "p1_head", plant.departments["P1"], "subtree")
    # P1 ⊃ D1 (r1, r2, r5) and D2 (r3, r4): A 10+40, B 20+80, C 30
    assert as_user(plant, viewer) == [["A", 2, 50], ["B", 2, 100], ["C", 1, 30]]


def test_an_own_scoped_viewer_sees_only_their_own_records(plant):
    grant(plant.site, "reporter", "form", "hazard", "read", scope="own")
    with plant.site.session() as session:
        org.assign_role(session, SETUP, plant.users["u4"], "reporter")
    # u4 owns r6 (A, 60) and r7 (C, 90)
    assert as_user(plant, plant.users["u4"]) == [["A", 1, 60], ["C", 1, 90]]


def test_a_share_link_cap_narrows_a_wider_grant(plant):
    viewer = reader(plant.site, "p1_head", plant.departments["P1"], "all")
    assert len(as_user(plant, viewer)) == 3
    # capped to the viewer's own department (P1 itself holds no records)
    assert as_user(plant, viewer, cap="department") == []


def test_a_viewer_without_a_read_grant_on_the_form_gets_nothing(plant):
    stranger = make_user(plant.site, "stranger", department=plant.departments["D1"])
    with pytest.raises(Forbidden):
        as_user(plant, stranger)


def test_a_field_hidden_from_the_viewer_cannot_be_aggregated(plant):
    viewer = reader(plant.site, "d1_lead", plant.departments["D1"], "department", hidden=("score",))
    with pytest.raises(Forbidden) as caught:
        as_user(plant, viewer)
    assert caught.value.code == "reports.field_hidden"
    body = {"source": {"form": "hazard"}, "measures": [{"key": "n", "agg": "count"}], "filter": "score > 10"}
    with pytest.raises(Forbidden):
        as_user(plant, viewer, body)
    # without the hidden field the same viewer gets their department's count: r1, r2, r5
    assert as_user(plant, viewer, {"source": {"form": "hazard"}, "measures": [{"key": "n", "agg": "count"}]}) == [[3]]

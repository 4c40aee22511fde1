"""Importing an org chart from CSV or xlsx: all or nothing, every problem with its row."""

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from engine.errors import InvalidInput
from engine.identity import org
from engine.identity.orgimport import import_org
from engine.runtime.site import Site
from engine.store.directory import SqlDirectory
from engine.store.models import Department, User
from tests.helpers import SETUP

CHART = """用户名,姓名,工号,部门,直属上级,角色,邮箱,部门负责人
chen,陈厂长,E001,总厂,,plant_manager,chen@example.com,是
liu,刘主任,E002,总厂/一车间,chen,workshop_director,,是
zhou,周班长,E003,总厂/一车间/焊接班,liu,team_leader,,是
wu,吴工,E004,总厂/一车间/焊接班,zhou,员工,,
ma,马安全员,E005,总厂/安全部,chen,"safety_officer, 员工",,
"""


@pytest.fixture
def roles(site: Site) -> None:
    with site.session() as session:
        for key, zh in [("plant_manager", "厂长"), ("workshop_director", "车间主任"), ("team_leader", "班组长"),
                        ("employee", "员工"), ("safety_officer", "安全员")]:
            org.create_role(session, SETUP, key=key, name={"zh": zh, "en": key})


def test_a_csv_org_chart_builds_departments_people_managers_and_roles(site: Site, roles: None,
                                                                      tmp_path: Path) -> None:
    path = tmp_path / "org.csv"
    path.write_text(CHART, encoding="utf-8-sig")
    seen: list[int] = []
    with site.session() as session:
        report = import_org(session, SETUP, path, progress=lambda done, total: seen.append(done))
    assert (report.created, report.updated, report.departments_created) == (5, 0, 4)
    assert seen[-1] == 10
    with site.session() as session:
        directory = SqlDirectory(session)
        wu = directory.find_user("wu")
        assert wu is not None and directory.person(wu.manager_id).username == "zhou"
        welding = session.get(Department, wu.department_id)
        assert welding.name == "焊接班" and directory.department_head(welding.id) == directory.find_user("zhou").id
        assert directory.users_with_role("employee") == sorted([wu.id, directory.find_user("ma").id])
        shop = session.get(Department, welding.parent_id)
        assert shop.name == "一车间" and welding.path.startswith(shop.path)


def test_reimporting_updates_people_instead_of_failing(site: Site, roles: None, tmp_path: Path) -> None:
    path = tmp_path / "org.csv"
    path.write_text(CHART, encoding="utf-8")
    with site.session() as session:
        import_org(session, SETUP, path)
    path.write_text(CHART.replace("吴工", "吴师傅"), encoding="utf-8")
    with site.session() as session:
        report = import_org(session, SETUP, path)
    assert (report.created, report.updated, report.departments_created) == (0, 5, 0)
    with site.session() as session:
        assert session.execute(select(User.name).where(User.username == "wu")).scalar_one() == "吴师傅"


def test_a_bad_file_reports_every_problem_by_row_and_writes_nothing(site: Site, roles: None, tmp_path: Path) -> None:
    path = tmp_path / "org.csv"
    path.write_text(
        "username,name,department,manager,roles,email\n"
        "a1,,Plant,,employee,a1@example.com\n"
        "a2,A2,Plant,nobody,pilot,not-mail\n"
        "a2,A2 again,Plant,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        import_org(session, SETUP, path)
    found = {(p.line, p.code) for p in caught.value.problems}
    assert found == {(2, "orgimport.required"), (3, "orgimport.unknown_role"), (3, "orgimport.bad_email"),
                     (4, "orgimport.duplicate"), (3, "orgimport.unknown_manager")}
    assert all(p.file == "org.csv" for p in caught.value.problems)
    with site.session() as session:
        assert session.execute(select(func.count()).select_from(User)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Department)).scalar_one() == 0


def test_an_xlsx_org_chart_imports_like_csv(site: Site, roles: None, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    for line in CHART.strip().splitlines():
        sheet.append(next(iter(__import__("csv").reader([line]))))
    path = tmp_path / "org.xlsx"
    book.save(path)
    with site.session() as session:
        assert import_org(session, SETUP, path).created == 5


def test_the_api_imports_an_uploaded_chart_for_admins(client, site: Site, roles: None) -> None:
    from tests.helpers import auth, make_user

    make_user(site, "root", admin=True)
    response = client.post("/api/v1/org/import", files={"file": ("org.csv", CHART.encode(), "text/csv")},
                           headers=auth(client, "root"))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 5

"""Print templates: a record with its QR code, signature and approval trail, as HTML and PDF; a
template cannot reach Python internals; bad templates are refused with their line."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from engine.api.app import create_app
from engine.errors import InvalidInput
from engine.flows import Action
from engine.forms.files import UploadRules, store_upload
from engine.forms.records import RecordService
from engine.reports.printing import PrintMeta, PrintTemplate, check_template, qr_data_url, render_html
from engine.runtime.flows import flow_engine
from engine.store.audit import Actor
from engine.store.definitions import DefinitionRepository
from tests.helpers import auth, grant, make_user
from tests.reports.support import Plant, reader

HEADER = '{#- safeflow: {"form": "hazard", "title": {"zh": "隐患整改单", "en": "Rectification sheet"}} -#}\n'
SHEET = HEADER + """<h1>{{ form.title }} #{{ record.id }}</h1>
<p>{{ record.owner }} · {{ record.department }} · {{ record.created_at }}</p>
<img class="qr" src="{{ qr('https://ehs.example/r/' ~ record.id) }}">
<table>{% for f in fields %}<tr><th>{{ f.label }}</th><td>{{ f.value }}</td></tr>{% endfor %}</table>
<img class="sign" src="{{ signatures.sign }}">
<ol>{% for a in approvals %}<li>{{ a.step }}: {{ a.actor }} {{ a.decision_label }} {{ a.at }} «{{ a.comment }}»</li>
{% endfor %}</ol>
"""
CHROMIUM = os.environ.get("SAFEFLOW_TEST_CHROMIUM")


def signature_png() -> bytes:
    image = Image.new("RGB", (120, 40), "white")
    for x in range(10, 110):
        image.putpixel((x, 20 + (x % 7)), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def approve_record(plant: Plant, record: int) -> None:
    """r2 went through a two-step flow: u2 submitted it, u1 approved it with a comment."""
    site = plant.site
    flow = {"key": "fix", "form": "hazard", "nodes": [
        {"id": "start", "type": "start"},
        {"id": "apply", "type": "fill", "assignee": "initiator", "name": {"zh": "整改填报", "en": "Rectify"}},
        {"id": "check", "type": "approve", "assignee": {"user": "u1"}, "name": {"zh": "验收", "en": "Acceptance"}},
        {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "apply"}, {"from": "apply", "to": "check"}, {"from": "check", "to": "end"}]}
    with site.session() as session:
        DefinitionRepository(session).publish(Actor.system(), "flow", "fix", flow)
    with site.session() as session:
        inst = flow_engine(session, site).start("fix", {}, plant.users["u2"], record_id=record)
    for node, user, kind, comment in (("apply", "u2", "submit", None), ("check", "u1", "approve", "整改到位")):
        with site.session() as session:
            engine = flow_engine(session, site)
            task = next(t for t in engine.instance(inst.id).tasks.values() if t.node == node and t.live)
            engine.act(task.id, Action(kind, plant.users[user], comment=comment))


@pytest.fixture
def printed(plant: Plant) -> Plant:
    with plant.site.session() as session:
        stored = store_upload(session, plant.site.settings.files_dir, io.BytesIO(signature_png()), filename="s.png",
                              rules=UploadRules(("png",), 1 << 20), created_by=None)
        service = RecordService(session, plant.site.events(session), tz=plant.site.settings.tz, clock=plant.site.clock)
        view = service.get("hazard", plant.records["r2"])
        service.update("hazard", plant.records["r2"], {"sign": stored.id}, row_version=view.row_version)
    approve_record(plant, plant.records["r2"])
    return plant


@pytest.fixture
def api(printed: Plant) -> Iterator[TestClient]:
    with TestClient(create_app(site=printed.site, run_worker=False), raise_server_exceptions=False) as client:
        make_user(printed.site, "boss", admin=True)
        response = client.put("/api/v1/prints/rectification", headers={**auth(client, "boss"),
                                                                      "Content-Type": "text/html"},
                              content=SHEET.encode())
        assert response.status_code == 200, response.text
        yield client


def test_a_record_prints_with_its_fields_qr_code_signature_and_approval_trail(api, printed):
    r2 = printed.records["r2"]
    response = api.get(f"/api/v1/prints/rectification/records/{r2}", headers=auth(api, "boss", "zh-CN"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert f"<h1>隐患上报 #{r2}</h1>" in html and "User 2 · 一车间 · 2026-01-06 11:00" in html
    assert "<th>级别</th><td>重大</td>" in html and "<th>责任部门</th><td>一车间</td>" in html
    assert 'class="qr" src="data:image/svg+xml' in html
    assert 'class="sign" src="data:image/png;base64,' in html
    assert "<li>整改填报: User 2 提交" in html and "<li>验收: User 1 同意" in html and "«整改到位»" in html
    assert "@page { size: A4" in html


def test_the_qr_code_encodes_the_text_it_is_given():
    url = qr_data_url("https://ehs.example/r/7")
    assert url.startswith("data:image/svg+xml") and qr_data_url("https://ehs.example/r/8") != url


def test_printing_respects_the_readers_scope_and_hidden_fields(api, printed):
    grant(printed.site, "reader_d2", "form", "hazard", "read", scope="department", fields={"score": "hidden"})
    make_user(printed.site, "d2", roles=("reader_d2",), department=printed.departments["D2"])
    other = api.get(f"/api/v1/prints/rectification/records/{printed.records['r2']}", headers=auth(api, "d2"))
    assert other.status_code == 404
    mine = api.get(f"/api/v1/prints/rectification/records/{printed.records['r4']}", headers=auth(api, "d2", "zh-CN"))
    assert mine.status_code == 200 and "风险值" not in mine.text and "<th>级别</th>" in mine.text


@pytest.mark.skipif(not CHROMIUM, reason="Chromium not configured: set SAFEFLOW_TEST_CHROMIUM")
def test_a_record_prints_to_pdf(api, printed, monkeypatch):
    monkeypatch.setenv("SAFEFLOW_CHROMIUM", CHROMIUM or "")
    response = api.get(f"/api/v1/prints/rectification/records/{printed.records['r2']}", headers=auth(api, "boss"),
                       params={"format": "pdf"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert response.headers["content-type"] == "application/pdf"


def render(body: str, context: dict[str, Any] | None = None) -> str:
    template = PrintTemplate("t", PrintMeta(form="hazard"), HEADER + body)
    return render_html(template, {"record": {"id": 1, "data": {"a": [1, 2]}}, "fields": [], **(context or {})})


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ record.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ qr.__globals__ }}",
    "{{ range.__self__ }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
])
def test_a_template_cannot_reach_python_internals(attack):
    try:
        out = render(attack)
    except InvalidInput as error:
        assert error.problems[0].code in ("print.unsafe", "print.render_error")
        return
    # what is not refused renders as nothing: no class, module, function or global leaks
    assert "class" not in out.split("<body>")[1] and "function" not in out and "module" not in out
    assert "popen" not in out and "uid=" not in out


@pytest.mark.parametrize("attack", [
    "{{ record.data.a.append(3) }}",
    "{{ record.data.update({'x': 1}) }}",
    "{% for i in range(100000) %}{% endfor %}",
    "{{ 'x' * 10 }}{% for i in range(999) %}{% for j in range(999) %}{{ 'xxxxxxxxxx' }}{% endfor %}{% endfor %}",
])
def test_a_template_can_neither_change_data_nor_run_away(attack):
    with pytest.raises(InvalidInput) as caught:
        render(attack)
    assert caught.value.problems[0].code == "print.unsafe"


def test_a_template_cannot_include_files():
    with pytest.raises(InvalidInput) as caught:
        render("{% include '/etc/passwd' %}")
    assert caught.value.problems[0].code == "print.render_error"


def test_output_is_escaped():
    out = render("{{ values.title }}", {"values": {"title": "<script>alert(1)</script>"}})
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_a_bad_template_is_refused_with_its_line_and_nothing_is_stored(api):
    bad = HEADER + "<p>ok</p>\n{% for f in fields %}\n<p>{{ f.label }</p>\n"
    response = api.put("/api/v1/prints/broken", headers={**auth(api, "boss"), "Content-Type": "text/html"},
                       content=bad.encode())
    assert response.status_code == 422
    problem = response.json()["error"]["problems"][0]
    assert problem["code"] == "print.syntax" and problem["line"] == 4
    assert api.get("/api/v1/prints", headers=auth(api, "boss")).json() == [
        {"key": "rectification", "form": "hazard", "title": "Rectification sheet", "paper": "A4"}]


def test_a_template_names_its_form_and_uses_only_what_the_context_offers():
    assert [(p.code, p.severity) for p in check_template("t", "<p>no header</p>")] == [("print.no_meta", "warning")]
    problems = check_template("t", HEADER.replace("hazard", "nope") + "{{ permit.no }}",
                              form_exists=lambda form: form == "hazard")
    assert [(p.code, p.severity) for p in problems] == [("print.unknown_form", "error"),
                                                       ("print.unknown_name", "warning")]


def test_a_reader_without_the_form_cannot_print(api, printed):
    reader(printed.site, "outsider", printed.departments["D1"], "all")
    grant(printed.site, "nothing", "form", "other", "read")
    make_user(printed.site, "stranger", roles=("nothing",))
    response = api.get(f"/api/v1/prints/rectification/records/{printed.records['r1']}", headers=auth(api, "stranger"))
    assert response.status_code == 403


def test_publishing_a_template_to_print_with_needs_its_form(api):
    response = api.put("/api/v1/prints/bare", headers={**auth(api, "boss"), "Content-Type": "text/html"},
                       content=b"<p>{{ record.id }}</p>")
    assert response.status_code == 422
    assert response.json()["error"]["problems"][0]["code"] == "print.no_meta"

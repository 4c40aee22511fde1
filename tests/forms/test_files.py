"""Uploads: sniffed by content, stored under their hash, never under a client path; refused
when they lie about their type; linked to the record that uses them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from engine.errors import InvalidInput
from engine.forms.files import UploadRules, blob_path, store_upload, thumbnail
from engine.runtime.site import Site
from engine.store.access import load_principal
from engine.store.models import StoredFile
from tests.forms.support import hazard, label, publish_form, records
from tests.helpers import make_user

ANY = UploadRules(accept=("jpeg", "png", "webp", "gif", "pdf", "docx", "xlsx", "txt"), max_bytes=1 << 20)


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 200


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _upload(site: Site, data: bytes, name: str, rules: UploadRules = ANY, user: int | None = None) -> StoredFile:
    with site.session() as session:
        return store_upload(session, site.settings.files_dir, io.BytesIO(data), filename=name, rules=rules,
                            created_by=user)


@pytest.mark.parametrize(("data", "name", "kind"), [(png_bytes(), "photo.png", "image/png"),
                                                    (PDF, "permit.pdf", "application/pdf"),
                                                    (docx_bytes(), "plan.docx", "wordprocessingml")])
def test_a_file_is_stored_under_its_content_hash_with_the_sniffed_type(site: Site, data: bytes, name: str,
                                                                        kind: str) -> None:
    row = _upload(site, data, name)
    assert kind in row.content_type and row.filename == name
    path = blob_path(site.settings.files_dir, row.sha256)
    assert path.read_bytes() == data and path.name == row.sha256


@pytest.mark.parametrize(("data", "name", "code"), [
    (PDF, "photo.jpg", "file.lies"),
    (EXE, "report.pdf", "file.unknown_content"),
    (png_bytes()[:40], "broken.png", "file.unknown_content"),
    (b"PK\x03\x04" + b"\x00" * 100, "fake.docx", "file.unknown_content"),
    (b"", "empty.txt", "file.empty"),
])
def test_a_file_that_lies_about_its_type_is_refused_and_nothing_is_kept(site: Site, data: bytes, name: str,
                                                                         code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _upload(site, data, name)
    assert caught.value.code == code
    files_dir = site.settings.files_dir
    assert not files_dir.exists() or [p for p in files_dir.rglob("*") if p.is_file()] == []


def test_a_client_path_never_reaches_the_disk(site: Site) -> None:
    row = _upload(site, png_bytes(), "../../etc/passwd.png")
    assert row.filename == "passwd.png"
    stored = [p for p in Path(site.settings.files_dir).rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [row.sha256]


def test_size_and_kind_limits_are_enforced(site: Site) -> None:
    with pytest.raises(InvalidInput) as caught:
        _upload(site, png_bytes((400, 400)), "big.png", UploadRules(accept=("png",), max_bytes=100))
    assert caught.value.code == "file.too_large"
    with pytest.raises(InvalidInput) as caught:
        _upload(site, PDF, "a.pdf", UploadRules(accept=("png",), max_bytes=1 << 20))
    assert caught.value.code == "file.kind_refused"


def test_an_image_gets_a_thumbnail_for_lists(site: Site) -> None:
    row = _upload(site, png_bytes((800, 600)), "big.png")
    path = thumbnail(site.settings.files_dir, row, 128)
    with Image.open(path) as image:
        assert image.format == "JPEG" and max(image.size) == 128


def test_a_thumbnail_of_a_file_that_is_no_image_is_refused_naming_the_file(site: Site) -> None:
    row = _upload(site, PDF, "a.pdf")
    with pytest.raises(InvalidInput) as caught:
        thumbnail(site.settings.files_dir, row, 128)
    assert caught.value.code == "file.not_image"
    assert caught.value.message("en") == f"File #{row.id} is not an image"
    assert caught.value.message("zh-CN") == f"文件 #{row.id} 不是图片"


PHOTO_FORM = hazard(fields=[
    {"type": "text", "key": "title", "label": label("描述")},
    {"type": "image", "key": "photos", "label": label("照片"), "multiple": True, "max_items": 3},
    {"type": "file", "key": "doc", "label": label("附件"), "accept": ["pdf"]},
])


def test_a_record_links_the_files_it_uses(site: Site) -> None:
    publish_form(site, PHOTO_FORM)
    picture = _upload(site, png_bytes(), "a.png")
    with site.session() as session:
        view = records(site, session).create("hazard", {"title": "x", "photos": [picture.id]})
        assert session.get(StoredFile, picture.id).record_id == view.id


def test_a_field_refuses_a_file_of_a_kind_it_does_not_accept(site: Site) -> None:
    publish_form(site, PHOTO_FORM)
    picture = _upload(site, png_bytes(), "a.png")
    with pytest.raises(InvalidInput) as caught, site.session() as session:
        records(site, session).create("hazard", {"title": "x", "doc": picture.id, "photos": [999]})
    assert {(p.path, p.code) for p in caught.value.problems} == {("doc", "field.file_kind"),
                                                                  ("photos", "field.file_missing")}


def test_someone_elses_upload_cannot_be_attached(site: Site) -> None:
    publish_form(site, PHOTO_FORM)
    alice, bob = make_user(site, "alice", admin=False), make_user(site, "bob")
    picture = _upload(site, png_bytes(), "a.png", user=alice)
    from engine.store.access import Access

    with pytest.raises(InvalidInput) as caught, site.session() as session:
        records(site, session).create("hazard", {"title": "x", "photos": [picture.id]},
                                      principal=load_principal(session, bob), access=Access(scope="all"))
    assert caught.value.problems[0].code == "field.file_taken"

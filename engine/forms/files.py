"""Uploaded files: size limits, content sniffing, content-hash storage, thumbnails.

The bytes decide what a file is, never its name or the client's Content-Type: a PDF renamed
photo.jpg, or an executable called report.pdf, is refused. Files are stored under their SHA-256
in `settings.files_dir` — no part of a client's path or name ever reaches the disk; the name is
kept as display text only. Images are opened with Pillow (which also refuses decompression
bombs), office documents are checked as the zip packages they are.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, NotFound, Problem
from engine.store.models import StoredFile

CHUNK = 1 << 16
Image.MAX_IMAGE_PIXELS = 80_000_000
IMAGE_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
CONTENT_TYPES = {
    "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif", "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "txt": "text/plain; charset=utf-8", "csv": "text/csv; charset=utf-8",
}
EXTENSIONS = {"jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "png": "png", "webp": "webp", "gif": "gif", "pdf": "pdf",
              "docx": "docx", "xlsx": "xlsx", "pptx": "pptx", "doc": "doc", "xls": "xls", "ppt": "ppt", "txt": "txt",
              "csv": "csv"}
IMAGE_KINDS = {"jpeg", "png", "webp", "gif"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(head: bytes, path: Path, claimed: str | None) -> str | None:
    """The kind the content shows, or None. `claimed` (from the name) only chooses between
    kinds the bytes cannot tell apart: doc/xls/ppt (one container format), txt/csv."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")) or (
            head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return _image_kind(path)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(path)
    if head.startswith(_OLE):
        return claimed if claimed in ("doc", "xls", "ppt") else None
    if claimed in ("txt", "csv") and _is_text(path):
        return claimed
    return None


def _image_kind(path: Path) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                kind = IMAGE_FORMATS.get(image.format or "")
                image.verify()
            return kind
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return None


def _office_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
        if any(name.startswith(prefix) for name in names):
            return kind
    return None


def _is_text(path: Path) -> bool:
    data = path.read_bytes()[: 1 << 20]
    if b"\x00" in data:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


@dataclass(frozen=True)
class UploadRules:
    """What an upload may be: the kinds a field accepts and the size limit in bytes."""

    accept: tuple[str, ...]
    max_bytes: int


def _display_name(filename: str | None) -> str:
    """The client's name as text only: its last path component, control characters removed."""
    name = (filename or "file").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "file"
    return name[-200:]


def blob_path(files_dir: Path, sha256: str) -> Path:
    return files_dir / sha256[:2] / sha256


def store_upload(session: Session, files_dir: Path, stream: BinaryIO, *, filename: str | None, rules: UploadRules,
                 created_by: int | None, form: str | None = None) -> StoredFile:
    """Stream to a temporary file (hashing, stopping at the size limit), sniff, then move into
    place under the hash. Nothing is kept when any check fails."""
    name = _display_name(filename)
    claimed = EXTENSIONS.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
    files_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=files_dir, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > rules.max_bytes:
                    raise _refuse("file.too_large", limit=round(rules.max_bytes / 1048576, 2))
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise _refuse("file.empty")
        with tmp.open("rb") as handle:
            head = handle.read(16)
        kind = sniff(head, tmp, claimed)
        if kind is None:
            raise _refuse("file.unknown_content", name=name)
        if claimed is not None and claimed != kind:
            raise _refuse("file.lies", name=name, claimed=claimed, actual=kind)
        if kind not in rules.accept:
            raise _refuse("file.kind_refused", kind=kind, accept=", ".join(rules.accept))
        sha = digest.hexdigest()
        target = blob_path(files_dir, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            tmp.unlink()
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    row = StoredFile(sha256=sha, size=size, content_type=CONTENT_TYPES[kind], filename=name, form=form,
                     created_by=created_by)
    session.add(row)
    session.flush()
    return row


def _refuse(code: str, **params: object) -> InvalidInput:
    return InvalidInput(code, problems=[Problem(code, params, path="file")])


def kind_of(row: StoredFile) -> str:
    for kind, content_type in CONTENT_TYPES.items():
        if row.content_type == content_type:
            return kind
    return "unknown"


def open_blob(files_dir: Path, row: StoredFile) -> Path:
    path = blob_path(files_dir, row.sha256)
    if not path.exists():
        raise NotFound(what=f"file #{row.id}")
    return path


def thumbnail(files_dir: Path, row: StoredFile, size: int = 256) -> Path:
    """A JPEG no larger than size×size, made once and kept beside the blobs."""
    if kind_of(row) not in IMAGE_KINDS:
        raise InvalidInput("file.not_image", problems=[Problem("file.not_image", {"id": row.id})])
    size = max(32, min(size, 1024))
    target = files_dir / "thumbs" / f"{row.sha256}-{size}.jpg"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(open_blob(files_dir, row)) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=82)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".thumb-")
    with os.fdopen(fd, "wb") as out:
        out.write(buffer.getvalue())
    os.replace(tmp, target)
    return target


def file_rows(session: Session, ids: Iterable[int]) -> dict[int, StoredFile]:
    from sqlalchemy import select

    wanted = set(ids)
    if not wanted:
        return {}
    return {row.id: row for row in session.execute(select(StoredFile).where(StoredFile.id.in_(wanted))).scalars()}


i18n.register_messages(
    {
        "file.too_large": {"zh-CN": "文件超过 {limit} MB", "en": "The file is larger than {limit} MB"},
        "file.empty": {"zh-CN": "文件为空", "en": "The file is empty"},
        "file.unknown_content": {"zh-CN": "无法识别“{name}”的内容类型，已拒收",
                                 "en": "The content of “{name}” is not a recognised file type; refused"},
        "file.lies": {"zh-CN": "“{name}”的扩展名为 {claimed}，但内容是 {actual}，已拒收",
                      "en": "“{name}” is named as {claimed} but its content is {actual}; refused"},
        "file.kind_refused": {"zh-CN": "不接受 {kind} 类型的文件（可接受：{accept}）",
                              "en": "{kind} files are not accepted here (accepted: {accept})"},
        "file.not_image": {"zh-CN": "文件 #{id} 不是图片", "en": "File #{id} is not an image"},
    }
)

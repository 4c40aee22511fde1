"""Audit-log exports for auditors: an xlsx streamed in write-only mode (flat memory)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine import i18n
from engine.store import audit

HEADERS = {
    "zh-CN": ["序号", "时间(UTC)", "操作人ID", "操作人", "动作", "对象类型", "对象ID", "变更", "前一哈希", "哈希"],
    "en": ["#", "Time (UTC)", "Actor id", "Actor", "Action", "Object type", "Object id", "Change", "Previous hash",
           "Hash"],
}


def export_xlsx(session: Session, target: Path | Any, *, locale: str | None = None,
                progress: Callable[[int], None] | None = None, **filters: Any) -> int:
    """Write matching entries to `target` (a path or a binary file object); returns the count."""
    from openpyxl import Workbook  # imported on use: it costs start-up time nobody else needs

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("audit")
    sheet.append(HEADERS[i18n.normalize_locale(locale)])
    count = 0
    for row in audit.query(session, **filters):
        sheet.append([row.id, row.at.replace(tzinfo=None), row.actor_id, row.actor, row.action, row.object_type,
                      row.object_id, audit.canonical(row.diff), row.prev_hash, row.hash])
        count += 1
        if progress and count % 1000 == 0:
            progress(count)
    workbook.save(target)
    return count

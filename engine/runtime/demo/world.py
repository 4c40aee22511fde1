"""What demo generators look up on the site: people by role and name, departments by path,
the records written so far, and placeholder photos stored like uploads."""

from __future__ import annotations

import io
import random
from typing import Any

from sqlalchemy import select

from engine.forms.dictionary import DictionaryLookup
from engine.forms.files import UploadRules, store_upload
from engine.runtime.site import Site
from engine.store.directory import SqlDirectory
from engine.store.models import Department, Record, User

# Colours of the placeholder photos: greys and the yellow/black of hazard tape.
PALETTE = [(96, 96, 96), (140, 140, 130), (200, 190, 160), (230, 190, 40), (60, 70, 90), (170, 60, 40)]


def placeholder_photo(rng: random.Random) -> bytes:
    """A small JPEG: a floor, a wall and a band of hazard stripes, different each time."""
    from PIL import Image, ImageDraw

    width, height = 96, 72
    image = Image.new("RGB", (width, height), rng.choice(PALETTE))
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(20, 50)
    draw.rectangle([0, horizon, width, height], fill=rng.choice(PALETTE))
    top = rng.randint(horizon, height - 10)
    for x in range(-20, width, 12):
        draw.polygon([(x, top + 10), (x + 6, top + 10), (x + 16, top), (x + 10, top)], fill=(240, 200, 0))
    draw.ellipse([rng.randint(5, 60), rng.randint(5, 40), rng.randint(65, 90), rng.randint(45, 70)],
                 outline=(200, 30, 30), width=3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


class SiteWorld:
    """Look-ups through one session at a time; people and departments are read once."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.session: Any = None
        self._roles: dict[str, list[int]] = {}
        self._records: dict[str, list[int]] = {}
        self._values: dict[tuple[str, str], dict[int, Any]] = {}
        with site.session(readonly=True) as session:
            self._users = {u: i for u, i in session.execute(select(User.username, User.id).where(User.active))}
            self._departments = _department_paths(session)
            self._departments_of = dict(session.execute(select(User.id, User.department_id)).all())

    def bind(self, session: Any) -> None:
        self.session = session

    def users_with_role(self, role: str) -> list[int]:
        if role not in self._roles:
            with self.site.session(readonly=True) as session:
                self._roles[role] = SqlDirectory(session).users_with_role(role)
        return self._roles[role]

    def user(self, username: str) -> int | None:
        return self._users.get(username)

    def department_of(self, user_id: int | None) -> int | None:
        return self._departments_of.get(user_id) if user_id is not None else None

    def department(self, path: str) -> int | None:
        return self._departments.get(path.strip("/"))

    def records(self, form: str) -> list[int]:
        if form not in self._records:
            with self.site.session(readonly=True) as session:
                self._records[form] = list(session.execute(
                    select(Record.id).where(Record.form == form, Record.deleted_at.is_(None)).order_by(Record.id)
                ).scalars())
        return self._records[form]

    def values(self, form: str, field: str) -> dict[int, Any]:
        """One field of every record of a (small) form, read once: areas by risk class."""
        key = (form, field)
        if key not in self._values:
            with self.site.session(readonly=True) as session:
                rows = session.execute(select(Record.id, Record.data).where(Record.form == form,
                                                                           Record.deleted_at.is_(None)))
                self._values[key] = {rid: (data or {}).get(field) for rid, data in rows}
        return self._values[key]

    def added(self, form: str, record_id: int) -> None:
        self.records(form).append(record_id)

    def image(self, rng: random.Random, owner: int | None, form: str) -> int:
        rules = UploadRules(accept=("jpeg",), max_bytes=1 << 20)
        row = store_upload(self.session, self.site.settings.files_dir, io.BytesIO(placeholder_photo(rng)),
                           filename="photo.jpg", rules=rules, created_by=owner, form=form)
        return row.id

    def lookup(self) -> Any:
        return DictionaryLookup(self.session) if self.session is not None else None


def _department_paths(session: Any) -> dict[str, int]:
    """"示范机械厂/机加工车间/车削班" → id, by names from the top (codes work too)."""
    rows = session.execute(select(Department.id, Department.name, Department.parent_id, Department.code)).all()
    by_id = {r.id: r for r in rows}
    out: dict[str, int] = {}
    for row in rows:
        names, current = [], row
        while current is not None:
            names.append(current.name)
            current = by_id.get(current.parent_id) if current.parent_id else None
        out["/".join(reversed(names))] = row.id
        out.setdefault(row.code, row.id)
    return out

"""Listing records: a filter in the expression language compiled to SQL, sort keys, keyset
pagination, text search, and the caller's row scope — all in one SQL query, so a
department-scoped user never loads another department's rows and page 1,000 costs what page 1
costs.

The filter is compiled as the `where` of an aggregate over the form, so every part that does not
read the record (`today() - 7d`, `"major"`) is evaluated once into a literal and only comparisons
of fields remain for SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from engine import i18n
from engine.errors import InvalidInput, Problem
from engine.expr import EvalContext, ExprError, bind, compile_expr
from engine.expr.types import Schema
from engine.forms.compiled import CompiledForm
from engine.store.access import Principal, scope_clause
from engine.store.expr_sql import to_sql
from engine.store.models import Record
from engine.store.records import SortKey, column_for, list_page

MAX_LIMIT = 500


@dataclass
class ListQuery:
    filter: str | None = None
    sort: Sequence[str] = ()
    cursor: str | None = None
    limit: int = 50
    search: str | None = None
    deleted: bool = False


def filter_clause(session: Session, compiled: CompiledForm, text: str, ctx: EvalContext, *,
                  outer: Schema | None = None, path: str = "filter") -> ColumnElement[bool]:
    """A filter expression over the form's fields as an SQL condition (located problems if the
    expression is wrong or cannot run in SQL). `outer` names what else the filter may read
    (a relation's `record`, bound from `ctx.variables`)."""
    schema: Schema = compiled.logic.schema
    outer = outer or Schema(name="filter")
    prefix = f"count({compiled.key} where "
    try:
        wrapped = compile_expr(prefix + text + ")", outer,
                               resolve_form=lambda key: schema if key == compiled.key else None)
        bound = bind(wrapped.aggregates[0], {}, ctx, schema=outer)
        if bound.where is None:
            raise ExprError(problems=[Problem("records.filter_empty")])
        dialect = session.get_bind().dialect.name
        return to_sql(bound.where, _columns(compiled), dialect_name=dialect, schema=schema)
    except ExprError as error:
        problems = []
        for p in error.problems:
            column = p.column - len(prefix) if p.column is not None and (p.line or 1) == 1 else p.column
            problems.append(Problem(p.code, p.params, path=path, line=p.line, column=column,
                                    severity=p.severity, text=p.text))
        raise InvalidInput("records.bad_filter", problems=problems) from None


def _columns(compiled: CompiledForm) -> Any:
    base = column_for(compiled.definition)

    def column(name: str) -> ColumnElement[Any]:
        try:
            return base(name)
        except KeyError:
            raise ExprError(problems=[Problem("records.not_filterable", {"name": name})]) from None

    return column


def sort_keys(compiled: CompiledForm, sort: Sequence[str]) -> list[SortKey]:
    columns = column_for(compiled.definition)
    keys, problems = [], []
    for i, raw in enumerate(sort):
        name = raw.strip()
        descending = name.startswith("-")
        name = name.lstrip("-+")
        try:
            keys.append(SortKey(columns(name), descending))
        except (KeyError, ValueError):
            problems.append(Problem("records.not_sortable", {"name": name}, path=f"sort[{i}]"))
    if problems:
        raise InvalidInput("records.bad_sort", problems=problems)
    return keys


def query_page(session: Session, compiled: CompiledForm, query: ListQuery, *, principal: Principal | None,
               scope: str | None, ctx: EvalContext) -> tuple[list[Record], str | None]:
    where: list[ColumnElement[bool]] = []
    if query.filter and query.filter.strip():
        where.append(filter_clause(session, compiled, query.filter, ctx))
    if principal is not None and scope is not None:
        where.append(scope_clause(session, principal, scope, Record.owner_id, Record.department_id))
    limit = max(1, min(query.limit, MAX_LIMIT))
    page = list_page(session, compiled.key, where=where, sort=sort_keys(compiled, query.sort), cursor=query.cursor,
                     limit=limit, deleted=query.deleted, search=query.search)
    return page.rows, page.next_cursor


def relation_choices(session: Session, source: CompiledForm, target: CompiledForm, field_key: str,
                     data: dict[str, Any], ctx: EvalContext, *, search: str | None = None, limit: int = 20,
                     principal: Principal | None = None, scope: str | None = None) -> list[tuple[int, str]]:
    """The records a relation field may point to for the record being filled: the target
    form's records passing the field's `filter` (where `record` is `data`), as (id, label)."""
    from engine.expr.types import RecordType
    from engine.forms.fieldtypes.people import RelationField

    item = source.definition.field(field_key)
    if not isinstance(item, RelationField):
        raise InvalidInput(problems=[Problem("records.not_relation", {"name": field_key}, path="field")])
    where: list[ColumnElement[bool]] = []
    if item.filter:
        outer = Schema(name="choices").with_variables(record=RecordType(source.logic.schema))
        where.append(filter_clause(session, target, item.filter, ctx.with_variables(record=data), outer=outer,
                                   path="filter"))
    if principal is not None and scope is not None:
        where.append(scope_clause(session, principal, scope, Record.owner_id, Record.department_id))
    page = list_page(session, target.key, where=where, limit=max(1, min(limit, 200)), search=search)
    shown = item.display_field or target.definition.title_field
    return [(row.id, str((row.data or {}).get(shown) or f"#{row.id}") if shown else f"#{row.id}")
            for row in page.rows]


def relation_problems(session: Session, source: CompiledForm, resolve: Any, data: dict[str, Any],
                      ctx: EvalContext) -> list[Problem]:
    """Chosen related records that the relation's `filter` does not allow for this record (a
    client bypassing the picker). `resolve(form_key)` gives the target's CompiledForm."""
    from sqlalchemy import select

    from engine.expr.types import RecordType
    from engine.forms.fieldtypes.people import RelationField

    problems = []
    for item in source.definition.referring_fields:  # a relation refers to records: it is among them
        value = data.get(item.key)
        if not isinstance(item, RelationField) or not item.filter or value is None:
            continue
        ids = set(value if isinstance(value, list) else [value])
        target = resolve(item.form)
        outer = Schema(name="choices").with_variables(record=RecordType(source.logic.schema))
        clause = filter_clause(session, target, item.filter, ctx.with_variables(record=data), outer=outer,
                               path=item.key)
        allowed = set(session.execute(select(Record.id).where(Record.form == item.form, Record.id.in_(ids),
                                                              clause)).scalars())
        problems += [Problem("field.relation_filtered", {"id": i}, path=item.key) for i in sorted(ids - allowed)]
    return problems


i18n.register_messages(
    {
        "field.relation_filtered": {"zh-CN": "记录 #{id} 不在此字段允许的范围内",
                                    "en": "Record #{id} is not one this field allows here"},
        "records.not_relation": {"zh-CN": "“{name}”不是关联字段", "en": "“{name}” is not a relation field"},
        "records.bad_filter": {"zh-CN": "筛选条件有误", "en": "The filter is not valid"},
        "records.filter_empty": {"zh-CN": "筛选条件为空", "en": "The filter is empty"},
        "records.not_filterable": {"zh-CN": "字段“{name}”不能用于筛选（列表或子表）",
                                   "en": "The field “{name}” cannot be filtered on in lists (a list or sub-table)"},
        "records.bad_sort": {"zh-CN": "排序字段有误", "en": "The sort order is not valid"},
        "records.not_sortable": {"zh-CN": "不能按“{name}”排序", "en": "Cannot sort by “{name}”"},
        "records.bad_cursor": {"zh-CN": "分页游标无效", "en": "The page cursor is not valid"},
    }
)

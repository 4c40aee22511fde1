"""Three-way merge of definitions: the installed pack version (base), the site's edits (mine)
and the new pack version (theirs).

Objects merge key by key; lists of objects with an identity (`key` for fields, `value` for
options, `id` for nodes and widgets, `from`+`to` for edges) merge item by item, so a site that renamed a field
label and a pack version that added a node both survive. Where both sides changed the same spot
differently, the site's value stays and a `Conflict` lists all three values for the admin —
nothing is silently lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()


@dataclass(frozen=True)
class Conflict:
    path: str  # JSON pointer
    base: Any
    mine: Any
    theirs: Any


@dataclass
class MergeResult:
    value: Any
    conflicts: list[Conflict]

    @property
    def clean(self) -> bool:
        return not self.conflicts


def _pointer(path: str, part: str | int) -> str:
    return f"{path}/{str(part).replace('~', '~0').replace('/', '~1')}"


def _identity(items: Sequence[Any]) -> Callable[[Any], Any] | None:
    """How to recognise the same item across versions of a list, if the items allow it."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for name in ("key", "id", "value"):
        if all(name in i for i in items):
            return lambda item, name=name: item[name]
    if all("from" in i and "to" in i for i in items):
        return lambda item: (item["from"], item["to"])
    return None


def merge(base: Any, mine: Any, theirs: Any, path: str = "") -> MergeResult:
    conflicts: list[Conflict] = []
    value = _merge(base, mine, theirs, path, conflicts)
    return MergeResult(value, conflicts)


def _merge(base: Any, mine: Any, theirs: Any, path: str, conflicts: list[Conflict]) -> Any:
    if mine == theirs:
        return mine
    if mine == base:
        return theirs
    if theirs == base:
        return mine
    if isinstance(mine, dict) and isinstance(theirs, dict) and (base is MISSING or isinstance(base, dict)):
        return _merge_dicts(base or {}, mine, theirs, path, conflicts)
    if isinstance(mine, list) and isinstance(theirs, list) and (base is MISSING or isinstance(base, list)):
        base_list = base or []
        ident = _identity([*base_list, *mine, *theirs])
        if ident is not None:
            return _merge_keyed_lists(base_list, mine, theirs, ident, path, conflicts)
    conflicts.append(Conflict(path, base, mine, theirs))
    return mine


def _merge_dicts(base: dict, mine: dict, theirs: dict, path: str, conflicts: list[Conflict]) -> dict | Any:
    out: dict[str, Any] = {}
    keys = list(mine) + [k for k in theirs if k not in mine] + [k for k in base if k not in mine and k not in theirs]
    for key in keys:
        merged = _merge_member(base.get(key, MISSING), mine.get(key, MISSING), theirs.get(key, MISSING),
                               _pointer(path, key), conflicts)
        if merged is not MISSING:
            out[key] = merged
    return out


def _merge_member(base: Any, mine: Any, theirs: Any, path: str, conflicts: list[Conflict]) -> Any:
    """Merge one member that any side may lack (added or deleted)."""
    if mine is MISSING and theirs is MISSING:
        return MISSING
    if mine is MISSING or theirs is MISSING:
        present = theirs if mine is MISSING else mine
        if base is MISSING:
            return present  # added on one side only
        if present == base:
            return MISSING  # deleted on one side, untouched on the other
        conflicts.append(Conflict(path, base, mine, theirs))  # deleted vs changed
        return mine
    return _merge(base, mine, theirs, path, conflicts)


def _merge_keyed_lists(base: list, mine: list, theirs: list, ident: Callable[[Any], Any], path: str,
                       conflicts: list[Conflict]) -> list:
    b = {ident(i): i for i in base}
    m = {ident(i): i for i in mine}
    t = {ident(i): i for i in theirs}
    order = [ident(i) for i in mine]
    # Items only the new version has go in after their predecessor there (or first).
    theirs_ids = [ident(i) for i in theirs]
    for index, item_id in enumerate(theirs_ids):
        if item_id in order or item_id in b:
            continue
        predecessor = next((p for p in reversed(theirs_ids[:index]) if p in order), None)
        order.insert(order.index(predecessor) + 1 if predecessor is not None else 0, item_id)
    out = []
    for item_id in order:
        label = item_id if not isinstance(item_id, tuple) else "->".join(map(str, item_id))
        merged = _merge_member(b.get(item_id, MISSING), m.get(item_id, MISSING), t.get(item_id, MISSING),
                               _pointer(path, label), conflicts)
        if merged is not MISSING:
            out.append(merged)
    # Items the site deleted stay deleted unless the new version changed them (then: conflict).
    for item_id, item in b.items():
        if item_id not in m and item_id in t and t[item_id] != item:
            label = item_id if not isinstance(item_id, tuple) else "->".join(map(str, item_id))
            conflicts.append(Conflict(_pointer(path, label), item, MISSING, t[item_id]))
    return out


# --- rule files: text made of `rule "name" … end` blocks ---------------------------------------

_RULE_START = re.compile(r'^\s*rule\s+"((?:[^"\\]|\\.)*)"', re.MULTILINE)


def split_rules(text: str) -> tuple[str, dict[str, str]]:
    """(text before the first rule, {rule name: its block}) — blocks keep their exact text."""
    starts = [(m.start(), m.group(1)) for m in _RULE_START.finditer(text)]
    if not starts:
        return text, {}
    head = text[: starts[0][0]]
    blocks: dict[str, str] = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
        blocks[name] = text[start:end]
    return head, blocks


def merge_rule_text(base: str, mine: str, theirs: str) -> MergeResult:
    """Merge rule files rule by rule; a rule both sides changed differently is a conflict."""
    if mine == theirs or theirs == base:
        return MergeResult(mine, [])
    if mine == base:
        return MergeResult(theirs, [])
    heads = [split_rules(x) for x in (base, mine, theirs)]
    blocks = [dict(h[1]) for h in heads]
    result = merge(blocks[0], blocks[1], blocks[2])
    head = _merge(heads[0][0], heads[1][0], heads[2][0], "/#header", result.conflicts)
    text = head + "".join(block if block.endswith("\n") else block + "\n" for block in result.value.values())
    conflicts = [Conflict("/" + c.path.lstrip("/"), c.base, c.mine, c.theirs) for c in result.conflicts]
    return MergeResult(text, conflicts)


def set_pointer(document: Any, pointer: str, value: Any) -> Any:
    """Return a copy of `document` with the value at a merge-conflict pointer replaced (MISSING
    deletes it). Keyed list items are addressed by their identity, as `merge` names them."""
    if pointer in ("", "/"):
        return value
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    return _set(document, parts, value)


def _set(node: Any, parts: list[str], value: Any) -> Any:
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        out = dict(node)
        if rest:
            out[head] = _set(node.get(head, {}), rest, value)
        elif value is MISSING:
            out.pop(head, None)
        else:
            out[head] = value
        return out
    if isinstance(node, list):
        ident = _identity(node) if node else None
        items = list(node)
        for index, item in enumerate(items):
            item_id = ident(item) if ident else index
            label = item_id if not isinstance(item_id, tuple) else "->".join(map(str, item_id))
            if str(label) == head:
                if rest:
                    items[index] = _set(item, rest, value)
                elif value is MISSING:
                    del items[index]
                else:
                    items[index] = value
                return items
        if not rest and value is not MISSING:
            items.append(value)
        return items
    raise KeyError(f"cannot descend into {type(node).__name__} at {head}")

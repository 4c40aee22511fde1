"""Three-way merge of definitions: edits on both sides survive; real clashes are listed."""

from engine.runtime.packs.merge import MISSING, merge, merge_rule_text, set_pointer, split_rules

BASE = {
    "key": "hazard",
    "title": {"zh": "隐患上报", "en": "Hazard report"},
    "fields": [
        {"key": "title", "type": "text", "label": {"zh": "描述", "en": "Description"}},
        {"key": "level", "type": "radio", "options": ["general", "major"]},
    ],
}


def _with(fields: list, **top: object) -> dict:
    return {**BASE, **top, "fields": fields}


def test_a_site_edit_and_an_upstream_edit_of_different_fields_both_survive() -> None:
    mine = _with([{**BASE["fields"][0], "label": {"zh": "隐患描述", "en": "Description"}}, BASE["fields"][1]])
    theirs = _with([BASE["fields"][0], {**BASE["fields"][1], "options": ["general", "major", "critical"]}])
    result = merge(BASE, mine, theirs)
    assert result.clean
    assert result.value["fields"][0]["label"]["zh"] == "隐患描述"
    assert result.value["fields"][1]["options"] == ["general", "major", "critical"]


def test_both_changing_the_same_spot_is_a_conflict_and_keeps_the_site_value() -> None:
    mine = _with([{**BASE["fields"][0], "label": {"zh": "现场描述", "en": "Description"}}, BASE["fields"][1]])
    theirs = _with([{**BASE["fields"][0], "label": {"zh": "问题描述", "en": "Description"}}, BASE["fields"][1]])
    result = merge(BASE, mine, theirs)
    assert [(c.path, c.mine, c.theirs) for c in result.conflicts] == [
        ("/fields/title/label/zh", "现场描述", "问题描述")]
    assert result.value["fields"][0]["label"]["zh"] == "现场描述"


def test_a_field_added_upstream_lands_after_its_predecessor() -> None:
    mine = _with([*BASE["fields"], {"key": "site_note", "type": "text"}])
    theirs = _with([BASE["fields"][0], {"key": "area", "type": "relation"}, BASE["fields"][1]])
    result = merge(BASE, mine, theirs)
    assert [f["key"] for f in result.value["fields"]] == ["title", "area", "level", "site_note"]


def test_a_field_the_site_deleted_stays_deleted_unless_upstream_changed_it() -> None:
    mine = _with([BASE["fields"][0]])
    untouched = merge(BASE, mine, BASE)
    assert [f["key"] for f in untouched.value["fields"]] == ["title"] and untouched.clean
    changed = _with([BASE["fields"][0], {**BASE["fields"][1], "default": "general"}])
    clash = merge(BASE, mine, changed)
    assert [c.path for c in clash.conflicts] == ["/fields/level"]
    assert clash.conflicts[0].mine is MISSING


def test_nodes_and_edges_merge_by_id_and_endpoints() -> None:
    base = {"nodes": [{"id": "start"}, {"id": "a"}, {"id": "end"}],
            "edges": [{"from": "start", "to": "a"}, {"from": "a", "to": "end"}]}
    mine = {"nodes": [{"id": "start"}, {"id": "a", "deadline": "8h"}, {"id": "end"}], "edges": base["edges"]}
    theirs = {"nodes": [{"id": "start"}, {"id": "a"}, {"id": "b"}, {"id": "end"}],
              "edges": [{"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "end"}]}
    result = merge(base, mine, theirs)
    assert result.clean
    assert result.value["nodes"][1] == {"id": "a", "deadline": "8h"}
    assert [n["id"] for n in result.value["nodes"]] == ["start", "a", "b", "end"]
    assert [(e["from"], e["to"]) for e in result.value["edges"]] == [("start", "a"), ("a", "b"), ("b", "end")]


def test_set_pointer_takes_one_side_of_a_conflict() -> None:
    body = _with([{**BASE["fields"][0], "label": {"zh": "现场描述", "en": "Description"}}, BASE["fields"][1]])
    taken = set_pointer(body, "/fields/title/label/zh", "问题描述")
    assert taken["fields"][0]["label"]["zh"] == "问题描述" and body["fields"][0]["label"]["zh"] == "现场描述"
    assert [f["key"] for f in set_pointer(body, "/fields/level", MISSING)["fields"]] == ["title"]


RULES = '''# hazard rules
rule "cluster" priority 10
  when hazard created
  then notify role("safety_director")
end

rule "stale"
  when schedule every 1h
  then notify role("ehs_lead")
end
'''


def test_rule_files_split_and_merge_rule_by_rule() -> None:
    head, blocks = split_rules(RULES)
    assert head == "# hazard rules\n" and list(blocks) == ["cluster", "stale"]
    mine = RULES.replace('priority 10', 'priority 20')
    theirs = RULES.replace('every 1h', 'every 30min')
    result = merge_rule_text(RULES, mine, theirs)
    assert result.clean and "priority 20" in result.value and "every 30min" in result.value
    clash = merge_rule_text(RULES, mine, RULES.replace('priority 10', 'priority 5'))
    assert [c.path for c in clash.conflicts] == ["/cluster"]

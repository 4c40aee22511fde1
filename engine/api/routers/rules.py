"""Rules: check and publish rule sets (DSL text), list what is in effect, and the stored
firings that answer "why did (or didn't) it fire"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from engine.api.deps import LocaleDep, PrincipalDep, SessionDep, SiteDep, require
from engine.api.errors import ERRORS, ProblemBody
from engine.runtime import explain as explaining
from engine.runtime import rules as rules_runtime
from engine.store import firings

router = APIRouter(prefix="/api/v1/rules", tags=["rules"], responses=ERRORS)


class RuleText(BaseModel):
    text: str = Field(description="DSL text of one rule set (see docs/rules.md)")


class CheckResult(BaseModel):
    ok: bool
    rules: list[str]
    problems: list[ProblemBody]


class Published(BaseModel):
    key: str
    version: int


class RuleInfo(BaseModel):
    name: str
    ruleset: str
    version: int
    trigger: str
    priority: int
    source: str


class FiringOut(BaseModel):
    id: int
    rule: str
    ruleset: str
    version: int
    trigger: str
    subject: str | None
    record_id: int | None
    outcome: str = Field(description="fired | not_matched | deduped | else | failed")
    at: datetime
    conditions: list[Any] = Field(description="The condition's explanation: every sub-expression and its value")
    actions: list[dict[str, Any]] = Field(description="Each action: kind, to, detail, outcome")
    dedupe_key: str | None
    error: str | None
    event: dict[str, Any] | None = Field(description="The triggering event (kind, subject, data, meta)")


class Explanation(BaseModel):
    rule: str
    record_id: int
    firings: list[FiringOut]
    now: dict[str, Any] | None = Field(description="The condition evaluated now, without acting")
    note: dict[str, str] | None = None


@router.post("/check", response_model=CheckResult, summary="Check rule text; every problem, located",
             dependencies=[Depends(require("rule", "design", "*"))])
def check(body: RuleText, session: SessionDep, locale: LocaleDep) -> CheckResult:
    compiled, problems = rules_runtime.check_text(session, body.text)
    return CheckResult(ok=not any(p.severity == "error" for p in problems), rules=[c.name for c in compiled],
                       problems=[ProblemBody(**p.to_dict(locale)) for p in problems])


@router.put("/sets/{key}", response_model=Published, summary="Publish a rule set as its next version "
            "(takes effect on the next event; running evaluations finish on the old version)",
            dependencies=[Depends(require("rule", "design", key_param="key"))])
def publish(key: str, body: RuleText, session: SessionDep, site: SiteDep, principal: PrincipalDep) -> Published:
    return Published(key=key, version=rules_runtime.publish(session, site, principal.actor, key, body.text))


@router.get("", response_model=list[RuleInfo], summary="The rules in effect",
            dependencies=[Depends(require("rule", "read", "*"))])
def list_rules(session: SessionDep) -> list[RuleInfo]:
    book = rules_runtime.load_book(session)
    return [RuleInfo(name=r.name, ruleset=r.ruleset, version=r.version, trigger=r.rule.trigger.kind,
                     priority=r.rule.priority, source=r.rule.source) for r in book.rules]


@router.get("/{rule}/firings", response_model=list[FiringOut], summary="Stored firings of a rule, newest first",
            dependencies=[Depends(require("rule", "read", key_param="rule"))])
def list_firings(rule: str, session: SessionDep, record_id: int | None = None, outcome: str | None = None,
                 limit: int = 50) -> list[FiringOut]:
    rows = firings.query(session, rule, record_id=record_id, outcome=outcome, limit=min(limit, 500))
    return [FiringOut(**explaining.firing_dict(r)) for r in rows]


@router.get("/{rule}/explain", response_model=Explanation, summary="Why did (or didn't) the rule fire for a record",
            dependencies=[Depends(require("rule", "read", key_param="rule"))])
def explain(rule: str, record_id: int, session: SessionDep, site: SiteDep) -> Explanation:
    return Explanation(**explaining.explain(session, site, rule, record_id))

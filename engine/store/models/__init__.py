"""All tables of the store. Engines add their own modules here (flows, rules, reports)."""

from engine.store.models.content import Counter, Definition, Record, StoredFile
from engine.store.models.flows import StoredInstance, StoredTask
from engine.store.models.identity import ApiKey, Delegation, Department, Grant, Membership, Role, User
from engine.store.models.packs import InstalledPack, PackConflict
from engine.store.models.reports import ReportSchedule, RoleDashboard, Rollup, RollupRow, ShareLink
from engine.store.models.rules import RuleDedupe, RuleFiring, SensorReading
from engine.store.models.system import AuditEntry, AuditHead, InboxMessage, OutboxMessage, Timer

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuditHead",
    "Counter",
    "Definition",
    "Delegation",
    "Department",
    "Grant",
    "InboxMessage",
    "InstalledPack",
    "Membership",
    "OutboxMessage",
    "PackConflict",
    "Record",
    "ReportSchedule",
    "Role",
    "RoleDashboard",
    "Rollup",
    "RollupRow",
    "RuleDedupe",
    "RuleFiring",
    "SensorReading",
    "ShareLink",
    "StoredFile",
    "StoredInstance",
    "StoredTask",
    "Timer",
    "User",
]

"""The flow engine: BPMN-like approval graphs bound to forms (see docs/flows.md).

Public API: `parse_definition`, `validate_flow`, `load_flow`, `FlowEngine`, `Action`,
`simulate`, and the in-memory `MemoryFlowStore` / `MemoryCatalog` / `MemoryTimers`.
"""

from engine.flows import messages as _messages  # noqa: F401
from engine.flows.actions import Action
from engine.flows.definition import definition_json_schema, dump_definition, parse_definition
from engine.flows.engine import FlowEngine
from engine.flows.model import FlowDefinition
from engine.flows.repository import FlowCatalog, FlowStore, MemoryCatalog, MemoryFlowStore, MemoryTimers
from engine.flows.state import FlowInstance, Task, Token
from engine.flows.validate import validate_flow

__all__ = [
    "Action",
    "FlowCatalog",
    "FlowDefinition",
    "FlowEngine",
    "FlowInstance",
    "FlowStore",
    "MemoryCatalog",
    "MemoryFlowStore",
    "MemoryTimers",
    "Task",
    "Token",
    "definition_json_schema",
    "dump_definition",
    "parse_definition",
    "validate_flow",
]

"""An SVG picture of an instance: where it stands (open), where it has been (completed), where
it failed (error). Plain SVG with no script or external reference, safe to inline in a page."""

from __future__ import annotations

from xml.sax.saxutils import escape

from engine.flows.layout import layout
from engine.flows.model import FlowDefinition
from engine.flows.state import ERROR, FlowInstance
from engine.i18n import localized

COLOURS = {"open": ("#fff4e0", "#e8890c"), "completed": ("#e8f6ec", "#2e9d4f"), "error": ("#fdeaea", "#d03030"),
           "idle": ("#ffffff", "#8a94a6")}


def _state(node_id: str, inst: FlowInstance | None) -> str:
    if inst is None:
        return "idle"
    if inst.status == ERROR and inst.error and inst.error.get("node") == node_id:
        return "error"
    if node_id in inst.open_nodes() or node_id in inst.active_nodes():
        return "open"
    if node_id in inst.completed:
        return "completed"
    return "idle"


def render_svg(definition: FlowDefinition, inst: FlowInstance | None = None, locale: str | None = None) -> str:
    boxes = layout(definition)
    width = max((b.x + b.width for b in boxes.values()), default=0) + 60
    height = max((b.y + b.height for b in boxes.values()), default=0) + 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
        '<path d="M0,0 L10,4 L0,8 z" fill="#8a94a6"/></marker></defs>',
    ]
    for edge in definition.edges:
        a, b = boxes.get(edge.source), boxes.get(edge.target)
        if a is None or b is None:
            continue
        x1, y1 = a.x + a.width, a.center[1]
        x2, y2 = b.x, b.center[1]
        if x2 <= x1:  # a loop back: go around below
            low = max(a.y + a.height, b.y + b.height) + 20
            path = f"M{x1:g},{y1:g} L{x1 + 10:g},{low:g} L{x2 - 10:g},{low:g} L{x2:g},{y2:g}"
        else:
            mid = (x1 + x2) / 2
            path = f"M{x1:g},{y1:g} C{mid:g},{y1:g} {mid:g},{y2:g} {x2:g},{y2:g}"
        dash = ' stroke-dasharray="4 3"' if edge.default else ""
        out.append(f'<path d="{path}" fill="none" stroke="#8a94a6"{dash} marker-end="url(#arrow)"/>')
        if edge.when:
            out.append(f'<text x="{(x1 + x2) / 2:g}" y="{min(y1, y2) - 6:g}" fill="#5a6478" '
                       f'text-anchor="middle">{escape(edge.when[:40])}</text>')
    for node in definition.nodes:
        box = boxes[node.id]
        fill, stroke = COLOURS[_state(node.id, inst)]
        cx, cy = box.center
        attrs = f'fill="{fill}" stroke="{stroke}" stroke-width="2"'
        if node.type in ("start", "end", "wait"):
            width = 4 if node.type == "end" else 2
            out.append(f'<circle cx="{cx:g}" cy="{cy:g}" r="{box.width / 2:g}" fill="{fill}" stroke="{stroke}" '
                       f'stroke-width="{width}"/>')
        elif node.type in ("exclusive", "parallel", "inclusive"):
            half = box.width / 2
            out.append(f'<polygon points="{cx:g},{cy - half:g} {cx + half:g},{cy:g} {cx:g},{cy + half:g} '
                       f'{cx - half:g},{cy:g}" {attrs}/>')
            mark = {"exclusive": "×", "parallel": "+", "inclusive": "○"}[node.type]
            out.append(f'<text x="{cx:g}" y="{cy + 5:g}" text-anchor="middle" font-size="16">{mark}</text>')
        else:
            out.append(f'<rect x="{box.x:g}" y="{box.y:g}" width="{box.width:g}" height="{box.height:g}" '
                       f'rx="8" {attrs}/>')
        label = localized(node.name, locale) if node.name else node.id
        below = node.type in ("start", "end", "wait", "exclusive", "parallel", "inclusive")
        y = box.y + box.height + 14 if below else cy + 4
        out.append(f'<text x="{cx:g}" y="{y:g}" text-anchor="middle" data-node="{escape(node.id)}">'
                   f'{escape(label[:24])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"

"""Geometry of the decision-path diagram (an inline SVG drawn by the page template).

Four columns, one per step of the NANETS pathway; in each, the options, the patient's one
highlighted (filled, thick border, and the words "this patient" so the colour is never the only
cue). A data gap is drawn dashed with "data gap" written in it. Thick arrows join the patient's
choices; thin lines show the other branches the guideline has at each step.
"""

from __future__ import annotations

import itertools
from typing import Any

COL_W = 212
COL_GAP = 48
MARGIN = 14
NODE_H = 48
NODE_GAP = 12
TOP = 64


def layout(path: list[dict[str, Any]]) -> dict[str, Any]:
    most = max(len(step["options"]) for step in path)
    width = 2 * MARGIN + len(path) * COL_W + (len(path) - 1) * COL_GAP
    height = TOP + most * (NODE_H + NODE_GAP) + MARGIN
    columns = []
    for i, step in enumerate(path):
        x = MARGIN + i * (COL_W + COL_GAP)
        offset = (most - len(step["options"])) * (NODE_H + NODE_GAP) / 2
        nodes = []
        for j, option in enumerate(step["options"]):
            chosen = option["value"] == step["selected"] and step["status"] != "na"
            nodes.append(
                {
                    "x": x,
                    "y": TOP + offset + j * (NODE_H + NODE_GAP),
                    "w": COL_W,
                    "h": NODE_H,
                    "label": option["label"],
                    "value": option["value"],
                    "chosen": chosen,
                    "gap": chosen and step["status"] == "gap",
                }
            )
        columns.append(
            {"step": step["step"], "title_lines": _wrap(step["title"]), "x": x, "cx": x + COL_W / 2, "nodes": nodes}
        )
    edges = []
    for left, right in itertools.pairwise(columns):
        start = next((n for n in left["nodes"] if n["chosen"]), None)
        if start is None:
            continue
        for node in right["nodes"]:
            x1, y1 = start["x"] + start["w"], start["y"] + start["h"] / 2
            x2, y2 = node["x"] - (6 if node["chosen"] else 0), node["y"] + node["h"] / 2
            mid = (x1 + x2) / 2
            edges.append(
                {
                    "d": f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}",
                    "chosen": node["chosen"],
                    "gap": node["gap"] or start["gap"],
                }
            )
    edges.sort(key=lambda e: e["chosen"])  # the patient's path drawn last, on top
    return {"width": width, "height": height, "columns": columns, "edges": edges}


def _wrap(title: str, width: int = 22) -> list[str]:
    lines: list[str] = []
    for word in title.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:2] if len(lines) <= 2 else [lines[0], " ".join(lines[1:])]


def sentence(path: list[dict[str, Any]]) -> str:
    """The highlighted path in words (the SVG's accessible description)."""
    parts = []
    for step in path:
        if step["status"] == "na":
            parts.append(f"{step['title']}: not reached")
        elif step["status"] == "gap":
            parts.append(f"{step['title']}: unknown (data gap)")
        else:
            parts.append(f"{step['title']}: {step['selected_label']} ({step['detail']})")
    return "; ".join(parts) + "."

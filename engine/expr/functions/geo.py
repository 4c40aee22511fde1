"""Geographic functions: the great-circle distance between two GPS positions, so a form can
compare where something was recorded with where it should have been (a check-in far from its
area)."""

from __future__ import annotations

import math
from typing import Any

from engine.expr.errors import fail
from engine.expr.functions.registry import register
from engine.expr.runtime import is_number, type_error

EARTH_RADIUS_M = 6_371_008.8  # the IUGG mean Earth radius; haversine error stays under 0.5 %


def _degrees(value: Any, limit: float, what: str) -> float:
    if not is_number(value):
        raise type_error("number", value)
    if not -limit <= value <= limit:
        raise fail("expr.runtime.bad_value", function="DISTANCE_M", detail=f"{what} {value}")
    return math.radians(value)


@register(
    "distance_m",
    "lat1: number, lng1: number, lat2: number, lng2: number",
    "number",
    category="number",
    en="Metres between two GPS positions (latitude and longitude in degrees; haversine formula); "
    "null when a coordinate is missing.",
    zh="两个 GPS 位置之间的距离（米；纬度、经度以度为单位，按球面半正矢公式计算）；任一坐标为空时为空。",
    examples=[("ROUND(DISTANCE_M(31.23, 121.47, 31.24, 121.47))", "1112"),
              ("DISTANCE_M(31.23, 121.47, 31.23, 121.47)", "0")],
)
def distance_m(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> float:
    p1, p2 = _degrees(lat1, 90, "latitude"), _degrees(lat2, 90, "latitude")
    l1, l2 = _degrees(lng1, 180, "longitude"), _degrees(lng2, 180, "longitude")
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))

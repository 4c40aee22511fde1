"""The grammar parses every construct of the language into the expected AST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr import ast, parse, unparse
from engine.expr.ast import strip_positions
from engine.expr.parser import grammar_parser
from engine.expr.values import CalendarDuration


def shape(text: str) -> ast.Node:
    return strip_positions(parse(text))


def lit(value: object) -> ast.Literal:
    return ast.Literal(value)


def name(*path: str) -> ast.Name:
    return ast.Name(path)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("3.5", 3.5),
        ("1e3", 1000.0),
        ('"text"', "text"),
        ("'single'", "single"),
        (r'"a\"b\n\u4e2d"', 'a"b\n中'),
        ("true", True),
        ("FALSE", False),
        ("null", None),
        ('d"2026-01-31"', date(2026, 1, 31)),
        ('d"2026-01-31 08:30"', datetime(2026, 1, 31, 8, 30)),
        ('d"2026-01-31T08:30:00Z"', datetime(2026, 1, 31, 8, 30, tzinfo=UTC)),
        ("7d", timedelta(days=7)),
        ("24h", timedelta(hours=24)),
        ("30min", timedelta(minutes=30)),
        ("1.5h", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        ("10s", timedelta(seconds=10)),
        ("3mo", CalendarDuration(3)),
        ("1y", CalendarDuration(12)),
    ],
)
def test_literals_parse_to_their_values(text: str, value: object) -> None:
    assert shape(text) == lit(value)


def test_field_paths_are_names_with_every_segment() -> None:
    assert shape("record.area.name") == name("record", "area", "name")
    assert shape("measures.cost") == name("measures", "cost")
    assert shape("隐患等级") == name("隐患等级")


def test_arithmetic_follows_precedence_and_left_associativity() -> None:
    tree = shape("1 + 2 * 3 - 4 / 2 % 3")
    expected = ast.Binary(
        "-",
        ast.Binary("+", lit(1), ast.Binary("*", lit(2), lit(3))),
        ast.Binary("%", ast.Binary("/", lit(4), lit(2)), lit(3)),
    )
    assert tree == expected


def test_power_binds_tighter_than_unary_minus_and_is_right_associative() -> None:
    assert shape("-2^2") == ast.Unary("-", ast.Binary("^", lit(2), lit(2)))
    assert shape("2^3^2") == ast.Binary("^", lit(2), ast.Binary("^", lit(3), lit(2)))


def test_concatenation_binds_looser_than_arithmetic() -> None:
    assert shape('"n=" & 1 + 2') == ast.Binary("&", lit("n="), ast.Binary("+", lit(1), lit(2)))


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("a == 1", "=="),
        ("a = 1", "=="),
        ("a != 1", "!="),
        ("a <> 1", "!="),
        ("a < 1", "<"),
        ("a <= 1", "<="),
        ("a > 1", ">"),
        ("a >= 1", ">="),
        ("a in [1]", "in"),
        ("a not in [1]", "not in"),
        ("a NOT IN [1]", "not in"),
    ],
)
def test_comparison_operators_including_excel_spellings(text: str, op: str) -> None:
    tree = shape(text)
    assert isinstance(tree, ast.Compare) and tree.op == op


def test_and_binds_tighter_than_or_and_chains_are_flattened() -> None:
    tree = shape("a or b and c and d or e")
    assert tree == ast.BoolOp(
        "or", (name("a"), ast.BoolOp("and", (name("b"), name("c"), name("d"))), name("e"))
    )


def test_not_applies_to_a_comparison() -> None:
    assert shape("not a == 1") == ast.Unary("not", ast.Compare("==", name("a"), lit(1)))


def test_ranges_and_lists() -> None:
    assert shape("x in 1..5") == ast.Compare("in", name("x"), ast.Range(lit(1), lit(5)))
    assert shape('[1, "a", null,]') == ast.ListExpr((lit(1), lit("a"), lit(None)))
    assert shape("[]") == ast.ListExpr(())


def test_function_calls_are_case_insensitive_and_keep_spelling() -> None:
    tree = parse("UPPER(title)")
    assert isinstance(tree, ast.Call) and tree.name == "upper" and tree.spelled == "UPPER"
    assert strip_positions(parse("if(a, 1, 2)")) == ast.Call("if", (name("a"), lit(1), lit(2)), "if")


def test_excel_and_or_functions_parse_as_calls_despite_reserved_keywords() -> None:
    tree = parse("AND(a, OR(b, c))")
    assert isinstance(tree, ast.Call) and tree.name == "and"
    assert isinstance(tree.args[1], ast.Call) and tree.args[1].name == "or"


def test_list_functions_take_conditions_per_item() -> None:
    tree = shape("filter(measures, cost > 100)")
    assert tree == ast.Call("filter", (name("measures"), ast.Compare(">", name("cost"), lit(100))), "filter")


def test_count_aggregate_with_where_and_within() -> None:
    tree = shape("count(hazard where area == record.area and category == record.category, within 7d)")
    assert tree == ast.Aggregate(
        "count",
        "hazard",
        where=ast.BoolOp(
            "and",
            (
                ast.Compare("==", name("area"), name("record", "area")),
                ast.Compare("==", name("category"), name("record", "category")),
            ),
        ),
        within=lit(timedelta(days=7)),
    )


@pytest.mark.parametrize("function", ["sum", "avg", "min", "max"])
def test_value_aggregates_name_the_field(function: str) -> None:
    tree = shape(f"{function}(hazard.cost where status == 'open')")
    assert isinstance(tree, ast.Aggregate)
    assert (tree.function, tree.form, tree.field) == (function, "hazard", "cost")


def test_exists_and_consecutive_aggregates() -> None:
    assert shape("exists(hazard where true)") == ast.Aggregate("exists", "hazard", where=lit(True))
    tree = shape(
        "consecutive(3, reading where sensor == r.sensor, value > r.threshold, order by ts, within 1h)"
    )
    assert tree == ast.Aggregate(
        "consecutive",
        "reading",
        where=ast.Compare("==", name("sensor"), name("r", "sensor")),
        within=lit(timedelta(hours=1)),
        order_by=("ts",),
        n=lit(3),
        condition=ast.Compare(">", name("value"), name("r", "threshold")),
    )


@pytest.mark.parametrize(
    "keyword", ["and", "or", "not", "in", "true", "false", "null", "where", "within", "order", "by"]
)
def test_keywords_are_reserved(keyword: str) -> None:
    from engine.expr import ExprError

    with pytest.raises(ExprError):
        parse(f"x.{keyword} == 1")


def test_keywords_are_case_insensitive_but_names_are_not() -> None:
    assert shape("a AND b") == shape("a and b")
    assert shape("Andy") == name("Andy")


def test_every_node_carries_its_span() -> None:
    text = 'level == "major"\n  and age > 24'
    tree = parse(text)
    assert isinstance(tree, ast.BoolOp)
    second = tree.operands[1]
    assert (second.line, second.column, second.end_line, second.end_column) == (2, 7, 2, 15)
    assert second.source(text) == "age > 24"
    for node in ast.walk(tree):
        assert node.line >= 1 and node.column >= 1 and node.end >= node.start


def test_grammar_is_built_once_with_lalr_basic_lexer_and_strict_mode() -> None:
    parser = grammar_parser()
    assert parser is grammar_parser()
    assert parser.options.parser == "lalr"
    assert parser.options.lexer == "basic"
    assert parser.options.strict is True


# --- round trip over generated ASTs --------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "level", "score", "数量"])
LITERALS = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda f: round(f, 3)),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(min_value=0, max_value=1000).map(lambda h: timedelta(hours=h)),
)


def trees() -> st.SearchStrategy[ast.Node]:
    leaves = st.one_of(
        LITERALS.map(ast.Literal), st.lists(NAMES, min_size=1, max_size=3).map(lambda p: ast.Name(tuple(p)))
    )

    def extend(children: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Node]:
        return st.one_of(
            st.tuples(st.sampled_from(["+", "-", "*", "/", "%", "^", "&"]), children, children).map(
                lambda t: ast.Binary(*t)
            ),
            st.tuples(
                st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]), children, children
            ).map(lambda t: ast.Compare(*t)),
            st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)).map(
                lambda t: ast.BoolOp(t[0], tuple(t[1]))
            ),
            st.tuples(st.sampled_from(["-", "not"]), children).map(lambda t: ast.Unary(*t)),
            st.tuples(
                st.sampled_from(["upper", "if", "coalesce", "sum"]), st.lists(children, max_size=3)
            ).map(lambda t: ast.Call(t[0], tuple(t[1]), t[0])),
            st.lists(children, max_size=3).map(lambda items: ast.ListExpr(tuple(items))),
            st.tuples(children, children).map(lambda t: ast.Range(*t)),
        )

    return st.recursive(leaves, extend, max_leaves=12)


def _normalise(node: ast.Node) -> ast.Node:
    """Shapes the printer legitimately changes: nested same-op BoolOps flatten, and a negative
    literal prints as unary minus."""

    def fix(n: ast.Node) -> ast.Node:
        if isinstance(n, ast.BoolOp):
            flat: list[ast.Node] = []
            for o in n.operands:
                flat.extend(o.operands if isinstance(o, ast.BoolOp) and o.op == n.op else [o])
            return ast.BoolOp(n.op, tuple(flat))
        return n

    return ast.transform(strip_positions(node), fix)


@settings(max_examples=300, deadline=None)
@given(trees())
def test_printing_then_parsing_gives_back_the_same_tree(tree: ast.Node) -> None:
    from engine.expr import ExprError

    text = unparse(tree)
    try:
        reparsed = parse(text)
    except ExprError as error:  # only the depth limit may refuse a generated tree
        assert all(p.code == "expr.limit.too_deep" for p in error.problems), (text, error.render("en"))
        return
    assert _normalise(reparsed) == _normalise(tree), text

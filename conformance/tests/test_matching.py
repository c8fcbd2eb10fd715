from __future__ import annotations

import pytest
from phloem_conformance.matching import (
    Bindings,
    CaseError,
    NotConcrete,
    concretize,
    match,
    pointer_get,
    walk_variables,
)


def ok(pattern: object, actual: object, bindings: Bindings | None = None) -> bool:
    return match(pattern, actual, bindings or Bindings()) is None


def test_objects_match_by_subset() -> None:
    assert ok({"type": "ack"}, {"type": "ack", "seq": 3, "extra": True})
    assert not ok({"type": "ack", "seq": 3}, {"type": "ack"})


def test_arrays_match_in_order_and_length() -> None:
    assert ok([1, 2], [1, 2])
    assert not ok([1, 2], [2, 1])
    assert not ok([1, 2], [1, 2, 3])
    assert not ok([1, 2, 3], [1, 2])


def test_numbers_compare_numerically_and_booleans_are_not_numbers() -> None:
    assert ok({"n": 1}, {"n": 1.0})
    assert not ok({"n": 1}, {"n": True})
    assert not ok({"b": True}, {"b": 1})
    assert not ok({"s": "1"}, {"s": 1})
    assert ok({"z": None}, {"z": None})
    assert not ok({"z": None}, {"z": 0})


def test_mismatch_gives_pointer_expected_and_actual() -> None:
    found = match({"root": {"children": [{}, {"props": {"text": "Count: 1"}}]}},
                  {"root": {"children": [{}, {"props": {"text": "Count: 2"}}]}}, Bindings())
    assert found is not None
    assert found.pointer == "/root/children/1/props/text"
    assert (found.expected, found.actual) == ("Count: 1", "Count: 2")


def test_pointer_escapes_slash_and_tilde() -> None:
    found = match({"a/b": {"c~d": 1}}, {"a/b": {"c~d": 2}}, Bindings())
    assert found is not None and found.pointer == "/a~1b/c~0d"
    assert pointer_get({"a/b": {"c~d": 2}}, found.pointer) == 2


def test_missing_key_is_reported() -> None:
    found = match({"code": "x"}, {}, Bindings())
    assert found is not None and found.pointer == "/code" and found.reason == "missing"


def test_bind_captures_then_ref_must_equal() -> None:
    b = Bindings()
    assert ok({"id": "$bind:n"}, {"id": "abc"}, b)
    assert b["n"] == "abc"
    assert ok({"node": "$ref:n"}, {"node": "abc"}, b)
    found = match({"node": "$ref:n"}, {"node": "xyz"}, b)
    assert found is not None and found.expected == "abc"


def test_bindings_are_a_bijection_on_strings() -> None:
    b = Bindings()
    found = match([{"id": "$bind:a"}, {"id": "$bind:b"}], [{"id": "same"}, {"id": "same"}], b)
    assert found is not None and "bijection" in found.reason


def test_integers_may_share_a_value_across_names() -> None:
    assert ok({"rev": "$bind:rev", "event": "$bind:ev"}, {"rev": 1, "event": 1})


def test_rebinding_a_bound_name_requires_the_same_value() -> None:
    b = Bindings({"n": "abc"})
    assert ok("$bind:n", "abc", b)
    assert not ok("$bind:n", "other", b)


def test_failed_match_commits_no_bindings() -> None:
    b = Bindings()
    assert not ok({"id": "$bind:n", "type": "Text"}, {"id": "abc", "type": "Button"}, b)
    assert "n" not in b


def test_ref_before_bind_is_a_case_error() -> None:
    with pytest.raises(CaseError):
        match("$ref:nope", 1, Bindings())


def test_any_type_re_num_matchers() -> None:
    assert ok({"x": {"$any": True}}, {"x": [1, {"y": 2}]})
    assert not ok({"x": {"$any": True}}, {})
    assert ok({"$type": "string"}, "s")
    assert ok({"$type": "integer"}, 3) and ok({"$type": "integer"}, 3.0)
    assert not ok({"$type": "integer"}, 3.5)
    assert ok({"$type": "number"}, 3)
    assert not ok({"$type": "integer"}, True)
    assert ok({"$type": ["string", "null"]}, None)
    assert ok({"$re": "^Count: [0-9]+$"}, "Count: 12")
    assert not ok({"$re": "^Count"}, "count")
    assert not ok({"$re": "x"}, 1)
    assert ok({"$num": [0, 1]}, 0.5) and ok({"$num": [None, 10]}, -99)
    assert not ok({"$num": [0, 1]}, 1.5)
    assert not ok({"$num": [0, 1]}, "0.5")


def test_absent_matcher() -> None:
    assert ok({"seq": {"$absent": True}}, {"type": "pong"})
    found = match({"seq": {"$absent": True}}, {"seq": 4}, Bindings())
    assert found is not None and found.pointer == "/seq" and found.actual == 4


def test_contains_matcher() -> None:
    assert ok({"$contains": ["1.0"]}, ["2.0", "1.0"])
    assert not ok({"$contains": ["1.0"]}, ["2.0"])
    assert not ok({"$contains": ["1.0"]}, "1.0")


def test_long_form_bind_combines_with_matchers() -> None:
    b = Bindings()
    assert ok({"$bind": "ev", "$type": "integer"}, 7, b)
    assert b["ev"] == 7
    assert not ok({"$bind": "other", "$type": "integer"}, "7", b)


def test_unknown_matcher_is_a_case_error() -> None:
    with pytest.raises(CaseError):
        match({"$frob": 1}, 1, Bindings())
    with pytest.raises(CaseError):
        match({"$type": "str"}, "x", Bindings())


def test_double_dollar_escapes_a_literal() -> None:
    assert ok({"$$type": "$$x"}, {"$type": "$x"})
    assert ok("$$bind:x", "$bind:x")


def test_concretize_substitutes_bound_values() -> None:
    b = Bindings({"inc": "node-7"})
    assert concretize({"type": "event", "node": "$ref:inc", "id": 1}, b) == {
        "type": "event", "node": "node-7", "id": 1}


def test_concretize_names_unbound_ids_after_their_variable() -> None:
    b = Bindings()
    assert concretize({"id": "$bind:count"}, b) == {"id": "count"}
    assert b["count"] == "count"


def test_concretize_uses_stimulus_values_and_drops_absent_members() -> None:
    b = Bindings()
    out = concretize({"versions": {"$contains": ["1.0"], "$stimulus": ["1.0"]},
                      "id": {"$bind": "ev", "$type": "integer", "$stimulus": 1},
                      "seq": {"$absent": True}}, b)
    assert out == {"versions": ["1.0"], "id": 1}
    assert b["ev"] == 1


def test_concretize_refuses_matchers_without_stimulus() -> None:
    with pytest.raises(NotConcrete):
        concretize({"x": {"$type": "string"}}, Bindings())
    with pytest.raises(NotConcrete):
        concretize("$ref:unbound", Bindings())


def test_walk_variables_in_document_order() -> None:
    found = list(walk_variables({"a": "$bind:x", "b": [{"$bind": "y"}, "$ref:x"]}))
    assert found == [("bind", "x"), ("bind", "y"), ("ref", "x")]


def test_not_matches_anything_but_its_pattern_and_an_absent_member() -> None:
    b = Bindings()
    assert match({"resumed": {"$not": True}}, {"resumed": False}, b) is None
    assert match({"resumed": {"$not": True}}, {}, b) is None
    found = match({"resumed": {"$not": True}}, {"resumed": True}, b)
    assert found is not None and found.pointer == "/resumed"
    b.values["token"] = "t-1"
    assert match({"$not": "$ref:token"}, "t-2", b) is None
    assert match({"$not": "$ref:token"}, "t-1", b) is not None
    assert match({"$not": 101}, 403, b) is None


def test_rebind_captures_a_new_value_or_the_same_one_again() -> None:
    b = Bindings()
    assert ok("$bind:token", "t-1", b)
    assert ok("$rebind:token", "t-1", b), "a kept value is captured again"
    assert ok("$rebind:token", "t-2", b), "a changed value replaces the old one"
    assert b["token"] == "t-2"
    assert ok("$ref:token", "t-2", b)
    assert not ok("$ref:token", "t-1", b)
    assert ok("$bind:other", "t-1", b), "the old value is let go"


def test_rebind_of_an_unbound_name_binds_it() -> None:
    b = Bindings()
    assert ok({"token": "$rebind:token"}, {"token": "t-1"}, b)
    assert b["token"] == "t-1"


def test_rebind_keeps_the_bijection_with_other_names() -> None:
    b = Bindings({"root": "n-1", "token": "t-1"})
    found = match("$rebind:token", "n-1", b)
    assert found is not None and "already bound to $root" in found.reason
    assert b["token"] == "t-1", "a refused rebind keeps the old value"


def test_long_form_rebind_combines_with_matchers() -> None:
    b = Bindings({"token": "t-1"})
    assert ok({"$rebind": "token", "$type": "string"}, "t-2", b)
    assert b["token"] == "t-2"
    assert not ok({"$rebind": "token", "$type": "string"}, 3, b)
    assert b["token"] == "t-2"
    with pytest.raises(CaseError):
        match({"$rebind": "a", "$bind": "b"}, "x", Bindings())


def test_concretize_rebind_sends_its_stimulus_as_the_new_value() -> None:
    b = Bindings({"token": "t-1"})
    assert concretize({"token": {"$rebind": "token", "$stimulus": "t-2"}}, b) == {"token": "t-2"}
    assert b["token"] == "t-2"
    assert concretize({"token": "$rebind:token"}, b) == {"token": "t-2"}
    assert concretize({"token": {"$rebind": "token", "$type": "string"}}, b) == {"token": "t-2"}


def test_walk_variables_reports_rebinds() -> None:
    found = list(walk_variables({"a": "$rebind:x", "b": [{"$rebind": "y"}, "$ref:x"]}))
    assert found == [("rebind", "x"), ("rebind", "y"), ("ref", "x")]

"""Canonical JSON as docker/go's MarshalCanonical writes it."""

import pytest

from trust.tuf.canonicaljson import encode_canonical, loads
from trust.tuf.errors import CanonicalJSONError


def test_keys_sorted_and_no_whitespace():
    assert encode_canonical({"b": 1, "a": [1, 2, {"d": None, "c": True}]}) == (
        b'{"a":[1,2,{"c":true,"d":null}],"b":1}'
    )


def test_only_quote_and_backslash_are_escaped():
    # Canonical mode writes <, >, &, control characters and non-ASCII as raw UTF-8.
    value = 'a"b\\c<d>&e\n\tf\u2028é'
    assert encode_canonical(value) == b'"a\\"b\\\\c<d>&e\n\tf\xe2\x80\xa8\xc3\xa9"'


def test_keys_sort_by_code_point():
    assert encode_canonical({"é": 1, "z": 2, "Z": 3}) == '{"Z":3,"z":2,"é":1}'.encode()


def test_integral_floats_become_integers_and_fractions_fail():
    assert encode_canonical(loads(b'{"v": 1.0, "w": 1e3}')) == b'{"v":1,"w":1000}'
    with pytest.raises(CanonicalJSONError):
        encode_canonical(1.5)
    with pytest.raises(CanonicalJSONError):
        encode_canonical(float("nan"))


def test_rejects_non_string_keys_and_unknown_types():
    with pytest.raises(CanonicalJSONError):
        encode_canonical({1: "x"})
    with pytest.raises(CanonicalJSONError):
        encode_canonical({"x": object()})


def test_booleans_are_not_integers():
    assert encode_canonical([True, False, 0, 1]) == b"[true,false,0,1]"


def test_lone_surrogate_and_invalid_utf8_become_replacement_char():
    assert encode_canonical(loads(b'"\\ud800"')) == '"\ufffd"'.encode()
    assert loads(b'"a\xffb"') == "a\ufffdb"


def test_surrogate_pairs_join_and_lone_ones_are_replaced_beside_escapes():
    value = {"\ud83d\ude00": ["\ud83d", '"\ude00', "\\\ud800\ud83d\ude00"]}
    assert encode_canonical(value) == (
        '{"\U0001f600":["\ufffd","\\"\ufffd","\\\\\ufffd\U0001f600"]}'.encode()
    )

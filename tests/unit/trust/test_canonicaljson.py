"""Canonical JSON as docker/go's MarshalCanonical writes it."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trust.tuf.canonicaljson import encode_canonical, encode_canonical_document, loads
from trust.tuf.errors import CanonicalJSONError

# JSON values as `loads` gives them, with what the two encoders could write differently:
# escapes and control characters, lone surrogates, floats integral or not, non-finite ones.
_TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=8) | st.sampled_from(
    ['"', "\\", "\n", "\x00", "\x7f", "\u2028", "\ud800", "a:1.5", "[2e3", "é"]
)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | _TEXT
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4)
)


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


@settings(max_examples=400, deadline=None)
@given(st.lists(_VALUES, max_size=4) | st.dictionaries(_TEXT, _VALUES, max_size=4))
def test_the_document_encoder_writes_exactly_what_the_canonical_one_does(value):
    try:
        expected = encode_canonical(value)
    except CanonicalJSONError:
        with pytest.raises(CanonicalJSONError):
            encode_canonical_document(value)
        return
    assert encode_canonical_document(value) == expected


def test_the_document_encoder_takes_the_canonical_path_where_the_c_encoder_differs():
    document = {"b": [1.0, 2e3], "a": "line\nbreak", "c": "\ud800"}
    assert encode_canonical_document(document) == encode_canonical(document)
    assert encode_canonical_document(document) != json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8", "replace")
    with pytest.raises(CanonicalJSONError):
        encode_canonical_document({"v": 1.5})

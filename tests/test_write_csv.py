"""The column-wise CSV writer gives pandas' ``to_csv`` text, byte for byte."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from matcher._format import fixed_point_cells
from matcher.write import csv_bytes, csv_text, frame_to_csv, table_pieces

TEXT = st.text(alphabet=st.sampled_from([*'ab ,"\n\r\t;é€😀\u0301x']), max_size=8)
ANY_TEXT = st.text(alphabet=st.sampled_from([*'a ,"\n\r', "\ud800"]), max_size=4)  # a lone surrogate: pandas' object columns only
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.1, 0.5, 1e-7, -1e-7, 0.0000005, 0.0000015, 2.5e-6, 1e16, 123456.1234565]),
)


@st.composite
def frames(draw):
    n = draw(st.integers(0, 6))
    cols = {}
    for c, kind in enumerate(draw(st.lists(st.sampled_from(["float", "int", "bool", "str", "object"]), min_size=2, max_size=5))):
        name = f"c{c}"
        if kind == "float":
            cols[name] = pd.Series(draw(st.lists(FLOATS, min_size=n, max_size=n)), dtype="float64")
        elif kind == "int":
            cols[name] = pd.Series(draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)), dtype="int64")
        elif kind == "bool":
            cols[name] = pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        elif kind == "str":
            cols[name] = pd.Series(draw(st.lists(st.one_of(TEXT, st.none()), min_size=n, max_size=n)), dtype="str")
        else:
            cols[name] = pd.Series(draw(st.lists(st.one_of(TEXT, ANY_TEXT, st.none()), min_size=n, max_size=n)), dtype=object)
    return pd.DataFrame(cols)


@settings(max_examples=300, deadline=None)
@given(frames(), st.sampled_from([None, "%.6f", "%.3g"]), st.sampled_from(["\n", "\r\n"]))
def test_csv_text_is_pandas_to_csv(frame, float_format, lineterminator):
    expected = frame.to_csv(index=False, float_format=float_format, lineterminator=lineterminator)
    assert csv_text(frame, float_format, lineterminator) == expected
    assume("\ud800" not in expected)  # a lone surrogate has no UTF-8 bytes
    for part in (frame, frame.iloc[1:], frame.iloc[1:-1]):  # slices: Arrow arrays with an offset
        assert csv_bytes(part, float_format, lineterminator) == part.to_csv(index=False, float_format=float_format, lineterminator=lineterminator).encode("utf-8")


@pytest.mark.parametrize("part_rows", [1, 2, 3, 6])
@pytest.mark.parametrize("lineterminator", ["\n", "\r\n"])
def test_long_tables_assembled_in_parts_on_threads_equal_pandas(monkeypatch, part_rows, lineterminator):
    import matcher._blas
    import matcher.write

    monkeypatch.setattr(matcher.write, "CSV_PART_ROWS", part_rows)
    monkeypatch.setattr(matcher._blas, "local_threads", lambda: 4)
    frame = pd.DataFrame({
        "name": pd.Series(['a,b', 'say "hi"', "", None, "line\nend", "cr\rhere", "é€😀"], dtype="str"),
        "x": [0.5, -0.0, float("nan"), 1e-7, 2.0, 3.25, -1.5],
        "n": [1, -2, 3, 4, 5, 6, 7],
        "ok": [True, False, True, True, False, True, False],
    })
    for part in (frame, frame.iloc[1:], frame.iloc[2:5]):
        expected = part.to_csv(index=False, float_format="%.6f", lineterminator=lineterminator)
        assert csv_bytes(part, "%.6f", lineterminator) == expected.encode("utf-8")
        assert csv_bytes(part, "%.6f", lineterminator, header=False) == part.to_csv(index=False, float_format="%.6f", lineterminator=lineterminator, header=False).encode("utf-8")


def test_other_column_kinds_and_single_columns_go_to_pandas():
    frame = pd.DataFrame({"when": pd.to_datetime(["2024-01-02"]), "n": [1]})
    assert csv_text(frame) == frame.to_csv(index=False, lineterminator="\n")
    one = pd.DataFrame({"a": [""]})
    assert csv_text(one) == one.to_csv(index=False, lineterminator="\n") == 'a\n""\n'


@pytest.mark.parametrize("table", ["eu_to_ca", "ca_to_eu", "pairings"])
def test_batch_tables_are_written_as_pandas_writes_them(tfidf_matcher, table):
    m = tfidf_matcher
    proposals = m.propose(10)
    frame = m.pairing_frame(proposals) if table == "pairings" else m.direction_frame(proposals, table)
    assert len(frame) > 100
    assert frame_to_csv(frame) == frame.to_csv(index=False, float_format="%.6f", lineterminator="\n")
    assert csv_text(frame) == frame.to_csv(index=False)


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=6)),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON, st.dictionaries(TEXT, JSON, max_size=8)), st.integers(1, 4))
def test_json_pieces_join_to_json_dumps(obj, group):
    import json

    from matcher.write import json_pieces

    assert "".join(json_pieces(obj, group)) == json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@settings(max_examples=200, deadline=None)
@given(frames(), st.integers(1, 7))
def test_table_pieces_join_to_the_whole_tables_csv_and_parquet(frame, size):
    import io

    import pyarrow.parquet as pq


    text = frame_to_csv(frame)
    assume("\ud800" not in text)  # a lone surrogate has no UTF-8 bytes
    chunks = [frame.iloc[s : s + size] for s in range(0, max(len(frame), 1), size)]
    assert b"".join(table_pieces(chunks)) == frame_to_csv(frame).encode("utf-8") == b"".join(table_pieces(frame))
    if all(str(t) != "object" for t in frame.dtypes):  # Parquet: text columns of one kind per piece
        # The same pieces as Arrow tables (what the batch job writes): the same bytes.
        arrow = [pa.Table.from_pandas(c, preserve_index=False) for c in chunks]
        assert b"".join(table_pieces(arrow)) == text.encode("utf-8")
        back = pq.read_table(io.BytesIO(b"".join(table_pieces(chunks, "parquet")))).to_pandas()
        assert frame_to_csv(back) == frame_to_csv(frame)


@pytest.mark.parametrize("size", [7, 1000])
def test_batch_tables_in_pieces_equal_the_whole_tables(tfidf_matcher, size):
    m = tfidf_matcher
    proposals = m.propose(10, countries=["FR", "DE", "CA"])
    for whole, pieces in [
        (m.direction_frame(proposals, "eu_to_ca"), list(m.direction_chunks(proposals, "eu_to_ca", size))),
        (m.direction_frame(proposals, "ca_to_eu"), list(m.direction_chunks(proposals, "ca_to_eu", size))),
        (m.pairing_frame(proposals), list(m.pairing_chunks(proposals, size))),
    ]:
        assert len(whole) > 20 and all(len(p) <= size for p in pieces)
        pd.testing.assert_frame_equal(pd.concat([p.to_pandas() for p in pieces], ignore_index=True), whole)
        # The Arrow pieces the batch job writes give the CSV of the whole frame.
        assert b"".join(table_pieces(pieces)) == frame_to_csv(whole).encode("utf-8")
    pairings = m.pairing_frame(proposals)
    resorted = pairings.sort_values(["reciprocal_score", "score", "eu_id", "ca_id"], ascending=[False, False, True, True], kind="mergesort").reset_index(drop=True)
    pd.testing.assert_frame_equal(pairings, resorted)
    none = m.propose(10, sectors=["coal_mining"])  # no bundled profile in coal mining
    assert not len(none.pairs)
    for pieces in (m.pairing_chunks(none, size), m.direction_chunks(none, "eu_to_ca", size)):
        assert [len(p) for p in pieces] == [0]


# Exact binary values on a half of the last written place (ties, rounded half to even), the
# neighbours of such halves, and values of every size, the largest formatted one by one.
TIES = st.builds(lambda m, k: m / 2.0**k, st.integers(-(2**40), 2**40), st.integers(0, 40))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(FLOATS, TIES, TIES.map(lambda x: float(np.nextafter(x, np.inf)))), max_size=40), st.integers(0, 9))
def test_fixed_point_cells_are_pythons_percent_format(values, digits):
    got = fixed_point_cells(np.array(values, dtype=np.float64), digits).to_pylist()
    assert got == ["" if math.isnan(v) else f"%.{digits}f" % v for v in values]


def test_fixed_point_cells_round_exact_halves_to_even():
    cells = fixed_point_cells(np.array([0.0078125, -0.0078125, 0.0234375, 2.5, -0.0, -1e-9]), 6).to_pylist()
    assert cells == ["0.007812", "-0.007812", "0.023438", "2.500000", "-0.000000", "-0.000000"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FLOATS, st.floats(-1e-3, 1e-3), st.floats(-2.0, 2.0)), max_size=30), st.integers(0, 9))
def test_json_float_cells_are_json_dumps_of_the_rounded_values(values, places):
    import json

    from matcher._format import json_float_cells

    got = json_float_cells(np.array(values, dtype=np.float64), places).to_pylist()
    assert got == [json.dumps(round(v, places)) for v in values]

"""One BLAS thread for a while: overlapping users leave the process's limits as they found them."""

from __future__ import annotations

import threading

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from matcher._blas import one_blas_thread


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_overlapping_users_keep_one_thread_until_the_last_leaves_then_restore():
    np.ones((2, 2)) @ np.ones((2, 2))  # numpy's BLAS is loaded
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        assert before  # (2 threads where the machine allows: with 1 the test cannot tell the two ways apart)
        first, second = one_blas_thread(), one_blas_thread()
        first.__enter__()
        assert set(_blas_threads()) == {1}
        second.__enter__()
        first.__exit__(None, None, None)  # plain threadpool_limits would give the second user 2 threads here
        assert set(_blas_threads()) == {1}
        second.__exit__(None, None, None)  # ... and leave the process on 1 here
        assert _blas_threads() == before


def test_block_passes_from_several_threads_restore_the_blas_threads(tfidf_matcher):
    from matcher.rank import BlockRunner, top_k_both_ways
    from matcher.score import Scorer

    m = tfidf_matcher
    scorer = Scorer(m.eu_features_, m.ca_features_, m.weights_.weights, m.weights_.bias, m.features_.lingua_franca_, block_rows=29, relatedness=m.features_.related_)
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        want = top_k_both_ways(scorer, 5, runner=BlockRunner(threads=1)).row_idx
        got = []
        threads = [threading.Thread(target=lambda: got.append(top_k_both_ways(scorer, 5, runner=BlockRunner(threads=2)).row_idx)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert _blas_threads() == before
    assert len(got) == 3 and all((g == want).all() for g in got)


def test_in_parts_covers_the_range_in_order_on_at_most_local_threads(monkeypatch):
    import matcher._blas
    from matcher._blas import in_parts

    monkeypatch.setattr(matcher._blas, "local_threads", lambda: 3)
    names: set[str] = set()
    together = threading.Barrier(3, timeout=30)  # the three parts must run at the same time to pass it

    def span(a: int, b: int) -> tuple[int, int]:
        names.add(threading.current_thread().name)
        together.wait()
        return a, b

    assert in_parts(span, 10, 1) == [(0, 3), (3, 6), (6, 10)]
    assert len(names) == 3 and all(n.startswith("matcher-part") for n in names)
    names.clear()

    def plain(a: int, b: int) -> tuple[int, int]:
        names.add(threading.current_thread().name)
        return a, b

    assert in_parts(plain, 10, 4) == [(0, 5), (5, 10)]  # two parts of at least 4
    names.clear()
    assert in_parts(plain, 10, 11) == [(0, 10)] and in_parts(plain, 0, 1) == [(0, 0)]
    assert names == {threading.current_thread().name}  # one part: on the calling thread


def test_in_parts_cuts_by_work_and_keeps_an_explicit_thread_count():
    import numpy as np

    from matcher._blas import in_parts

    work = np.array([0, 90, 91, 92, 93, 180])  # five items: 90, 1, 1, 1 and 87 units
    assert in_parts(lambda a, b: (a, b), 5, 10, threads=2, work=work) == [(0, 1), (1, 5)]  # 90 units each side
    assert in_parts(lambda a, b: (a, b), 5, 100, threads=2, work=work) == [(0, 5)]  # 180 units: one part of at least 100
    assert in_parts(lambda a, b: (a, b), 5, 1, threads=1, work=work) == [(0, 5)]

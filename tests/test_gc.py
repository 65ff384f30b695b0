"""The cyclic collector paused while a batch run, a fit or a ranking builds its objects, and as it was afterwards."""

from __future__ import annotations

import gc

import pytest

from matcher._gc import gc_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_overlapping_users_keep_it_off_until_the_last_leaves(collector_on):
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second user is still inside
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on):
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_an_error_inside_turns_it_back_on(collector_on):
    with pytest.raises(KeyError), gc_paused():
        {}["missing"]
    assert gc.isenabled()


def test_fit_propose_and_the_batch_run_pause_it(collector_on, tmp_path, monkeypatch):
    from matcher import Matcher, batch, engine

    seen = {}

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            seen[name] = gc.isenabled()
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(engine, "profile_words", spy("fit", engine.profile_words))
    monkeypatch.setattr(engine, "explain_batch", spy("propose", engine.explain_batch))
    monkeypatch.setattr(batch, "write_run", spy("write", batch.write_run))
    m = Matcher(backend="tfidf").fit()
    m.propose(3)
    assert seen == {"fit": False, "propose": False} and gc.isenabled()
    batch.run_batch(tmp_path / "out", backend="tfidf", k=3, details=False)
    assert seen == {"fit": False, "propose": False, "write": False} and gc.isenabled()

"""A batch's work runs with Python's cycle collector paused, and leaves it as it found it."""

import gc

import pytest

from customers.services import customer_create
from retention.batching import cycle_collector_paused
from retention.health import recompute


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_off_inside_and_on_again_after_even_on_an_error(collector_on):
    with cycle_collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()

    with pytest.raises(RuntimeError), cycle_collector_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off(collector_on):
    gc.disable()
    with cycle_collector_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.django_db
def test_the_health_scan_scores_its_batches_with_the_collector_paused(alice, north, monkeypatch,
                                                                       collector_on):
    customer_create(user=alice, team=north, name="Acme", owner=alice)
    seen = []
    assess = recompute.assess
    monkeypatch.setattr(recompute, "assess", lambda *a, **k: seen.append(gc.isenabled()) or assess(*a, **k))

    recompute.health_scan()

    assert seen == [False] and gc.isenabled()

import gc

from integrations.imports.garbage_collection import YOUNG_THRESHOLD, fewer_collections


def test_a_bulk_run_collects_less_often_and_scans_none_of_what_existed_before():
    before, frozen_before = gc.get_threshold(), gc.get_freeze_count()

    with fewer_collections():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0

    assert gc.get_threshold() == before
    assert (gc.get_freeze_count() > 0) == (frozen_before > 0)


def test_nested_runs_restore_the_settings_only_when_the_outermost_ends():
    before = gc.get_threshold()

    with fewer_collections():
        with fewer_collections():
            pass
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD

    assert gc.get_threshold() == before


def test_the_settings_come_back_when_the_run_fails():
    before = gc.get_threshold()

    try:
        with fewer_collections():
            raise RuntimeError("chunk failed")
    except RuntimeError:
        pass

    assert gc.get_threshold() == before


def test_a_process_that_froze_its_objects_itself_stays_frozen():
    gc.freeze()
    try:
        with fewer_collections():
            pass
        assert gc.get_freeze_count() > 0  # not unfrozen (objects freed meanwhile leave it)
    finally:
        gc.unfreeze()

"""The rules every door's connection writes share (``integrations.services.connections`` and
the schedule ``sync.Schedule`` checks), tested once here rather than through each door."""

import pytest
from django.core.exceptions import ValidationError

from integrations.services import connections, sync


@pytest.mark.parametrize(
    "line", ["61 * * * *", "* 24 * * *", "* * 32 * *", "* * * 0 *", "* * * * 8", "*/0 * * * *"]
)
def test_a_crontab_value_out_of_range_is_refused_whichever_door_builds_the_schedule(line):
    with pytest.raises(ValidationError) as error:
        sync.Schedule(crontab=line)  # what the admin's form builds, as the others

    assert list(error.value.message_dict) == ["schedule"]


@pytest.mark.parametrize("line", ["*/15 * * * *", "0 2 * * 1-5", "0 0 1 1 *", "30 8 * * mon-fri"])
def test_crontab_lines_celery_beat_reads_are_accepted(line):
    assert connections.schedule_from({"crontab": line}) == sync.Schedule(crontab=line)


def test_a_schedule_reads_back_in_the_shape_it_was_given():
    assert connections.schedule_from({"every_minutes": 15}) == sync.Schedule(every_seconds=900)
    assert connections.schedule_from(None) is None

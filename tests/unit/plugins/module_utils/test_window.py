# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maintenance window against a clock walked minute by minute."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import window
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError

minutes = st.integers(min_value=0, max_value=window.DAY - 1)


def hhmm(minute):
    return '%02d:%02d' % divmod(minute, 60)


def walked(start, end, now):
    """The minutes left, found by walking the clock from ``now`` to the window's end (None: outside)."""
    inside = set()
    minute = start
    while True:
        inside.add(minute)
        minute = (minute + 1) % window.DAY
        if minute == end:
            break
    if now not in inside:
        return None
    left = 0
    while now in inside:
        left += 1
        now = (now + 1) % window.DAY
        if left == window.DAY:
            break
    return left


@given(minutes, minutes, minutes)
def test_minutes_left_matches_a_walk_of_the_clock(start, end, now):
    assert window.minutes_left('%s-%s' % (hhmm(start), hhmm(end)), hhmm(now)) == walked(start, end, now)


def test_the_examples_of_the_docs():
    assert window.minutes_left('22:00-06:00', '05:40') == 20
    assert window.minutes_left('22:00-06:00', '06:00') is None
    assert window.minutes_left('22:00-06:00', '21:59') is None
    assert window.minutes_left('22:00-06:00', '22:00') == 480
    assert window.minutes_left('00:00-00:00', '13:37') == window.DAY
    assert window.minutes_left('', '13:37') == float('inf')


@pytest.mark.parametrize('text', ['22:00', '24:00-06:00', '22:00-06:60', '22:00-06:00\n', ' 22:00-06:00', 2200])
def test_bad_windows_are_refused(text):
    with pytest.raises(HyperionError, match='HH:MM-HH:MM'):
        window.minutes_left(text, '12:00')


def test_a_bad_time_is_refused():
    with pytest.raises(HyperionError, match='HH:MM'):
        window.minutes_left('22:00-06:00', '7:00')

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maintenance window of a rollout: whether a time is inside it, and how long it still lasts.

A window is ``HH:MM-HH:MM`` on the controller's clock. It starts at its first time and ends before its
second; an end earlier than the start runs past midnight (``22:00-06:00``), and equal times make a
window that never closes (a whole day of room, every day). A batch is started only when the window still has room for it (the rollout's
``rollout_batch_minutes``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError

DAY = 24 * 60
_HHMM = r'([01][0-9]|2[0-3]):([0-5][0-9])'
WINDOW_RE = re.compile(_HHMM + '-' + _HHMM)
TIME_RE = re.compile(_HHMM)


def minute_of(text):
    """Minutes since midnight of ``HH:MM``."""
    match = TIME_RE.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise HyperionError('a time must be HH:MM (00:00 to 23:59), got %r' % (text,))
    return int(match.group(1)) * 60 + int(match.group(2))


def parse(window):
    """(start, end) in minutes since midnight of ``HH:MM-HH:MM``."""
    match = WINDOW_RE.fullmatch(window) if isinstance(window, str) else None
    if not match:
        raise HyperionError('a maintenance window must be HH:MM-HH:MM such as 22:00-06:00, got %r' % (window,))
    return int(match.group(1)) * 60 + int(match.group(2)), int(match.group(3)) * 60 + int(match.group(4))


def minutes_left(window, now):
    """Minutes from ``now`` (HH:MM) to the end of ``window``; None when ``now`` is outside it. An empty
    window is no limit: None is never returned for it, and neither is a count (``float('inf')``)."""
    if not window:
        return float('inf')
    start, end = parse(window)
    current = minute_of(now)
    if start == end:
        return DAY
    length = (end - start) % DAY
    into = (current - start) % DAY
    if into >= length:
        return None
    return length - into


def state(window, now):
    """{'inside': bool, 'minutes_left': int or None}: whether ``now`` is inside ``window``, and the minutes
    until it ends (None without a window, or outside it)."""
    left = minutes_left(window, now)
    if left is None:
        return {'inside': False, 'minutes_left': None}
    return {'inside': True, 'minutes_left': None if left == float('inf') else left}

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""BORE scheduler state from its sysctls.

The release notes name ``CONFIG_SCHED_BORE_BURST_SMOOTHNESS=2`` and
``/sys/kernel/debug/sched/bore_burst_smoothness``; neither exists. BORE is
tuned through sysctls under /proc/sys/kernel, and they changed between patch
generations:

- 6.x generation: ``kernel.sched_burst_smoothness`` (0-3), the scale the
  release notes describe (2 is the balanced default);
- 5.x generation: ``kernel.sched_burst_smoothness_long`` and
  ``kernel.sched_burst_smoothness_short`` (0-1 each), no 0-3 scale;
- both: ``kernel.sched_bore`` (1 = BORE active).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .errors import HyperionError

BORE_SYSCTLS = ('kernel.sched_bore', 'kernel.sched_burst_smoothness',
                'kernel.sched_burst_smoothness_long', 'kernel.sched_burst_smoothness_short',
                'kernel.sched_burst_penalty_offset', 'kernel.sched_burst_penalty_scale')


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def bore_state(sysctls):
    """Summarise BORE from a {sysctl key: value string or None} mapping.

    Returns {'present', 'generation' ('6.x', '5.x' or None), 'enabled',
    'burst_smoothness', 'burst_smoothness_long', 'burst_smoothness_short'}.
    """
    smoothness = _int_or_none(sysctls.get('kernel.sched_burst_smoothness'))
    long_ = _int_or_none(sysctls.get('kernel.sched_burst_smoothness_long'))
    short = _int_or_none(sysctls.get('kernel.sched_burst_smoothness_short'))
    enabled = _int_or_none(sysctls.get('kernel.sched_bore'))
    if smoothness is not None:
        generation = '6.x'
    elif long_ is not None or short is not None:
        generation = '5.x'
    else:
        generation = None
    return {
        'present': generation is not None or enabled is not None,
        'generation': generation,
        'enabled': None if enabled is None else enabled == 1,
        'burst_smoothness': smoothness,
        'burst_smoothness_long': long_,
        'burst_smoothness_short': short,
    }


# The sysctls the BORE 6.x patch registers in /proc/sys/kernel, with the bounds of its ctl_table
# (extra1, extra2): kernel/sched/bore.c of BORE 6.6.3 (shared/patches/0001-bore-6.6.3-linux6.12.patch;
# a unit test compares this table with the patch). The kernel refuses a value outside them (EINVAL).
BORE_SYSCTL_RANGES = {
    'kernel.sched_bore': (0, 1),
    'kernel.sched_burst_inherit_type': (0, 2),
    'kernel.sched_burst_smoothness': (0, 3),
    'kernel.sched_burst_penalty_offset': (0, 63),
    'kernel.sched_burst_penalty_scale': (0, 4095),
}


def bore_sysctl_settings(settings):
    """Check {sysctl key: value} against BORE_SYSCTL_RANGES; return [(key, int value)] sorted by key.

    Values may be ints or strings of decimal digits (inventory values often are strings); booleans,
    other keys and values outside the patch's range are refused with a message naming the key.
    """
    if not isinstance(settings, dict):
        raise HyperionError('BORE settings must be a mapping of sysctl keys to values, got %s' % type(settings).__name__)
    checked = []
    for key in sorted(settings):
        if key not in BORE_SYSCTL_RANGES:
            raise HyperionError('%s is not a BORE sysctl; BORE 6.x has %s' % (key, ', '.join(sorted(BORE_SYSCTL_RANGES))))
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, (int, str)) or (
                isinstance(value, str) and not re.fullmatch(r'[0-9]+', value)):
            raise HyperionError('%s must be a whole number, got %r' % (key, value))
        number = int(value)
        low, high = BORE_SYSCTL_RANGES[key]
        if not low <= number <= high:
            raise HyperionError('%s must be %d to %d (the range BORE itself accepts), got %d' % (key, low, high, number))
        checked.append((key, number))
    return checked

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ADIOS tunables: the writable attributes of /sys/block/<disk>/queue/iosched/ while a disk runs ADIOS.

The release notes promise ADIOS as the default I/O scheduler but name none of its tunables; the ADIOS 3.3.0
patch (block/adios.c, shared/patches/0002-adios-3.3.0-linux6.12.patch) gives each attribute a store function
that refuses a value outside its bounds (EINVAL). ADIOS_TUNABLES keeps those bounds; a unit test compares
them with the patch. Left out: batch_order (1 is accepted on rotational disks only), compliance_flags (a bit
set of block layer constraints), lat_model_* and the reset_* triggers (state of the latency model, not
settings).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .errors import HyperionError

NSEC_PER_SEC = 10 ** 9
ULONG_MAX = 2 ** 64 - 1
U32_MAX = 2 ** 32 - 1

# attribute: (lowest, highest, what it is). The store functions read with kstrtoul() or kstrtoint(); the
# batch limits land in a u32, so a larger value would be cut, and the bound here is U32_MAX.
ADIOS_TUNABLES = {
    'lat_target_read': (0, ULONG_MAX, 'latency target of reads, ns'),
    'lat_target_write': (0, ULONG_MAX, 'latency target of writes, ns'),
    'lat_target_discard': (0, ULONG_MAX, 'latency target of discards, ns'),
    'batch_limit_read': (1, U32_MAX, 'most reads in one batch'),
    'batch_limit_write': (1, U32_MAX, 'most writes in one batch'),
    'batch_limit_discard': (1, U32_MAX, 'most discards in one batch'),
    'global_latency_window': (0, ULONG_MAX, 'latency window of a batch, ns'),
    'bq_refill_below_ratio': (0, 100, 'percent of the batch queue below which it is refilled'),
    'lat_model_latency_limit': (0, 2 * NSEC_PER_SEC, 'largest latency sample the model takes, ns'),
    'read_priority': (-20, 19, 'priority of reads, as a nice value'),
    'shrink_at_kreqs': (1, 100000, 'thousands of requests before the latency model shrinks'),
    'shrink_at_gbytes': (1, 1000, 'GB of I/O before the latency model shrinks'),
    'shrink_resist': (1, 3, 'how strongly the model resists shrinking'),
}

_INT_RE = re.compile(r'-?[0-9]+')


def adios_settings(settings):
    """Check {attribute: value} against ADIOS_TUNABLES; return [(attribute, int value)] sorted by attribute.

    Values may be ints or strings of decimal digits (inventory values often are strings); booleans, other
    attributes and values outside the patch's bounds are refused with a message naming the attribute."""
    if settings is None:
        return []
    if not isinstance(settings, dict):
        raise HyperionError('ADIOS settings must be a mapping of attribute to value, got %s' % type(settings).__name__)
    checked = []
    for name in sorted(settings, key=str):
        if name not in ADIOS_TUNABLES:
            raise HyperionError('%r is not an ADIOS tunable; ADIOS 3.3.0 has %s' % (name, ', '.join(sorted(ADIOS_TUNABLES))))
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, (int, str)) or (
                isinstance(value, str) and not _INT_RE.fullmatch(value)):
            raise HyperionError('ADIOS %s must be a whole number, got %r' % (name, value))
        number = int(value)
        low, high, what = ADIOS_TUNABLES[name]
        if not low <= number <= high:
            raise HyperionError('ADIOS %s (%s) must be %d to %d, the bounds ADIOS itself accepts, got %d'
                                % (name, what, low, high, number))
        checked.append((name, number))
    return checked

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ADIOS settings are checked against the bounds the ADIOS patch's store functions enforce.

ADIOS_TUNABLES of module_utils/adios.py is compared with block/adios.c of the real ADIOS patch (the one the
test kernel is built with, shared/patches/ beside the checkout, or KERNEL_PATCH_DIR)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
from hypothesis import given, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils.adios import ADIOS_TUNABLES, adios_settings
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
PATCH_DIR = os.environ.get('KERNEL_PATCH_DIR') or os.path.join(ROOT, '..', 'shared', 'patches')
# The constants the bounds are written with.
CONSTANTS = {'ULLONG_MAX': 2 ** 64 - 1, '2*NSEC_PER_SEC': 2 * 10 ** 9}
C_TYPE_MAX = {'u8': 2 ** 8 - 1, 'u32': 2 ** 32 - 1, 'u64': 2 ** 64 - 1}
# Read-write attributes the module leaves out on purpose (module_utils/adios.py says why).
LEFT_OUT = {'batch_order', 'compliance_flags', 'lat_model_read', 'lat_model_write', 'lat_model_discard'}


def adios_source():
    patches = sorted(glob.glob(os.path.join(PATCH_DIR, '*adios*.patch')))
    if not patches:
        pytest.skip('no ADIOS patch in %s (set KERNEL_PATCH_DIR)' % PATCH_DIR)
    with open(patches[-1]) as handle:
        return '\n'.join(line[1:] for line in handle.read().splitlines() if line.startswith('+'))


def _number(text):
    text = text.replace(' ', '')
    return CONSTANTS[text] if text in CONSTANTS else int(text)


def patch_bounds(source):
    """{attribute: (low, high)} of every read-write ADIOS attribute with its bounds, read from the patch."""
    fields = dict((name, kind) for kind, name in re.findall(r'^\s*(u8|u32|u64)\s+(\w+)(?:\[\w+\])?;', source, re.M))
    bounds = {}
    for field, low, high in re.findall(r'^SYSFS_(?:ULL|INT)_DECL\((\w+),\s*([^,]+),\s*(.+)\)$', source, re.M):
        if field == 'batch_order':
            bounds[field] = None  # its bound is the disk's rotational flag
            continue
        # The store writes into the field: its C type caps what reads back.
        bounds[field] = (_number(low), min(_number(high), C_TYPE_MAX[fields[field]]))
    for name, _field, low, high in re.findall(r'^SHRINK_THRESHOLD_ATTR_RW\((\w+),\s*(\w+),\s*(\d+),\s*(\d+)\)$', source, re.M):
        bounds['shrink_' + name] = (int(low), int(high))
    # SYSFS_OPTYPE_DECL: lat_target_* takes any unsigned long into a u64, batch_limit_* refuses 0 and lands in a u32.
    assert re.search(r'if \(ret \|\| max_batch == 0\)', source)
    for optype in re.findall(r'^SYSFS_OPTYPE_DECL\((\w+), ADIOS_\w+\);', source, re.M):
        bounds['lat_target_' + optype] = (0, C_TYPE_MAX[fields['latency_target']])
        bounds['batch_limit_' + optype] = (1, C_TYPE_MAX[fields['batch_limit']])
    low, high = re.search(r'adios_read_priority_store\(.*?prio < (-?\d+) \|\| prio > (-?\d+)', source, re.S).groups()
    bounds['read_priority'] = (int(low), int(high))
    # Every read-write attribute the scheduler registers is accounted for.
    registered = set(re.findall(r'^\s*AD_ATTR_RW\((\w+)\),', source, re.M))
    assert registered == (set(bounds) | LEFT_OUT), registered ^ (set(bounds) | LEFT_OUT)
    return dict((name, bound) for name, bound in bounds.items() if name not in LEFT_OUT)


def test_bounds_are_those_of_the_adios_patch():
    assert patch_bounds(adios_source()) == dict((name, (low, high)) for name, (low, high, _what) in ADIOS_TUNABLES.items())


def test_settings_in_bounds_are_returned_sorted_as_numbers():
    assert adios_settings({'read_priority': '-5', 'bq_refill_below_ratio': 15, 'shrink_resist': 3}) == [
        ('bq_refill_below_ratio', 15), ('read_priority', -5), ('shrink_resist', 3)]
    assert adios_settings(None) == [] and adios_settings({}) == []


@pytest.mark.parametrize('settings, message', [
    ({'read_priority': 20}, r'ADIOS read_priority \(priority of reads, as a nice value\) must be -20 to 19, the bounds '
                            r'ADIOS itself accepts, got 20'),
    ({'bq_refill_below_ratio': 101}, 'must be 0 to 100'),
    ({'batch_limit_read': 0}, 'must be 1 to 4294967295'),
    ({'lat_model_latency_limit': 2000000001}, 'must be 0 to 2000000000'),
    ({'batch_order': 1}, "'batch_order' is not an ADIOS tunable; ADIOS 3.3.0 has batch_limit_discard, "),
    ({'read_priority': True}, 'must be a whole number, got True'),
    ({'read_priority': '1e3'}, "must be a whole number, got '1e3'"),
    ({'read_priority': ' 5'}, "must be a whole number, got ' 5'"),
    ({'read_priority': 1.5}, 'must be a whole number, got 1.5'),
    ([('read_priority', 1)], 'must be a mapping of attribute to value, got list'),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(HyperionError, match=message):
        adios_settings(settings)


@given(st.sampled_from(sorted(ADIOS_TUNABLES)), st.integers(min_value=-2 ** 65, max_value=2 ** 65))
def test_a_value_is_taken_exactly_when_it_is_within_the_bounds(name, value):
    low, high, _what = ADIOS_TUNABLES[name]
    if low <= value <= high:
        assert adios_settings({name: value}) == [(name, value)] == adios_settings({name: str(value)})
    else:
        with pytest.raises(HyperionError, match='must be %d to %d' % (low, high)):
            adios_settings({name: value})

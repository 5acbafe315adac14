# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""BORE settings are checked against the ranges the BORE patch itself registers.

The ranges in module_utils/bore.py are compared with the ctl_table of the real BORE patch (the one
the test kernel is built with, shared/patches/ beside the checkout, or KERNEL_PATCH_DIR)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.bore import BORE_SYSCTL_RANGES, bore_sysctl_settings
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
PATCH_DIR = os.environ.get('KERNEL_PATCH_DIR') or os.path.join(ROOT, '..', 'shared', 'patches')
# The named bounds of include/linux/sysctl.h that a ctl_table's extra1/extra2 may point at.
SYSCTL_CONSTANTS = {'SYSCTL_ZERO': 0, 'SYSCTL_ONE': 1, 'SYSCTL_TWO': 2, 'SYSCTL_THREE': 3, 'SYSCTL_FOUR': 4,
                    'SYSCTL_ONE_HUNDRED': 100, 'SYSCTL_INT_MAX': 2 ** 31 - 1}


def bore_patch_text():
    patches = sorted(glob.glob(os.path.join(PATCH_DIR, '*bore*.patch')))
    if not patches:
        pytest.skip('no BORE patch in %s (set KERNEL_PATCH_DIR)' % PATCH_DIR)
    with open(patches[-1]) as handle:
        return handle.read()


def patch_sysctl_ranges(text):
    """{sysctl key: (low, high)} of every bounded entry of the BORE patch's sysctl table."""
    added = '\n'.join(line[1:] for line in text.splitlines() if line.startswith('+'))
    named = dict((name, int(value)) for name, value in
                 re.findall(r'static int __maybe_unused (\w+)\s*=\s*(\d+);', added))
    ranges = {}
    for entry in re.findall(r'\{(.*?)\}', added, re.S):
        procname = re.search(r'\.procname\s*=\s*"(\w+)"', entry)
        low = re.search(r'\.extra1\s*=\s*&?(\w+)', entry)
        high = re.search(r'\.extra2\s*=\s*&?(\w+)', entry)
        if procname and low and high:
            bounds = [SYSCTL_CONSTANTS.get(name, named.get(name)) for name in (low.group(1), high.group(1))]
            assert None not in bounds, 'unknown bound in %s' % entry
            ranges['kernel.' + procname.group(1)] = tuple(bounds)
    return ranges


def test_ranges_are_those_of_the_bore_patch():
    ranges = patch_sysctl_ranges(bore_patch_text())
    # The patch's table: five bounded sysctls (sched_burst_cache_lifetime is a plain uint).
    assert ranges == BORE_SYSCTL_RANGES


@pytest.mark.parametrize('key', sorted(BORE_SYSCTL_RANGES))
def test_every_value_in_range_passes_and_its_neighbours_fail(key):
    low, high = BORE_SYSCTL_RANGES[key]
    assert bore_sysctl_settings({key: low}) == [(key, low)]
    assert bore_sysctl_settings({key: str(high)}) == [(key, high)]
    for outside in (low - 1, high + 1):
        with pytest.raises(HyperionError, match='%s must be %d to %d' % (re.escape(key), low, high)):
            bore_sysctl_settings({key: outside})


@pytest.mark.parametrize('value', [True, '2\n', ' 2', '2.0', 2.0, None, [], '0x2', '-0'])
def test_values_that_are_not_whole_numbers_are_refused(value):
    with pytest.raises(HyperionError, match='kernel.sched_burst_smoothness must be a whole number'):
        bore_sysctl_settings({'kernel.sched_burst_smoothness': value})


def test_unknown_keys_are_refused_naming_the_known_ones():
    with pytest.raises(HyperionError, match='kernel.sched_burst_smoothness_long is not a BORE sysctl; BORE 6.x has '):
        bore_sysctl_settings({'kernel.sched_burst_smoothness_long': 1})


def test_settings_come_back_sorted_by_key():
    assert bore_sysctl_settings({'kernel.sched_burst_smoothness': '2', 'kernel.sched_bore': 1}) == [
        ('kernel.sched_bore', 1), ('kernel.sched_burst_smoothness', 2)]

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils import sysrq
from ansible_collections.hyperion.kernel.plugins.module_utils.sysrq import decode_sysrq, encode_sysrq


def test_gaming_cafe_mask_allows_only_safe_shutdown_keys():
    decoded = decode_sysrq('176')
    assert decoded['groups'] == ['sync', 'remount_readonly', 'reboot_poweroff']
    assert 'g' not in decoded['keys'].split() and 'e' not in decoded['keys'].split()
    assert encode_sysrq(decoded['groups']) == 176


def test_one_means_everything_and_zero_nothing():
    assert decode_sysrq(1)['all'] is True
    assert len(decode_sysrq(1)['groups']) == 8
    assert decode_sysrq(0)['groups'] == []


def test_debian_default_mask_from_its_kconfig():
    # Debian's kernels ship CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE=0x01b6 (see the kconfig fixtures).
    decoded = decode_sysrq('0x01b6')
    assert decoded['value'] == 438
    assert 'debug_dumps' not in decoded['groups'] and 'signal_processes' not in decoded['groups']


@pytest.mark.parametrize('bad', ['512', '-1', 'all', True])
def test_out_of_range_or_not_a_number(bad):
    with pytest.raises(HyperionError):
        decode_sysrq(bad)


def test_unknown_group_name():
    with pytest.raises(HyperionError, match='unknown sysrq group'):
        encode_sysrq(['sync', 'debugger'])


@pytest.mark.parametrize('names, expected', [
    (['quiet', 'sysrq_always_enabled'], 'sysrq_always_enabled'),
    # obsolete_checksetup() compares the setup string's length only, '-' and '_' alike (test_sysrq_kernel.py
    # checks this against the kernel's own code).
    (['sysrq-always-enabled'], 'sysrq-always-enabled'),
    (['sysrq_always_enabledx'], 'sysrq_always_enabledx'),
    (['sysrq_always_enable', 'sysrq', 'xsysrq_always_enabled', 'SYSRQ_ALWAYS_ENABLED'], None),
    ({'kgdboc': 'ttyS0', 'sysrq_always_enabled': ''}, 'sysrq_always_enabled'),
    ([], None),
])
def test_the_parameter_that_turns_the_override_on(names, expected):
    assert sysrq.always_enabled_by(names) == expected

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zram filters refuse what they cannot use with a message, not a Python error or a silent cut."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.filter.host_config import FilterModule

FILTERS = FilterModule().filters()


@pytest.mark.parametrize('priority', [1.5, True, '1e2', 32768, -2])
def test_a_swap_priority_zram_generator_would_not_take_is_refused(priority):
    with pytest.raises(AnsibleFilterError, match='swap priority must be'):
        FILTERS['zram_generator_conf']('zram0', 'min(ram / 2, 8192)', 'zstd', priority)


@pytest.mark.parametrize('priority, written', [(100, '100'), ('100', '100'), (-1, '-1'), (7.0, '7')])
def test_a_whole_swap_priority_is_written(priority, written):
    text = FILTERS['zram_generator_conf']('zram0', 'min(ram / 2, 8192)', 'zstd', priority)
    assert 'swap-priority = %s\n' % written in text


def test_the_role_inputs_name_every_missing_variable():
    with pytest.raises(AnsibleFilterError) as excinfo:
        FILTERS['zram_role_inputs']({'zram_device': 'zram0'})
    assert 'lack' in str(excinfo.value)
    assert 'zram_package' in str(excinfo.value) and 'zram_live_reserve_kib' in str(excinfo.value)
    with pytest.raises(AnsibleFilterError, match='must be a mapping'):
        FILTERS['zram_role_inputs'](['zram0'])


def test_the_live_rebuild_decision_is_zram_plans():
    state = {'zram': {'swaps': [{'filename': '/dev/zram0', 'used_kib': 1000}], 'mem_available_kib': 1100}}
    assert FILTERS['zram_live_safe'](state, 100) is True
    assert FILTERS['zram_live_safe'](state, '101') is False
    with pytest.raises(AnsibleFilterError, match='zram facts are missing'):
        FILTERS['zram_live_safe']({'kernel': {}}, 100)

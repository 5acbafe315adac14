# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_facts through AnsibleModule: the tty subset on this machine, and names refused before any read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.hyperion.kernel.plugins.modules import kernel_facts
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module


def test_the_tty_subset_reads_this_machine(capsys):
    # Differential: what the module reports is what /sys/class/tty of the test machine has.
    names = sorted(os.listdir('/sys/class/tty')) + ['ttyNOPE7']
    code, result = run_module(kernel_facts, {'gather_subset': ['tty'], 'ttys': names}, capsys)
    assert code == 0, result
    ttys = result['ansible_facts']['hyperion_kernel']['tty']
    for name in names:
        base = os.path.join('/sys/class/tty', name)
        assert ttys[name]['exists'] == os.path.exists(base)
        type_file = os.path.join(base, 'type')
        if os.path.exists(type_file):
            with open(type_file) as handle:
                assert ttys[name]['uart_type'] == int(handle.read())
        else:
            assert ttys[name]['uart_type'] is None
    assert ttys['ttyNOPE7'] == {'exists': False, 'uart_type': None}
    assert result['changed'] is False


@pytest.mark.parametrize('name', ['../../etc/shadow', 'ttyS0/type', ''])
def test_a_bad_tty_name_fails_clearly(capsys, name):
    code, result = run_module(kernel_facts, {'gather_subset': ['tty'], 'ttys': [name]}, capsys)
    assert code == 1
    assert result['failed'] is True
    assert result['msg'] == 'ttys entry %r must be a tty name such as ttyS0 (letters, digits and "_")' % (name,)

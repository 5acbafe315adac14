# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tty subset of the facts: each asked tty's existence and UART type, from a captured /sys/class/tty."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import sys_class_tty_tree


@pytest.fixture
def guest_root(tmp_path):
    captured = sys_class_tty_tree('trixie-qemu-sys-class-tty.txt', str(tmp_path))
    return str(tmp_path), captured


def test_every_captured_tty_reads_as_captured(guest_root):
    root, captured = guest_root
    facts = gather_facts(root, subsets=['tty'], ttys=sorted(captured))
    assert facts['tty'] == dict((name, {'exists': True, 'uart_type': uart_type}) for name, uart_type in captured.items())
    assert facts['errors'] == []
    # The capture's facts the kgdboc check relies on: one UART (16550A) and three names without one.
    assert [name for name, uart_type in captured.items() if uart_type is not None] == ['ttyS0', 'ttyS1', 'ttyS2', 'ttyS3']
    assert captured['ttyS0'] == 4 and captured['ttyS1'] == captured['ttyS2'] == captured['ttyS3'] == 0


def test_a_missing_tty_is_no_error(guest_root):
    root, _captured = guest_root
    facts = gather_facts(root, subsets=['tty'], ttys=['ttyS9', 'ttyUSB0'])
    assert facts['tty'] == {'ttyS9': {'exists': False, 'uart_type': None}, 'ttyUSB0': {'exists': False, 'uart_type': None}}
    assert facts['errors'] == []


def test_no_tty_asked_reads_nothing(guest_root):
    root, _captured = guest_root
    assert gather_facts(root, subsets=['tty'])['tty'] == {}
    assert 'tty' not in gather_facts(root, subsets=['kernel'], ttys=['ttyS0'])


@pytest.mark.parametrize('name', ['../../etc', 'ttyS0/type', '', 'tty S0', '.', 'ttyS0\n', 5])
def test_a_name_that_is_not_one_path_component_is_refused(guest_root, name):
    root, _captured = guest_root
    with pytest.raises(HyperionError, match='tty name'):
        gather_facts(root, subsets=['tty'], ttys=[name])

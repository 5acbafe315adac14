# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import SourceError
from ansible_collections.hyperion.kernel.plugins.module_utils.bore import bore_state
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts, kernel_version, sysctl_path


def test_bore_6x_generation():
    # BORE 6.x registers kernel.sched_burst_smoothness (0-3) next to kernel.sched_bore.
    state = bore_state({'kernel.sched_bore': '1', 'kernel.sched_burst_smoothness': '2'})
    assert state == {'present': True, 'generation': '6.x', 'enabled': True, 'burst_smoothness': 2,
                     'burst_smoothness_long': None, 'burst_smoothness_short': None}


def test_bore_5x_generation():
    # BORE 5.x has only the two 0-1 switches sched_burst_smoothness_long/short.
    state = bore_state({'kernel.sched_bore': '0', 'kernel.sched_burst_smoothness_long': '1',
                        'kernel.sched_burst_smoothness_short': '0'})
    assert state['generation'] == '5.x' and state['enabled'] is False
    assert state['burst_smoothness'] is None and state['burst_smoothness_long'] == 1


def test_no_bore_on_real_kernels(host_capture):
    # None of the captured kernels carries the BORE patch: every BORE sysctl reads as missing.
    facts = gather_facts(host_capture, None, subsets=['bore'])
    assert facts['bore'] == {'present': False, 'generation': None, 'enabled': None, 'burst_smoothness': None,
                             'burst_smoothness_long': None, 'burst_smoothness_short': None}


def test_empty_root_gathers_without_raising(tmp_path):
    def run(argv):
        return 1, '', 'Cannot find device'
    facts = gather_facts(str(tmp_path), run)
    assert facts['kernel'] == {'release': None, 'version': None}
    assert facts['config']['options'] is None
    assert facts['cmdline']['params'] is None
    assert facts['zram'] == {'devices': {}, 'swaps': [], 'zram_swap_active': False, 'mem_total_kib': None,
                             'mem_available_kib': None}
    assert facts['network']['root_qdiscs'] is None
    errors = '\n'.join(facts['errors'])
    assert 'no readable kernel config' in errors
    assert 'tc -j qdisc show failed (rc=1): Cannot find device' in errors
    assert 'available_tracers not readable' in errors


def test_unknown_subset_is_named(tmp_path):
    with pytest.raises(SourceError, match=r'unknown fact subset\(s\) gpu'):
        gather_facts(str(tmp_path), None, subsets=['zram', 'gpu'])


def test_helpers():
    assert sysctl_path('net.ipv4.tcp_congestion_control') == 'proc/sys/net/ipv4/tcp_congestion_control'
    assert kernel_version('6.12.117+deb13-amd64') == '6.12.117'
    assert kernel_version('6.19.6-Hyperion-2.2.4') == '6.19.6'
    assert kernel_version('') is None
    assert os.path.basename(sysctl_path('vm.swappiness')) == 'swappiness'


def test_zram_subset_reads_memory_of_captured_guest():
    # The zram role sizes the device from MemTotal and judges a live rebuild by MemAvailable.
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'vm', 'trixie-6.12.117+deb13-amd64')
    facts = gather_facts(root, None, subsets=['zram'])
    assert facts['zram']['mem_total_kib'] == 988268
    assert facts['zram']['mem_available_kib'] == 837640

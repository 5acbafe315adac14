# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Boot-time tc batches of the network role, against trees a real trixie kernel built."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import qdisc_boot
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import live_tree, normalize_plan, plan_steps

CMD = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'vm',
                   'trixie-6.12.117+deb13-amd64', 'cmd')

TAPRIO_PLAN = [
    {'parent': 'root', 'handle': '100:', 'kind': 'taprio', 'options': {
        'num_tc': 3, 'map': [2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 'queues': ['1@0', '1@1', '2@2'],
        'base_time': 1000000000, 'clockid': 'CLOCK_TAI',
        'sched_entries': [{'command': 'S', 'gatemask': '0x1', 'interval': 300000},
                          {'command': 'S', 'gatemask': '0x2', 'interval': 300000},
                          {'command': 'S', 'gatemask': '0x4', 'interval': 400000}]}},
    {'parent': '100:1', 'kind': 'etf', 'options': {'clockid': 'CLOCK_TAI', 'delta': 300000}},
]
CAKE_PLAN = [{'parent': 'root', 'kind': 'cake', 'options': {'bandwidth': '100Mbit', 'diffserv': 'diffserv4', 'nat': True}}]


def _captured(device):
    with open(os.path.join(CMD, 'tc-j-qdisc-show-dev-%s.json' % device)) as handle:
        return live_tree(handle.read(), device)


def test_cake_batch():
    assert qdisc_boot.batch_text('eth0', CAKE_PLAN) == 'qdisc replace dev eth0 root cake bandwidth 100Mbit diffserv4 nat\n'


def test_taprio_batch_is_root_first_then_children():
    lines = qdisc_boot.batch_text('hyp-taprio0', TAPRIO_PLAN).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith('qdisc replace dev hyp-taprio0 root handle 100: taprio num_tc 3 map 2 2 1 0')
    assert lines[1] == 'qdisc replace dev hyp-taprio0 parent 100:1 etf clockid CLOCK_TAI delta 300000'


@pytest.mark.parametrize('device, plan', [('hyp-taprio0', TAPRIO_PLAN), ('hyp-cake0', CAKE_PLAN)])
def test_the_tree_the_kernel_built_from_the_same_commands_satisfies_the_plan(device, plan):
    # The capture's setup ran these tc commands on Debian's 6.12 kernel: the planner sees nothing left to do.
    assert plan_steps(device, normalize_plan(plan), _captured(device)) == []


def test_a_device_with_the_kernel_default_gets_the_whole_batch():
    # ens3 of the capture has its default fq_codel (handle 0:): exactly the state a device is in at boot.
    live = _captured('ens3')
    assert live[0]['handle'] == '0:'
    steps = plan_steps('ens3', normalize_plan(CAKE_PLAN), live)
    assert [argv for argv, _reason in steps] == qdisc_boot.boot_commands('ens3', CAKE_PLAN)


@pytest.mark.parametrize('device, plan, message', [
    ('eth0; reboot', CAKE_PLAN, 'must be a network interface name'),
    ('eth0', [{'kind': 'pfifo'}], 'unknown qdisc kind'),
    ('a-very-long-interface-name', CAKE_PLAN, 'must be a network interface name'),
    # $-anchored patterns let these through: a newline ends up in the unit name and the batch file name.
    ('eth0\n', CAKE_PLAN, 'must be a network interface name'),
    # dev_valid_name() refuses ':' (alias labels are not devices), '/' and the names '.' and '..'.
    ('eth0:1', CAKE_PLAN, 'must be a network interface name'),
    ('..', CAKE_PLAN, 'must be a network interface name'),
    ('eth/0', CAKE_PLAN, 'must be a network interface name'),
    ('eth0', [{'kind': 'cake', 'options': {'bandwidth': '100 mbit'}}], 'written without a space'),
])
def test_bad_plans_are_refused(device, plan, message):
    with pytest.raises(HyperionError, match=message):
        qdisc_boot.batch_text(device, plan)

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel.network refuses bad names and out-of-range qdisc options before anything changes.

An interface name with a newline or a ':' would name a batch file and a unit instance the kernel has
no device for; a rate written "100 mbit" is refused by tc only after the old root qdisc is gone; a CAKE
rate of 0 is sent as no rate at all; taprio intervals beyond u32 or a cycle shorter than its intervals
are cut by the kernel; a taprio mode without what it needs is refused by the kernel or drops the
traffic. Every case is a local host of one check-mode run of the real role and must fail at its check
task with a message naming the value, with no task reporting a change and none after it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import textwrap

import pytest
import yaml

from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import normalize_plan, validate_for_device
from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT
from ansible_collections.hyperion.kernel.tests.unit.roles.role_runs import host_tasks, run_role

ROLE = 'hyperion.kernel.network'
NAMES = 'Check the congestion control and default qdisc names'
PLANS = 'Check that every plan names an interface or a subnet'
VALIDATE = 'Validate each plan against its link, changing nothing (tx queues, kinds, options)'
CAKE = [{'parent': 'root', 'kind': 'cake', 'options': {'bandwidth': '100mbit'}}]


def _cake(**options):
    return {'network_qdisc_plans': [{'interface': 'lo', 'qdiscs': [{'kind': 'cake', 'options': options}]}]}


def _taprio(entries, **extra):
    options = dict({'num_tc': 2, 'map': [0, 1], 'queues': ['1@0', '1@1'], 'clockid': 'CLOCK_TAI',
                    'sched_entries': entries}, **extra)
    return {'network_qdisc_plans': [{'interface': 'lo', 'qdiscs': [{'kind': 'taprio', 'handle': '100:', 'options': options}]}]}


# (case, host variables, the task that must refuse, what its message must say)
CASES = [
    ('sysctl-file-elsewhere', {'network_sysctl_file': '/etc/network.conf'}, 'Check the sysctl.d file',
     ['network_sysctl_file must be a file name ending in .conf directly in /etc/sysctl.d', 'got "/etc/network.conf"']),
    ('interface-newline', {'network_qdisc_plans': [{'interface': 'lo\n', 'qdiscs': CAKE}]}, PLANS,
     ['a network interface name of at most 15']),
    ('interface-alias-colon', {'network_qdisc_plans': [{'interface': 'eth0:1', 'qdiscs': CAKE}]}, PLANS,
     ['without "/", ":" or white space']),
    ('interface-too-long', {'network_qdisc_plans': [{'interface': 'enp0s31f6-uplink0', 'qdiscs': CAKE}]}, PLANS,
     ['at most 15']),
    ('interface-dotdot', {'network_qdisc_plans': [{'interface': '..', 'qdiscs': CAKE}]}, PLANS, ['interface']),
    ('congestion-control-newline', {'network_congestion_control': 'bbr\nnet.core.default_qdisc=pfifo'}, NAMES,
     ['network_congestion_control and network_default_qdisc must each be one kernel name']),
    ('default-qdisc-two-words', {'network_default_qdisc': 'fq codel'}, NAMES, ['"fq codel"']),
    ('cake-rate-with-space', _cake(bandwidth='100 mbit'), VALIDATE, ['option bandwidth', 'written without a space']),
    ('cake-rate-zero', _cake(bandwidth='0mbit'), VALIDATE, ['cake at root) option bandwidth', 'write unlimited']),
    ('cake-rate-below-one-byte', _cake(bandwidth='7bit'), VALIDATE, ['option bandwidth', 'write unlimited']),
    ('cake-rate-beyond-u64', _cake(bandwidth='20000000000000000000Bps'), VALIDATE,
     ['option bandwidth must be from 1 to 18446744073709551615 bytes per second']),
    ('cake-rtt-zero', _cake(rtt='0ms'), VALIDATE, ['option rtt must be from 1 to 4294967295 microseconds']),
    ('cake-overhead', _cake(overhead=300), VALIDATE, ['option overhead must be from -64 to 256']),
    ('taprio-interval-beyond-u32', _taprio([{'gatemask': '1', 'interval': 2 ** 32}, {'gatemask': '2', 'interval': 500000}]),
     VALIDATE, ['sched_entries[0] interval 4294967296 nanoseconds is beyond 4294967295']),
    ('taprio-cycle-shorter-than-intervals',
     _taprio([{'gatemask': '1', 'interval': 500000}, {'gatemask': '2', 'interval': 500000}], cycle_time=600000),
     VALIDATE, ['cycle_time 600000 ns is shorter than the sum of the sched_entries intervals (1000000 ns)']),
    ('taprio-cycle-beyond-int-max',
     _taprio([{'gatemask': '1', 'interval': 2 ** 31}]), VALIDATE, ['add up to 2147483648 ns, beyond the longest cycle']),
    ('taprio-offload-driver-name', {'network_taprio_offload_drivers': ['igc', 'igc; reboot']},
     'Check the drivers trusted with taprio full offload',
     ['network_taprio_offload_drivers must be a list of driver names', 'got ["igc", "igc; reboot"]']),
    ('taprio-txtime-assist-without-etf',
     _taprio([{'gatemask': '3', 'interval': 500000}], mode='txtime-assist', txtime_delay=200000), VALIDATE,
     ['taprio at root in mode txtime-assist needs an etf child (with skip_sock_check: true) on each tx queue its '
      'open gates use, and has none at 100:1 (tx queue 0: traffic class 0), 100:2 (tx queue 1: traffic class 1)']),
    ('taprio-full-offload-with-clockid', _taprio([{'gatemask': '3', 'interval': 500000}], mode='full-offload'),
     VALIDATE, ['mode full-offload takes no clockid']),
]


@pytest.fixture(scope='module')
def refused(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('network-inputs')
    returncode, document, stderr = run_role(tmp_path, ROLE, dict((case, variables) for case, variables, _t, _e in CASES))
    assert returncode != 0, stderr
    return document


def _messages(result):
    return [result.get('msg', '')] + [item.get('msg', '') for item in result.get('results', []) if item.get('failed')]


@pytest.mark.parametrize('case, variables, task, expected', CASES, ids=[case[0] for case in CASES])
def test_refused_at_its_check_before_any_change(refused, case, variables, task, expected):
    del variables
    tasks = host_tasks(refused, case)
    names = [name for name, _result in tasks]
    assert names[-1] == task, (case, names)
    assert tasks[-1][1].get('failed'), (case, tasks[-1][1])
    assert not [name for name, result in tasks if result.get('changed')], (case, names)
    text = '\n'.join(_messages(tasks[-1][1]))
    for words in expected:
        assert words in text, (case, words, text)
    # Nothing between the input checks and the failure touches the host: reads and decisions only.
    assert all(name.startswith(('Validating arguments', 'Resolve', 'Decide', 'Check', 'Read', 'Pick', 'Refuse',
                                'Validate')) for name in names), names


def test_the_readme_s_taprio_plans_validate():
    """Each worked example of the README's taprio modes is a plan the role takes (on a link of 8 tx queues)."""
    with open(os.path.join(ROOT, 'roles', 'network', 'README.md')) as handle:
        readme = handle.read()
    section = readme[readme.index('## taprio: three modes'):readme.index('## Example playbook')]
    modes = []
    for block in re.findall(r'```yaml\n(.*?)```', section, re.S):
        for plan in yaml.safe_load(textwrap.dedent(block))['network_qdisc_plans']:
            entries = normalize_plan(plan['qdiscs'])
            validate_for_device(entries, plan['interface'], 8)
            modes.append(entries[0]['values']['mode'])
    assert modes == ['software', 'txtime-assist', 'full-offload']

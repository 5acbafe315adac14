# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the real hyperion.kernel.tc_qdisc module step by step inside the test VM.

Copied into the guest by tc-qdisc-in-vm.sh and started by tc-qdisc-init.sh with
the collection and ansible.module_utils on PYTHONPATH. Every step runs the
module the way Ansible does (python3 -m ..., arguments in a JSON file, result on
stdout) and records its arguments, exit status, result and the device's
``tc -j qdisc show`` before and after. A few raw tc probes record the kernel
behaviour the planner relies on. Usage: python3 tc-qdisc-scenario.py OUTDIR
"""

from __future__ import absolute_import, division, print_function

import json
import os
import platform
import subprocess
import sys

MODULE = 'ansible_collections.hyperion.kernel.plugins.modules.tc_qdisc'

SCHEDULE = [{'command': 'S', 'gatemask': '0x1', 'interval': 300000},
            {'command': 'S', 'gatemask': '0x2', 'interval': 300000},
            {'command': 'S', 'gatemask': '0x4', 'interval': 400000}]


def taprio(schedule=None, **changes):
    options = {'num_tc': 3, 'map': [2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 'queues': ['1@0', '1@1', '2@2'],
               'base_time': 1000000000, 'sched_entries': schedule or SCHEDULE, 'clockid': 'CLOCK_TAI'}
    options.update(changes)
    return {'parent': 'root', 'handle': '100:', 'kind': 'taprio', 'options': options}


def etf(parent, **options):
    return {'parent': parent, 'kind': 'etf', 'options': dict({'clockid': 'CLOCK_TAI'}, **options)}


def cake(**options):
    return [{'parent': 'root', 'handle': '1:', 'kind': 'cake', 'options': options}]


TAPRIO_TREE = [taprio(), etf('100:1', delta=300000),
               etf('100:2', delta=200000, deadline_mode=True, skip_sock_check=True)]
TAPRIO_NEW_SCHEDULE = [{'command': 'S', 'gatemask': '0x1', 'interval': 200000},
                       {'command': 'S', 'gatemask': '0x2', 'interval': 300000},
                       {'command': 'S', 'gatemask': '0x4', 'interval': 500000}]
TAPRIO_TREE_2 = [taprio(TAPRIO_NEW_SCHEDULE), etf('100:1', delta=300000),
                 etf('100:2', delta=250000, deadline_mode=True, skip_sock_check=True)]
MQ_TREE = [{'parent': 'root', 'handle': '1:', 'kind': 'mq'},
           {'parent': '1:1', 'kind': 'fq', 'options': {'maxrate': '50mbit'}},
           {'parent': '1:2', 'kind': 'fq_codel', 'options': {'target': '3ms', 'interval': '60ms', 'ecn': True}},
           {'parent': '1:3', 'kind': 'cake', 'options': {'bandwidth': '10mbit', 'diffserv': 'besteffort'}}]

# (name, device, module arguments, check mode)
STEPS = [
    ('cake-apply', 'hyp-cake0', {'qdiscs': cake(bandwidth='100Mbit', diffserv='diffserv4', nat=True)}, False),
    ('cake-reapply', 'hyp-cake0', {'qdiscs': cake(bandwidth='100Mbit', diffserv='diffserv4', nat=True)}, False),
    ('cake-check-mode', 'hyp-cake0', {'qdiscs': cake(bandwidth='200Mbit', diffserv='diffserv4', nat=True)}, True),
    ('cake-change-bandwidth', 'hyp-cake0', {'qdiscs': cake(bandwidth='200Mbit', diffserv='diffserv4', nat=True)}, False),
    ('cake-to-fq_codel', 'hyp-cake0',
     {'qdiscs': [{'kind': 'fq_codel', 'options': {'target': '3ms', 'interval': '60ms', 'ecn': True}}]}, False),
    ('fq_codel-reapply', 'hyp-cake0',
     {'qdiscs': [{'kind': 'fq_codel', 'options': {'target': '3ms', 'interval': '60ms', 'ecn': True}}]}, False),
    ('taprio-apply', 'hyp-tap0', {'qdiscs': TAPRIO_TREE}, False),
    ('taprio-reapply', 'hyp-tap0', {'qdiscs': TAPRIO_TREE}, False),
    ('taprio-schedule-and-etf-change', 'hyp-tap0', {'qdiscs': TAPRIO_TREE_2}, False),
    ('taprio-reapply-changed', 'hyp-tap0', {'qdiscs': TAPRIO_TREE_2}, False),
    ('taprio-num_tc-change', 'hyp-tap0',
     {'qdiscs': [taprio([{'command': 'S', 'gatemask': '0x1', 'interval': 500000},
                         {'command': 'S', 'gatemask': '0x2', 'interval': 500000}],
                        num_tc=2, map=[1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], queues=['1@0', '7@1']),
                 etf('100:1', delta=300000)]}, False),
    ('mq-apply', 'hyp-mq0', {'qdiscs': MQ_TREE}, False),
    ('mq-reapply', 'hyp-mq0', {'qdiscs': MQ_TREE}, False),
    ('mq-child-change', 'hyp-mq0',
     {'qdiscs': [MQ_TREE[0], dict(MQ_TREE[1], options={'maxrate': '60mbit'})] + MQ_TREE[2:]}, False),
    ('error-taprio-queues-beyond-device', 'hyp-tap0', {'qdiscs': [taprio(queues=['1@0', '1@1', '4@6'])]}, False),
    ('error-taprio-device-too-few-queues', 'hyp-two0', {'qdiscs': [taprio()]}, False),
    ('error-taprio-gatemask-beyond-num_tc', 'hyp-tap0',
     {'qdiscs': [taprio(SCHEDULE + [{'command': 'S', 'gatemask': '0x8', 'interval': 100000}])]}, False),
    ('error-taprio-map-beyond-num_tc', 'hyp-tap0', {'qdiscs': [taprio(map=[3, 2, 1, 0])]}, False),
    ('error-taprio-queues-overlap', 'hyp-tap0', {'qdiscs': [taprio(queues=['2@0', '1@1', '1@3'])]}, False),
    ('error-etf-clockid', 'hyp-tap0', {'qdiscs': [taprio(), etf('100:1', clockid='CLOCK_MONOTONIC')]}, False),
    ('error-etf-under-mq', 'hyp-mq0', {'qdiscs': [MQ_TREE[0], etf('1:4', delta=300000)]}, False),
    ('error-unknown-option', 'hyp-cake0', {'qdiscs': cake(speed='100Mbit')}, False),
    ('error-bad-unit', 'hyp-cake0', {'qdiscs': cake(bandwidth='100Mbytes')}, False),
    ('error-no-device', 'hyp-none0', {'qdiscs': cake(bandwidth='100Mbit')}, False),
    ('absent-check-mode', 'hyp-cake0', {'state': 'absent'}, True),
    ('absent', 'hyp-cake0', {'state': 'absent'}, False),
    ('absent-again', 'hyp-cake0', {'state': 'absent'}, False),
    ('absent-taprio', 'hyp-tap0', {'state': 'absent'}, False),
    ('absent-mq', 'hyp-mq0', {'state': 'absent'}, False),
]

# Raw tc commands: the kernel behaviour behind the planner's choices, recorded as it happens.
PROBES = [
    ('same-handle-other-kind-is-refused', [
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-two0', 'root', 'handle', '1:', 'cake'],
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-two0', 'root', 'handle', '1:', 'fq'],
        ['tc', 'qdisc', 'del', 'dev', 'hyp-two0', 'root']]),
    ('etf-cannot-change-in-place', [
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-two0', 'root', 'handle', '100:', 'taprio', 'num_tc', '2', 'map', '0', '1',
         'queues', '1@0', '1@1', 'base-time', '0', 'sched-entry', 'S', '03', '1000000', 'clockid', 'CLOCK_TAI'],
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-two0', 'parent', '100:1', 'etf', 'clockid', 'CLOCK_TAI', 'delta', '300000'],
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-two0', 'parent', '100:1', 'etf', 'clockid', 'CLOCK_TAI', 'delta', '400000'],
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-two0', 'root', 'handle', '100:', 'taprio', 'num_tc', '1', 'map', '0',
         'queues', '2@0', 'base-time', '0', 'sched-entry', 'S', '01', '1000000', 'clockid', 'CLOCK_TAI'],
        ['tc', 'qdisc', 'del', 'dev', 'hyp-two0', 'root']]),
]


def run(argv, stdin=None):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    out, err = proc.communicate(stdin)
    return proc.returncode, out, err


def tree(device):
    rc, out, err = run(['tc', '-j', 'qdisc', 'show', 'dev', device])
    if rc != 0:
        return {'rc': rc, 'stderr': err.strip()}
    return json.loads(out or '[]')


def module_step(outdir, name, device, args, check_mode):
    module_args = dict(args, device=device, _ansible_check_mode=check_mode, _ansible_diff=True)
    path = os.path.join(outdir, 'args-%s.json' % name)
    with open(path, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': module_args}, handle)
    before = tree(device)
    rc, out, err = run([sys.executable, '-m', MODULE, path])
    os.unlink(path)
    try:
        result = json.loads(out)
    except ValueError:
        result = {'unparsed_stdout': out}
    result.pop('invocation', None)
    summary = (name, rc, result.get('changed'), len(result.get('actions') or []), result.get('msg', ''))
    print('%-40s rc=%s changed=%s actions=%d %s' % summary)
    return {'name': name, 'device': device, 'check_mode': check_mode, 'args': args, 'rc': rc, 'result': result,
            'stderr': err.strip(), 'tree_before': before, 'tree_after': tree(device)}


def main():
    outdir = sys.argv[1]
    record = {
        'uname_r': platform.release(),
        'python': platform.python_version(),
        'tc_version': run(['tc', '-V'])[1].strip(),
        'links': json.loads(run(['ip', '-j', '-d', 'link', 'show'])[1] or '[]'),
        'steps': [], 'probes': [],
    }
    record['links'] = [dict((k, link.get(k)) for k in ('ifname', 'num_tx_queues', 'num_rx_queues', 'txqlen'))
                       for link in record['links'] if link.get('ifname', '').startswith('hyp-')]
    for name, device, args, check_mode in STEPS:
        record['steps'].append(module_step(outdir, name, device, args, check_mode))
    for name, commands in PROBES:
        results = []
        for argv in commands:
            rc, out, err = run(argv)
            results.append({'argv': argv, 'rc': rc, 'stderr': err.strip(), 'tree_after': tree('hyp-two0')})
        record['probes'].append({'name': name, 'commands': results})
    with open(os.path.join(outdir, 'tc-qdisc-module-run.json'), 'w') as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.write('\n')


if __name__ == '__main__':
    main()

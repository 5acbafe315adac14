# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tc_qdisc: the module over captured tc/ip output, and its recorded run on a real kernel.

The recorded run (tests/unit/fixtures/tc-qdisc-vm/) is workbench/capture/tc-qdisc-in-vm.sh:
Debian trixie's kernel under qemu, the module run step by step as Ansible runs it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import normalize_plan, validate_for_device
from ansible_collections.hyperion.kernel.plugins.modules import tc_qdisc
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
TRIXIE = glob.glob(os.path.join(FIXTURES, 'vm', 'trixie-*', 'cmd'))[0]
VM_RUNS = sorted(glob.glob(os.path.join(FIXTURES, 'tc-qdisc-vm', '*', 'tc-qdisc-module-run.json')))

CAKE = [{'parent': 'root', 'handle': '1:', 'kind': 'cake',
         'options': {'bandwidth': '100Mbit', 'diffserv': 'diffserv4', 'nat': True}}]


@pytest.fixture
def captured_host(monkeypatch):
    """AnsibleModule whose ip/tc reads answer from the trixie capture; other commands are recorded."""
    with open(os.path.join(TRIXIE, 'tc-j-qdisc-show.json')) as handle:
        qdiscs = json.load(handle)
    with open(os.path.join(TRIXIE, 'ip-j-d-link-show.json')) as handle:
        links = json.load(handle)
    calls = []

    def run_command(self, argv, *args, **kwargs):
        calls.append(argv)
        if argv[1:3] == ['-j', '-d']:
            found = [link for link in links if link['ifname'] == argv[-1]]
            return (0, json.dumps(found), '') if found else (1, '', 'Device "%s" does not exist.' % argv[-1])
        if argv[1:3] == ['-j', 'qdisc']:
            return 0, json.dumps([q for q in qdiscs if q['dev'] == argv[-1]]), ''
        return 0, '', ''
    monkeypatch.setattr(AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: '/sbin/' + name)
    return calls


def test_plan_equal_to_the_capture_changes_nothing(captured_host, capsys):
    code, result = run_module(tc_qdisc, {'device': 'hyp-cake0', 'qdiscs': CAKE, '_ansible_diff': True}, capsys)
    assert code == 0
    assert result['changed'] is False and result['actions'] == []
    assert result['diff']['before'] == result['diff']['after']
    assert result['qdiscs'][0]['options']['bandwidth'] == 12500000
    assert [c[1:] for c in captured_host] == [['-j', '-d', 'link', 'show', 'dev', 'hyp-cake0'],
                                              ['-j', 'qdisc', 'show', 'dev', 'hyp-cake0']]


def test_check_mode_returns_the_one_command_and_runs_nothing(captured_host, capsys):
    plan = [dict(CAKE[0], options=dict(CAKE[0]['options'], bandwidth='200Mbit'))]
    code, result = run_module(tc_qdisc, {'device': 'hyp-cake0', 'qdiscs': plan, '_ansible_check_mode': True,
                                         '_ansible_diff': True}, capsys)
    assert code == 0
    assert result['changed'] is True
    assert result['actions'] == [['tc', 'qdisc', 'replace', 'dev', 'hyp-cake0', 'root', 'handle', '1:', 'cake',
                                  'bandwidth', '200Mbit', 'diffserv4', 'nat']]
    assert 'bandwidth=12500000' in result['diff']['before'] and 'bandwidth=25000000' in result['diff']['after']
    assert not [c for c in captured_host if 'replace' in c]


@pytest.mark.parametrize('args, message', [
    ({'device': 'hyp-none0', 'qdiscs': CAKE}, 'device hyp-none0 does not exist'),
    ({'device': 'hyp-cake0', 'qdiscs': [{'kind': 'cake', 'options': {'bandwidth': '100Mbytes'}}]},
     "unknown unit 'mbytes'"),
    ({'device': 'hyp-cake0', 'qdiscs': [{'kind': 'red'}]}, 'value of kind must be one of'),
    ({'device': 'ens3', 'qdiscs': [{'kind': 'taprio', 'handle': '100:', 'options': {
        'num_tc': 2, 'map': [0, 1], 'queues': ['1@0', '1@1'], 'sched_entries': [{'gatemask': '3', 'interval': 1000}],
        'clockid': 'CLOCK_TAI'}}]}, 'taprio needs a multi-queue device; ens3 has 1 tx queue'),
    ({'device': 'hyp-cake0', 'state': 'absent', 'qdiscs': CAKE}, 'do not give qdiscs with it'),
    # A rate with a space: tc refuses it, formerly after the old root was deleted.
    ({'device': 'hyp-cake0', 'qdiscs': [{'kind': 'cake', 'options': {'bandwidth': '100 mbit'}}]},
     "rate '100 mbit' is not a number with an optional unit written without a space"),
    ({'device': 'hyp-cake0', 'qdiscs': [{'kind': 'cake', 'options': {'bandwidth': '0'}}]}, 'write unlimited'),
    ({'device': 'hyp-cake0', 'qdiscs': [{'kind': 'cake', 'options': {'bandwidth': 10 ** 21}}]},
     'option bandwidth must be from 1 to 18446744073709551615 bytes per second'),
    ({'device': 'hyp-cake0', 'qdiscs': [{'kind': 'cake', 'options': {'bandwidth': float('nan')}}]},
     'must be a non-negative number'),
    ({'device': 'hyp-taprio0', 'qdiscs': [{'kind': 'taprio', 'handle': '100:', 'options': {
        'num_tc': 2, 'map': [0, 1], 'queues': ['1@0', '1@1'], 'clockid': 'CLOCK_TAI',
        'sched_entries': [{'gatemask': '1', 'interval': 5000000000}]}}]}, 'is beyond 4294967295'),
    ({'device': 'hyp-taprio0', 'qdiscs': [{'kind': 'taprio', 'handle': '100:', 'options': {
        'num_tc': 2, 'map': [0, 1], 'queues': ['1@0', '1@1'], 'clockid': 'CLOCK_TAI', 'cycle_time': 500000,
        'sched_entries': [{'gatemask': '1', 'interval': 300000}, {'gatemask': '2', 'interval': 300000}]}}]},
     'cycle_time 500000 ns is shorter than the sum of the sched_entries intervals (600000 ns)'),
    # Shorter than one 60-byte frame at 10 Mbit/s, what taprio takes on a link of unknown speed (dummy).
    ({'device': 'hyp-taprio0', 'qdiscs': [{'kind': 'taprio', 'handle': '100:', 'options': {
        'num_tc': 2, 'map': [0, 1], 'queues': ['1@0', '1@1'], 'clockid': 'CLOCK_TAI',
        'sched_entries': [{'gatemask': '1', 'interval': 1000}]}}]},
     'interval 1000 ns is shorter than one minimum frame on hyp-taprio0 (48000 ns'),
    ({'device': 'hyp-fq0', 'qdiscs': [{'kind': 'fq', 'options': {'buckets': 1000}}]}, 'buckets 1000 is not a power of two'),
    ({'device': 'hyp-fqcodel0', 'qdiscs': [{'kind': 'fq_codel', 'options': {'quantum': 2000000}}]},
     'option quantum must be from 256 to 1048576 (bytes, sch_fq_codel'),
    # tc reads the quanta with get_unsigned(): a unit is refused (by tc, formerly after the old root was gone).
    ({'device': 'hyp-fqcodel0', 'qdiscs': [{'kind': 'fq_codel', 'options': {'quantum': '1514b'}}]},
     "option quantum must be an integer, not '1514b'"),
    # Device names are matched whole: no trailing newline, no alias label, at most 15 characters.
    ({'device': 'hyp-cake0\n', 'qdiscs': CAKE}, 'device must be a network interface name'),
    ({'device': 'hyp-cake0:1', 'qdiscs': CAKE}, 'device must be a network interface name'),
])
def test_errors_fail_cleanly_before_any_change(captured_host, capsys, args, message):
    code, result = run_module(tc_qdisc, args, capsys)
    assert code == 1
    assert result['failed'] is True and result.get('changed', False) is False
    assert message in result['msg']
    assert not [c for c in captured_host if 'replace' in c or 'del' in c]


def test_a_root_tc_refuses_leaves_the_old_root_in_place(captured_host, monkeypatch, capsys):
    """A kernel refusal of the new root (here every replace) comes before any delete: the old root stays."""
    answer = AnsibleModule.run_command

    def refusing(self, argv, *args, **kwargs):
        if 'replace' in argv:
            captured_host.append(argv)
            return 2, '', 'Error: Specified qdisc kind is unknown.'
        return answer(self, argv, *args, **kwargs)
    monkeypatch.setattr(AnsibleModule, 'run_command', refusing)
    # hyp-cake0 has cake 1: at root; fq_codel on the same handle goes in under a spare handle first.
    code, result = run_module(tc_qdisc, {'device': 'hyp-cake0', 'qdiscs': [{'kind': 'fq_codel', 'handle': '1:'}]}, capsys)
    assert code == 1 and result['changed'] is False and result['actions'] == []
    changing = [argv for argv in captured_host if 'replace' in argv or 'del' in argv]
    assert changing == [['/sbin/tc', 'qdisc', 'replace', 'dev', 'hyp-cake0', 'root', 'handle', 'fff0:', 'fq_codel']]


# tc-taprio(8)'s txtime-assist example on the trixie capture's 8-queue dummy link hyp-taprio0.
TXTIME_ASSIST = [
    {'parent': 'root', 'handle': '100:', 'kind': 'taprio', 'options': {
        'mode': 'txtime-assist', 'txtime_delay': 200000, 'num_tc': 3, 'map': [2, 2, 1, 0], 'queues': ['1@0', '1@0', '1@0'],
        'sched_entries': [{'gatemask': '0x1', 'interval': 300000}, {'gatemask': '0x2', 'interval': 300000},
                          {'gatemask': '0x4', 'interval': 400000}], 'clockid': 'CLOCK_TAI'}},
    {'parent': '100:1', 'kind': 'etf', 'options': {'delta': 100000, 'skip_sock_check': True}}]
FULL_OFFLOAD = [{'parent': 'root', 'handle': '100:', 'kind': 'taprio', 'options': {
    'mode': 'full-offload', 'num_tc': 2, 'map': [1, 1, 0], 'queues': ['1@0', '1@1'],
    'sched_entries': [{'gatemask': '0x1', 'interval': 200000}, {'gatemask': '0x3', 'interval': 800000}]}}]


@pytest.fixture
def link_driver(monkeypatch):
    """The driver the module reads for the link (the capture has no sysfs): none, as for its dummy links."""
    drivers = {}
    monkeypatch.setattr(tc_qdisc, 'read_link_driver', drivers.get)
    return drivers


def test_txtime_assist_in_check_mode(captured_host, link_driver, capsys):
    code, result = run_module(tc_qdisc, {'device': 'hyp-taprio0', 'qdiscs': TXTIME_ASSIST, '_ansible_check_mode': True,
                                         '_ansible_diff': True}, capsys)
    assert code == 0 and result['changed'] is True
    # The captured software taprio cannot take new flags: deleted first, then the new one and its etf.
    assert [a[2] for a in result['actions']] == ['del', 'replace', 'replace']
    assert result['actions'][1][-6:] == ['clockid', 'CLOCK_TAI', 'flags', '0x1', 'txtime-delay', '200000']
    assert 'mode=software' in result['diff']['before']
    assert 'mode=txtime-assist txtime_delay=200000' in result['diff']['after']
    assert not [c for c in captured_host if 'replace' in c or 'del' in c]


def test_full_offload_on_a_link_without_a_driver_is_refused_before_any_change(captured_host, link_driver, capsys):
    code, result = run_module(tc_qdisc, {'device': 'hyp-taprio0', 'qdiscs': FULL_OFFLOAD}, capsys)
    assert code == 1 and result['changed'] is False and result['actions'] == []
    assert result['msg'].startswith('taprio mode full-offload needs a driver that runs the schedule in hardware '
                                    '(ndo_setup_tc with TC_SETUP_QDISC_TAPRIO), and hyp-taprio0 has no device driver')
    assert not [c for c in captured_host if 'replace' in c or 'del' in c]
    link_driver['hyp-taprio0'] = 'e1000e'
    code, result = run_module(tc_qdisc, {'device': 'hyp-taprio0', 'qdiscs': FULL_OFFLOAD}, capsys)
    assert code == 1 and "hyp-taprio0's driver is e1000e. The drivers that can, as of Linux 6.12.118: " in result['msg']
    assert not [c for c in captured_host if 'replace' in c or 'del' in c]


def test_full_offload_on_a_listed_or_trusted_driver(captured_host, link_driver, capsys):
    for driver, trusted in (('igc', []), ('vendor_tsn', ['vendor_tsn'])):
        link_driver['hyp-taprio0'] = driver
        code, result = run_module(tc_qdisc, {'device': 'hyp-taprio0', 'qdiscs': FULL_OFFLOAD, 'taprio_offload_drivers': trusted,
                                             '_ansible_check_mode': True}, capsys)
        assert code == 0, result
        assert [a[2] for a in result['actions']] == ['del', 'replace'] and result['actions'][1][-2:] == ['flags', '0x2']
        assert 'clockid' not in result['actions'][1]


def test_a_trusted_driver_is_a_whole_driver_name(captured_host, link_driver, capsys):
    code, result = run_module(tc_qdisc, {'device': 'hyp-cake0', 'qdiscs': CAKE, 'taprio_offload_drivers': ['igc; reboot']},
                              capsys)
    assert code == 1 and 'taprio_offload_drivers[0] must be a driver name of letters, digits' in result['msg']
    assert len(captured_host) == 0


def test_real_mode_runs_then_verifies(captured_host, capsys):
    # The capture does not change when a command "runs", so verification must fail and say what is left.
    plan = [dict(CAKE[0], options=dict(CAKE[0]['options'], bandwidth='200Mbit'))]
    code, result = run_module(tc_qdisc, {'device': 'hyp-cake0', 'qdiscs': plan}, capsys)
    assert code == 1
    assert 'still differs from the plan: cake at root: bandwidth 12500000 (wanted 25000000)' in result['msg']
    assert result['changed'] is True and len(result['actions']) == 1


# ---------------------------------------------------------------- the recorded run on a real kernel

@pytest.fixture(params=VM_RUNS, ids=[os.path.basename(os.path.dirname(p)) for p in VM_RUNS])
def vm_run(request):
    with open(request.param) as handle:
        record = json.load(handle)
    record['by_name'] = dict((step['name'], step) for step in record['steps'])
    return record


def test_a_recorded_run_exists():
    assert VM_RUNS, 'run workbench/capture/tc-qdisc-in-vm.sh trixie tests/unit/fixtures/tc-qdisc-vm'


def test_vm_run_had_the_multi_queue_links(vm_run):
    queues = dict((link['ifname'], link['num_tx_queues']) for link in vm_run['links'])
    assert queues == {'hyp-cake0': 8, 'hyp-tap0': 8, 'hyp-mq0': 8, 'hyp-two0': 2}


def _kinds(tree):
    return sorted((q['kind'], q.get('parent', 'root')) for q in tree if not q['handle'] == '0:')


def test_vm_apply_then_reapply_is_idempotent(vm_run):
    steps = vm_run['by_name']
    for first, again in (('cake-apply', 'cake-reapply'), ('cake-to-fq_codel', 'fq_codel-reapply'),
                         ('taprio-apply', 'taprio-reapply'), ('mq-apply', 'mq-reapply'),
                         ('taprio-schedule-and-etf-change', 'taprio-reapply-changed'), ('absent', 'absent-again')):
        assert steps[first]['rc'] == 0 and steps[first]['result']['changed'] is True, steps[first]
        assert steps[again]['rc'] == 0, steps[again]
        assert steps[again]['result']['changed'] is False and steps[again]['result']['actions'] == [], again
        assert steps[again]['tree_after'] == steps[again]['tree_before']


def test_vm_cake_apply_and_one_option_change(vm_run):
    steps = vm_run['by_name']
    applied = steps['cake-apply']
    assert applied['result']['actions'] == [['tc', 'qdisc', 'replace', 'dev', 'hyp-cake0', 'root', 'handle', '1:',
                                             'cake', 'bandwidth', '100Mbit', 'diffserv4', 'nat']]
    cake = applied['tree_after'][0]
    assert (cake['kind'], cake['handle'], cake['options']['bandwidth'], cake['options']['diffserv']) == \
        ('cake', '1:', 12500000, 'diffserv4')
    changed = steps['cake-change-bandwidth']
    assert len(changed['result']['actions']) == 1
    assert changed['result']['actions'][0][2] == 'replace'
    assert changed['tree_after'][0]['options']['bandwidth'] == 25000000
    # the change was made in place: same qdisc, other options kept
    assert changed['tree_after'][0]['handle'] == '1:' and changed['tree_after'][0]['options']['nat'] is True


def test_vm_check_mode_changes_nothing(vm_run):
    for name in ('cake-check-mode', 'absent-check-mode'):
        step = vm_run['by_name'][name]
        assert step['rc'] == 0 and step['result']['changed'] is True and len(step['result']['actions']) == 1
        assert step['tree_after'] == step['tree_before'], name
    step = vm_run['by_name']['cake-check-mode']
    assert 'bandwidth=12500000' in step['result']['diff']['before']
    assert 'bandwidth=25000000' in step['result']['diff']['after']


def test_vm_other_root_kind_is_deleted_then_created(vm_run):
    # A record of the planner before it grafted by replace (2026-11): a root of another kind is now replaced
    # without the delete (test_qdisc_plan.py, and on a real kernel workbench/tests/lab/test_lab_vm.py).
    step = vm_run['by_name']['cake-to-fq_codel']
    assert [a[2] for a in step['result']['actions']] == ['del', 'replace']
    root = step['tree_after'][0]
    assert root['kind'] == 'fq_codel' and root['options']['target'] in (2999, 3000)


def test_vm_taprio_tree_with_etf_children(vm_run):
    steps = vm_run['by_name']
    applied = steps['taprio-apply']
    assert [a[5] if a[5] == 'root' else a[6] for a in applied['result']['actions']] == ['root', '100:1', '100:2']
    assert ('etf', '100:1') in _kinds(applied['tree_after']) and ('etf', '100:2') in _kinds(applied['tree_after'])
    changed = steps['taprio-schedule-and-etf-change']
    # schedule in place (one replace), the changed etf deleted and created again (etf has no change operation)
    assert [(a[2], a[5] if a[5] == 'root' else a[6]) for a in changed['result']['actions']] == [
        ('replace', 'root'), ('del', '100:2'), ('replace', '100:2')]
    etf1_before = [q for q in changed['tree_before'] if q.get('parent') == '100:1'][0]
    etf1_after = [q for q in changed['tree_after'] if q.get('parent') == '100:1'][0]
    assert etf1_before['handle'] == etf1_after['handle'], 'the untouched etf must survive the schedule change'
    recreated = steps['taprio-num_tc-change']
    assert recreated['rc'] == 0, recreated
    assert [a[2] for a in recreated['result']['actions']] == ['del', 'replace', 'replace']
    assert recreated['tree_after'][0]['options']['tc'] == 2


def test_vm_mq_children(vm_run):
    steps = vm_run['by_name']
    assert _kinds(steps['mq-apply']['tree_after']) == [
        ('cake', '1:3'), ('fq', '1:1'), ('fq_codel', '1:2'), ('mq', 'root')]
    child = steps['mq-child-change']
    assert child['result']['actions'] == [['tc', 'qdisc', 'replace', 'dev', 'hyp-mq0', 'parent', '1:1', 'fq',
                                           'maxrate', '60mbit']]


def test_vm_validation_errors_change_nothing(vm_run):
    errors = [step for step in vm_run['steps'] if step['name'].startswith('error-')]
    assert len(errors) >= 9
    for step in errors:
        assert step['rc'] == 1, step
        assert step['result']['failed'] is True and step['result']['actions'] == [], step
        assert 'Traceback' not in step['stderr'] and 'Traceback' not in step['result']['msg']
        assert step['tree_after'] == step['tree_before'], step['name']
    messages = dict((step['name'], step['result']['msg']) for step in errors)
    assert 'need tx queues 6 to 9, but hyp-tap0 has 8 tx queues' in messages['error-taprio-queues-beyond-device']
    assert 'hyp-two0 has 2 tx queues' in messages['error-taprio-device-too-few-queues']
    assert 'etf needs clockid CLOCK_TAI' in messages['error-etf-clockid']
    assert messages['error-no-device'] == 'device hyp-none0 does not exist'


def test_vm_absent_brings_the_kernel_default_back(vm_run):
    for name in ('absent', 'absent-taprio', 'absent-mq'):
        step = vm_run['by_name'][name]
        assert step['result']['actions'] == [['tc', 'qdisc', 'del', 'dev', step['device'], 'root']]
        assert [q['handle'] for q in step['tree_after'] if q.get('root')] == ['0:']


def test_vm_probes_show_why_the_planner_deletes_first(vm_run):
    probes = dict((probe['name'], probe['commands']) for probe in vm_run['probes'])
    same_handle = probes['same-handle-other-kind-is-refused']
    assert same_handle[0]['rc'] == 0 and same_handle[1]['rc'] != 0
    etf = probes['etf-cannot-change-in-place']
    assert [c['rc'] == 0 for c in etf] == [True, True, False, False, True]


def test_the_documentation_parses_and_states_the_limits():
    import yaml
    doc = yaml.safe_load(tc_qdisc.DOCUMENTATION)
    options = ' '.join(doc['options']['qdiscs']['suboptions']['options']['description'])
    for words in ('2^64-1 bytes/s', 'a rate of 0 is refused', 'at least the sum of the intervals', 'at most 2^32-1',
                  'tc refuses C(100 mbit)', 'a power of two', 'V(software)', 'V(txtime-assist)', 'V(full-offload)',
                  'C(flags 0x1)', 'C(flags 0x2)', 'C(skip_sock_check)', 'no C(clockid) and no C(txtime_delay)'):
        assert words in options, words
    assert 'Linux 6.12.118' in ' '.join(doc['options']['taprio_offload_drivers']['description'])
    examples = yaml.safe_load(tc_qdisc.EXAMPLES)
    modes = [task['hyperion.kernel.tc_qdisc']['qdiscs'][0]['options'].get('mode') for task in examples
             if task['hyperion.kernel.tc_qdisc'].get('qdiscs') and task['hyperion.kernel.tc_qdisc']['qdiscs'][0]['kind'] == 'taprio']
    assert {'software', 'txtime-assist', 'full-offload'} <= set(modes)
    # Every example plan validates (on a link with 8 tx queues of unknown speed, as the captured dummy links).
    for task in examples:
        args = task['hyperion.kernel.tc_qdisc']
        if args.get('qdiscs'):
            validate_for_device(normalize_plan(args['qdiscs']), args['device'], 8)
    assert 'dev_valid_name' in ' '.join(doc['options']['device']['description'])

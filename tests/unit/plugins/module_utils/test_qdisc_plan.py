# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The qdisc planner against real tc -j captures of Debian's 6.1 and 6.12 kernels (qemu).

The live state is each VM capture's tc-j-qdisc-show.json; the plans are the
exact tc commands of its setup.txt, and the tx queue counts come from its
ip-j-d-link-show.json (dummy links made with numtxqueues 8).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import glob
import json
import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import (
    QdiscApplyError, apply_plan, live_tree, normalize_plan, plan_steps, predicted_tree, tree_text,
    tx_queue_count, validate_for_device)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
VM_CAPTURES = sorted(glob.glob(os.path.join(FIXTURES, 'vm', '*')))

# tc qdisc replace dev hyp-cake0 root handle 1: cake bandwidth 100Mbit diffserv4 nat
CAKE = [{'parent': 'root', 'handle': '1:', 'kind': 'cake',
         'options': {'bandwidth': '100Mbit', 'diffserv': 'diffserv4', 'nat': True}}]
# tc qdisc replace dev hyp-taprio0 parent root handle 100 taprio num_tc 3 map 2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2
#   queues 1@0 1@1 2@2 base-time 1000000000 sched-entry S 01 300000 sched-entry S 02 300000
#   sched-entry S 04 400000 clockid CLOCK_TAI
# tc qdisc replace dev hyp-taprio0 parent 100:1 etf clockid CLOCK_TAI delta 300000
# tc qdisc replace dev hyp-taprio0 parent 100:2 etf clockid CLOCK_TAI delta 200000 deadline_mode skip_sock_check
TAPRIO = [
    {'parent': 'root', 'handle': '100', 'kind': 'taprio', 'options': {
        'num_tc': 3, 'map': '2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2', 'queues': '1@0 1@1 2@2', 'base-time': 1000000000,
        'sched_entries': [{'command': 'S', 'gatemask': '01', 'interval': 300000},
                          {'command': 'S', 'gatemask': '02', 'interval': 300000},
                          {'command': 'S', 'gatemask': '04', 'interval': 400000}],
        'clockid': 'CLOCK_TAI'}},
    {'parent': '100:1', 'kind': 'etf', 'options': {'clockid': 'CLOCK_TAI', 'delta': 300000}},
    {'parent': '100:2', 'kind': 'etf', 'options': {'clockid': 'CLOCK_TAI', 'delta': 200000, 'deadline_mode': True,
                                                   'skip_sock_check': True}},
]
# tc qdisc replace dev hyp-mq0 root handle 1: mq, then fq on odd and fq_codel on even classes 1:1 to 1:8
MQ = [{'parent': 'root', 'handle': '1:', 'kind': 'mq'}] + [
    {'parent': '1:%d' % minor, 'kind': 'fq' if minor % 2 else 'fq_codel'} for minor in range(1, 9)]


class Capture(object):
    def __init__(self, path):
        with open(os.path.join(path, 'cmd', 'tc-j-qdisc-show.json')) as handle:
            self.tc = json.load(handle)
        with open(os.path.join(path, 'cmd', 'ip-j-d-link-show.json')) as handle:
            self.links = json.load(handle)

    def steps(self, device, qdiscs, state='present'):
        plan = normalize_plan(copy.deepcopy(qdiscs), state)
        validate_for_device(plan, device, tx_queue_count(self.links, device))
        return plan_steps(device, plan, live_tree(self.tc, device), state)

    def actions(self, device, qdiscs, state='present'):
        return [argv for argv, _reason in self.steps(device, qdiscs, state)]

    def runner(self):
        """A run() that answers the module's two reads from the capture and records every other command."""
        calls = []

        def run(argv):
            calls.append(argv)
            if argv[:2] == ['ip', '-j']:
                device = argv[-1]
                found = [link for link in self.links if link['ifname'] == device]
                return (0, json.dumps(found), '') if found else (1, '', 'Device "%s" does not exist.' % device)
            if argv[:3] == ['tc', '-j', 'qdisc']:
                return 0, json.dumps([q for q in self.tc if q['dev'] == argv[-1]]), ''
            return 0, '', ''
        return run, calls


@pytest.fixture(params=VM_CAPTURES, ids=[os.path.basename(p) for p in VM_CAPTURES])
def vm(request):
    return Capture(request.param)


def test_captures_have_the_multi_queue_dummy_links(vm):
    assert len(VM_CAPTURES) >= 2
    assert tx_queue_count(vm.links, 'hyp-taprio0') == 8
    assert tx_queue_count(vm.links, 'ens3') == 1


@pytest.mark.parametrize('device, qdiscs', [
    ('hyp-cake0', CAKE),
    ('hyp-cake1', [{'kind': 'cake', 'handle': '1:', 'options': {'bandwidth': 'unlimited', 'diffserv': 'besteffort'}}]),
    ('hyp-taprio0', TAPRIO),
    ('hyp-mq0', MQ),
    ('hyp-fq0', [{'kind': 'fq', 'options': {'maxrate': '50mbit'}}]),
    # 3ms reads back as 2999us: still the same
    ('hyp-fqcodel0', [{'kind': 'fq_codel', 'options': {'target': '3ms', 'interval': '60ms', 'ecn': True}}]),
])
def test_the_setup_plan_needs_nothing_on_its_capture(vm, device, qdiscs):
    assert vm.actions(device, qdiscs) == []


def test_a_changed_bandwidth_is_one_replace(vm):
    plan = copy.deepcopy(CAKE)
    plan[0]['options']['bandwidth'] = '200Mbit'
    steps = vm.steps('hyp-cake0', plan)
    assert [argv for argv, _reason in steps] == [
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-cake0', 'root', 'handle', '1:', 'cake', 'bandwidth', '200Mbit',
         'diffserv4', 'nat']]
    assert steps[0][1] == 'cake at root: bandwidth 12500000 (wanted 25000000)'


def test_another_root_kind_is_grafted_not_deleted_first(vm):
    # hyp-fq0 has fq 8001:; replace with another handle builds the cake and swaps it in only once the kernel took it.
    assert vm.actions('hyp-fq0', [{'kind': 'cake', 'handle': '1:', 'options': {'bandwidth': '50mbit'}}]) == [
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-fq0', 'root', 'handle', '1:', 'cake', 'bandwidth', '50mbit']]
    assert vm.actions('hyp-fq0', [{'kind': 'cake'}]) == [['tc', 'qdisc', 'replace', 'dev', 'hyp-fq0', 'root', 'cake']]


def test_another_kind_on_the_same_handle_goes_through_a_spare_handle(vm):
    live = list(live_tree(vm.tc, 'hyp-fq0'))
    handle = live[0]['handle']
    assert vm.actions('hyp-fq0', [{'kind': 'fq_codel', 'handle': handle}]) == [
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-fq0', 'root', 'handle', 'fff0:', 'fq_codel'],
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-fq0', 'root', 'handle', handle, 'fq_codel']]


def test_only_a_taprio_over_a_taprio_is_deleted_first(vm):
    plan = copy.deepcopy(TAPRIO)
    plan[0]['options']['num_tc'] = 2
    plan[0]['options']['queues'] = ['1@0', '1@1']
    plan[0]['options']['map'] = [1, 1, 0]
    plan[0]['options']['sched_entries'] = [{'gatemask': '01', 'interval': 500000}, {'gatemask': '02', 'interval': 500000}]
    plan = plan[:1]
    actions = vm.actions('hyp-taprio0', plan)
    assert actions[0] == ['tc', 'qdisc', 'del', 'dev', 'hyp-taprio0', 'root']
    assert actions[1][:8] == ['tc', 'qdisc', 'replace', 'dev', 'hyp-taprio0', 'root', 'handle', '100:']
    assert len(actions) == 2


def test_a_kernel_default_root_is_replaced_without_delete(vm):
    # ens3 has the kernel's fq_codel 0: (default_qdisc), which cannot be deleted
    assert vm.actions('ens3', [{'kind': 'fq_codel', 'options': {'target': '5ms'}}]) == []
    assert vm.actions('ens3', [{'kind': 'cake', 'options': {'bandwidth': '1gbit'}}]) == [
        ['tc', 'qdisc', 'replace', 'dev', 'ens3', 'root', 'cake', 'bandwidth', '1gbit']]


def test_taprio_schedule_changes_in_place_and_keeps_the_etf_children(vm):
    plan = copy.deepcopy(TAPRIO)
    plan[0]['options']['sched_entries'][2]['interval'] = 500000
    actions = vm.actions('hyp-taprio0', plan)
    assert len(actions) == 1
    assert actions[0][:9] == ['tc', 'qdisc', 'replace', 'dev', 'hyp-taprio0', 'root', 'handle', '100:', 'taprio']
    assert actions[0][-14:] == ['sched-entry', 'S', '01', '300000', 'sched-entry', 'S', '02', '300000',
                                'sched-entry', 'S', '04', '500000', 'clockid', 'CLOCK_TAI']


def test_taprio_new_traffic_classes_recreate_the_tree_children_after_parent(vm):
    plan = copy.deepcopy(TAPRIO)
    plan[0]['options'].update({'num_tc': 2, 'map': [1, 1, 0, 0], 'queues': ['1@0', '7@1']})
    for entry in plan[0]['options']['sched_entries']:
        entry['gatemask'] = '03'
    actions = vm.actions('hyp-taprio0', plan)
    assert [a[2] for a in actions] == ['del', 'replace', 'replace', 'replace']
    assert [a[5] if a[5] == 'root' else a[6] for a in actions] == ['root', 'root', '100:1', '100:2']
    assert actions[1][actions[1].index('queues') + 1:actions[1].index('base-time')] == ['1@0', '7@1']


def test_an_etf_cannot_change_so_a_new_one_is_grafted_under_a_spare_handle(vm):
    plan = copy.deepcopy(TAPRIO)
    plan[1]['options']['deadline_mode'] = True
    plan[2]['options']['delta'] = 100000
    assert vm.actions('hyp-taprio0', plan) == [
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-taprio0', 'parent', '100:1', 'handle', 'fff0:', 'etf', 'clockid',
         'CLOCK_TAI', 'delta', '300000', 'deadline_mode'],
        # each new etf gets its own spare handle
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-taprio0', 'parent', '100:2', 'handle', 'ffef:', 'etf', 'clockid',
         'CLOCK_TAI', 'delta', '100000', 'deadline_mode', 'skip_sock_check']]


def test_mq_children_replace_only_what_differs(vm):
    plan = copy.deepcopy(MQ)
    plan[1]['options'] = {'maxrate': '50mbit'}
    plan[4] = {'parent': '1:4', 'kind': 'cake'}
    assert vm.actions('hyp-mq0', plan) == [
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-mq0', 'parent', '1:1', 'fq', 'maxrate', '50mbit'],
        ['tc', 'qdisc', 'replace', 'dev', 'hyp-mq0', 'parent', '1:4', 'cake']]


def test_absent_removes_a_managed_root_and_leaves_a_default_one(vm):
    assert vm.actions('hyp-mq0', [], 'absent') == [['tc', 'qdisc', 'del', 'dev', 'hyp-mq0', 'root']]
    assert vm.actions('ens3', [], 'absent') == []
    assert vm.actions('lo', [], 'absent') == []


@pytest.mark.parametrize('device, change, message', [
    ('hyp-taprio0', {'queues': ['1@0', '1@1', '4@6']}, 'taprio queues 4@6 (traffic class 2) need tx queues 6 to 9, '
                                                       'but hyp-taprio0 has 8 tx queues (0 to 7)'),
    ('ens3', {}, 'taprio needs a multi-queue device; ens3 has 1 tx queue'),
    ('hyp-taprio0', {'queues': ['2@0', '1@1', '1@3']}, 'queues 1@1 of traffic class 1 overlap 2@0 of traffic class 0'),
    ('hyp-taprio0', {'map': [3, 2, 1, 0]}, 'map sends priority 0 to traffic class 3, but num_tc 3 only has classes 0 to 2'),
    ('hyp-taprio0', {'queues': ['1@0', '1@1']}, 'queues needs one COUNT@OFFSET per traffic class (num_tc 3), got 2'),
    ('hyp-taprio0', {'sched_entries': [{'command': 'S', 'gatemask': '0x9', 'interval': 1000}]},
     'sched_entries[0] gatemask 0x9 opens gates beyond the 3 traffic classes (highest allowed mask 0x7)'),
    ('hyp-taprio0', {'sched_entries': [{'command': 'X', 'gatemask': '1', 'interval': 1000}]}, "command 'X' is not one of"),
    ('hyp-taprio0', {'base-time': '1s'}, 'base_time (nanoseconds) must be an integer'),
    ('hyp-taprio0', {'base_time': 0}, 'option base_time is given twice'),
    ('hyp-taprio0', {'num_tc': 17}, 'num_tc must be from 1 to 16 (TC_QOPT_MAX_QUEUE), got 17'),
])
def test_taprio_validation_against_the_real_tx_queue_counts(vm, device, change, message):
    plan = copy.deepcopy(TAPRIO[:1])
    plan[0]['options'].update(change)
    with pytest.raises(HyperionError) as excinfo:
        vm.actions(device, plan)
    assert message in str(excinfo.value)


def test_mq_classes_beyond_the_tx_queues(vm):
    with pytest.raises(HyperionError) as excinfo:
        vm.actions('hyp-mq0', [MQ[0], {'parent': '1:9', 'kind': 'fq'}])
    assert 'mq 1: has one class per tx queue, so classes 1:1 to 1:8 on hyp-mq0 (8 tx queues)' in str(excinfo.value)


@pytest.mark.parametrize('qdiscs, message', [
    ([{'kind': 'red'}], "unknown qdisc kind 'red'; this module manages cake, etf, fq, fq_codel, mq, taprio"),
    ([{'kind': 'cake', 'options': {'speed': 1}}], "qdiscs[0] (cake at root): unknown option 'speed' for cake; it takes bandwidth,"),
    ([{'kind': 'mq', 'options': {'x': 1}}], "unknown option 'x' for mq; it takes none"),
    ([{'kind': 'cake', 'options': {'bandwidth': '100Mbytes'}}],
     "option bandwidth: rate '100Mbytes' has an unknown unit 'mbytes'"),
    ([{'kind': 'fq_codel', 'options': {'target': '3weeks'}}], "(fq_codel at root) option target: time '3weeks' has an unknown unit 'weeks'"),
    ([{'kind': 'cake', 'options': {'nat': 'maybe'}}], "option nat must be true or false, not 'maybe'"),
    ([{'kind': 'cake', 'options': {'diffserv': 'diffserv5'}}], "option diffserv 'diffserv5' is not one of besteffort,"),
    ([{'kind': 'etf', 'options': {'delta': 1}}], 'etf only works as the child of a taprio or mqprio class'),
    ([MQ[0], {'parent': '1:1', 'kind': 'etf'}], 'etf needs a taprio or mqprio class as its parent, and 1:1 is a class of mq'),
    ([TAPRIO[0], {'parent': '100:1', 'kind': 'etf', 'options': {'clockid': 'CLOCK_REALTIME'}}],
     'etf needs clockid CLOCK_TAI'),
    ([TAPRIO[0], {'parent': '100:1', 'kind': 'etf', 'options': {'clockid': 'CLOCK_FOO'}}], "clockid 'CLOCK_FOO' is not one of"),
    ([{'kind': 'cake'}, {'parent': '1:1', 'kind': 'fq'}], 'the root qdisc cake has no classes to attach children to'),
    ([{'kind': 'mq'}, {'parent': '1:1', 'kind': 'fq'}], 'the root qdisc mq needs a handle'),
    ([MQ[0], {'parent': '2:1', 'kind': 'fq'}], 'parent 2:1 is not a class of the root qdisc mq 1:'),
    ([MQ[0], {'parent': '1:1', 'kind': 'fq'}, {'parent': '1:01', 'kind': 'fq'}], 'two qdiscs at parent 1:1'),
    ([MQ[0], {'parent': '1:1', 'kind': 'mq'}], 'mq can only be the root qdisc'),
    ([{'parent': '1:1', 'kind': 'fq'}], 'exactly one qdisc at parent root, it has 0'),
    ([{'kind': 'fq', 'handle': 'x1'}], "handle 'x1' is not a qdisc handle"),
    ([{'kind': 'fq', 'parent': '1'}], "parent '1' is neither root nor a class id"),
    ([{'kind': 'fq', 'weight': 3}], 'unknown keys weight'),
    ([{'kind': 'taprio', 'options': {'num_tc': 1}}], 'taprio needs the options map, queues, sched_entries, clockid'),
    ([], 'state=present needs qdiscs'),
])
def test_plan_errors_are_clear(qdiscs, message):
    with pytest.raises(HyperionError) as excinfo:
        normalize_plan(copy.deepcopy(qdiscs))
    assert message in str(excinfo.value)


def test_absent_takes_no_plan():
    with pytest.raises(HyperionError) as excinfo:
        normalize_plan(CAKE, 'absent')
    assert 'do not give qdiscs with it' in str(excinfo.value)


def test_handles_and_parents_read_as_tc_reads_them():
    plan = normalize_plan([{'kind': 'mq', 'handle': '0100'}, {'parent': '100:0a', 'kind': 'fq'},
                           {'parent': '100:2', 'kind': 'fq'}])
    assert [(e['parent'], e['handle']) for e in plan] == [('root', '100:'), ('100:2', None), ('100:a', None)]


def test_apply_runs_the_commands_then_verifies(vm):
    run, calls = vm.runner()
    plan = copy.deepcopy(CAKE)
    plan[0]['options']['bandwidth'] = '200Mbit'
    with pytest.raises(QdiscApplyError) as excinfo:
        # The fake run() accepts the replace but the capture does not change: verification must notice.
        apply_plan(run, 'hyp-cake0', plan)
    assert 'tc accepted every command, but hyp-cake0 still differs from the plan' in str(excinfo.value)
    assert excinfo.value.executed == [calls[2]]
    assert calls[2][:3] == ['tc', 'qdisc', 'replace']


def test_apply_in_check_mode_only_reads(vm):
    run, calls = vm.runner()
    result = apply_plan(run, 'hyp-cake0', [], 'absent', check_mode=True)
    assert result['changed'] is True
    assert result['actions'] == [['tc', 'qdisc', 'del', 'dev', 'hyp-cake0', 'root']]
    assert [c[0] for c in calls] == ['ip', 'tc']
    assert result['before'].startswith('cake 1: root bandwidth=12500000 diffserv=diffserv4')
    assert result['after'] == '(kernel default) 0: root\n'


def test_apply_stops_at_the_first_failed_command(vm):
    run, calls = vm.runner()

    def failing(argv):
        if argv[2] == 'replace':
            return 2, '', 'Error: Specified qdisc kind is unknown.'
        return run(argv)
    with pytest.raises(QdiscApplyError) as excinfo:
        apply_plan(failing, 'hyp-fq0', [{'kind': 'cake', 'handle': '1:'}])
    assert str(excinfo.value) == ('tc qdisc replace dev hyp-fq0 root handle 1: cake failed (rc 2): '
                                  'Error: Specified qdisc kind is unknown.')
    # The old fq root was never deleted: the refused replace was the first changing command.
    assert excinfo.value.executed == []
    assert not [argv for argv in calls if argv[2] == 'del']


def test_unknown_device_is_an_error_before_any_tc_command(vm):
    run, calls = vm.runner()
    with pytest.raises(HyperionError) as excinfo:
        apply_plan(run, 'hyp-none0', CAKE)
    assert str(excinfo.value) == 'device hyp-none0 does not exist'
    assert len(calls) == 1


def test_diff_prediction_in_check_mode(vm):
    plan = normalize_plan(copy.deepcopy(TAPRIO))
    plan[2]['values']['delta'] = 250000
    live = live_tree(vm.tc, 'hyp-taprio0')
    after = tree_text(predicted_tree(plan, live))
    # etf is created again, so the kernel picks its handle
    assert 'etf (auto) parent 100:2 clockid=CLOCK_TAI delta=250000 deadline_mode=on skip_sock_check=on\n' in after
    assert 'etf 8001: parent 100:1 clockid=CLOCK_TAI delta=300000 deadline_mode=off' in after
    assert 'pfifo 0: parent 100:8' in after

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""taprio's three modes in the planner: software, txtime-assist (flags 0x1) and full-offload (flags 0x2).

The live side starts from the real captures of a software taprio (Debian's 6.1 and 6.12 under qemu,
tc-j-qdisc-show-dev-hyp-taprio0.json). What the other modes change in that output is what
taprio_dump() in net/sched/sch_taprio.c sends and q_taprio.c's print_opt prints: "flags" (only when not
0, as print_0xhex() prints the gate masks: "0x1"), "txtime_delay" (only when not 0) and no "clockid" in
full offload. A capture of a txtime-assist taprio (workbench/capture/capture-state.sh sets one up on
hyp-taprio1) is read when there is one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import glob
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import (
    TAPRIO_FLAGS, apply_plan, live_tree, live_values, normalize_plan, plan_steps, scheduled_tx_queues, tree_text,
    validate_for_device, validate_offload_driver)
from ansible_collections.hyperion.kernel.tests.unit.plugins.module_utils.qdisc_strategies import (
    TAPRIO_MODES, taprio_plan)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
VM_CAPTURES = sorted(glob.glob(os.path.join(FIXTURES, 'vm', '*')))
TXTIME_CAPTURES = sorted(glob.glob(os.path.join(FIXTURES, 'vm', '*', 'cmd', 'tc-j-qdisc-show-dev-hyp-taprio1.json')))

SCHEDULE = [{'command': 'S', 'gatemask': '01', 'interval': 300000}, {'command': 'S', 'gatemask': '02', 'interval': 300000},
            {'command': 'S', 'gatemask': '04', 'interval': 400000}]
# The captures' setup: tc qdisc replace dev hyp-taprio0 parent root handle 100 taprio num_tc 3 map 2 2 1 0 2 ...
#   queues 1@0 1@1 2@2 base-time 1000000000 sched-entry S 01 300000 ... clockid CLOCK_TAI
SOFTWARE = {'num_tc': 3, 'map': '2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2', 'queues': '1@0 1@1 2@2', 'base_time': 1000000000,
            'sched_entries': SCHEDULE, 'clockid': 'CLOCK_TAI'}
# tc-taprio(8)'s txtime-assist example: the three traffic classes share tx queue 0, its etf sends at the txtime.
TXTIME = dict(SOFTWARE, queues='1@0 1@0 1@0', mode='txtime-assist', txtime_delay=200000)
TXTIME_ETF = {'parent': '100:1', 'kind': 'etf', 'options': {'delta': 100000, 'skip_sock_check': True}}
FULL = dict((key, value) for key, value in SOFTWARE.items() if key != 'clockid')
FULL['mode'] = 'full-offload'


def taprio(options, handle='100:'):
    return {'parent': 'root', 'handle': handle, 'kind': 'taprio', 'options': dict(options)}


def captured_tree(path):
    with open(os.path.join(path, 'cmd', 'tc-j-qdisc-show.json')) as handle:
        return [q for q in json.load(handle) if q['dev'] == 'hyp-taprio0']


def in_mode(tree, mode, txtime_delay=None):
    """The captured tree as tc -j would print it with the taprio in MODE (see the module docstring)."""
    tree = copy.deepcopy(tree)
    options = tree[0]['options']
    if TAPRIO_FLAGS[mode]:
        options['flags'] = '0x%x' % TAPRIO_FLAGS[mode]
    if txtime_delay:
        options['txtime_delay'] = txtime_delay
    if mode == 'full-offload':
        del options['clockid']
    return tree


@pytest.fixture(params=VM_CAPTURES, ids=[os.path.basename(p) for p in VM_CAPTURES])
def software_tree(request):
    return captured_tree(request.param)


def steps(qdiscs, live_json, device='hyp-taprio0'):
    plan = normalize_plan(copy.deepcopy(qdiscs))
    validate_for_device(plan, device, 8)
    return plan_steps(device, plan, live_tree(live_json, device))


# ---------------------------------------------------------------- the captures

def test_a_captured_software_taprio_reads_as_mode_software(software_tree):
    assert software_tree[0]['kind'] == 'taprio' and 'flags' not in software_tree[0]['options']
    values = live_values(live_tree(software_tree, 'hyp-taprio0')[0])
    assert values['mode'] == 'software' and 'txtime_delay' not in values
    assert values['clockid'] == 'CLOCK_TAI'


def test_software_given_or_left_out_is_the_capture(software_tree):
    for options in (SOFTWARE, dict(SOFTWARE, mode='software'), dict(SOFTWARE, mode='SOFTWARE')):
        assert steps([taprio(options)], software_tree) == []
    # The tree text names the mode on both sides of a diff.
    assert 'clockid=CLOCK_TAI mode=software\n' in tree_text(live_tree(software_tree, 'hyp-taprio0'))


def test_txtime_assist_over_the_captured_software_taprio_is_a_new_tree(software_tree):
    actions = [argv for argv, _reason in steps([taprio(TXTIME), TXTIME_ETF], software_tree)]
    # flags cannot change on a running taprio, and a taprio is deleted before another takes its place.
    assert actions[0] == ['tc', 'qdisc', 'del', 'dev', 'hyp-taprio0', 'root']
    assert actions[1][:9] == ['tc', 'qdisc', 'replace', 'dev', 'hyp-taprio0', 'root', 'handle', '100:', 'taprio']
    assert actions[1][actions[1].index('queues'):actions[1].index('base-time')] == ['queues', '1@0', '1@0', '1@0']
    assert actions[1][-6:] == ['clockid', 'CLOCK_TAI', 'flags', '0x1', 'txtime-delay', '200000']
    assert actions[2] == ['tc', 'qdisc', 'replace', 'dev', 'hyp-taprio0', 'parent', '100:1', 'etf', 'clockid',
                          'CLOCK_TAI', 'delta', '100000', 'skip_sock_check']
    assert len(actions) == 3


def test_a_txtime_assist_taprio_reads_back_with_its_flags_and_delay(software_tree):
    live = in_mode(software_tree, 'txtime-assist', 200000)
    values = live_values(live_tree(live, 'hyp-taprio0')[0])
    assert (values['mode'], values['txtime_delay']) == ('txtime-assist', 200000)
    # The same taprio planned: nothing for the root; the etf children the mode needs are what is left.
    etfs = [{'parent': '100:%d' % minor, 'kind': 'etf', 'options': {'delta': 300000, 'skip_sock_check': True}}
            for minor in (1, 2, 3, 4)]
    left = steps([taprio(dict(TXTIME, queues=SOFTWARE['queues']))] + etfs, live)
    assert [argv[6] for argv, _reason in left] == ['100:1', '100:2', '100:3', '100:4']
    assert all(argv[5] == 'parent' and 'etf' in argv for argv, _reason in left)


def test_a_changed_txtime_delay_changes_in_place_and_keeps_the_flags(software_tree):
    live = in_mode(software_tree, 'txtime-assist', 200000)
    # The capture's queues 1@0 1@1 2@2: the open gates use tx queues 0 to 3 (classes 100:1 to 100:4).
    etfs = [{'parent': '100:%d' % minor, 'kind': 'etf', 'options': {'skip_sock_check': True}} for minor in (1, 2, 3, 4)]
    plan = [taprio(dict(TXTIME, queues=SOFTWARE['queues'], txtime_delay=250000))] + etfs
    root_steps = [(argv, reason) for argv, reason in steps(plan, live) if argv[5] == 'root']
    assert len(root_steps) == 1
    argv, reason = root_steps[0]
    assert argv[2] == 'replace' and reason == 'taprio at root: txtime_delay 200000 (wanted 250000)'
    # The kernel reads a change without flags as flags 0, which it refuses on a running taprio.
    assert argv[-4:] == ['flags', '0x1', 'txtime-delay', '250000']


def test_a_full_offload_taprio_reads_back_without_a_clock(software_tree):
    live = in_mode(software_tree, 'full-offload')
    values = live_values(live_tree(live, 'hyp-taprio0')[0])
    assert values['mode'] == 'full-offload' and 'clockid' not in values
    assert steps([taprio(FULL)], live) == []
    # Back to software: the flags cannot change, so the taprio is deleted first and made again.
    actions = [argv for argv, _reason in steps([taprio(SOFTWARE)], live)]
    assert [argv[2] for argv in actions] == ['del', 'replace'] and 'flags' not in actions[1]


def test_flags_tc_cannot_mean_are_unreadable_not_a_mode(software_tree):
    for flags in ('0x3', 'junk', '0x4'):
        live = copy.deepcopy(software_tree)
        live[0]['options']['flags'] = flags
        assert live_values(live_tree(live, 'hyp-taprio0')[0])['mode'] == ('unreadable', flags)
    # A number (an iproute2 that printed it as one) is read as well.
    live = copy.deepcopy(software_tree)
    live[0]['options']['flags'] = 1
    assert live_values(live_tree(live, 'hyp-taprio0')[0])['mode'] == 'txtime-assist'


@pytest.mark.skipif(not TXTIME_CAPTURES, reason='no capture of a txtime-assist taprio yet (workbench/capture/capture-state.sh '
                                                'sets one up on hyp-taprio1; re-capture on a kernel with sch_taprio)')
@pytest.mark.parametrize('path', TXTIME_CAPTURES)
def test_a_captured_txtime_assist_taprio_is_its_setup(path):
    with open(path) as handle:
        live = json.load(handle)
    assert live[0]['options']['flags'] == '0x1'
    # capture-state.sh: ... queues 1@0 1@0 1@0 ... flags 0x1 txtime-delay 200000 clockid CLOCK_TAI, etf at 100:1
    plan = [taprio(TXTIME), {'parent': '100:1', 'kind': 'etf', 'options': {'delta': 100000, 'skip_sock_check': True}}]
    assert steps(plan, live, device='hyp-taprio1') == []


# ---------------------------------------------------------------- the rules, with their messages

@pytest.mark.parametrize('qdiscs, message', [
    ([taprio(dict(SOFTWARE, mode='fast'))],
     'option mode "fast" is not one of software, txtime-assist, full-offload (tc\'s flags 0x0, 0x1, 0x2)'),
    ([taprio(dict(SOFTWARE, mode=True))], 'option mode True is not one of software, txtime-assist, full-offload'),
    ([taprio(dict(SOFTWARE, flags='0x1'))],
     "unknown option 'flags' for taprio (tc's flags are the option mode here: software, txtime-assist or full-offload)"),
    # software: a clock for the kernel's timer, no txtime_delay
    ([taprio(dict((k, v) for k, v in SOFTWARE.items() if k != 'clockid'))], 'taprio needs the options clockid'),
    ([taprio(dict(SOFTWARE, txtime_delay=1000))],
     'option txtime_delay is for mode txtime-assist only; the kernel refuses it in mode software ("txtime-delay can '
     'only be set when txtime-assist mode is enabled", sch_taprio.c)'),
    # txtime-assist: a clock (TAI, the etf's), a delay, an etf with skip_sock_check on each used tx queue
    ([taprio(dict((k, v) for k, v in TXTIME.items() if k != 'txtime_delay')), TXTIME_ETF],
     'taprio needs the options txtime_delay (mode txtime-assist stamps each packet with the time its gate opens, at '
     'least txtime_delay nanoseconds ahead: the longest a packet takes from taprio to the network card, tc-taprio(8))'),
    ([taprio(dict((k, v) for k, v in TXTIME.items() if k != 'clockid')), TXTIME_ETF], 'taprio needs the options clockid'),
    ([taprio(dict(TXTIME, clockid='CLOCK_MONOTONIC')), TXTIME_ETF],
     'mode txtime-assist needs clockid CLOCK_TAI, not CLOCK_MONOTONIC: taprio stamps each packet with a txtime on '
     'its clock, and the etf children that send at that time take no clock but CLOCK_TAI (sch_etf.c)'),
    ([taprio(dict(TXTIME, txtime_delay=0)), TXTIME_ETF],
     'option txtime_delay must be from 1 to 4294967295 nanoseconds (tc\'s and the kernel\'s unsigned 32-bit '
     'nanoseconds, not 0), got 0'),
    ([taprio(dict(TXTIME, txtime_delay=2 ** 32)), TXTIME_ETF], 'got 4294967296'),
    ([taprio(dict(TXTIME, txtime_delay='200us')), TXTIME_ETF], "txtime_delay (nanoseconds) must be an integer, not '200us'"),
    ([taprio(TXTIME)],
     'taprio at root in mode txtime-assist needs an etf child (with skip_sock_check: true) on each tx queue its open '
     'gates use, and has none at 100:1 (tx queue 0: traffic classes 0, 1, 2): taprio only stamps each packet\'s '
     'txtime in this mode, the etf sends it then (tc-taprio(8))'),
    ([taprio(dict(TXTIME, queues='1@0 1@1 2@2'))],
     'has none at 100:1 (tx queue 0: traffic class 0), 100:2 (tx queue 1: traffic class 1), 100:3 (tx queue 2: '
     'traffic class 2), 100:4 (tx queue 3: traffic class 2)'),
    ([taprio(TXTIME, handle=None)],
     'taprio at root in mode txtime-assist needs an etf child on each tx queue its open gates use (tx queue 0), so it '
     'needs a handle (such as "100:") for them to name their parent'),
    ([taprio(TXTIME), {'parent': '100:1', 'kind': 'etf', 'options': {'delta': 100000}}],
     'etf at 100:1: under a taprio in mode txtime-assist the etf needs skip_sock_check: true; without it etf drops '
     'every packet whose socket did not set SO_TXTIME, and here the txtime comes from taprio (sch_etf.c)'),
    ([taprio(TXTIME), {'parent': '100:1', 'kind': 'fq_codel'}],
     'fq_codel at 100:1: taprio at root in mode txtime-assist needs an etf on tx queue 0 (traffic classes 0, 1, 2), '
     'which sends the packets at the txtime taprio gives them, not fq_codel'),
    ([taprio(TXTIME), dict(TXTIME_ETF, options={'clockid': 'CLOCK_REALTIME', 'skip_sock_check': True})],
     'etf needs clockid CLOCK_TAI'),
    # full offload: the card's own clock, no delay
    ([taprio(dict(FULL, clockid='CLOCK_TAI'))],
     'mode full-offload takes no clockid: the network card runs the schedule on its own PTP clock, and the kernel '
     'refuses one ("The \'clockid\' cannot be specified for full offload", sch_taprio.c)'),
    ([taprio(dict(FULL, txtime_delay=5))], 'option txtime_delay is for mode txtime-assist only; the kernel refuses it in '
                                           'mode full-offload'),
    # Only txtime-assist lets traffic classes share tx queues.
    ([taprio(dict(FULL, queues='1@0 1@0 1@0'))], 'queues 1@0 of traffic class 1 overlap 1@0 of traffic class 0'),
])
def test_mode_rules_are_clear_errors(qdiscs, message):
    with pytest.raises(HyperionError) as excinfo:
        normalize_plan(copy.deepcopy(qdiscs))
    assert message in str(excinfo.value)


def test_txtime_assist_needs_no_etf_where_no_gate_opens():
    # Traffic class 2 (tx queues 2 and 3) never opens: only 100:1 and 100:2 need an etf.
    schedule = [{'gatemask': '01', 'interval': 300000}, {'gatemask': '03', 'interval': 300000}]
    plan = [taprio(dict(TXTIME, queues='1@0 1@1 2@2', sched_entries=schedule))] + [
        {'parent': '100:%d' % minor, 'kind': 'etf', 'options': {'skip_sock_check': True}} for minor in (1, 2)]
    entries = normalize_plan(plan)
    assert scheduled_tx_queues(entries[0]['values']) == {0: [0], 1: [1]}
    assert [e['parent'] for e in entries] == ['root', '100:1', '100:2']


def test_full_offload_is_refused_on_the_captured_dummy_before_any_tc_command():
    capture = VM_CAPTURES[-1]
    with open(os.path.join(capture, 'cmd', 'tc-j-qdisc-show.json')) as handle:
        tc = json.load(handle)
    with open(os.path.join(capture, 'cmd', 'ip-j-d-link-show.json')) as handle:
        links = json.load(handle)
    calls = []

    def run(argv):
        calls.append(argv)
        if argv[:2] == ['ip', '-j']:
            return 0, json.dumps([link for link in links if link['ifname'] == argv[-1]]), ''
        return 0, json.dumps([q for q in tc if q['dev'] == argv[-1]]), ''
    # hyp-taprio0 is a dummy link: no device, so no driver (taprio_offload.read_link_driver gives None).
    with pytest.raises(HyperionError) as excinfo:
        apply_plan(run, 'hyp-taprio0', [taprio(FULL)], offload=(None, []))
    assert 'hyp-taprio0 has no device driver' in str(excinfo.value)
    assert [argv[:2] for argv in calls] == [['ip', '-j'], ['tc', '-j']]
    # A driver the site trusts, and a listed one, take it; the check can be left to the caller (convergence_info).
    for offload in (('vendor_tsn', ['vendor_tsn']), ('igc', []), None):
        result = apply_plan(run, 'hyp-taprio0', [taprio(FULL)], check_mode=True, offload=offload)
        assert result['actions'][0][2] == 'del' and result['actions'][1][-2:] == ['flags', '0x2']
    with pytest.raises(HyperionError) as excinfo:
        apply_plan(run, 'hyp-taprio0', [taprio(SOFTWARE)], offload=(None, ['bad driver']))
    assert 'taprio_offload_drivers[0] must be a driver name' in str(excinfo.value)


def test_software_and_txtime_assist_need_no_driver():
    for qdiscs in ([taprio(SOFTWARE)], [taprio(TXTIME), TXTIME_ETF]):
        assert validate_offload_driver(normalize_plan(copy.deepcopy(qdiscs)), 'd0', None) is None


# ---------------------------------------------------------------- properties

def _mode_rules_hold(qdiscs):
    """The rules of tc-taprio(8), sch_taprio.c and sch_etf.c restated on the plan as written."""
    options = qdiscs[0]['options']
    mode = options.get('mode', 'software')
    queues = [tuple(int(n) for n in word.split('@')) for word in options['queues']]
    shared = len(set(offset for _count, offset in queues)) < len(queues)
    if mode == 'full-offload':
        return 'clockid' not in options and 'txtime_delay' not in options and not shared
    if mode == 'software':
        return 'clockid' in options and 'txtime_delay' not in options and not shared
    if options.get('clockid') != 'CLOCK_TAI' or not 1 <= options.get('txtime_delay', 0) < 2 ** 32:
        return False
    children = dict((entry['parent'], entry) for entry in qdiscs[1:])
    opened = 0
    for entry in options['sched_entries']:
        opened |= int(entry['gatemask'], 16)
    for tc_index, (count, offset) in enumerate(queues):
        for queue in range(offset, offset + count):
            child = children.get('100:%x' % (queue + 1))
            if opened >> tc_index & 1 and not (child and child['kind'] == 'etf'
                                               and child['options'].get('skip_sock_check')):
                return False
    return True


@st.composite
def mode_mixups(draw):
    """A taprio plan right in every other way (taprio_plan's, which keeps the rules), with what the modes rule
    now and then drawn freely: the mode, the clock, the delay, shared tx queues, the etf children."""
    plan = draw(taprio_plan(modes=TAPRIO_MODES))
    options = plan[0]['options']
    if draw(st.booleans()):
        options['mode'] = draw(st.sampled_from(TAPRIO_MODES))
    for key, values in (('clockid', ['CLOCK_TAI', 'CLOCK_REALTIME']), ('txtime_delay', [1, 200000])):
        choice = draw(st.sampled_from(['kept', None] + values))
        if choice != 'kept':
            options.pop(key, None)
            if choice is not None:
                options[key] = choice
    if draw(st.sampled_from([False, False, True])):
        options['queues'] = ['1@0'] * options['num_tc']
    if not draw(st.booleans()):
        return plan
    children = []
    for minor in sorted(set(draw(st.lists(st.integers(1, 4), max_size=4)))):
        kind = draw(st.sampled_from(['etf', 'etf', 'fq_codel']))
        child = {'parent': '100:%x' % minor, 'kind': kind, 'options': {}}
        if kind == 'etf' and draw(st.booleans()):
            child['options']['skip_sock_check'] = True
        children.append(child)
    return plan[:1] + children


@settings(max_examples=400, deadline=None)
@given(mode_mixups())
def test_a_plan_validates_exactly_when_its_mode_s_rules_hold(qdiscs):
    try:
        validate_for_device(normalize_plan(copy.deepcopy(qdiscs)), 'hyp0', 8)
    except HyperionError:
        accepted = False
    else:
        accepted = True
    assert accepted == _mode_rules_hold(qdiscs), qdiscs


def tc_print(entry):
    """The tc -j qdisc show entry of a planned qdisc as the kernel dumps it and q_*.c print it (the software
    captures' shape, with taprio_dump()'s flags, txtime_delay and no clockid in full offload)."""
    values = entry['values']
    if entry['kind'] == 'etf':
        options = {'clockid': 'TAI', 'delta': values.get('delta', 0)}
        options.update((key, 'on' if values.get(key) else 'off') for key in ('offload', 'deadline_mode', 'skip_sock_check'))
        return {'kind': 'etf', 'handle': '8001:', 'parent': entry['parent'], 'options': options}
    options = {'tc': values['num_tc'], 'map': values['map'],
               'queues': [{'offset': offset, 'count': count} for count, offset in values['queues']]}
    if values['mode'] != 'full-offload':
        options['clockid'] = values['clockid'][len('CLOCK_'):]
    if TAPRIO_FLAGS[values['mode']]:
        options['flags'] = '0x%x' % TAPRIO_FLAGS[values['mode']]
    if values.get('txtime_delay'):
        options['txtime_delay'] = values['txtime_delay']
    total = sum(interval for _command, _mask, interval in values['sched_entries'])
    options.update({'base_time': values.get('base_time', 0), 'cycle_time': values.get('cycle_time', total),
                    'cycle_time_extension': values.get('cycle_time_extension', 0),
                    'schedule': [{'index': index, 'cmd': command, 'gatemask': '0x%x' % mask, 'interval': interval}
                                 for index, (command, mask, interval) in enumerate(values['sched_entries'])]})
    return {'kind': 'taprio', 'handle': '100:', 'root': True, 'options': options}


@settings(max_examples=300, deadline=None)
@given(taprio_plan(modes=TAPRIO_MODES), st.sampled_from(TAPRIO_MODES), st.integers(1, 10 ** 6))
def test_the_tree_a_plan_leaves_needs_nothing_more_and_a_mode_change_starts_over(qdiscs, other_mode, other_delay):
    try:
        plan = normalize_plan(qdiscs)
    except HyperionError:
        return
    live = [dict(tc_print(entry), dev='hyp0') for entry in plan]
    assert plan_steps('hyp0', plan, live_tree(live, 'hyp0')) == []
    changed = copy.deepcopy(qdiscs)
    options = changed[0]['options']
    options['mode'] = other_mode
    options.pop('txtime_delay', None)
    if other_mode == 'full-offload':
        options.pop('clockid', None)
    else:
        options['clockid'] = 'CLOCK_TAI'
    if other_mode == 'txtime-assist':
        options['txtime_delay'] = other_delay
    try:
        other = normalize_plan(changed)
    except HyperionError:
        return
    actions = [argv for argv, _reason in plan_steps('hyp0', other, live_tree(live, 'hyp0'))]
    root_actions = [argv for argv in actions if argv[5] == 'root']
    if other_mode != plan[0]['values']['mode']:
        assert [argv[2] for argv in root_actions] == ['del', 'replace']
    elif other_mode == 'txtime-assist' and other_delay != plan[0]['values']['txtime_delay']:
        assert [argv[2] for argv in root_actions] == ['replace']
        assert root_actions[0][-4:] == ['flags', '0x1', 'txtime-delay', str(other_delay)]
    else:
        assert root_actions == []

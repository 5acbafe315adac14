# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner's commands against the real tc and kernel of this machine, on a multi-queue dummy link
(or a veth pair where the kernel has no dummy driver) in a network namespace of the test's own.

- tc's parser takes every command the planner gives for a fixed sample of generated plans (taprio in
  each mode with its etf children, cake, fq, fq_codel, mq): tc either succeeds or hands the message to
  the kernel, whose refusal (exit 2, "Error: ...") is not tc's. This runs wherever the test is root.
- Where the kernel has sch_taprio and sch_etf: the module's own apply_plan builds each taprio plan
  (software and txtime-assist) on the link and reads it back as planned; a full offload on the link,
  which has no driver, is refused by the planner before any command and by the kernel when tc tries.

Needs root for the namespace; skipped with the reason otherwise. Each test removes its namespace.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import (
    apply_plan, live_tree, normalize_plan, plan_steps, validate_for_device, validate_offload_driver)
from ansible_collections.hyperion.kernel.tests.unit.collection_paths import collections_path
from ansible_collections.hyperion.kernel.tests.unit.plugins.module_utils.qdisc_strategies import (
    DUMMY_MODES, TAPRIO_MODES, fixed_sample, plans, taprio_plan)

DEVICE = 'hyp-t0'
# A software taprio that any kernel with sch_taprio takes on an 8-queue link of unknown speed.
PROBE = ['tc', 'qdisc', 'replace', 'dev', DEVICE, 'root', 'handle', '100:', 'taprio', 'num_tc', '2', 'map', '0', '1',
         'queues', '1@0', '1@1', 'sched-entry', 'S', '03', '100000', 'clockid', 'CLOCK_TAI']
UNKNOWN_KIND = 'Error: Specified qdisc kind is unknown.'


class Namespace(object):
    """A network namespace with one 8-queue link, DEVICE, and the commands run in it."""

    def __init__(self, name):
        self.name = name
        self.link = None

    def run(self, argv):
        done = subprocess.run(['ip', 'netns', 'exec', self.name] + list(argv), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, check=False)
        return done.returncode, done.stdout, done.stderr

    def make_link(self):
        for link, argv in (('dummy', ['ip', 'link', 'add', DEVICE, 'numtxqueues', '8', 'type', 'dummy']),
                           ('veth', ['ip', 'link', 'add', DEVICE, 'numtxqueues', '8', 'type', 'veth', 'peer', 'name',
                                     DEVICE + 'p', 'numtxqueues', '8'])):
            if self.run(argv)[0] == 0:
                self.link = link
                break
        else:
            return False
        for name in (DEVICE, DEVICE + 'p') if self.link == 'veth' else (DEVICE,):
            self.run(['ip', 'link', 'set', name, 'up'])
        return True

    def reset(self):
        self.run(['tc', 'qdisc', 'del', 'dev', DEVICE, 'root'])

    def has_taprio_and_etf(self):
        """(True, '') when the kernel takes a software taprio and an etf under it, else (False, why)."""
        self.reset()
        rc, _out, err = self.run(PROBE)
        if rc == 0:
            rc, _out, err = self.run(['tc', 'qdisc', 'replace', 'dev', DEVICE, 'parent', '100:1', 'etf', 'clockid',
                                      'CLOCK_TAI', 'skip_sock_check'])
        self.reset()
        return rc == 0, err.strip()


@pytest.fixture
def netns():
    if os.geteuid() != 0:
        pytest.skip('needs root: the test makes a network namespace with a dummy link')
    if not (shutil.which('ip') and shutil.which('tc')):
        pytest.skip('needs ip and tc from iproute2')
    name = 'hyp-unit-%d' % os.getpid()
    subprocess.run(['ip', 'netns', 'del', name], capture_output=True, check=False)
    made = subprocess.run(['ip', 'netns', 'add', name], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip('no network namespace: ip netns add said %s' % made.stderr.strip())
    namespace = Namespace(name)
    try:
        if not namespace.make_link():
            pytest.skip('the kernel makes neither a dummy nor a veth link with 8 tx queues')
        yield namespace
    finally:
        subprocess.run(['ip', 'netns', 'del', name], capture_output=True, check=False)


@pytest.fixture
def taprio_kernel(netns):
    ok, why = netns.has_taprio_and_etf()
    if not ok:
        pytest.skip('this kernel does not take a software taprio with an etf child on a %s link: %s' % (netns.link, why))
    return netns


def _accepted(sample, tx_queues=8):
    accepted = []
    for qdiscs in sample:
        try:
            plan = normalize_plan(qdiscs)
            validate_for_device(plan, DEVICE, tx_queues)
        except HyperionError:
            continue
        accepted.append((qdiscs, plan))
    return accepted


# The lab's sample (qdisc_strategies.plans, every fifth of 200 draws) and ten taprio plans of each mode.
SAMPLE = fixed_sample(plans(8), 200)[::5] + [
    qdiscs for mode in TAPRIO_MODES for qdiscs in fixed_sample(taprio_plan(8, modes=(mode,)), 10)]


def test_the_link_of_the_namespace_has_no_driver(netns):
    """The real sysfs of the namespace, read by the module's own code: a dummy or veth link has no driver."""
    code = ('import sys; from ansible_collections.hyperion.kernel.plugins.module_utils.taprio_offload import '
            'read_link_driver; print(repr((read_link_driver(sys.argv[1]), read_link_driver("lo"))))')
    env = dict(os.environ, PYTHONPATH=collections_path())
    done = subprocess.run(['ip', 'netns', 'exec', netns.name, sys.executable, '-c', code, DEVICE], capture_output=True,
                          text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '(None, None)'
    # What the namespace's sysfs shows: the link exists there, without a device.
    rc, out, _err = netns.run(['ls', '/sys/class/net/%s' % DEVICE])
    assert rc == 0 and 'device' not in out.split()


def test_tc_parses_every_command_the_planner_gives(netns):
    """tc exits 1 when its own parser refuses a command, 2 with the kernel's "Error: ..." when the kernel does."""
    accepted = _accepted(SAMPLE)
    modes = set(plan[0]['values']['mode'] for _qdiscs, plan in accepted if plan[0]['kind'] == 'taprio')
    assert len(accepted) >= 25 and modes == {'software', 'txtime-assist', 'full-offload'}, (len(accepted), modes)
    problems, kernel_answers = [], set()
    for _qdiscs, plan in accepted:
        netns.reset()
        for argv, _reason in plan_steps(DEVICE, plan, []):
            rc, _out, err = netns.run(argv)
            if rc == 2 and err.startswith('Error: '):
                kernel_answers.add(err.strip().splitlines()[0])
            elif rc != 0:
                problems.append('%s: rc %d, %s' % (' '.join(argv), rc, err.strip()))
    netns.reset()
    assert not problems, '\n'.join(problems)
    # For the record of a run (pytest -s): what the kernel said to the commands tc passed on.
    print('kernel answers: %s' % sorted(kernel_answers))
    # The control: a delay past tc's u32, which the planner refuses, is refused by tc's own parser (exit 1).
    rc, _out, _err = netns.run(PROBE + ['flags', '0x1', 'txtime-delay', '4294967296'])
    assert rc == 1


def test_the_kernel_builds_each_taprio_plan_as_planned(taprio_kernel):
    """apply_plan as the module runs it, in the namespace: the commands run and the tree read back is the plan."""
    sample = _accepted(fixed_sample(taprio_plan(8, modes=DUMMY_MODES), 60)[::2])
    modes = set(plan[0]['values']['mode'] for _qdiscs, plan in sample)
    assert modes == set(DUMMY_MODES) and len(sample) >= 15, (modes, len(sample))
    problems = []
    for qdiscs, plan in sample:
        taprio_kernel.reset()
        try:
            result = apply_plan(taprio_kernel.run, DEVICE, qdiscs, offload=(None, []))
        except HyperionError as exc:
            problems.append('%s: %s' % (plan[0]['values']['mode'], exc))
            continue
        assert result['changed'] and result['actions']
        # Once more: the link is as planned, nothing to do.
        again = apply_plan(taprio_kernel.run, DEVICE, qdiscs, offload=(None, []))
        if again['actions']:
            problems.append('not idempotent: %s' % again['reasons'])
        root = result['qdiscs'][0]
        if plan[0]['values']['mode'] == 'txtime-assist':
            assert root['options'].get('flags') == '0x1' and root['options']['txtime_delay'] == plan[0]['values']['txtime_delay']
        else:
            assert 'flags' not in root['options']
    taprio_kernel.reset()
    assert not problems, '\n'.join(problems)


def test_full_offload_on_the_link_is_refused_by_the_planner_and_the_kernel(taprio_kernel):
    qdiscs = [{'kind': 'taprio', 'handle': '100:', 'options': {
        'mode': 'full-offload', 'num_tc': 2, 'map': [0, 1], 'queues': ['1@0', '1@1'],
        'sched_entries': [{'gatemask': '0x1', 'interval': 100000}, {'gatemask': '0x3', 'interval': 100000}]}}]
    taprio_kernel.reset()
    _rc, before, _err = taprio_kernel.run(['tc', '-j', 'qdisc', 'show', 'dev', DEVICE])
    with pytest.raises(HyperionError) as excinfo:
        apply_plan(taprio_kernel.run, DEVICE, qdiscs, offload=(None, []))
    assert '%s has no device driver' % DEVICE in str(excinfo.value)
    # The command the planner would have run without the driver check: the kernel refuses it.
    plan = normalize_plan(qdiscs)
    with pytest.raises(HyperionError):
        validate_offload_driver(plan, DEVICE, None)
    argv = plan_steps(DEVICE, plan, [])[0][0]
    rc, _out, err = taprio_kernel.run(argv)
    print('the kernel on full offload over a %s link: rc %d, %s' % (taprio_kernel.link, rc, err.strip()))
    assert rc == 2 and err.startswith('Error: ')
    _rc, after, _err = taprio_kernel.run(['tc', '-j', 'qdisc', 'show', 'dev', DEVICE])
    assert [q['kind'] for q in live_tree(json.loads(after), DEVICE)] == \
        [q['kind'] for q in live_tree(json.loads(before), DEVICE)]

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The default route interface's root qdisc, decided from the resolved item qdisc:@default_route:root.

The item shapes come from the shipped profile, its overlays and the inventories' overrides; every
decision is judged the way profile_check judges the host: the tree the kernel or the plan leaves,
read by tc.root_summary, against check.match_value."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import qdisc_boot, qdisc_intent
from ansible_collections.hyperion.kernel.plugins.module_utils.check import match_value
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import (
    live_tree, normalize_plan, plan_steps, tx_queue_count, validate_for_device)
from ansible_collections.hyperion.kernel.plugins.module_utils.tc import normalize_qdiscs, root_summary

ITEM = qdisc_intent.ITEM_ID
CMD = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'vm',
                   'trixie-6.12.117+deb13-amd64', 'cmd')


def _item(overlays=(), overrides=None):
    resolved = load_resolved(profile='hyperion-2.2.4', overlays=list(overlays), overrides=overrides or {})
    return dict((item['id'], item) for item in resolved['items'])[ITEM]


# Real item shapes: the profile as shipped (and with each site overlay), the gaming cafe's counter PC,
# the lab's research box, and other per-host exceptions as inventories write them.
ITEMS = {
    'profile': _item(),
    'gaming_cafe overlay': _item(['gaming_cafe']),
    'lab overlay': _item(['lab']),
    'counter-pc (fq_codel)': _item(['gaming_cafe'], {ITEM: 'fq_codel'}),
    'lab-b102-ws04 (fq)': _item(['lab'], {ITEM: 'fq'}),
    'one_of without cake': _item([], {ITEM: {'match': 'one_of', 'values': ['fq_codel', 'mq/fq_codel']}}),
    'one_of mq first': _item([], {ITEM: {'match': 'one_of', 'values': ['mq/fq', 'fq']}}),
    'exact mq/cake': _item([], {ITEM: 'mq/cake'}),
    'exact cake': _item([], {ITEM: 'cake'}),
}
DEFAULT_QDISCS = ('cake', 'fq', 'fq_codel', 'pfifo_fast')
TX_QUEUES = (1, 2, 4, 8, 16)


def _tree_after(device, qdiscs, default_qdisc, tx_queues):
    """The tc -j tree a device shows once the plan ran (or with the kernel default when qdiscs is empty)."""
    if not qdiscs:
        if tx_queues == 1:
            return [{'kind': default_qdisc, 'handle': '0:', 'dev': device, 'root': True}]
        return ([{'kind': 'mq', 'handle': '0:', 'dev': device, 'root': True}]
                + [{'kind': default_qdisc, 'handle': '0:', 'dev': device, 'parent': ':%x' % q} for q in range(1, tx_queues + 1)])
    plan = normalize_plan(qdiscs)
    root = plan[0]
    tree = [{'kind': root['kind'], 'handle': root['handle'] or '8001:', 'dev': device, 'root': True}]
    if root['kind'] == 'mq':
        planned = dict((entry['parent'], entry['kind']) for entry in plan[1:])
        for queue in range(1, tx_queues + 1):
            parent = '%s%x' % (root['handle'], queue)
            tree.append({'kind': planned.get(parent, default_qdisc), 'handle': '0:', 'dev': device, 'parent': parent})
    return tree


def _checked(device, qdiscs, default_qdisc, tx_queues):
    return root_summary(normalize_qdiscs(_tree_after(device, qdiscs, default_qdisc, tx_queues))[device])


@pytest.mark.parametrize('name', sorted(ITEMS))
@pytest.mark.parametrize('default_qdisc', DEFAULT_QDISCS)
@pytest.mark.parametrize('tx_queues', TX_QUEUES)
def test_the_check_passes_what_the_role_decides(name, default_qdisc, tx_queues):
    item = ITEMS[name]
    try:
        decision = qdisc_intent.default_route_plan(item, default_qdisc, 'enp1s0', tx_queues)
    except HyperionError as exc:
        # Refused only when nothing the role can build alone satisfies the item on this device.
        assert 'cannot build' in str(exc)
        assert tx_queues == 1 and all(str(v).startswith('mq/') for v in item.get('values', [item.get('value')]))
        return
    assert decision['source'] in ('default_qdisc', 'planned')
    if decision['source'] == 'default_qdisc':
        assert decision['qdiscs'] == []
    else:
        plan = normalize_plan(decision['qdiscs'])
        validate_for_device(plan, 'enp1s0', tx_queues)
        assert qdisc_boot.batch_text('enp1s0', decision['qdiscs'])
        # What the kernel default gives does not satisfy the item: otherwise nothing is planned.
        assert not match_value(item, _checked('enp1s0', [], default_qdisc, tx_queues))
    summary = _checked('enp1s0', decision['qdiscs'], default_qdisc, tx_queues)
    assert summary == decision['summary']
    assert match_value(item, summary), (decision, summary)


@pytest.mark.parametrize('name, default_qdisc, tx_queues, source, summary', [
    ('profile', 'cake', 1, 'default_qdisc', 'cake'),
    ('profile', 'cake', 8, 'default_qdisc', 'mq/cake'),
    ('gaming_cafe overlay', 'cake', 1, 'default_qdisc', 'cake'),
    # Debian's own default (systemd's sysctl.d) with the profile's item: CAKE is planned.
    ('profile', 'fq_codel', 1, 'planned', 'cake'),
    ('profile', 'fq_codel', 4, 'planned', 'mq/cake'),
    ('counter-pc (fq_codel)', 'cake', 1, 'planned', 'fq_codel'),
    # An exact plain kind stays one root qdisc on a multi-queue device: that is what the check reads.
    ('counter-pc (fq_codel)', 'cake', 4, 'planned', 'fq_codel'),
    ('counter-pc (fq_codel)', 'fq_codel', 1, 'default_qdisc', 'fq_codel'),
    ('lab-b102-ws04 (fq)', 'cake', 1, 'planned', 'fq'),
    ('one_of without cake', 'cake', 1, 'planned', 'fq_codel'),
    ('one_of without cake', 'cake', 2, 'planned', 'mq/fq_codel'),
    ('one_of without cake', 'fq_codel', 2, 'default_qdisc', 'mq/fq_codel'),
    ('one_of mq first', 'cake', 1, 'planned', 'fq'),
    ('one_of mq first', 'cake', 4, 'planned', 'mq/fq'),
])
def test_decisions(name, default_qdisc, tx_queues, source, summary):
    decision = qdisc_intent.default_route_plan(ITEMS[name], default_qdisc, 'enp1s0', tx_queues)
    assert (decision['source'], decision['summary']) == (source, summary)


def test_the_plans():
    assert qdisc_intent.build_plan('fq_codel', 1) == [{'parent': 'root', 'kind': 'fq_codel'}]
    assert qdisc_boot.batch_text('ens3', qdisc_intent.build_plan('fq_codel', 1)) == 'qdisc replace dev ens3 root fq_codel\n'
    assert qdisc_boot.batch_text('enp1s0', qdisc_intent.build_plan('mq/fq', 2)) == (
        'qdisc replace dev enp1s0 root handle 1: mq\n'
        'qdisc replace dev enp1s0 parent 1:1 fq\n'
        'qdisc replace dev enp1s0 parent 1:2 fq\n')
    # Class ids are hexadecimal: the tenth tx queue is class 1:a.
    assert qdisc_intent.build_plan('mq/cake', 16)[10] == {'parent': '1:a', 'kind': 'cake'}


def _live(device):
    with open(os.path.join(CMD, 'tc-j-qdisc-show-dev-%s.json' % device)) as handle:
        return live_tree(handle.read(), device)


def test_real_devices_of_a_trixie_guest():
    with open(os.path.join(CMD, 'ip-j-d-link-show.json')) as handle:
        links = handle.read()
    # ens3: one tx queue, fq_codel as the kernel default (Debian's systemd sets it); the counter PC's item is met.
    assert tx_queue_count(links, 'ens3') == 1
    decision = qdisc_intent.default_route_plan(ITEMS['counter-pc (fq_codel)'], 'fq_codel', 'ens3', 1)
    assert decision['source'] == 'default_qdisc'
    # With the profile's CAKE as the default: fq_codel is planned. The live kernel-default fq_codel is left
    # alone; after a reboot (CAKE from the sysctl) one tc command makes it fq_codel, the one the boot unit runs.
    decision = qdisc_intent.default_route_plan(ITEMS['counter-pc (fq_codel)'], 'cake', 'ens3', 1)
    plan = normalize_plan(decision['qdiscs'])
    assert plan_steps('ens3', plan, _live('ens3')) == []
    rebooted = live_tree(json.dumps(_tree_after('ens3', [], 'cake', 1)), 'ens3')
    assert [argv for argv, _reason in plan_steps('ens3', plan, rebooted)] == [
        ['tc', 'qdisc', 'replace', 'dev', 'ens3', 'root', 'fq_codel']]
    # hyp-mq0: eight tx queues under mq 1: with fq and fq_codel children; one_of [fq_codel, mq/fq_codel] gives
    # fq_codel on the four fq classes and leaves the others.
    assert tx_queue_count(links, 'hyp-mq0') == 8
    decision = qdisc_intent.default_route_plan(ITEMS['one_of without cake'], 'cake', 'hyp-mq0', 8)
    steps = plan_steps('hyp-mq0', normalize_plan(decision['qdiscs']), _live('hyp-mq0'))
    assert sorted(argv[6] for argv, _reason in steps if argv[2] == 'replace') == ['1:1', '1:3', '1:5', '1:7']


@pytest.mark.parametrize('explicit, summary', [
    ({'state': 'present', 'qdiscs': [{'kind': 'fq_codel', 'options': {'target': '3ms'}}]}, 'fq_codel'),
    # The mq of the host_config scenario's peer link, all children fq_codel on two queues.
    ({'qdiscs': [{'parent': 'root', 'handle': '1:', 'kind': 'mq'}, {'parent': '1:1', 'kind': 'fq_codel'},
                 {'parent': '1:2', 'kind': 'fq_codel'}]}, 'mq/fq_codel'),
])
def test_an_explicit_plan_that_agrees_wins(explicit, summary):
    item = ITEMS['one_of without cake']
    decision = qdisc_intent.default_route_plan(item, 'cake', 'enp1s0', 2, explicit)
    assert (decision['source'], decision['qdiscs'], decision['summary']) == ('explicit', [], summary)


def test_an_explicit_absent_plan_is_judged_by_the_kernel_default():
    decision = qdisc_intent.default_route_plan(ITEMS['counter-pc (fq_codel)'], 'fq_codel', 'ens3', 1, {'state': 'absent'})
    assert decision['source'] == 'explicit'
    with pytest.raises(HyperionError, match='state absent'):
        qdisc_intent.default_route_plan(ITEMS['counter-pc (fq_codel)'], 'cake', 'ens3', 1, {'state': 'absent'})


@pytest.mark.parametrize('explicit, tx_queues, given', [
    # The host_config scenario's uplink plan against the counter PC's exception.
    ({'qdiscs': [{'kind': 'cake', 'options': {'bandwidth': '50Mbit'}}]}, 1, 'a cake root'),
    # Two fq_codel children and two kernel-default cake ones: mixed.
    ({'qdiscs': [{'parent': 'root', 'handle': '1:', 'kind': 'mq'}, {'parent': '1:1', 'kind': 'fq_codel'},
                 {'parent': '1:2', 'kind': 'fq_codel'}]}, 4, 'a mq/mixed root'),
])
def test_an_explicit_plan_that_contradicts_the_item_is_refused(explicit, tx_queues, given):
    with pytest.raises(HyperionError) as error:
        qdisc_intent.default_route_plan(ITEMS['counter-pc (fq_codel)'], 'cake', 'enp1s0', tx_queues, explicit)
    assert 'network_qdisc_plans entry for enp1s0 (the default route interface) gives %s' % given in str(error.value)
    assert 'wants fq_codel' in str(error.value)


@pytest.mark.parametrize('change, message', [
    ('pfifo_fast', "'pfifo_fast' is not a root qdisc the network role can plan"),
    ('fq-codel', "'fq-codel' is not a root qdisc"),
    ('mq', "'mq' is not a root qdisc"),
    ('etf', "'etf' is not a root qdisc"),
    ({'match': 'one_of', 'values': ['fq_codel', 'noqueue', 'htb']}, "'noqueue', 'htb' are not a root qdisc"),
    # Known values the role cannot build alone.
    ('taprio', 'taprio needs an explicit network_qdisc_plans entry for ens3'),
    ('mq/fq', 'mq needs a multi-queue device and ens3 has 1 tx queue'),
    ({'match': 'pattern', 'pattern': '^fq'}, 'plans a root qdisc only for match exact or one_of'),
])
def test_items_the_role_cannot_plan_are_refused(change, message):
    item = _item(['gaming_cafe'], {ITEM: change})
    with pytest.raises(HyperionError) as error:
        qdisc_intent.default_route_plan(item, 'cake', 'ens3', 1)
    assert message in str(error.value)


def test_unknown_values_are_refused_even_when_the_default_would_do():
    # A typo in a one_of list is a typo, whatever the kernel default happens to be.
    with pytest.raises(HyperionError, match="'fq_codle' is not a root qdisc"):
        qdisc_intent.default_route_plan(_item([], {ITEM: {'match': 'one_of', 'values': ['cake', 'fq_codle']}}),
                                        'cake', 'ens3', 1)


def test_skipped_and_missing_items_ask_for_nothing():
    skipped = _item([], {ITEM: {'skip': 'no uplink shaping on this host'}})
    assert qdisc_intent.default_route_plan(skipped, 'cake', 'ens3', 1)['source'] == 'skip'
    assert qdisc_intent.default_route_plan(None, 'cake', 'ens3', 1)['source'] == 'skip'


@pytest.mark.parametrize('args, message', [
    ((ITEMS['profile'], '', 'ens3', 1), 'net.core.default_qdisc must be a qdisc kind'),
    ((ITEMS['profile'], 'cake', 'ens3', 'many'), 'tx queue count of ens3 must be an integer'),
    ((ITEMS['profile'], 'cake', 'ens3', 0), 'ens3 reports 0 tx queues'),
    (({'id': 'sysctl:net.core.default_qdisc', 'value': 'cake'}, 'cake', 'ens3', 1), 'expected the resolved profile item'),
])
def test_bad_arguments(args, message):
    with pytest.raises(HyperionError, match=message):
        qdisc_intent.default_route_plan(*args)

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The root qdisc of the default-route interface, decided from the resolved profile item.

The item ``qdisc:@default_route:root`` (profile, overlays, group and host
overrides) is what ``profile_check`` expects on the interface of the default
route. The network role configures from the same item, so a per-host exception
changes what the host gets as well as what the check expects:

- what ``net.core.default_qdisc`` gives a device that appears (``cake`` on a
  device with one tx queue, ``mq/cake`` on a multi-queue one: mq with one
  default child per tx queue) satisfies the item: nothing to plan;
- an explicit plan covers the interface: it wins, but a plan whose tree does
  not satisfy the item is refused (the host would drift the moment it is done);
- otherwise the first value of the item the role can build alone is planned:
  ``cake``, ``fq`` or ``fq_codel`` as the one root qdisc, or ``mq/<kind>`` (mq
  with a ``<kind>`` child on every tx queue) on a multi-queue device, where
  ``mq/`` values are preferred.

The values are the words ``profile_check`` compares (``tc.root_summary``), so
the plan is judged exactly as the check will judge the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .check import describe_expected, match_value
from .errors import HyperionError
from .qdisc_plan import normalize_plan

ITEM_ID = 'qdisc:@default_route:root'
# Kinds that need no options: the role can build them alone, at root or as mq children.
LEAF_KINDS = ('cake', 'fq', 'fq_codel')
MQ_HANDLE = '1:'
# Values a plan can give but only an explicit plan can say how (a taprio schedule, mixed children).
EXPLICIT_ONLY = ('taprio', 'mq/mixed')
BUILDABLE = LEAF_KINDS + tuple('mq/' + kind for kind in LEAF_KINDS)
KNOWN_VALUES = BUILDABLE + EXPLICIT_ONLY


def kernel_default_summary(default_qdisc, tx_queues):
    """What a device that appears gets from ``net.core.default_qdisc``, in the check's words."""
    return ('mq/%s' % default_qdisc) if tx_queues > 1 else str(default_qdisc)


def plan_summary(qdiscs, default_qdisc, tx_queues):
    """The check's word for the tree a plan builds (an mq class the plan leaves alone keeps the default)."""
    entries = normalize_plan(qdiscs, 'present')
    root = entries[0]
    if root['kind'] != 'mq':
        return root['kind']
    children = dict((int(entry['parent'].split(':')[1], 16), entry['kind']) for entry in entries[1:])
    kinds = set(children.get(queue, str(default_qdisc)) for queue in range(1, max(tx_queues, 1) + 1))
    return 'mq/%s' % (kinds.pop() if len(kinds) == 1 else 'mixed')


def build_plan(value, tx_queues):
    """The tc_qdisc plan of one buildable value."""
    if value in LEAF_KINDS:
        return [{'parent': 'root', 'kind': value}]
    kind = value.split('/', 1)[1]
    return [{'parent': 'root', 'handle': MQ_HANDLE, 'kind': 'mq'}] + [
        {'parent': '%s%x' % (MQ_HANDLE, queue), 'kind': kind} for queue in range(1, tx_queues + 1)]


def _values(item):
    """The item's wanted values after checking each is a root qdisc a plan can give."""
    match = item.get('match', 'exact')
    if match == 'exact':
        values = [item.get('value')]
    elif match == 'one_of':
        values = list(item.get('values') or [])
    else:
        return None
    unknown = [value for value in values if str(value) not in KNOWN_VALUES]
    if unknown:
        raise HyperionError(
            'profile item %s wants %s: %s %s not a root qdisc the network role can plan with hyperion.kernel.tc_qdisc '
            '(it plans %s; taprio and mq/mixed with an explicit network_qdisc_plans entry). Change the item (profile, '
            'overlay or hyperion_profile_overrides).'
            % (ITEM_ID, describe_expected(item), ', '.join(repr(v) for v in unknown), 'is' if len(unknown) == 1 else 'are',
               ', '.join(BUILDABLE)))
    return [str(value) for value in values]


def default_route_plan(item, default_qdisc, device, tx_queues, explicit=None):
    """What the network role does on DEVICE, the interface of the default route, for the resolved ITEM.

    ``default_qdisc`` is the ``net.core.default_qdisc`` the role sets, ``tx_queues`` the
    device's number of tx queues, ``explicit`` the network_qdisc_plans entry that covers
    the device ({'state', 'qdiscs'}) or None. Returns {'source', 'qdiscs', 'summary',
    'reason'}; ``source`` is 'skip' (the item is skipped or absent), 'default_qdisc'
    (nothing to plan), 'explicit' (the explicit plan satisfies the item) or 'planned'
    (``qdiscs`` is the plan to apply). Raises HyperionError, before the host changes,
    when the item cannot be planned or an explicit plan contradicts it.
    """
    if not item:
        return {'source': 'skip', 'qdiscs': [], 'summary': None, 'reason': 'the profile has no item %s' % ITEM_ID}
    if not isinstance(item, dict) or item.get('id', ITEM_ID) != ITEM_ID:
        raise HyperionError('expected the resolved profile item %s, got %r' % (ITEM_ID, item))
    if item.get('skip'):
        return {'source': 'skip', 'qdiscs': [], 'summary': None, 'reason': 'the item is skipped: %s' % item['skip']}
    if not default_qdisc or not isinstance(default_qdisc, str):
        raise HyperionError('net.core.default_qdisc must be a qdisc kind, got %r' % (default_qdisc,))
    try:
        tx_queues = int(tx_queues)
    except (TypeError, ValueError):
        raise HyperionError('the tx queue count of %s must be an integer, got %r' % (device, tx_queues))
    if tx_queues < 1:
        raise HyperionError('%s reports %d tx queues' % (device, tx_queues))
    values = _values(item)
    wanted = describe_expected(item)
    given = kernel_default_summary(default_qdisc, tx_queues)
    queues = '%d tx queue%s' % (tx_queues, '' if tx_queues == 1 else 's')

    if explicit is not None:
        state = (explicit.get('state') or 'present') if isinstance(explicit, dict) else 'present'
        if state == 'absent':
            summary, what = given, 'state absent (the kernel default %s)' % given
        else:
            summary = plan_summary(explicit.get('qdiscs'), default_qdisc, tx_queues)
            what = 'a %s root' % summary
        if not match_value(item, summary):
            raise HyperionError(
                'network_qdisc_plans entry for %s (the default route interface) gives %s, but the resolved profile item %s '
                'wants %s, so profile_check would fail on this host right after the run. Change the plan or the item '
                '(hyperion_profile_overrides) so that they agree.' % (device, what, ITEM_ID, wanted))
        return {'source': 'explicit', 'qdiscs': [], 'summary': summary,
                'reason': 'the explicit plan for %s gives %s, which satisfies %s' % (device, summary, wanted)}

    if match_value(item, given):
        return {'source': 'default_qdisc', 'qdiscs': [], 'summary': given,
                'reason': 'net.core.default_qdisc=%s gives %s on %s (%s), which satisfies %s'
                          % (default_qdisc, given, device, queues, wanted)}
    if values is None:
        raise HyperionError(
            'profile item %s wants %s (match %s): the network role plans a root qdisc only for match exact or one_of, '
            'and net.core.default_qdisc=%s gives %s on %s. Give an exact value or a one_of list, or an explicit '
            'network_qdisc_plans entry for %s.' % (ITEM_ID, wanted, item.get('match'), default_qdisc, given, device, device))
    buildable = [value for value in values if value in BUILDABLE and (tx_queues > 1 or not value.startswith('mq/'))]
    if not buildable:
        why = []
        if any(value.startswith('mq/') for value in values) and tx_queues < 2:
            why.append('mq needs a multi-queue device and %s has %s' % (device, queues))
        if any(value in EXPLICIT_ONLY for value in values):
            why.append('%s need%s an explicit network_qdisc_plans entry for %s (a schedule or the children to give)'
                       % (' and '.join(v for v in values if v in EXPLICIT_ONLY),
                          's' if len([v for v in values if v in EXPLICIT_ONLY]) == 1 else '', device))
        raise HyperionError('profile item %s wants %s and net.core.default_qdisc=%s gives %s on %s, but the role cannot '
                            'build any of the values alone: %s.'
                            % (ITEM_ID, wanted, default_qdisc, given, device, '; '.join(why)))
    if tx_queues > 1:
        # One child per tx queue keeps the device's queues apart; a plain root would take one lock for all of them.
        buildable = [v for v in buildable if v.startswith('mq/')] + [v for v in buildable if not v.startswith('mq/')]
    chosen = buildable[0]
    return {'source': 'planned', 'qdiscs': build_plan(chosen, tx_queues), 'summary': chosen,
            'reason': 'profile item %s wants %s; net.core.default_qdisc=%s would give %s on %s (%s), so %s gets %s'
                      % (ITEM_ID, wanted, default_qdisc, given, device, queues, device, chosen)}

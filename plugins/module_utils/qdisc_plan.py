# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan, validate and apply the qdisc tree of one network device.

A plan is a list of qdiscs ({parent, handle, kind, options}) with options in
tc's own words and units. It is validated completely before anything is read
from or written to the device, then compared with the normalised live state
(``tc -j qdisc show dev DEV``) option by option in base units, which yields the
exact ``tc`` argv lists that make the device match: roots before children, a
root of another kind deleted before its replacement. ``apply_plan`` runs them
and reads the device again to prove the result.

Only the options a plan names are compared and set: ``tc qdisc replace`` on a
qdisc of the same kind changes just the options it is given (the kernel's
``change`` operation), so options the plan leaves out keep whatever value the
qdisc has. Children the plan does not name are left alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from .errors import HyperionError
from .tc import normalize_qdiscs, parse_qdisc_json, parse_rate, parse_size, parse_time

KINDS = ('cake', 'etf', 'fq', 'fq_codel', 'mq', 'taprio')
CLASSFUL_KINDS = ('mq', 'taprio')
ROOT_ONLY_KINDS = ('mq', 'taprio')
CLOCKIDS = ('CLOCK_TAI', 'CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_BOOTTIME')
TAPRIO_COMMANDS = ('S', 'H', 'R')
# TC_QOPT_MAX_QUEUE and TC_BITMASK + 1 in the kernel's uapi.
MAX_TRAFFIC_CLASSES = 16
PRIORITY_COUNT = 16
DEFAULT_HANDLE = '0:'

_TRUE_WORDS = ('true', 'yes', 'on', '1')
_FALSE_WORDS = ('false', 'no', 'off', '0')


def _opt(type_, word=None, json_key=None, true=None, false=None, choices=None):
    return {'type': type_, 'word': word, 'json': json_key, 'true': true, 'false': false, 'choices': choices}


# What each kind accepts, how tc spells it on the command line and where tc -j reports it.
# The order is the order of the words on the tc command line.
OPTIONS = {
    'cake': [
        ('bandwidth', _opt('rate_or_unlimited', 'bandwidth', 'bandwidth')),
        ('diffserv', _opt('choice', json_key='diffserv', choices=dict(
            (w, [w]) for w in ('besteffort', 'diffserv3', 'diffserv4', 'diffserv8', 'precedence')))),
        ('flowmode', _opt('choice', json_key='flowmode', choices=dict(
            (w, [w]) for w in ('flowblind', 'srchost', 'dsthost', 'hosts', 'flows', 'dual-srchost',
                               'dual-dsthost', 'triple-isolate')))),
        ('nat', _opt('bool', json_key='nat', true='nat', false='nonat')),
        ('wash', _opt('bool', json_key='wash', true='wash', false='nowash')),
        ('ingress', _opt('bool', json_key='ingress', true='ingress', false='egress')),
        ('ack_filter', _opt('choice', json_key='ack-filter', choices={
            'disabled': ['no-ack-filter'], 'enabled': ['ack-filter'], 'aggressive': ['ack-filter-aggressive']})),
        ('split_gso', _opt('bool', json_key='split_gso', true='split-gso', false='no-split-gso')),
        ('rtt', _opt('time', 'rtt', 'rtt')),
        ('overhead', _opt('int', 'overhead', 'overhead')),
    ],
    'fq': [
        ('limit', _opt('int', 'limit', 'limit')),
        ('flow_limit', _opt('int', 'flow_limit', 'flow_limit')),
        ('buckets', _opt('int', 'buckets', 'buckets')),
        ('orphan_mask', _opt('int', 'orphan_mask', 'orphan_mask')),
        ('quantum', _opt('size', 'quantum', 'quantum')),
        ('initial_quantum', _opt('size', 'initial_quantum', 'initial_quantum')),
        ('maxrate', _opt('rate', 'maxrate', 'maxrate')),
        ('low_rate_threshold', _opt('rate', 'low_rate_threshold', 'low_rate_threshold')),
        ('refill_delay', _opt('time', 'refill_delay', 'refill_delay')),
        ('horizon', _opt('time', 'horizon', 'horizon')),
    ],
    'fq_codel': [
        ('limit', _opt('int', 'limit', 'limit')),
        ('flows', _opt('int', 'flows', 'flows')),
        ('quantum', _opt('size', 'quantum', 'quantum')),
        ('target', _opt('time', 'target', 'target')),
        ('interval', _opt('time', 'interval', 'interval')),
        ('ecn', _opt('bool', json_key='ecn', true='ecn', false='noecn')),
        ('ce_threshold', _opt('time', 'ce_threshold', 'ce_threshold')),
        ('memory_limit', _opt('size', 'memory_limit', 'memory_limit')),
        ('drop_batch', _opt('int', 'drop_batch', 'drop_batch')),
    ],
    'etf': [
        ('clockid', _opt('clockid', 'clockid', 'clockid')),
        ('delta', _opt('ns', 'delta', 'delta')),
        # etf flags have no "off" word: leaving the word out is off.
        ('deadline_mode', _opt('bool', json_key='deadline_mode', true='deadline_mode')),
        ('skip_sock_check', _opt('bool', json_key='skip_sock_check', true='skip_sock_check')),
        ('offload', _opt('bool', json_key='offload', true='offload')),
    ],
    'taprio': [
        ('num_tc', _opt('int', 'num_tc', 'tc')),
        ('map', _opt('map', 'map', 'map')),
        ('queues', _opt('queues', 'queues', 'queues')),
        ('base_time', _opt('ns', 'base-time', 'base_time')),
        ('sched_entries', _opt('sched_entries', 'sched-entry', 'schedule')),
        ('cycle_time', _opt('ns', 'cycle-time', 'cycle_time')),
        ('cycle_time_extension', _opt('ns', 'cycle-time-extension', 'cycle_time_extension')),
        ('clockid', _opt('clockid', 'clockid', 'clockid')),
    ],
    'mq': [],
}
_SPECS = dict((kind, dict(options)) for kind, options in OPTIONS.items())

# Options the kernel cannot change on a live qdisc: a difference means delete and create again.
# etf has no change operation at all; taprio refuses a new traffic class mapping or clock.
_RECREATE_KEYS = {
    'etf': None,
    'taprio': ('num_tc', 'map', 'queues', 'clockid'),
}
# taprio's schedule is the admin schedule while one is pending, the operating one otherwise.
_TAPRIO_SCHEDULE_KEYS = ('base_time', 'sched_entries', 'cycle_time', 'cycle_time_extension')
_REQUIRED = {'taprio': ('num_tc', 'map', 'queues', 'sched_entries', 'clockid')}

_HANDLE_RE = re.compile(r'([0-9a-fA-F]{1,4}):?')
_CLASS_RE = re.compile(r'([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})')
_QUEUES_RE = re.compile(r'([0-9]+)@([0-9]+)')


class QdiscApplyError(HyperionError):
    """A tc command failed or the device does not match the plan after the commands ran."""

    def __init__(self, message, executed):
        super(QdiscApplyError, self).__init__(message)
        self.executed = executed


# ---------------------------------------------------------------- values: plan side

def _as_bool(value, what):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    raise HyperionError('%s must be true or false, not %r' % (what, value))


def _as_int(value, what, minimum=None):
    if isinstance(value, bool):
        raise HyperionError('%s must be an integer, not %r' % (what, value))
    try:
        number = int(str(value).strip(), 0)
    except ValueError:
        raise HyperionError('%s must be an integer, not %r' % (what, value))
    if minimum is not None and number < minimum:
        raise HyperionError('%s must be at least %d, not %d' % (what, minimum, number))
    return number


def _clockid(value, what):
    text = str(value).strip().upper()
    if not text.startswith('CLOCK_'):
        text = 'CLOCK_' + text
    if text not in CLOCKIDS:
        raise HyperionError('%s %r is not one of %s' % (what, value, ', '.join(CLOCKIDS)))
    return text


def _gatemask(value, what):
    # tc reads "sched-entry S 01 300000" as hexadecimal; an integer from YAML is taken as is.
    if isinstance(value, bool):
        raise HyperionError('%s must be a hexadecimal gate mask such as "0x5", not %r' % (what, value))
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower()
        try:
            number = int(text[2:] if text.startswith('0x') else text, 16)
        except ValueError:
            raise HyperionError('%s %r is not a hexadecimal gate mask such as "0x5"' % (what, value))
    if number < 0:
        raise HyperionError('%s must not be negative' % what)
    return number


def _word_list(value):
    if isinstance(value, (list, tuple)):
        return list(value)
    return str(value).split()


def _canonical(spec, value, what):
    """The plan's value in the base units tc -j reports."""
    type_ = spec['type']
    try:
        if type_ == 'rate':
            return parse_rate(value)
        if type_ == 'rate_or_unlimited':
            return 0 if str(value).strip().lower() == 'unlimited' else parse_rate(value)
        if type_ == 'time':
            return parse_time(value)
        if type_ == 'size':
            return parse_size(value)
    except HyperionError as exc:
        raise HyperionError('%s: %s' % (what, exc))
    if type_ == 'int':
        return _as_int(value, what)
    if type_ == 'ns':
        return _as_int(value, what + ' (nanoseconds)', minimum=0)
    if type_ == 'bool':
        return _as_bool(value, what)
    if type_ == 'choice':
        text = str(value).strip()
        if text not in spec['choices']:
            raise HyperionError('%s %r is not one of %s' % (what, value, ', '.join(sorted(spec['choices']))))
        return text
    if type_ == 'clockid':
        return _clockid(value, what)
    if type_ == 'map':
        entries = [_as_int(v, '%s entry' % what, minimum=0) for v in _word_list(value)]
        if not entries or len(entries) > PRIORITY_COUNT:
            raise HyperionError('%s needs 1 to %d entries (one traffic class per priority), got %d'
                                % (what, PRIORITY_COUNT, len(entries)))
        return entries + [0] * (PRIORITY_COUNT - len(entries))
    if type_ == 'queues':
        ranges = []
        for item in _word_list(value):
            match = _QUEUES_RE.fullmatch(str(item).strip())
            if not match or int(match.group(1)) < 1:
                raise HyperionError('%s entry %r is not COUNT@OFFSET with COUNT >= 1 (for example "2@2")' % (what, item))
            ranges.append((int(match.group(1)), int(match.group(2))))
        return ranges
    if type_ == 'sched_entries':
        if not isinstance(value, list) or not value:
            raise HyperionError('%s must be a non-empty list of {command, gatemask, interval}' % what)
        entries = []
        for index, entry in enumerate(value):
            where = '%s[%d]' % (what, index)
            if not isinstance(entry, dict):
                raise HyperionError('%s must be a mapping with command, gatemask and interval' % where)
            unknown = sorted(set(entry) - set(('command', 'gatemask', 'interval')))
            if unknown:
                raise HyperionError('%s has unknown keys %s; use command, gatemask, interval' % (where, ', '.join(unknown)))
            command = str(entry.get('command', 'S')).strip().upper()
            if command not in TAPRIO_COMMANDS:
                raise HyperionError('%s command %r is not one of S, H, R' % (where, entry.get('command')))
            if 'gatemask' not in entry or 'interval' not in entry:
                raise HyperionError('%s needs a gatemask and an interval' % where)
            entries.append((command, _gatemask(entry['gatemask'], where + ' gatemask'),
                            _as_int(entry['interval'], where + ' interval (nanoseconds)', minimum=1)))
        return entries
    raise AssertionError(type_)


def _words(key, spec, canonical, raw):
    """tc's command-line words for one planned option."""
    type_ = spec['type']
    if type_ == 'bool':
        word = spec['true'] if canonical else spec['false']
        return [word] if word else []
    if type_ == 'choice':
        return list(spec['choices'][canonical])
    if type_ == 'rate_or_unlimited' and canonical == 0:
        return ['unlimited']
    if type_ in ('rate', 'rate_or_unlimited', 'time', 'size'):
        # The plan's own spelling: tc reads it exactly as the plan's author wrote it.
        return [spec['word'], str(raw).strip()]
    if type_ in ('int', 'ns'):
        return [spec['word'], str(canonical)]
    if type_ == 'clockid':
        return [spec['word'], canonical]
    if type_ == 'map':
        return [spec['word']] + [str(v) for v in canonical]
    if type_ == 'queues':
        return [spec['word']] + ['%d@%d' % pair for pair in canonical]
    if type_ == 'sched_entries':
        words = []
        for command, mask, interval in canonical:
            words += [spec['word'], command, '%02x' % mask, str(interval)]
        return words
    raise AssertionError((key, type_))


# ---------------------------------------------------------------- values: live side

def _live_value(spec, options):
    """The live value in base units, or None when tc does not report it."""
    type_ = spec['type']
    value = options.get(spec['json'])
    if type_ == 'bool':
        return value is True or value in ('on', 'enabled')
    if value is None:
        # fq reports no maxrate at all when it is unlimited.
        return 0 if type_ == 'rate' else None
    try:
        if type_ in ('rate', 'rate_or_unlimited'):
            return 0 if value == 'unlimited' else int(value)
        if type_ in ('time', 'size', 'int', 'ns'):
            return int(value)
        if type_ == 'clockid':
            return _clockid(value, 'clockid')
        if type_ == 'map':
            return [int(v) for v in value] + [0] * (PRIORITY_COUNT - len(value))
        if type_ == 'queues':
            return [(int(q['count']), int(q['offset'])) for q in value]
        if type_ == 'sched_entries':
            return [(str(e['cmd']), int(str(e['gatemask']), 16), int(e['interval'])) for e in value]
    except (TypeError, ValueError, KeyError, HyperionError):
        return ('unreadable', value)
    return str(value)


def _clean_options(options):
    # Some iproute2 releases print keys with a trailing space ("priomap ").
    return dict((key.strip(), value) for key, value in (options or {}).items())


def live_values(qdisc):
    """{option: base-unit value} of the options this module manages, as the qdisc has them."""
    options = _clean_options(qdisc.get('options'))
    admin = options.get('admin') if qdisc['kind'] == 'taprio' else None
    values = {}
    for key, spec in OPTIONS.get(qdisc['kind'], []):
        source = admin if (isinstance(admin, dict) and key in _TAPRIO_SCHEDULE_KEYS) else options
        if spec['type'] == 'bool' or spec['json'] in source:
            values[key] = _live_value(spec, source)
    return values


def _same(spec, wanted, have):
    if spec['type'] == 'time' and isinstance(have, int):
        # The kernel keeps codel times in 1024 ns units, so 3ms reads back as 2999us.
        return abs(wanted - have) <= max(2, wanted // 1000)
    return wanted == have


# ---------------------------------------------------------------- the plan

def normalize_handle(value, what='handle'):
    """A qdisc handle as tc prints it ("100:"); tc reads handles as hexadecimal."""
    match = _HANDLE_RE.fullmatch(str(value).strip())
    if not match or int(match.group(1), 16) == 0:
        raise HyperionError('%s %r is not a qdisc handle such as "1:" or "100:" (hexadecimal, not 0)' % (what, value))
    return '%x:' % int(match.group(1), 16)


def normalize_parent(value, what='parent'):
    """'root' or a class id as tc prints it ("100:1")."""
    text = str(value).strip()
    if text.lower() == 'root':
        return 'root'
    match = _CLASS_RE.fullmatch(text)
    if not match or int(match.group(2), 16) == 0:
        raise HyperionError('%s %r is neither root nor a class id such as "100:1" (hexadecimal)' % (what, value))
    return '%x:%x' % (int(match.group(1), 16), int(match.group(2), 16))


def _class_minor(parent):
    return int(parent.split(':')[1], 16)


def _major(handle_or_class):
    return handle_or_class.split(':')[0]


def _describe(entry):
    return '%s at %s' % (entry.get('kind'), entry.get('parent', 'root'))


def normalize_plan(qdiscs, state='present'):
    """Validate a plan and bring it to canonical form, before the device is touched.

    Returns the entries root first, each as {parent, handle, kind, options,
    values}: ``options`` keeps the plan's words (what tc is given), ``values``
    the same options in base units (what is compared).
    """
    if state not in ('present', 'absent'):
        raise HyperionError('state must be present or absent, not %r' % (state,))
    qdiscs = qdiscs or []
    if not isinstance(qdiscs, list):
        raise HyperionError('qdiscs must be a list of {parent, handle, kind, options}')
    if state == 'absent':
        if qdiscs:
            raise HyperionError('state=absent removes the whole qdisc tree of the device; do not give qdiscs with it')
        return []
    if not qdiscs:
        raise HyperionError('state=present needs qdiscs: at least the root qdisc')
    entries = []
    for index, raw in enumerate(qdiscs):
        where = 'qdiscs[%d]' % index
        if not isinstance(raw, dict):
            raise HyperionError('%s must be a mapping with parent, handle, kind and options' % where)
        unknown = sorted(set(k for k, v in raw.items() if v is not None) - set(('parent', 'handle', 'kind', 'options')))
        if unknown:
            raise HyperionError('%s has unknown keys %s; use parent, handle, kind, options' % (where, ', '.join(unknown)))
        kind = raw.get('kind')
        if kind not in KINDS:
            raise HyperionError('%s: unknown qdisc kind %r; this module manages %s' % (where, kind, ', '.join(KINDS)))
        parent = normalize_parent('root' if raw.get('parent') is None else raw['parent'], '%s parent' % where)
        where = '%s (%s at %s)' % (where, kind, parent)
        handle = None if raw.get('handle') is None else normalize_handle(raw['handle'], '%s handle' % where)
        options = raw.get('options') or {}
        if not isinstance(options, dict):
            raise HyperionError('%s: options must be a mapping of tc option to value' % where)
        specs = _SPECS[kind]
        words, values = {}, {}
        for key, value in options.items():
            canonical_key = str(key).strip().replace('-', '_')
            if canonical_key not in specs:
                raise HyperionError('%s: unknown option %r for %s; %s' % (
                    where, key, kind, ('it takes ' + ', '.join(name for name, _spec in OPTIONS[kind])) if specs else 'it takes none'))
            if canonical_key in values:
                raise HyperionError('%s: option %s is given twice' % (where, canonical_key))
            values[canonical_key] = _canonical(specs[canonical_key], value, '%s option %s' % (where, canonical_key))
            words[canonical_key] = value
        if kind == 'etf':
            # The kernel's etf accepts no other clock, and taprio schedules run on TAI.
            if 'clockid' in values and values['clockid'] != 'CLOCK_TAI':
                raise HyperionError('%s: etf needs clockid CLOCK_TAI (the only clock the kernel accepts for etf, and the '
                                    'clock of taprio schedules), not %s' % (where, values['clockid']))
            values.setdefault('clockid', 'CLOCK_TAI')
            words.setdefault('clockid', 'CLOCK_TAI')
        missing = [key for key in _REQUIRED.get(kind, ()) if key not in values]
        if missing:
            raise HyperionError('%s: %s needs the options %s' % (where, kind, ', '.join(missing)))
        if kind == 'taprio':
            _validate_taprio(values, where)
        entries.append({'parent': parent, 'handle': handle, 'kind': kind, 'options': words, 'values': values})
    _validate_tree(entries)
    return sorted(entries, key=lambda e: (e['parent'] != 'root', e['parent'] != 'root' and _class_minor(e['parent'])))


def _validate_taprio(values, where):
    num_tc = values['num_tc']
    if not 1 <= num_tc <= MAX_TRAFFIC_CLASSES:
        raise HyperionError('%s: num_tc must be 1 to %d, not %d' % (where, MAX_TRAFFIC_CLASSES, num_tc))
    bad = [(prio, tc) for prio, tc in enumerate(values['map']) if tc >= num_tc]
    if bad:
        raise HyperionError('%s: map sends priority %d to traffic class %d, but num_tc %d only has classes 0 to %d'
                            % (where, bad[0][0], bad[0][1], num_tc, num_tc - 1))
    queues = values['queues']
    if len(queues) != num_tc:
        raise HyperionError('%s: queues needs one COUNT@OFFSET per traffic class (num_tc %d), got %d'
                            % (where, num_tc, len(queues)))
    taken = {}
    for tc_index, (count, offset) in enumerate(queues):
        for queue in range(offset, offset + count):
            if queue in taken:
                raise HyperionError('%s: queues %d@%d of traffic class %d overlap %d@%d of traffic class %d at tx queue %d'
                                    % (where, count, offset, tc_index, queues[taken[queue]][0], queues[taken[queue]][1],
                                       taken[queue], queue))
            taken[queue] = tc_index
    for index, (command, mask, interval) in enumerate(values['sched_entries']):
        if mask >> num_tc:
            raise HyperionError('%s: sched_entries[%d] gatemask 0x%x opens gates beyond the %d traffic classes '
                                '(highest allowed mask 0x%x)' % (where, index, mask, num_tc, (1 << num_tc) - 1))


def _validate_tree(entries):
    roots = [e for e in entries if e['parent'] == 'root']
    if len(roots) != 1:
        raise HyperionError('the plan must have exactly one qdisc at parent root, it has %d' % len(roots))
    root = roots[0]
    seen = set()
    for entry in entries:
        if entry['parent'] in seen:
            raise HyperionError('the plan has two qdiscs at parent %s' % entry['parent'])
        seen.add(entry['parent'])
        if entry is root:
            if entry['kind'] == 'etf':
                raise HyperionError('%s: etf only works as the child of a taprio or mqprio class, not as the root '
                                    'qdisc' % _describe(entry))
            continue
        if entry['kind'] in ROOT_ONLY_KINDS:
            raise HyperionError('%s: %s can only be the root qdisc' % (_describe(entry), entry['kind']))
        if root['kind'] not in CLASSFUL_KINDS:
            raise HyperionError('%s: the root qdisc %s has no classes to attach children to (only %s have)'
                                % (_describe(entry), root['kind'], ', '.join(CLASSFUL_KINDS)))
        if not root['handle']:
            raise HyperionError('the root qdisc %s needs a handle (for example "1:") for its children to name '
                                'their parent' % root['kind'])
        if _major(entry['parent']) != _major(root['handle']):
            raise HyperionError('%s: parent %s is not a class of the root qdisc %s %s'
                                % (_describe(entry), entry['parent'], root['kind'], root['handle']))
        if entry['kind'] == 'etf' and root['kind'] != 'taprio':
            raise HyperionError('%s: etf needs a taprio or mqprio class as its parent, and %s is a class of %s'
                                % (_describe(entry), entry['parent'], root['kind']))


def validate_for_device(plan, device, tx_queues):
    """Checks that need the device: its number of tx queues (``tx_queue_count``)."""
    if not plan:
        return
    root = plan[0]
    if root['kind'] in CLASSFUL_KINDS and tx_queues < 2:
        raise HyperionError('%s needs a multi-queue device; %s has %d tx queue' % (root['kind'], device, tx_queues))
    if root['kind'] == 'taprio':
        for tc_index, (count, offset) in enumerate(root['values']['queues']):
            if offset + count > tx_queues:
                raise HyperionError('taprio queues %d@%d (traffic class %d) need tx queues %d to %d, but %s has %d tx '
                                    'queues (0 to %d)' % (count, offset, tc_index, offset, offset + count - 1,
                                                          device, tx_queues, tx_queues - 1))
    for entry in plan[1:]:
        if _class_minor(entry['parent']) > tx_queues:
            raise HyperionError('%s: %s %s has one class per tx queue, so classes %s:1 to %s:%x on %s (%d tx queues)'
                                % (_describe(entry), root['kind'], root['handle'], _major(root['handle']),
                                   _major(root['handle']), tx_queues, device, tx_queues))


# ---------------------------------------------------------------- the device

def tx_queue_count(links, device):
    """numtxqueues of DEVICE from ``ip -j -d link show`` output (text or parsed)."""
    if not isinstance(links, list):
        try:
            links = json.loads(links or '[]')
        except ValueError as exc:
            raise HyperionError('ip -j -d link show: output is not JSON: %s' % exc)
    for link in links:
        if isinstance(link, dict) and link.get('ifname') == device:
            if 'num_tx_queues' not in link:
                raise HyperionError('ip -j -d link show dev %s does not report num_tx_queues' % device)
            return int(link['num_tx_queues'])
    raise HyperionError('device %s does not exist' % device)


def live_tree(tc_json, device):
    """The device's qdiscs from ``tc -j qdisc show [dev DEVICE]`` output, root first."""
    data = tc_json if isinstance(tc_json, list) else parse_qdisc_json(tc_json, 'tc -j qdisc show dev %s' % device)
    qdiscs = normalize_qdiscs(data, default_dev=device).get(device, [])
    for qdisc in qdiscs:
        qdisc['options'] = _clean_options(qdisc['options'])
    return sorted(qdiscs, key=_tree_order)


def _tree_order(qdisc):
    parent = qdisc['parent']
    if parent == 'root':
        return (0, 0, 0)
    if parent == 'ingress' or not parent or ':' not in parent:
        return (2, 0, 0)
    major, minor = parent.split(':')
    return (1, int(major or '0', 16), int(minor or '0', 16))


def _at(live, parent):
    for qdisc in live:
        if qdisc['parent'] == parent:
            return qdisc
    return None


def _differences(entry, qdisc):
    have = live_values(qdisc)
    specs = _SPECS[entry['kind']]
    return dict((key, (wanted, have.get(key))) for key, wanted in entry['values'].items()
                if not _same(specs[key], wanted, have.get(key)))


def _verdict(entry, qdisc):
    """('ok' | 'create' | 'change' | 'recreate', reason) for one planned qdisc against the live one."""
    if qdisc is None:
        return 'create', 'no %s yet' % entry['kind']
    if qdisc['handle'] == DEFAULT_HANDLE:
        # A kernel default cannot be changed or deleted, only replaced; one that matches is left alone.
        if qdisc['kind'] == entry['kind'] and not entry['handle'] and not _differences(entry, qdisc):
            return 'ok', 'as planned'
        return 'create', 'replaces the kernel default %s' % qdisc['kind']
    if qdisc['kind'] != entry['kind']:
        return 'recreate', 'kind is %s, planned %s' % (qdisc['kind'], entry['kind'])
    if entry['handle'] and qdisc['handle'] != entry['handle']:
        return 'recreate', 'handle is %s, planned %s' % (qdisc['handle'], entry['handle'])
    differences = _differences(entry, qdisc)
    if not differences:
        return 'ok', 'as planned'
    reason = ', '.join('%s %s (wanted %s)' % (key, _show(have), _show(wanted))
                       for key, (wanted, have) in sorted(differences.items()))
    fixed = _RECREATE_KEYS.get(entry['kind'], ())
    if fixed is None or any(key in fixed for key in differences):
        return 'recreate', reason
    return 'change', reason


def _replace_argv(device, entry):
    argv = ['tc', 'qdisc', 'replace', 'dev', device]
    argv += ['root'] if entry['parent'] == 'root' else ['parent', entry['parent']]
    if entry['handle']:
        argv += ['handle', entry['handle']]
    argv.append(entry['kind'])
    for key, spec in OPTIONS[entry['kind']]:
        if key in entry['values']:
            argv += _words(key, spec, entry['values'][key], entry['options'][key])
    return argv


def _delete_argv(device, parent):
    return ['tc', 'qdisc', 'del', 'dev', device] + (['root'] if parent == 'root' else ['parent', parent])


def plan_steps(device, plan, live, state='present'):
    """[(argv, reason)]: the tc commands that make the live tree match the plan, in order."""
    root_live = _at(live, 'root')
    if state == 'absent':
        if root_live is not None and root_live['handle'] != DEFAULT_HANDLE:
            return [(_delete_argv(device, 'root'), 'remove %s %s so the kernel default comes back'
                     % (root_live['kind'], root_live['handle']))]
        return []
    steps = []
    root = plan[0]
    verdict, reason = _verdict(root, root_live)
    if verdict == 'recreate':
        steps.append((_delete_argv(device, 'root'), 'delete %s %s at root first: %s' % (root_live['kind'], root_live['handle'], reason)))
    if verdict != 'ok':
        steps.append((_replace_argv(device, root), '%s: %s' % (_describe(root), reason)))
    # A new root starts with the kernel's default children: every planned child is new.
    fresh = verdict in ('create', 'recreate')
    for entry in plan[1:]:
        qdisc = None if fresh else _at(live, entry['parent'])
        verdict, reason = _verdict(entry, qdisc)
        if verdict == 'recreate':
            steps.append((_delete_argv(device, entry['parent']), 'delete %s %s at %s first: %s'
                          % (qdisc['kind'], qdisc['handle'], entry['parent'], reason)))
        if verdict != 'ok':
            steps.append((_replace_argv(device, entry), '%s: %s' % (_describe(entry), reason)))
    return steps


# ---------------------------------------------------------------- showing the tree

def _show(value):
    if isinstance(value, bool):
        return 'on' if value else 'off'
    if isinstance(value, list):
        if value and isinstance(value[0], tuple) and len(value[0]) == 3:
            return ', '.join('%s 0x%x %d' % entry for entry in value)
        if value and isinstance(value[0], tuple):
            return ' '.join('%d@%d' % pair for pair in value)
        return ' '.join(str(v) for v in value)
    if value is None:
        return '(not set)'
    return str(value)


def tree_lines(qdiscs):
    """One line per qdisc, root first: kind, handle, parent and the managed options in base units."""
    lines = []
    for qdisc in sorted(qdiscs, key=_tree_order):
        values = qdisc['values'] if 'values' in qdisc else live_values(qdisc)
        text = '%s %s %s' % (qdisc['kind'], qdisc['handle'] or '(auto)',
                             'root' if qdisc['parent'] == 'root' else 'parent %s' % qdisc['parent'])
        for key, _spec in OPTIONS.get(qdisc['kind'], []):
            if key in values:
                text += ' %s=%s' % (key, _show(values[key]))
        lines.append(text)
    return lines


def tree_text(qdiscs):
    return ''.join(line + '\n' for line in tree_lines(qdiscs))


def predicted_tree(plan, live, state='present'):
    """The tree the steps would leave, for diff mode in check mode (kernel defaults shown as such)."""
    root_live = _at(live, 'root')
    if state == 'absent':
        if root_live is None or root_live['handle'] == DEFAULT_HANDLE:
            return list(live)
        return [{'kind': '(kernel default)', 'handle': DEFAULT_HANDLE, 'parent': 'root', 'values': {}}]
    root = plan[0]
    verdict = _verdict(root, root_live)[0]
    fresh = verdict in ('create', 'recreate')
    tree = []
    planned_parents = set(e['parent'] for e in plan)
    if not fresh:
        tree = [q for q in live if q['parent'] not in planned_parents]
    for entry in plan:
        qdisc = None if (fresh and entry is not root) else _at(live, entry['parent'])
        values = dict(entry['values'])
        handle = entry['handle']
        if qdisc is not None and _verdict(entry, qdisc)[0] in ('ok', 'change'):
            values = dict(live_values(qdisc), **entry['values'])
            handle = qdisc['handle']
        tree.append({'kind': entry['kind'], 'handle': handle, 'parent': entry['parent'], 'values': values})
    return tree


def public_tree(qdiscs):
    """The live tree as returned to the user: kind, handle, parent and tc's options (keys cleaned)."""
    return [{'kind': q['kind'], 'handle': q['handle'], 'parent': q['parent'], 'options': q['options']}
            for q in sorted(qdiscs, key=_tree_order)]


# ---------------------------------------------------------------- one run

def read_device(run, device):
    """(tx queue count, live tree) of DEVICE through ``run(argv) -> (rc, stdout, stderr)``."""
    rc, out, err = run(['ip', '-j', '-d', 'link', 'show', 'dev', device])
    if rc != 0:
        message = (err or out or '').strip()
        if 'does not exist' in message or 'Cannot find device' in message:
            raise HyperionError('device %s does not exist' % device)
        raise HyperionError('ip -j -d link show dev %s failed (rc %s): %s' % (device, rc, message))
    tx_queues = tx_queue_count(out, device)
    return tx_queues, read_tree(run, device)


def read_tree(run, device):
    rc, out, err = run(['tc', '-j', 'qdisc', 'show', 'dev', device])
    if rc != 0:
        raise HyperionError('tc -j qdisc show dev %s failed (rc %s): %s' % (device, rc, (err or out or '').strip()))
    return live_tree(out, device)


def apply_plan(run, device, qdiscs, state='present', check_mode=False):
    """Validate, read, plan and (unless check_mode) run and verify; the module's whole job.

    Returns {'actions', 'changed', 'before', 'after', 'qdiscs'}: ``actions`` are
    the tc argv lists (run, or to be run in check mode); ``before``/``after`` the
    tree as text; ``qdiscs`` the live tree after the run.
    """
    if not device or not isinstance(device, str) or '/' in device or device != device.strip():
        raise HyperionError('device %r is not an interface name' % (device,))
    plan = normalize_plan(qdiscs, state)
    tx_queues, live = read_device(run, device)
    validate_for_device(plan, device, tx_queues)
    steps = plan_steps(device, plan, live, state)
    actions = [argv for argv, _reason in steps]
    result = {'actions': actions, 'reasons': [reason for _argv, reason in steps], 'changed': bool(actions),
              'before': tree_text(live)}
    if check_mode or not actions:
        result['after'] = tree_text(predicted_tree(plan, live, state)) if actions else result['before']
        result['qdiscs'] = public_tree(live)
        return result
    executed = []
    for argv in actions:
        rc, out, err = run(argv)
        if rc != 0:
            raise QdiscApplyError('%s failed (rc %s): %s' % (' '.join(argv), rc, (err or out or '').strip()), executed)
        executed.append(argv)
    after = read_tree(run, device)
    remaining = plan_steps(device, plan, after, state)
    if remaining:
        raise QdiscApplyError('tc accepted every command, but %s still differs from the plan: %s'
                              % (device, '; '.join(reason for _argv, reason in remaining)), executed)
    result['after'] = tree_text(after)
    result['qdiscs'] = public_tree(after)
    return result

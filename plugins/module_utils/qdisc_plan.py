# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan, validate and apply the qdisc tree of one network device.

A plan is a list of qdiscs ({parent, handle, kind, options}) with options in
tc's own words and units. It is validated completely before anything is read
from or written to the device, then compared with the normalised live state
(``tc -j qdisc show dev DEV``) option by option in base units, which yields the
exact ``tc`` argv lists that make the device match: roots before children, a
root of another kind grafted over the old one (see ``must_delete_first``). ``apply_plan`` runs them
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
from .taprio_offload import check_full_offload, trusted_drivers
from .tc import normalize_qdiscs, parse_qdisc_json, parse_rate, parse_size, parse_time
from .validation import as_bool, is_valid, require

KINDS = ('cake', 'etf', 'fq', 'fq_codel', 'mq', 'taprio')
CLASSFUL_KINDS = ('mq', 'taprio')
ROOT_ONLY_KINDS = ('mq', 'taprio')
CLOCKIDS = ('CLOCK_TAI', 'CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_BOOTTIME')
TAPRIO_COMMANDS = ('S', 'H', 'R')
# taprio's flags (TCA_TAPRIO_ATTR_FLAGS) as named modes. sch_taprio.c takes no other value (0x3 is refused:
# "TXTIME_ASSIST and FULL_OFFLOAD are mutually exclusive").
TAPRIO_MODES = ('software', 'txtime-assist', 'full-offload')
TAPRIO_FLAGS = {'software': 0x0, 'txtime-assist': 0x1, 'full-offload': 0x2}
# TC_QOPT_MAX_QUEUE and TC_BITMASK + 1 in the kernel's uapi.
MAX_TRAFFIC_CLASSES = 16
PRIORITY_COUNT = 16
DEFAULT_HANDLE = '0:'

# Limits of the consumers: tc's parsers (tc/tc_util.c, q_*.c in iproute2) and the kernel's (net/sched/sch_*.c).
U32_MAX = 2 ** 32 - 1
S32_MAX = 2 ** 31 - 1
S64_MAX = 2 ** 63 - 1
U64_MAX = 2 ** 64 - 1
# The kernel refuses a taprio cycle longer than INT_MAX nanoseconds (taprio_cycle_time_range).
TAPRIO_CYCLE_MAX = S32_MAX
# taprio's shortest interval is one 60-byte frame at the link speed; at an unknown speed it takes 10 Mbit/s.
TAPRIO_DEFAULT_SPEED_MBIT = 10
ETH_ZLEN = 60


def _opt(type_, word=None, json_key=None, true=None, false=None, choices=None, lo=None, hi=None, why=None,
         jiffies=False):
    """One option: how tc spells it, where tc -j reports it and the range (base units) its consumer accepts."""
    return {'type': type_, 'word': word, 'json': json_key, 'true': true, 'false': false, 'choices': choices,
            'lo': lo, 'hi': hi, 'why': why, 'jiffies': jiffies}


_TC_U32 = "tc's and the kernel's unsigned 32-bit value"
_TC_U32_US = "tc's and the kernel's unsigned 32-bit count of microseconds"


# What each kind accepts, how tc spells it on the command line and where tc -j reports it.
# The order is the order of the words on the tc command line.
OPTIONS = {
    'cake': [
        # get_rate64(): a 64-bit count of bytes per second; 0 is no rate at all (tc then sends none), so
        # "unlimited" is the word for it and a rate that truncates to 0 bytes/s (below 8bit) is refused.
        ('bandwidth', _opt('rate_or_unlimited', 'bandwidth', 'bandwidth', lo=1, hi=U64_MAX,
                           why="tc's 64-bit count of bytes per second; write unlimited for no shaping")),
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
        # tc leaves an rtt of 0 out of the message, so it would not change anything.
        ('rtt', _opt('time', 'rtt', 'rtt', lo=1, hi=U32_MAX, why=_TC_U32_US + ', not 0')),
        ('overhead', _opt('int', 'overhead', 'overhead', lo=-64, hi=256, why="the range q_cake.c accepts")),
    ],
    'fq': [
        ('limit', _opt('int', 'limit', 'limit', lo=0, hi=U32_MAX, why=_TC_U32)),
        ('flow_limit', _opt('int', 'flow_limit', 'flow_limit', lo=0, hi=U32_MAX, why=_TC_U32)),
        # The kernel keeps log2 of the bucket count (1 to 18): another number reads back as a power of two.
        ('buckets', _opt('int', 'buckets', 'buckets', lo=2, hi=2 ** 18, why='a power of two, as sch_fq keeps log2 of it')),
        ('orphan_mask', _opt('int', 'orphan_mask', 'orphan_mask', lo=0, hi=U32_MAX, why=_TC_U32)),
        # q_fq.c reads both quanta with get_unsigned(): bytes as a whole number, no unit ("1514b" is refused).
        # sch_fq clamps the quantum to 256 bytes .. 1 MiB: a value outside would read back as another.
        ('quantum', _opt('int', 'quantum', 'quantum', lo=256, hi=2 ** 20, why='bytes, the range sch_fq keeps')),
        ('initial_quantum', _opt('int', 'initial_quantum', 'initial_quantum', lo=0, hi=U32_MAX, why='bytes, ' + _TC_U32)),
        # fq's rate is a u32 and 2^32-1 means unlimited: tc refuses larger rates (iproute2 6.15) or caps them.
        ('maxrate', _opt('rate', 'maxrate', 'maxrate', lo=0, hi=U32_MAX - 1,
                         why="sch_fq's 32-bit bytes per second, 2^32-1 being unlimited")),
        ('low_rate_threshold', _opt('rate', 'low_rate_threshold', 'low_rate_threshold', lo=0, hi=U32_MAX,
                                    why="tc's get_rate(): 32-bit bytes per second")),
        # sch_fq keeps the refill delay in jiffies (rounded up), so it reads back as a multiple of the tick.
        ('refill_delay', _opt('time', 'refill_delay', 'refill_delay', lo=0, hi=U32_MAX, why=_TC_U32_US, jiffies=True)),
        ('horizon', _opt('time', 'horizon', 'horizon', lo=0, hi=U32_MAX, why=_TC_U32_US)),
    ],
    'fq_codel': [
        # q_fq_codel.c sends limit, flows, quantum, target, interval and drop_batch only when not 0.
        ('limit', _opt('int', 'limit', 'limit', lo=1, hi=U32_MAX, why=_TC_U32 + ', not 0')),
        ('flows', _opt('int', 'flows', 'flows', lo=1, hi=65536, why='the range sch_fq_codel accepts')),
        # Read with get_unsigned(): bytes as a whole number, no unit.
        ('quantum', _opt('int', 'quantum', 'quantum', lo=256, hi=2 ** 20, why='bytes, sch_fq_codel: 256 to FQ_CODEL_QUANTUM_MAX')),
        ('target', _opt('time', 'target', 'target', lo=1, hi=U32_MAX, why=_TC_U32_US + ', not 0')),
        ('interval', _opt('time', 'interval', 'interval', lo=1, hi=U32_MAX, why=_TC_U32_US + ', not 0')),
        ('ecn', _opt('bool', json_key='ecn', true='ecn', false='noecn')),
        # 2^32-1 is tc's "not set".
        ('ce_threshold', _opt('time', 'ce_threshold', 'ce_threshold', lo=0, hi=U32_MAX - 1, why=_TC_U32_US)),
        # sch_fq_codel caps the memory limit at 2^31 bytes; 2^32-1 is tc's "not set".
        ('memory_limit', _opt('size', 'memory_limit', 'memory_limit', lo=1, hi=2 ** 31, why='sch_fq_codel caps it at 2^31 bytes')),
        ('drop_batch', _opt('int', 'drop_batch', 'drop_batch', lo=1, hi=U32_MAX, why=_TC_U32 + ', not 0')),
    ],
    'etf': [
        ('clockid', _opt('clockid', 'clockid', 'clockid')),
        ('delta', _opt('ns', 'delta', 'delta', lo=0, hi=S32_MAX, why="sch_etf's signed 32-bit nanoseconds")),
        # etf flags have no "off" word: leaving the word out is off.
        ('deadline_mode', _opt('bool', json_key='deadline_mode', true='deadline_mode')),
        ('skip_sock_check', _opt('bool', json_key='skip_sock_check', true='skip_sock_check')),
        ('offload', _opt('bool', json_key='offload', true='offload')),
    ],
    'taprio': [
        ('num_tc', _opt('int', 'num_tc', 'tc', lo=1, hi=MAX_TRAFFIC_CLASSES, why='TC_QOPT_MAX_QUEUE')),
        ('map', _opt('map', 'map', 'map')),
        ('queues', _opt('queues', 'queues', 'queues')),
        ('base_time', _opt('ns', 'base-time', 'base_time', lo=0, hi=S64_MAX, why="tc's signed 64-bit nanoseconds")),
        ('sched_entries', _opt('sched_entries', 'sched-entry', 'schedule')),
        ('cycle_time', _opt('ns', 'cycle-time', 'cycle_time', lo=1, hi=TAPRIO_CYCLE_MAX,
                            why="the kernel's taprio cycle range (INT_MAX nanoseconds)")),
        ('cycle_time_extension', _opt('ns', 'cycle-time-extension', 'cycle_time_extension', lo=0, hi=TAPRIO_CYCLE_MAX,
                                      why="at most the longest cycle the kernel takes")),
        ('clockid', _opt('clockid', 'clockid', 'clockid')),
        # tc's flags; software sends none (tc sends no flags of 0, and the kernel reads no flags as 0).
        ('mode', _opt('taprio_mode', 'flags', 'flags')),
        # tc leaves a txtime-delay of 0 out of the message, so it would not change anything.
        ('txtime_delay', _opt('ns', 'txtime-delay', 'txtime_delay', lo=1, hi=U32_MAX,
                              why="tc's and the kernel's unsigned 32-bit nanoseconds, not 0")),
    ],
    'mq': [],
}
_SPECS = dict((kind, dict(options)) for kind, options in OPTIONS.items())

# Options the kernel cannot change on a live qdisc: a difference means creating the qdisc again.
# etf has no change operation at all; taprio refuses a new traffic class mapping, clock or flags
# ("Changing 'flags' of a running schedule is not supported"); fq_codel takes its flow count only
# when it is created (fq_codel_change refuses it later).
_RECREATE_KEYS = {
    'etf': None,
    'fq_codel': ('flows',),
    'taprio': ('num_tc', 'map', 'queues', 'clockid', 'mode'),
}
# taprio's schedule is the admin schedule while one is pending, the operating one otherwise.
_TAPRIO_SCHEDULE_KEYS = ('base_time', 'sched_entries', 'cycle_time', 'cycle_time_extension')
_REQUIRED = {'taprio': ('num_tc', 'map', 'queues', 'sched_entries')}

_HANDLE_RE = re.compile(r'([0-9a-fA-F]{1,4}):?')
_CLASS_RE = re.compile(r'([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})')
_QUEUES_RE = re.compile(r'([0-9]{1,6})@([0-9]{1,6})')


class QdiscApplyError(HyperionError):
    """A tc command failed or the device does not match the plan after the commands ran."""

    def __init__(self, message, executed):
        super(QdiscApplyError, self).__init__(message)
        self.executed = executed


# ---------------------------------------------------------------- values: plan side

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


_UNIT_WORDS = {'rate': 'bytes per second', 'rate_or_unlimited': 'bytes per second', 'time': 'microseconds',
               'size': 'bytes', 'ns': 'nanoseconds', 'int': ''}


def _canonical(spec, value, what):
    """The plan's value in the base units tc -j reports, within the range its consumer accepts."""
    canonical = _canonical_value(spec, value, what)
    if spec['type'] == 'rate_or_unlimited' and canonical == 0:
        if str(value).strip().lower() == 'unlimited':
            return 0
        raise HyperionError('%s %s is 0 bytes per second, which tc sends as no rate at all (the old rate would stay); '
                            'write unlimited for no shaping, or a rate of at least 8bit' % (what, _shown(value)))
    lo, hi = spec.get('lo'), spec.get('hi')
    if isinstance(canonical, int) and not isinstance(canonical, bool) and (
            (lo is not None and canonical < lo) or (hi is not None and canonical > hi)):
        unit = ' ' + _UNIT_WORDS[spec['type']] if _UNIT_WORDS.get(spec['type']) else ''
        got = _shown(value)
        if str(value).strip() != str(canonical):
            got += ' (%d%s)' % (canonical, unit)
        raise HyperionError('%s must be %s%s (%s), got %s' % (
            what, 'from %d to %d' % (lo, hi) if lo is not None else 'at most %d' % hi, unit,
            spec.get('why') or 'the limit of its consumer', got))
    if spec['word'] == 'buckets' and canonical & (canonical - 1):
        raise HyperionError('%s %d is not a power of two; sch_fq keeps log2 of the bucket count, so it would read '
                            'back as another number (tc rounds it to a power of two)' % (what, canonical))
    return canonical


def _shown(value):
    return '"%s"' % value if isinstance(value, str) else repr(value)


def _canonical_value(spec, value, what):
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
        return as_bool(value, what)
    if type_ == 'choice':
        text = str(value).strip()
        if text not in spec['choices']:
            raise HyperionError('%s %r is not one of %s' % (what, value, ', '.join(sorted(spec['choices']))))
        return text
    if type_ == 'clockid':
        return _clockid(value, what)
    if type_ == 'taprio_mode':
        text = str(value).strip().lower().replace('_', '-')
        if isinstance(value, bool) or text not in TAPRIO_MODES:
            raise HyperionError('%s %s is not one of software, txtime-assist, full-offload (tc\'s flags 0x0, 0x1, 0x2)'
                                % (what, _shown(value)))
        return text
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
            # tc_mqprio_qopt keeps count and offset as 16-bit numbers.
            if not match or not 1 <= int(match.group(1)) <= 0xffff or int(match.group(2)) > 0xffff:
                raise HyperionError('%s entry %r is not COUNT@OFFSET with COUNT from 1 to 65535 and OFFSET at most '
                                    '65535 (for example "2@2")' % (what, item))
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
            interval = _as_int(entry['interval'], where + ' interval (nanoseconds)', minimum=1)
            if interval > U32_MAX:
                raise HyperionError('%s interval %d nanoseconds is beyond %d, the largest interval tc and the kernel '
                                    'take (an unsigned 32-bit number)' % (where, interval, U32_MAX))
            entries.append((command, _gatemask(entry['gatemask'], where + ' gatemask'), interval))
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
    if type_ == 'taprio_mode':
        flags = TAPRIO_FLAGS[canonical]
        return [spec['word'], '0x%x' % flags] if flags else []
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
    if type_ == 'taprio_mode':
        # taprio_dump() leaves flags 0 out; tc prints the others with print_0xhex() ("0x1"), as the gate masks.
        try:
            flags = 0 if value is None else int(str(value), 0)
        except ValueError:
            return ('unreadable', value)
        modes = [mode for mode, bits in TAPRIO_FLAGS.items() if bits == flags]
        return modes[0] if modes else ('unreadable', value)
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
        if spec['type'] in ('bool', 'taprio_mode') or spec['json'] in source:
            values[key] = _live_value(spec, source)
    return values


def _same(spec, wanted, have):
    if spec.get('jiffies') and isinstance(have, int):
        # usecs_to_jiffies() rounds up to the next tick: 10 ms at most (HZ=100).
        return wanted <= have <= wanted + 10000
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
                hint = ''
                if kind == 'taprio' and canonical_key == 'flags':
                    hint = ' (tc\'s flags are the option mode here: software, txtime-assist or full-offload)'
                raise HyperionError('%s: unknown option %r for %s%s; %s' % (
                    where, key, kind, hint,
                    ('it takes ' + ', '.join(name for name, _spec in OPTIONS[kind])) if specs else 'it takes none'))
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
        if kind == 'taprio':
            # No mode is software, as tc without flags.
            values.setdefault('mode', 'software')
            words.setdefault('mode', 'software')
        missing = [key for key in _required(kind, values) if key not in values]
        if missing:
            raise HyperionError('%s: %s needs the options %s%s'
                                % (where, kind, ', '.join(missing), _why_required(kind, values, missing)))
        if kind == 'taprio':
            _validate_taprio(values, where)
        entries.append({'parent': parent, 'handle': handle, 'kind': kind, 'options': words, 'values': values})
    _validate_tree(entries)
    return sorted(entries, key=lambda e: (e['parent'] != 'root', e['parent'] != 'root' and _class_minor(e['parent'])))


def _required(kind, values):
    required = _REQUIRED.get(kind, ())
    if kind == 'taprio':
        # Software and txtime-assist time the schedule with an hrtimer on clockid ("Specifying a 'clockid' is
        # mandatory", sch_taprio.c taprio_parse_clockid); full offload runs on the NIC's clock.
        if values['mode'] != 'full-offload':
            required += ('clockid',)
        if values['mode'] == 'txtime-assist':
            required += ('txtime_delay',)
    return required


def _why_required(kind, values, missing):
    if kind == 'taprio' and 'txtime_delay' in missing:
        # The kernel takes a txtime-assist taprio without it, but then stamps packets for "now": they reach the
        # etf after their txtime and it drops them; tc cannot even send a delay of 0.
        return (' (mode txtime-assist stamps each packet with the time its gate opens, at least txtime_delay '
                'nanoseconds ahead: the longest a packet takes from taprio to the network card, tc-taprio(8))')
    return ''


def _validate_taprio(values, where):
    mode = values['mode']
    if 'txtime_delay' in values and mode != 'txtime-assist':
        raise HyperionError('%s: option txtime_delay is for mode txtime-assist only; the kernel refuses it in mode %s '
                            '("txtime-delay can only be set when txtime-assist mode is enabled", sch_taprio.c)'
                            % (where, mode))
    if mode == 'full-offload' and 'clockid' in values:
        raise HyperionError('%s: mode full-offload takes no clockid: the network card runs the schedule on its own '
                            'PTP clock, and the kernel refuses one ("The \'clockid\' cannot be specified for full '
                            'offload", sch_taprio.c)' % where)
    if mode == 'txtime-assist' and values['clockid'] != 'CLOCK_TAI':
        raise HyperionError('%s: mode txtime-assist needs clockid CLOCK_TAI, not %s: taprio stamps each packet with '
                            'a txtime on its clock, and the etf children that send at that time take no clock but '
                            'CLOCK_TAI (sch_etf.c)' % (where, values['clockid']))
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
    for tc_index, (count, offset) in enumerate(queues):
        if mode == 'txtime-assist':
            # mqprio_validate_queue_counts() lets txtime-assist's traffic classes share tx queues (1@0 1@0 1@0).
            break
        for other in range(tc_index):
            other_count, other_offset = queues[other]
            first = max(offset, other_offset)
            if first < min(offset + count, other_offset + other_count):
                raise HyperionError('%s: queues %d@%d of traffic class %d overlap %d@%d of traffic class %d at tx queue %d'
                                    % (where, count, offset, tc_index, other_count, other_offset, other, first))
    for index, (command, mask, interval) in enumerate(values['sched_entries']):
        if mask >> num_tc:
            raise HyperionError('%s: sched_entries[%d] gatemask 0x%x opens gates beyond the %d traffic classes '
                                '(highest allowed mask 0x%x)' % (where, index, mask, num_tc, (1 << num_tc) - 1))
    total = sum(interval for _command, _mask, interval in values['sched_entries'])
    if 'cycle_time' in values:
        # The kernel would cut the schedule at cycle_time: the entries past it never run.
        if values['cycle_time'] < total:
            raise HyperionError('%s: cycle_time %d ns is shorter than the sum of the sched_entries intervals (%d ns); '
                                'the kernel would cut the schedule short. Make cycle_time at least %d or leave it out'
                                % (where, values['cycle_time'], total, total))
    elif total > TAPRIO_CYCLE_MAX:
        raise HyperionError('%s: the sched_entries intervals add up to %d ns, beyond the longest cycle the kernel takes '
                            '(%d ns, INT_MAX)' % (where, total, TAPRIO_CYCLE_MAX))


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
    if root['kind'] == 'taprio' and root['values']['mode'] == 'txtime-assist':
        _validate_txtime_assist(root, entries)


def scheduled_tx_queues(values):
    """{tx queue: [traffic classes]} of a taprio's traffic classes whose gate opens in some entry of its schedule."""
    opened = 0
    for _command, mask, _interval in values['sched_entries']:
        opened |= mask
    queues = {}
    for tc_index, (count, offset) in enumerate(values['queues']):
        if opened >> tc_index & 1:
            for queue in range(offset, offset + count):
                queues.setdefault(queue, []).append(tc_index)
    return queues


def _validate_txtime_assist(root, entries):
    """A txtime-assist taprio only stamps each packet's txtime (its dequeue skips the gate checks); the etf
    child of the packet's tx queue holds it until then (tc-taprio(8)). So every tx queue a traffic class with an
    open gate uses needs an etf child, with skip_sock_check: etf drops the packets of sockets without SO_TXTIME
    otherwise (sch_etf.c is_packet_valid), and here the txtime comes from taprio. The etf's clock is the taprio's:
    etf takes CLOCK_TAI only (normalize_plan), and _validate_taprio requires it of a txtime-assist taprio."""
    queues = scheduled_tx_queues(root['values'])
    if not queues:
        return
    children = dict((entry['parent'], entry) for entry in entries if entry is not root)
    where = 'taprio at root in mode txtime-assist'
    if not root['handle']:
        raise HyperionError('%s needs an etf child on each tx queue its open gates use (tx queue%s %s), so it needs a '
                            'handle (such as "100:") for them to name their parent'
                            % (where, 's' if len(queues) > 1 else '', _numbers(sorted(queues))))
    major = _major(root['handle'])
    missing = []
    for queue in sorted(queues):
        parent = '%s:%x' % (major, queue + 1)
        child = children.get(parent)
        classes = 'traffic class%s %s' % ('es' if len(queues[queue]) > 1 else '', _numbers(queues[queue]))
        if child is None:
            missing.append('%s (tx queue %d: %s)' % (parent, queue, classes))
        elif child['kind'] != 'etf':
            raise HyperionError('%s: %s needs an etf on tx queue %d (%s), which sends the packets at the txtime '
                                'taprio gives them, not %s' % (_describe(child), where, queue, classes, child['kind']))
        elif not child['values'].get('skip_sock_check'):
            raise HyperionError('%s: under a taprio in mode txtime-assist the etf needs skip_sock_check: true; '
                                'without it etf drops every packet whose socket did not set SO_TXTIME, and here '
                                'the txtime comes from taprio (sch_etf.c)' % _describe(child))
    if missing:
        raise HyperionError('%s needs an etf child (with skip_sock_check: true) on each tx queue its open gates use, '
                            'and has none at %s: taprio only stamps each packet\'s txtime in this mode, the etf sends '
                            'it then (tc-taprio(8))' % (where, ', '.join(missing)))


def _numbers(numbers):
    return ', '.join(str(number) for number in numbers)


def taprio_min_interval(speed_mbit=None):
    """The shortest taprio interval (ns) the kernel takes: one 60-byte frame at the link speed.

    length_to_duration(q, ETH_ZLEN) in net/sched/sch_taprio.c, with the speed
    taprio_set_picos_per_byte() uses: the link's, or 10 Mbit/s when unknown.
    """
    speed = speed_mbit if isinstance(speed_mbit, int) and speed_mbit > 0 else TAPRIO_DEFAULT_SPEED_MBIT
    picos_per_byte = (1000000 * 8) // speed
    return ETH_ZLEN * picos_per_byte // 1000


def read_link_speed(device, sys_root='/sys'):
    """The link speed in Mbit/s from sysfs, or None when unknown (no link, a virtual device, -1)."""
    if not is_valid('netdev', device):
        return None
    try:
        with open('%s/class/net/%s/speed' % (sys_root, device)) as handle:
            speed = int(handle.read().strip())
    except (IOError, OSError, ValueError):
        return None
    return speed if speed > 0 else None


def validate_for_device(plan, device, tx_queues, speed_mbit=None):
    """Checks that need the device: its number of tx queues (``tx_queue_count``) and link speed (taprio)."""
    if not plan:
        return
    root = plan[0]
    if root['kind'] in CLASSFUL_KINDS and tx_queues < 2:
        raise HyperionError('%s needs a multi-queue device; %s has %d tx queue' % (root['kind'], device, tx_queues))
    if root['kind'] == 'taprio':
        shortest = taprio_min_interval(speed_mbit)
        for index, (_command, _mask, interval) in enumerate(root['values']['sched_entries']):
            if interval < shortest:
                raise HyperionError('taprio sched_entries[%d] interval %d ns is shorter than one minimum frame on %s '
                                    '(%d ns at %s); the kernel refuses it' % (
                                        index, interval, device, shortest,
                                        '%d Mbit/s' % speed_mbit if speed_mbit else 'an unknown link speed, taken as 10 Mbit/s'))
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


def validate_offload_driver(plan, device, driver, trusted=()):
    """A taprio in mode full-offload only on a link whose DRIVER runs the schedule (taprio_offload), or that the
    site TRUSTED: a driver without it is refused by the kernel only when tc runs, after the old taprio is gone."""
    if plan and plan[0]['kind'] == 'taprio' and plan[0]['values']['mode'] == 'full-offload':
        check_full_offload(device, driver, trusted_drivers(trusted))


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


def _spare_handle(live, plan, taken):
    """A handle no live or planned qdisc uses and no earlier step took (TAKEN is updated)."""
    used = set(_major(q['handle']) for q in live if q.get('handle'))
    used.update(_major(e['handle']) for e in plan if e.get('handle'))
    for major in range(0xfff0, 0xff00, -1):
        if '%x' % major not in used and major not in taken:
            taken.add(major)
            return '%x:' % major
    raise HyperionError('no spare qdisc handle between ff01: and fff0: is free on the device')


def must_delete_first(entry, qdisc):
    """True when ENTRY can only take the place of the live QDISC after it was deleted.

    Everywhere else ``tc qdisc replace`` grafts the new qdisc in one step: the
    kernel builds it first and swaps it in only when it accepted every option,
    so a refusal leaves the old qdisc in place. A taprio cannot be grafted over
    a taprio (directly or through a spare handle): the old one's destroy resets
    the device's traffic classes after the new one set them.
    """
    if entry['kind'] != 'taprio':
        return False
    return qdisc['kind'] == 'taprio' or (entry['handle'] is not None and entry['handle'] == qdisc['handle'])


def _recreate_steps(device, entry, qdisc, reason, spare):
    """The steps that put ENTRY where the live QDISC is (verdict 'recreate')."""
    where = 'root' if entry['parent'] == 'root' else entry['parent']
    if must_delete_first(entry, qdisc):
        return [(_delete_argv(device, entry['parent']), 'delete %s %s at %s first (a taprio cannot be grafted over it): %s'
                 % (qdisc['kind'], qdisc['handle'], where, reason)),
                (_replace_argv(device, entry), '%s: %s' % (_describe(entry), reason))]
    if entry['handle'] is None and entry['kind'] != qdisc['kind']:
        # Without a handle, replace of another kind grafts a new qdisc with a handle of the kernel's choice.
        return [(_replace_argv(device, entry), '%s: %s' % (_describe(entry), reason))]
    if entry['handle'] is not None and entry['handle'] != qdisc['handle']:
        return [(_replace_argv(device, entry), '%s: %s' % (_describe(entry), reason))]
    # The live qdisc holds the handle the new one wants (or, without a planned handle, is of the same kind
    # and cannot change, as etf): a plain replace would be a change. The new qdisc goes in under a spare
    # handle first, which grafts it; then under its own handle, which grafts it again.
    steps = [(_replace_argv(device, dict(entry, handle=spare)), '%s: %s (under the spare handle %s, so that the '
              'old one stays until the new one is accepted)' % (_describe(entry), reason, spare))]
    if entry['handle'] is not None:
        steps.append((_replace_argv(device, entry), '%s: back to its planned handle %s' % (_describe(entry), entry['handle'])))
    return steps


def plan_steps(device, plan, live, state='present'):
    """[(argv, reason)]: the tc commands that make the live tree match the plan, in order.

    A qdisc of another kind (or one that cannot change) is replaced by grafting, not
    deleted first (see must_delete_first for the one exception).
    """
    root_live = _at(live, 'root')
    if state == 'absent':
        if root_live is not None and root_live['handle'] != DEFAULT_HANDLE:
            return [(_delete_argv(device, 'root'), 'remove %s %s so the kernel default comes back'
                     % (root_live['kind'], root_live['handle']))]
        return []
    steps = []
    root = plan[0]
    taken = set()
    verdict, reason = _verdict(root, root_live)
    if verdict == 'recreate':
        steps += _recreate_steps(device, root, root_live, reason, _spare_handle(live, plan, taken))
    elif verdict != 'ok':
        steps.append((_replace_argv(device, root), '%s: %s' % (_describe(root), reason)))
    # A new root starts with the kernel's default children: every planned child is new.
    fresh = verdict in ('create', 'recreate')
    for entry in plan[1:]:
        qdisc = None if fresh else _at(live, entry['parent'])
        verdict, reason = _verdict(entry, qdisc)
        if verdict == 'recreate':
            steps += _recreate_steps(device, entry, qdisc, reason, _spare_handle(live, plan, taken))
        elif verdict != 'ok':
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


def apply_plan(run, device, qdiscs, state='present', check_mode=False, speed_mbit=None, offload=None):
    """Validate, read, plan and (unless check_mode) run and verify; the module's whole job.

    ``offload`` is (the link's driver or None, the drivers the site trusts) for the check of a taprio full
    offload (validate_offload_driver); None leaves that check to the caller that changes the link.

    Returns {'actions', 'changed', 'before', 'after', 'qdiscs'}: ``actions`` are
    the tc argv lists (run, or to be run in check mode); ``before``/``after`` the
    tree as text; ``qdiscs`` the live tree after the run.
    """
    # The whole plan is checked before the device is read, and against the device before anything runs.
    require('netdev', device, 'device')
    plan = normalize_plan(qdiscs, state)
    if offload is not None:
        trusted_drivers(offload[1])
    tx_queues, live = read_device(run, device)
    validate_for_device(plan, device, tx_queues, speed_mbit)
    if offload is not None:
        validate_offload_driver(plan, device, offload[0], offload[1])
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

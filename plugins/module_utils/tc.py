# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``tc -j qdisc show`` normaliser and tc's unit grammar.

tc accepts rates, sizes and times with units ("100Mbit", "1.5kb", "5ms") and
prints them back in base units in JSON (rates in bytes per second, sizes in
bytes, times in microseconds for codel-style parameters). Both sides are
brought to base units before they are compared, so that a plan written as
``bandwidth 100Mbit`` matches a qdisc that reports ``"bandwidth": 12500000``.
Unit tables follow tc(8) "PARAMETERS" and tc/tc_util.c.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import json
import re

from .errors import SourceError, HyperionError

# Multipliers to bits per second; tc stores bytes per second.
_RATE_UNITS = {
    '': 1, 'bit': 1,
    'kbit': 1000, 'mbit': 1000 ** 2, 'gbit': 1000 ** 3, 'tbit': 1000 ** 4,
    'kibit': 1024, 'mibit': 1024 ** 2, 'gibit': 1024 ** 3, 'tibit': 1024 ** 4,
    'bps': 8,
    'kbps': 8 * 1000, 'mbps': 8 * 1000 ** 2, 'gbps': 8 * 1000 ** 3, 'tbps': 8 * 1000 ** 4,
    'kibps': 8 * 1024, 'mibps': 8 * 1024 ** 2, 'gibps': 8 * 1024 ** 3, 'tibps': 8 * 1024 ** 4,
}
# Multipliers to bytes.
_SIZE_UNITS = {
    '': 1, 'b': 1,
    'k': 1024, 'kb': 1024, 'm': 1024 ** 2, 'mb': 1024 ** 2, 'g': 1024 ** 3, 'gb': 1024 ** 3,
    'kbit': 1024 / 8.0, 'mbit': 1024 ** 2 / 8.0, 'gbit': 1024 ** 3 / 8.0,
}
# Multipliers to microseconds.
_TIME_UNITS = {
    '': 1, 'us': 1, 'usec': 1, 'usecs': 1,
    'ms': 1000, 'msec': 1000, 'msecs': 1000,
    's': 1000 ** 2, 'sec': 1000 ** 2, 'secs': 1000 ** 2,
}
# The unit follows the number directly: tc's strtod() stops at the first space and tc then refuses the
# rest (" mbit") as an unknown unit, so "100 mbit" is no rate for tc and none here. Exponents, hex,
# "inf" and "nan" (which strtod() would also read) are left out on purpose.
_NUMBER_UNIT_RE = re.compile(r'([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([A-Za-z]*)')


def _split(value, what):
    if isinstance(value, bool):
        raise HyperionError('%s must be a number with an optional unit, not %r' % (what, value))
    if isinstance(value, (int, float)):
        # A number from YAML is written as str(value) for tc: only a finite, non-negative one is a quantity.
        if math.isnan(value) or math.isinf(value) or value < 0:
            raise HyperionError('%s must be a non-negative number, not %r' % (what, value))
        return float(value), ''
    match = _NUMBER_UNIT_RE.fullmatch(str(value).strip())
    if not match:
        raise HyperionError('%s %r is not a number with an optional unit written without a space (such as '
                            '"100mbit")' % (what, value))
    return float(match.group(1)), match.group(2).lower()


def parse_rate(value):
    """A tc rate ("100Mbit", "12500kbps", 800000) in bytes per second.

    As in tc, a bare number is bits per second. The arithmetic is tc's own
    (get_rate64 in tc/tc_util.c): the double times the unit, divided by 8,
    truncated to whole bytes, so "12bit" is 1 byte per second as tc sends it.
    """
    number, unit = _split(value, 'rate')
    if unit not in _RATE_UNITS:
        raise HyperionError('rate %r has an unknown unit %r; use one of bit, kbit, mbit, gbit, kibit, bps, kbps, mbps, ...' % (value, unit))
    return int(number * _RATE_UNITS[unit] / 8.0)


def parse_size(value):
    """A tc size ("1514", "64kb", "1m") in bytes; a bare number is bytes."""
    number, unit = _split(value, 'size')
    if unit not in _SIZE_UNITS:
        raise HyperionError('size %r has an unknown unit %r; use b, kb, mb, gb or kbit, mbit' % (value, unit))
    # get_size() in tc/tc_util.c truncates to whole bytes.
    return int(number * _SIZE_UNITS[unit])


def parse_time(value):
    """A tc time ("5ms", "100us", "1s") in microseconds; a bare number is microseconds."""
    number, unit = _split(value, 'time')
    if unit not in _TIME_UNITS:
        raise HyperionError('time %r has an unknown unit %r; use us, ms or s' % (value, unit))
    # get_time() in tc/tc_util.c truncates to whole microseconds.
    return int(number * _TIME_UNITS[unit])


def parse_qdisc_json(text, source='tc -j qdisc show'):
    """The JSON array tc prints; an empty output is an empty list."""
    text = text.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SourceError('%s: output is not JSON: %s' % (source, exc))
    if not isinstance(data, list):
        raise SourceError('%s: expected a JSON array, got %s' % (source, type(data).__name__))
    return data


def normalize_qdisc(entry, default_dev=None):
    """One qdisc as {'dev', 'kind', 'handle', 'parent', 'options'}.

    ``parent`` is 'root' for a root qdisc, 'ingress' for ingress/clsact, else
    the parent class id as tc prints it ("100:1"); handles lose nothing.
    """
    if not isinstance(entry, dict) or 'kind' not in entry:
        raise SourceError('tc qdisc entry without a kind: %r' % (entry,))
    if entry.get('root'):
        parent = 'root'
    elif entry.get('kind') in ('ingress', 'clsact'):
        parent = 'ingress'
    else:
        parent = entry.get('parent')
    return {
        'dev': entry.get('dev', default_dev),
        'kind': entry['kind'],
        'handle': entry.get('handle'),
        'parent': parent,
        'options': entry.get('options') or {},
    }


def normalize_qdiscs(data, default_dev=None):
    """Every qdisc of a ``tc -j qdisc show`` array, grouped by device, in tc's order."""
    by_dev = {}
    for entry in data:
        qdisc = normalize_qdisc(entry, default_dev)
        by_dev.setdefault(qdisc['dev'], []).append(qdisc)
    return by_dev


def _handle_major(handle):
    # tc prints the kernel's own mq root as handle "0:" and its children's parents as ":1", ":2", ...
    major = (handle or '').split(':')[0]
    try:
        return int(major or '0', 16)
    except ValueError:
        return major


def root_summary(qdiscs):
    """What a device's egress root is, in one word a profile can match.

    'cake', 'fq_codel', 'taprio', ...; a multi-queue root adds its children's
    kind: 'mq/cake' when every child is cake, 'mq/mixed' otherwise; a device
    with no root qdisc at all is None.
    """
    root = None
    for qdisc in qdiscs:
        if qdisc['parent'] == 'root':
            root = qdisc
            break
    if root is None:
        return None
    if root['kind'] not in ('mq', 'mqprio'):
        return root['kind']
    major = _handle_major(root['handle'])
    kinds = set(q['kind'] for q in qdiscs
                if q is not root and q['parent'] not in ('root', 'ingress') and _handle_major(q['parent']) == major)
    if not kinds:
        return root['kind']
    return '%s/%s' % (root['kind'], kinds.pop() if len(kinds) == 1 else 'mixed')


# Option value types of the qdiscs this collection plans, as tc -j prints them.
_OPTION_TYPES = {
    'cake': {'bandwidth': 'rate', 'rtt': 'time', 'overhead': 'int'},
    'fq': {'maxrate': 'rate', 'limit': 'int', 'flow_limit': 'int', 'quantum': 'size', 'initial_quantum': 'size',
           'horizon': 'time', 'low_rate_threshold': 'rate'},
    'fq_codel': {'target': 'time', 'interval': 'time', 'limit': 'int', 'flows': 'int', 'quantum': 'size',
                 'memory_limit': 'size', 'ce_threshold': 'time'},
    'etf': {'delta': 'int'},
    'taprio': {'base_time': 'int', 'cycle_time': 'int', 'cycle_time_extension': 'int'},
    'tbf': {'rate': 'rate', 'burst': 'size', 'lat': 'time'},
}
_PARSERS = {'rate': parse_rate, 'time': parse_time, 'size': parse_size, 'int': lambda v: int(str(v), 0)}


def normalize_options(kind, options):
    """tc -j options in base units with clean keys.

    Some iproute2 releases print keys with a trailing space ("priomap "); cake
    prints an unlimited bandwidth as the string "unlimited", which is 0 here as
    in the kernel.
    """
    result = {}
    for key, value in (options or {}).items():
        key = key.strip()
        if kind == 'cake' and key == 'bandwidth' and value == 'unlimited':
            value = 0
        result[key] = value
    return result


def _close(desired, actual, kind_of_value):
    if kind_of_value != 'time':
        return desired == actual
    # The kernel keeps codel times in 1024 ns units, so 3ms reads back as 2999us.
    return abs(desired - actual) <= max(2, desired // 1000)


def option_differences(kind, desired, actual_options):
    """{key: (desired, actual)} for planned options the qdisc does not have.

    ``desired`` holds tc-style values ("100Mbit", "5ms", 1514, True); the
    actual options come from tc -j and are compared in base units.
    """
    actual = normalize_options(kind, actual_options)
    types = _OPTION_TYPES.get(kind, {})
    differences = {}
    for key, wanted in desired.items():
        have = actual.get(key)
        kind_of_value = types.get(key)
        if kind_of_value and have is not None and not isinstance(wanted, bool):
            if kind_of_value == 'rate' and str(wanted).lower() == 'unlimited':
                wanted_base = 0
            else:
                wanted_base = _PARSERS[kind_of_value](wanted)
            try:
                have_base = int(have)
            except (TypeError, ValueError):
                differences[key] = (wanted, have)
                continue
            if not _close(wanted_base, have_base, kind_of_value):
                differences[key] = (wanted, have)
        elif isinstance(wanted, bool) or isinstance(have, bool):
            if bool(wanted) != (have is True or have == 'on'):
                differences[key] = (wanted, have)
        elif str(wanted) != str(have):
            differences[key] = (wanted, have)
    return differences

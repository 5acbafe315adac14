# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The profile model: items, validation, overlays and overrides.

A profile is plain data (loaded from YAML on the controller, sent to hosts as
JSON). This module validates it and resolves a profile plus overlays plus
per-host overrides into one list of items. Every error names the profile,
the item and the key.

Item ids say what they check and where it is read:

==============================  ==============================================
``CONFIG_NAME``                 the kernel config
``sysctl:<key>``                /proc/sys
``cmdline:<param>``             /proc/cmdline (kernel rules, - and _ alike)
``modparam:<module>.<param>``   /sys/module/<module>/parameters/<param>
``uname:release``               the running kernel's release
``zram:<dev>:<attr>``           comp_algorithm, recomp_algorithm, disksize_ratio
``swap:<dev>:priority``         /proc/swaps
``qdisc:<iface>:root``          ``tc -j qdisc show``; ``@default_route`` picks
                                the interface(s) of the default route
``iosched:<class>``             nvme, rotational or ssd devices' schedulers
``bore:burst_smoothness``       BORE's sysctls (either generation)
``tracer:<name>``               ftrace's available_tracers
``dyndbg:control``              the dynamic debug control file
``thp:<enabled|defrag>``        transparent hugepage policy
``sched:preempt``               the preemption mode a PREEMPT_DYNAMIC kernel
                                runs (debugfs sched/preempt)
``sched_feature:<NAME>``        a scheduler feature, ``on`` or ``off``
                                (debugfs sched/features)
``sched_ext:state``             sched_ext's state (/sys/kernel/sched_ext)
==============================  ==============================================
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from .errors import ProfileError
from .validation import did_you_mean

SCHEMA_VERSION = 1
MATCHES = ('exact', 'one_of', 'enabled', 'not_set', 'present', 'range', 'pattern')
SEVERITIES = ('required', 'recommended')
CONDITIONS_RE = re.compile(r'(CONFIG_[A-Z0-9_]+|zram_swap_active)')
ITEM_KEYS = frozenset(('id', 'match', 'value', 'values', 'min', 'max', 'pattern', 'severity', 'reason',
                       'seed', 'seed_name', 'applies_if', 'since', 'until', 'skip', 'fragment'))
# 'overlays' is written by resolve_profile(): a resolved profile lists what was applied to it.
PROFILE_KEYS = frozenset(('schema_version', 'name', 'description', 'release', 'kernel_version', 'items', 'unmapped', 'overlays'))
OVERLAY_KEYS = frozenset(('schema_version', 'name', 'description', 'items'))
UNMAPPED_KEYS = frozenset(('seed_name', 'seed', 'reason'))
# An overlay or override entry with 'add: true' adds an item the profile does not have; it states
# these keys as a profile item does (the match's own keys are checked by validate_item).
ADD_KEY = 'add'
NEW_ITEM_KEYS = ('match', 'severity', 'reason')

_ID_PATTERNS = (
    ('config', re.compile(r'CONFIG_[A-Z0-9_]+')),
    ('sysctl', re.compile(r'sysctl:[A-Za-z0-9_.\-/]+')),
    ('cmdline', re.compile(r'cmdline:[A-Za-z0-9_.\-]+')),
    ('modparam', re.compile(r'modparam:[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+')),
    ('uname', re.compile(r'uname:release')),
    ('zram', re.compile(r'zram:zram\d+:(comp_algorithm|recomp_algorithm|disksize_ratio)')),
    ('swap', re.compile(r'swap:[A-Za-z0-9_\-]+:priority')),
    ('qdisc', re.compile(r'qdisc:(@default_route|[A-Za-z0-9_.\-@]+):root')),
    ('iosched', re.compile(r'iosched:(nvme|rotational|ssd)')),
    ('bore', re.compile(r'bore:burst_smoothness')),
    ('tracer', re.compile(r'tracer:[a-z0-9_]+')),
    ('dyndbg', re.compile(r'dyndbg:control')),
    ('thp', re.compile(r'thp:(enabled|defrag)')),
    ('sched', re.compile(r'sched:preempt')),
    ('sched_feature', re.compile(r'sched_feature:[A-Z][A-Z0-9_]*')),
    ('sched_ext', re.compile(r'sched_ext:state')),
)
_VERSION_RE = re.compile(r'\d+\.\d+(\.\d+)?')


def item_source(item_id):
    """Which source an item id reads ('config', 'sysctl', ...); ProfileError if none."""
    for source, pattern in _ID_PATTERNS:
        if pattern.fullmatch(item_id):
            return source
    raise ProfileError('item id %r is not of a known form (CONFIG_X, sysctl:key, cmdline:param, modparam:mod.param, '
                       'uname:release, zram:zramN:attr, swap:dev:priority, qdisc:iface:root, iosched:class, '
                       'bore:burst_smoothness, tracer:name, dyndbg:control, thp:enabled|defrag, sched:preempt, '
                       'sched_feature:NAME, sched_ext:state)' % item_id)


def version_tuple(text):
    return tuple(int(p) for p in text.split('.'))


def _scalar(value):
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return int(str(value), 0)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return None


def validate_item(item, where):
    """Check one complete item; returns it with defaults filled in."""
    if not isinstance(item, dict):
        raise ProfileError('%s: an item must be a mapping, got %s' % (where, type(item).__name__))
    item_id = item.get('id')
    if not isinstance(item_id, str) or not item_id:
        raise ProfileError('%s: missing "id"' % where)
    where = '%s item %s' % (where, item_id)
    unknown = set(item) - ITEM_KEYS
    if unknown:
        raise ProfileError('%s: unknown key(s) %s; allowed: %s' % (where, ', '.join(sorted(unknown)), ', '.join(sorted(ITEM_KEYS))))
    source = item_source(item_id)
    item = dict(item)
    item.setdefault('match', 'exact')
    item.setdefault('severity', 'recommended')
    match = item['match']
    if match not in MATCHES:
        raise ProfileError('%s: match %r is not one of %s' % (where, match, ', '.join(MATCHES)))
    if item['severity'] not in SEVERITIES:
        raise ProfileError('%s: severity %r is not one of %s' % (where, item['severity'], ', '.join(SEVERITIES)))
    if match == 'exact':
        if 'value' not in item or not _scalar(item['value']):
            raise ProfileError('%s: match exact needs a scalar "value"' % where)
    elif match == 'one_of':
        values = item.get('values')
        if not isinstance(values, list) or not values or not all(_scalar(v) for v in values):
            raise ProfileError('%s: match one_of needs "values", a non-empty list of scalars' % where)
    elif match == 'range':
        low, high = item.get('min'), item.get('max')
        if low is None and high is None:
            raise ProfileError('%s: match range needs "min", "max" or both' % where)
        for key in ('min', 'max'):
            if item.get(key) is not None and _number(item[key]) is None:
                raise ProfileError('%s: %s must be a number, got %r' % (where, key, item[key]))
        if low is not None and high is not None and _number(low) > _number(high):
            raise ProfileError('%s: impossible range: min %s is greater than max %s' % (where, low, high))
    elif match == 'pattern':
        pattern = item.get('pattern')
        if not isinstance(pattern, str):
            raise ProfileError('%s: match pattern needs a "pattern" string' % where)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ProfileError('%s: pattern %r does not compile: %s' % (where, pattern, exc))
    elif match == 'enabled' and source != 'config':
        raise ProfileError('%s: match enabled (y or m) applies to CONFIG_ items only' % where)
    extra = {'exact': ('values', 'min', 'max', 'pattern'), 'one_of': ('value', 'min', 'max', 'pattern'),
             'range': ('value', 'values', 'pattern'), 'pattern': ('value', 'values', 'min', 'max')}.get(
                 match, ('value', 'values', 'min', 'max', 'pattern'))
    stray = [k for k in extra if k in item]
    if stray:
        raise ProfileError('%s: %s does not apply to match %s' % (where, ', '.join(stray), match))
    if source == 'config' and match == 'exact' and isinstance(item['value'], str) and item['value'] == 'n':
        raise ProfileError('%s: Kconfig never writes =n; use match: not_set' % where)
    if item_id == 'sysctl:kernel.sysrq' and match == 'exact':
        number = _number(item['value'])
        if number is None or number < 0 or number > 511:
            raise ProfileError('%s: kernel.sysrq must be 0-511, got %r' % (where, item['value']))
    for key in ('reason', 'seed', 'seed_name', 'skip'):
        if key in item and not isinstance(item[key], str):
            raise ProfileError('%s: %s must be a string' % (where, key))
    for key in ('since', 'until'):
        if key in item:
            if not isinstance(item[key], str) or not _VERSION_RE.fullmatch(item[key]):
                raise ProfileError('%s: %s must be a kernel version such as "6.12", got %r' % (where, key, item[key]))
    if 'since' in item and 'until' in item and version_tuple(item['since']) >= version_tuple(item['until']):
        raise ProfileError('%s: since %s is not before until %s' % (where, item['since'], item['until']))
    if 'fragment' in item and (not isinstance(item['fragment'], bool) or source != 'config'):
        raise ProfileError('%s: fragment must be true or false, on CONFIG_ items only' % where)
    conditions = item.get('applies_if', [])
    if not isinstance(conditions, list) or not all(isinstance(c, str) and CONDITIONS_RE.fullmatch(c) for c in conditions):
        raise ProfileError('%s: applies_if must be a list of CONFIG_ names or "zram_swap_active"' % where)
    return item


def _check_keys(data, allowed, where):
    if not isinstance(data, dict):
        raise ProfileError('%s: must be a mapping, got %s' % (where, type(data).__name__))
    unknown = set(data) - allowed
    if unknown:
        raise ProfileError('%s: unknown key(s) %s; allowed: %s' % (where, ', '.join(sorted(unknown)), ', '.join(sorted(allowed))))
    version = data.get('schema_version', SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ProfileError('%s: schema_version %r is not supported (this collection reads %d)' % (where, version, SCHEMA_VERSION))


def validate_profile(data, where='profile'):
    """A validated copy of a base profile."""
    _check_keys(data, PROFILE_KEYS, where)
    if not isinstance(data.get('name'), str):
        raise ProfileError('%s: missing "name"' % where)
    where = 'profile %s' % data['name']
    items = data.get('items')
    if not isinstance(items, list) or not items:
        raise ProfileError('%s: "items" must be a non-empty list' % where)
    seen = set()
    validated = []
    for index, item in enumerate(items):
        checked = validate_item(item, '%s, items[%d]' % (where, index))
        if checked['id'] in seen:
            raise ProfileError('%s: item %s is listed twice' % (where, checked['id']))
        seen.add(checked['id'])
        validated.append(checked)
    unmapped = data.get('unmapped', [])
    if not isinstance(unmapped, list):
        raise ProfileError('%s: "unmapped" must be a list' % where)
    for index, entry in enumerate(unmapped):
        _check_keys(entry, UNMAPPED_KEYS, '%s, unmapped[%d]' % (where, index))
    result = dict(data)
    result['items'] = validated
    return result


def _as_change(item_id, change, where):
    """An overlay/override entry as a partial item. A scalar is shorthand for an exact value."""
    if _scalar(change):
        return {'match': 'exact', 'value': change}
    if not isinstance(change, dict):
        raise ProfileError('%s item %s: expected a mapping or a scalar value, got %s' % (where, item_id, type(change).__name__))
    if 'id' in change and change['id'] != item_id:
        raise ProfileError('%s item %s: id %r inside does not match its key' % (where, item_id, change['id']))
    unknown = set(change) - ITEM_KEYS - set([ADD_KEY])
    if unknown:
        raise ProfileError('%s item %s: unknown key(s) %s; allowed: %s' % (where, item_id, ', '.join(sorted(unknown)), ', '.join(sorted(ITEM_KEYS))))
    if ADD_KEY in change and change[ADD_KEY] is not True:
        raise ProfileError('%s item %s: %s must be true (a new item) or left out (a change), got %r'
                           % (where, item_id, ADD_KEY, change[ADD_KEY]))
    return change


def _new_item(item_id, change, where):
    """A complete item that an overlay or override adds: it says add: true and states what an item states."""
    missing = [key for key in NEW_ITEM_KEYS if key not in change]
    if missing:
        raise ProfileError('%s item %s: a new item needs %s as well as "%s: true"'
                           % (where, item_id, ', '.join('"%s"' % key for key in missing), ADD_KEY))
    new = dict((key, value) for key, value in change.items() if key != ADD_KEY)
    new['id'] = item_id
    return validate_item(new, where)


def apply_changes(items, changes, where):
    """Apply {item id: partial item or scalar} to a list of items (in place order kept).

    Changing ``match`` drops the old match's parameters, so that
    ``{match: not_set}`` on an exact item needs no further keys.

    An id the profile does not have is an error naming the close matches: a
    misspelt id would otherwise become an item of its own and the intended
    change would be lost. A new item is added only when its entry says
    ``add: true`` and is complete (match, severity, reason and the match's
    value keys).
    """
    if not isinstance(changes, dict):
        raise ProfileError('%s: items must be a mapping of item id to changes, got %s' % (where, type(changes).__name__))
    by_id = dict((item['id'], index) for index, item in enumerate(items))
    for item_id, change in changes.items():
        if not isinstance(item_id, str):
            raise ProfileError('%s: item ids must be strings, got %r' % (where, item_id))
        change = _as_change(item_id, change, where)
        if item_id in by_id:
            if ADD_KEY in change:
                raise ProfileError('%s item %s: "%s: true" adds a new item, but the profile already has %s; leave '
                                   '"%s" out to change it' % (where, item_id, ADD_KEY, item_id, ADD_KEY))
            merged = dict(items[by_id[item_id]])
            if 'match' in change and change['match'] != merged.get('match'):
                for key in ('value', 'values', 'min', 'max', 'pattern'):
                    merged.pop(key, None)
            merged.update(change)
            merged['id'] = item_id
            items[by_id[item_id]] = validate_item(merged, where)
        elif change.get(ADD_KEY) is True:
            items.append(_new_item(item_id, change, where))
            by_id[item_id] = len(items) - 1
        else:
            hint = did_you_mean(item_id, by_id)
            try:
                item_source(item_id)
            except ProfileError as exc:
                # A misspelling may also break the id's form (zram:zram0:comp_algoritm): name the close ids too.
                raise ProfileError('%s item %s: %s%s' % (where, item_id, exc, hint))
            raise ProfileError('%s item %s: the profile has no item %s%s; to add a new item give its full definition '
                               'with "%s: true"' % (where, item_id, item_id, hint, ADD_KEY))
    return items


def resolve_profile(profile, overlays=(), overrides=None):
    """One resolved profile: base + overlays in order + overrides (from inventory)."""
    resolved = validate_profile(copy.deepcopy(profile))
    items = resolved['items']
    applied = list(resolved.get('overlays') or [])
    for index, overlay in enumerate(overlays):
        where = 'overlay %s' % (overlay.get('name') if isinstance(overlay, dict) and overlay.get('name') else '#%d' % (index + 1))
        _check_keys(overlay, OVERLAY_KEYS, where)
        apply_changes(items, overlay.get('items') or {}, where)
        applied.append(overlay.get('name') or where)
    if overrides:
        apply_changes(items, overrides, 'overrides')
    resolved['overlays'] = applied
    return resolved


def wanted_sources(profile):
    """The sysctl keys and module parameters a resolved profile reads."""
    sysctls, modparams = [], []
    for item in profile['items']:
        kind, _sep, rest = item['id'].partition(':')
        if kind == 'sysctl':
            sysctls.append(rest)
        elif kind == 'modparam':
            modparams.append(rest)
    return sysctls, modparams

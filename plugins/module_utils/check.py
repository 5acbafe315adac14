# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare gathered facts with a resolved profile, item by item.

Each item ends in one of four statuses:

- ``pass`` / ``fail``: the value was read and does / does not match;
- ``not_applicable``: the item does not concern this machine (skipped by an
  overlay, a symbol the kernel version does not have, a condition unmet, no
  device of that class, a runtime item when only a config file is checked);
- ``unknown``: the source could not be read (no kernel config, tracefs not
  mounted, a command failed), so the item cannot be judged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .errors import HyperionError
from .profile import item_source, version_tuple
from .sysrq import decode_sysrq
from .zram import primary_recomp_algorithm

PASS, FAIL, NOT_APPLICABLE, UNKNOWN = 'pass', 'fail', 'not_applicable', 'unknown'
STATUSES = (PASS, FAIL, NOT_APPLICABLE, UNKNOWN)
NOT_SET_TEXT = 'is not set'


class _Unknown(Exception):
    """The source of an item could not be read."""


class _NotApplicable(Exception):
    """The item does not concern this machine."""


def _is_unset(value):
    return value is None or value == NOT_SET_TEXT


def _number(value):
    try:
        return int(str(value).strip(), 0)
    except (TypeError, ValueError):
        try:
            return float(str(value).strip())
        except (TypeError, ValueError):
            return None


def _same(actual, expected):
    """Equality of a read string with a profile scalar; numbers compare as numbers (0x1 == 1)."""
    if _is_unset(actual):
        return False
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None and not isinstance(expected, bool):
        return left == right
    return str(actual).strip() == str(expected)


def match_value(item, actual):
    """True when ``actual`` satisfies the item's match."""
    match = item['match']
    if match == 'not_set':
        return _is_unset(actual)
    if match == 'present':
        return not _is_unset(actual)
    if match == 'enabled':
        return actual in ('y', 'm')
    if match == 'exact':
        return _same(actual, item['value'])
    if match == 'one_of':
        return any(_same(actual, value) for value in item['values'])
    if match == 'range':
        number = None if _is_unset(actual) else _number(actual)
        if number is None:
            return False
        low, high = item.get('min'), item.get('max')
        return (low is None or number >= _number(low)) and (high is None or number <= _number(high))
    if match == 'pattern':
        return not _is_unset(actual) and re.search(item['pattern'], str(actual)) is not None
    raise ValueError('unknown match %r' % match)


def describe_expected(item):
    match = item['match']
    if match == 'exact':
        return str(item['value'])
    if match == 'one_of':
        return 'one of ' + ', '.join(str(v) for v in item['values'])
    if match == 'enabled':
        return 'y or m'
    if match == 'not_set':
        return 'not set'
    if match == 'present':
        return 'present'
    if match == 'range':
        low, high = item.get('min'), item.get('max')
        if low is not None and high is not None:
            return '%s to %s' % (low, high)
        return '>= %s' % low if low is not None else '<= %s' % high
    return 'matches /%s/' % item['pattern']


class Checker(object):
    """Evaluates items against one host's facts (or one config file)."""

    def __init__(self, facts, config_only=False):
        self.facts = facts
        self.config_only = config_only
        config = facts.get('config') or {}
        self.options = config.get('options')
        self.config_error = config.get('error')
        self.version = (config.get('version') if config_only else (facts.get('kernel') or {}).get('version')) or None

    # -- value lookups per source -------------------------------------------------
    def _config(self, name):
        if self.options is None:
            raise _Unknown(self.config_error or 'no kernel config was read')
        value = self.options.get(name)
        return value, None

    def _section(self, name, what):
        section = self.facts.get(name)
        if section is None:
            raise _Unknown('%s were not gathered' % what)
        return section

    def _sysctl(self, key):
        values = self._section('sysctl', 'sysctls')
        if key not in values:
            raise _Unknown('sysctl %s was not gathered' % key)
        value = values[key]
        detail = None
        if key == 'kernel.sysrq' and value is not None:
            return self._sysrq(value)
        return value, detail

    def _sysrq(self, value):
        """kernel.sysrq reads what the kernel acts on (sysrq_mask(): 1 under sysrq_always_enabled); the detail says
        what it allows and, when the command line has the override, that no mask can hold until it is gone."""
        try:
            decoded = decode_sysrq(value)
        except ValueError:
            return value, None
        detail = 'allows: %s' % (', '.join(decoded['groups']) or 'nothing')
        override = ((self.facts.get('cmdline') or {}).get('sysrq_always_enabled'))
        if override:
            detail = ('%s on the command line: every function, whatever mask is written, until a boot without it; %s'
                      % (override, detail))
        return value, detail

    def _cmdline(self, name):
        cmdline = self._section('cmdline', 'the command line')
        params = cmdline.get('params')
        if params is None:
            raise _Unknown('/proc/cmdline was not readable')
        key = name.replace('-', '_')
        if key not in params:
            return None, None
        # A bare flag (kgdbwait) is present with an empty value.
        return params[key] if params[key] != '' else 'present', None

    def _modparam(self, name):
        values = self._section('modparams', 'module parameters')
        if name not in values:
            raise _Unknown('module parameter %s was not gathered' % name)
        module = name.partition('.')[0]
        if values[name] is None and (self.facts.get('modules') or {}).get(module) is False:
            raise _NotApplicable('module %s is not loaded (no /sys/module/%s); the parameter applies when it loads'
                                 % (module, module))
        return values[name], None

    def _zram(self, device, attr):
        zram = self._section('zram', 'zram facts')
        dev = zram['devices'].get(device)
        if dev is None:
            return None, '%s does not exist' % device
        if attr == 'comp_algorithm':
            return dev.get('comp_algorithm'), None
        if attr == 'recomp_algorithm':
            if 'recomp_algorithms' not in dev:
                return None, 'no recomp_algorithm file: the kernel lacks CONFIG_ZRAM_MULTI_COMP'
            return primary_recomp_algorithm(dev), None
        return dev.get('disksize_ratio'), 'disksize %s bytes' % dev.get('disksize')

    def _swap(self, device):
        zram = self._section('zram', 'swap facts')
        for swap in zram['swaps']:
            if swap['filename'].rsplit('/', 1)[-1] == device:
                return swap['priority'], None
        return None, '%s is not an active swap device' % device

    def _qdisc(self, iface):
        network = self._section('network', 'network facts')
        roots = network.get('root_qdiscs')
        if roots is None:
            raise _Unknown('tc -j qdisc show did not run')
        if iface == '@default_route':
            devs = network.get('default_route_devs')
            if devs is None:
                raise _Unknown('the default route could not be read')
            if not devs:
                raise _NotApplicable('no default route')
        else:
            devs = [iface]
            if iface not in roots:
                return None, 'no interface %s' % iface
        kinds = sorted(set(str(roots.get(dev)) for dev in devs))
        return kinds[0] if len(kinds) == 1 else ','.join(kinds), 'interfaces: %s' % ', '.join(devs)

    def _iosched(self, dev_class):
        block = self._section('block', 'block device facts')
        devices = dict((name, dev) for name, dev in block.items() if dev['class'] == dev_class)
        if not devices:
            raise _NotApplicable('no %s device' % dev_class)
        schedulers = sorted(set(dev['scheduler'] for dev in devices.values()))
        detail = ', '.join('%s=%s' % (name, dev['scheduler']) for name, dev in sorted(devices.items()))
        return schedulers[0] if len(schedulers) == 1 else ','.join(schedulers), detail

    def _bore(self):
        bore = self._section('bore', 'BORE facts')
        if bore['generation'] == '5.x':
            raise _NotApplicable('BORE 5.x generation: only sched_burst_smoothness_long=%s/short=%s exist, no 0-3 scale'
                                 % (bore['burst_smoothness_long'], bore['burst_smoothness_short']))
        return bore['burst_smoothness'], None

    def _tracer(self, name):
        tracing = self._section('tracing', 'tracing facts')
        tracers = tracing.get('available_tracers')
        if tracers is None:
            raise _Unknown('available_tracers not readable (tracefs not mounted?)')
        return (name if name in tracers else None), None

    def _sched(self, part):
        sched = self._section('sched', 'scheduler facts')
        if part == 'preempt':
            if sched.get('features') is None:
                raise _Unknown('debugfs (sched/preempt) was not readable')
            preempt = sched.get('preempt')
            if preempt is None:
                raise _NotApplicable('no sched/preempt: the kernel has no PREEMPT_DYNAMIC, its model is fixed')
            return preempt['mode'], 'offered: %s' % ' '.join(preempt['modes'])
        if part == 'sched_ext':
            state = sched.get('sched_ext')
            if state is None:
                return None, 'no /sys/kernel/sched_ext: the kernel has no SCHED_CLASS_EXT'
            return state['state'], ('BPF scheduler: %s' % state['ops']) if state.get('ops') else None
        features = sched.get('features')
        if features is None:
            raise _Unknown('debugfs (sched/features) was not readable')
        if part not in features:
            return None, 'the kernel has no scheduler feature %s' % part
        return ('on' if features[part] else 'off'), None

    def lookup(self, item_id):
        """(actual value or None, detail) for an item id."""
        source = item_source(item_id)
        if source == 'config':
            return self._config(item_id)
        kind, _sep, rest = item_id.partition(':')
        if source == 'sysctl':
            return self._sysctl(rest)
        if source == 'cmdline':
            return self._cmdline(rest)
        if source == 'modparam':
            return self._modparam(rest)
        if source == 'uname':
            return (self.facts.get('kernel') or {}).get('release'), None
        if source == 'zram':
            device, _sep, attr = rest.partition(':')
            return self._zram(device, attr)
        if source == 'swap':
            return self._swap(rest.partition(':')[0])
        if source == 'qdisc':
            return self._qdisc(rest.rpartition(':')[0])
        if source == 'iosched':
            return self._iosched(rest)
        if source == 'bore':
            return self._bore()
        if source == 'tracer':
            return self._tracer(rest)
        if source == 'dyndbg':
            control = (self.facts.get('dynamic_debug') or {}).get('control')
            return control, None
        if source == 'thp':
            return self._section('thp', 'THP facts').get(rest), None
        if source == 'sched':
            return self._sched('preempt')
        if source == 'sched_ext':
            return self._sched('sched_ext')
        if source == 'sched_feature':
            return self._sched(rest)
        raise ValueError(item_id)

    # -- applicability --------------------------------------------------------
    def _condition_met(self, condition):
        if condition == 'zram_swap_active':
            if self.config_only:
                return True
            return bool(self._section('zram', 'zram facts')['zram_swap_active'])
        if self.options is None:
            raise _Unknown('condition %s needs the kernel config: %s' % (condition, self.config_error or 'not read'))
        return self.options.get(condition) in ('y', 'm')

    def _applicability(self, item):
        if item.get('skip'):
            raise _NotApplicable('skipped: %s' % item['skip'])
        if self.config_only and item_source(item['id']) != 'config':
            raise _NotApplicable('runtime item, not checked against a config file')
        if self.version:
            current = version_tuple(self.version)
            if item.get('since') and current < version_tuple(item['since']):
                raise _NotApplicable('kernel %s predates %s (since %s)' % (self.version, item['id'], item['since']))
            if item.get('until') and current >= version_tuple(item['until']):
                raise _NotApplicable('%s no longer exists in kernel %s (removed in %s)' % (item['id'], self.version, item['until']))
        for condition in item.get('applies_if', []):
            if not self._condition_met(condition):
                raise _NotApplicable('needs %s' % condition)

    def check_item(self, item):
        result = {
            'id': item['id'],
            'severity': item['severity'],
            'expected': describe_expected(item),
            'actual': None,
            'reason': item.get('reason', ''),
        }
        for key in ('seed', 'seed_name'):
            if item.get(key):
                result[key] = item[key]
        try:
            self._applicability(item)
            actual, detail = self.lookup(item['id'])
        except _NotApplicable as exc:
            result.update(status=NOT_APPLICABLE, detail=str(exc))
            return result
        except _Unknown as exc:
            result.update(status=UNKNOWN, detail=str(exc))
            return result
        result['actual'] = None if actual is None else str(actual)
        result['status'] = PASS if match_value(item, actual) else FAIL
        if actual is None and detail is None and item_source(item['id']) == 'config':
            detail = 'absent from the config: unmet dependency, or unknown to this kernel source'
        if detail:
            result['detail'] = detail
        return result


def summarize(results):
    counts = dict((status, 0) for status in STATUSES)
    for result in results:
        counts[result['status']] += 1
    failed_required = [r['id'] for r in results if r['status'] == FAIL and r['severity'] == 'required']
    failed_recommended = [r['id'] for r in results if r['status'] == FAIL and r['severity'] == 'recommended']
    unknown_required = [r['id'] for r in results if r['status'] == UNKNOWN and r['severity'] == 'required']
    return {
        'counts': counts,
        'total': len(results),
        'failed_required': failed_required,
        'failed_recommended': failed_recommended,
        'unknown_required': unknown_required,
        # No item could be judged and some could not be read: the check read nothing it could compare.
        'nothing_read': counts[PASS] + counts[FAIL] == 0 and counts[UNKNOWN] > 0,
    }


def require_config(facts, config_path):
    """The options of the config file a config-only check reads; HyperionError when it gave none.

    A file that is missing, a directory or not a kernel config leaves every config item unknown
    and every runtime item not applicable: such a check would compare nothing.
    """
    config = facts.get('config') or {}
    if config.get('options') is None:
        raise HyperionError('cannot check the kernel config %s: %s' % (
            config_path, config.get('error') or 'it could not be read'))
    return config['options']


def evaluate(profile, facts, config_only=False):
    """Results for every item of a resolved profile, and their summary."""
    checker = Checker(facts, config_only=config_only)
    results = [checker.check_item(item) for item in profile['items']]
    return results, summarize(results)


def verdict(summary, fail_on='required', strict=False):
    """(compliant, message) under a failure policy: fail on 'required', 'recommended' or 'never'."""
    if fail_on not in ('required', 'recommended', 'never'):
        raise ValueError('fail_on must be required, recommended or never, got %r' % fail_on)
    counts = summary['counts']
    text = '%d items: %d pass, %d fail, %d not applicable, %d unknown' % (
        summary['total'], counts[PASS], counts[FAIL], counts[NOT_APPLICABLE], counts[UNKNOWN])
    # Under every policy, fail_on never included: a report that read nothing says nothing about the host.
    if summary.get('nothing_read'):
        return False, '%s; nothing could be read, so nothing was checked (see the unknown items and errors)' % text
    bad = []
    if fail_on in ('required', 'recommended'):
        bad += summary['failed_required']
        if strict:
            bad += summary['unknown_required']
    if fail_on == 'recommended':
        bad += summary['failed_recommended']
    if bad:
        return False, '%s; drift on %s' % (text, ', '.join(bad))
    return True, text

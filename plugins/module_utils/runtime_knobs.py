# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release notes' runtime promises that roles set: one table, one planner.

Each knob names the profile item that checks it (the intent when the role's own variable is null), the role that
owns it, how it persists (a kernel command line parameter, a sysctl.d line or a systemd-tmpfiles line), where it is
written live on the running kernel, and the kernel config option without which the kernel ignores it.

``plan_knobs()`` turns a role's knobs into what the role writes: command line entries for
hyperion.kernel.kernel_cmdline, sysctl.d lines, tmpfiles.d lines and live writes, each only where the target
kernel (persistent) or the running kernel (live) has what the knob needs, with the reason for every knob it
leaves out. A knob the site lists as unmanaged is neither set nor removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .errors import HyperionError
from .sched import PREEMPT_MODES, feature_word
from .validation import as_bool, bounded_int

INT_MAX = 2 ** 31 - 1
UINT_MAX = 2 ** 32 - 1

# kind: how the value persists. cmdline_flag: a bare parameter, present or absent; cmdline: name=value;
# sysctl: a sysctl.d line (with systemd-sysctl's '-' so a kernel without the key boots on); sched_feature: a
# tmpfiles.d 'w' line for debugfs sched/features (skipped by systemd-tmpfiles where the file does not exist).
KNOBS = {
    # kernel/irq/manage.c: __setup("threadirqs") exists only with CONFIG_IRQ_FORCED_THREADING; boot time only.
    'threadirqs': {
        'role': 'boot_params', 'kind': 'cmdline_flag', 'param': 'threadirqs', 'item': 'cmdline:threadirqs',
        'type': 'bool', 'needs': ('CONFIG_IRQ_FORCED_THREADING',)},
    # kernel/sched/core.c: preempt= is read on PREEMPT_DYNAMIC kernels; debugfs sched/preempt switches it live.
    'preempt': {
        'role': 'boot_params', 'kind': 'cmdline', 'param': 'preempt', 'item': 'sched:preempt',
        'type': 'preempt', 'needs': ('CONFIG_PREEMPT_DYNAMIC',), 'live': 'sched_preempt'},
    # mm/damon/reclaim.c: module_param(enabled, bool, 0600) of the built-in damon_reclaim.
    'damon_reclaim': {
        'role': 'boot_params', 'kind': 'cmdline', 'param': 'damon_reclaim.enabled',
        'item': 'modparam:damon_reclaim.enabled', 'type': 'Y/N', 'needs': ('CONFIG_DAMON_RECLAIM',),
        'live': 'modparam'},
    # drivers/usb/core/hub.c: module_param(autosuspend, int, 0644), seconds; -1 never autosuspends. A new value
    # is the default of devices connected afterwards; usbcore.autosuspend= on the command line covers every boot.
    'usb_autosuspend': {
        'role': 'boot_params', 'kind': 'cmdline', 'param': 'usbcore.autosuspend',
        'item': 'modparam:usbcore.autosuspend', 'type': 'int', 'min': -1, 'max': INT_MAX,
        'needs': ('CONFIG_USB',), 'live': 'modparam'},
    # kernel/sched/core.c: sched_schedstats, a 0/1 sysctl with CONFIG_SCHEDSTATS.
    'schedstats': {
        'role': 'tuning', 'kind': 'sysctl', 'param': 'kernel.sched_schedstats', 'item': 'sysctl:kernel.sched_schedstats',
        'type': '0/1', 'needs': ('CONFIG_SCHEDSTATS',), 'live': 'sysctl'},
    # kernel/sched/features.h: SCHED_FEAT(HRTICK, false); it acts only with CONFIG_SCHED_HRTICK.
    'hrtick': {
        'role': 'tuning', 'kind': 'sched_feature', 'param': 'HRTICK', 'item': 'sched_feature:HRTICK',
        'type': 'on/off', 'needs': ('CONFIG_SCHED_HRTICK',), 'live': 'sched_feature'},
    # net/ipv4/sysctl_net_ipv4.c: tcp_notsent_lowat, proc_douintvec (UINT_MAX, the default, is no limit).
    'tcp_notsent_lowat': {
        'role': 'network', 'kind': 'sysctl', 'param': 'net.ipv4.tcp_notsent_lowat',
        'item': 'sysctl:net.ipv4.tcp_notsent_lowat', 'type': 'int', 'min': 0, 'max': UINT_MAX, 'needs': (),
        'live': 'sysctl'},
}
SCHED_FEATURES_PATH = '/sys/kernel/debug/sched/features'
SCHED_PREEMPT_PATH = '/sys/kernel/debug/sched/preempt'


def knobs_of(role):
    return sorted(name for name, knob in KNOBS.items() if knob['role'] == role)


def normalize(name, value, what=None):
    """The knob's value in the form the kernel takes (a bool for flags), or a HyperionError naming WHAT."""
    knob = KNOBS[name]
    what = what or name
    kind = knob['type']
    if kind in ('bool', 'on/off', 'Y/N', '0/1'):
        on = as_bool(value, what)
        return {'bool': on, 'on/off': on, 'Y/N': 'Y' if on else 'N', '0/1': 1 if on else 0}[kind]
    if kind == 'preempt':
        text = str(value).strip() if isinstance(value, str) else None
        if text not in PREEMPT_MODES:
            raise HyperionError('%s must be one of the preemption modes %s, not %r' % (what, ', '.join(PREEMPT_MODES), value))
        return text
    return bounded_int(value, what, knob['min'], knob['max'])


def profile_value(name, items):
    """The knob's intended value from resolved profile items ({id: item}); None when the profile has no such item
    or leaves it to the site (a match other than an exact value or presence)."""
    item = (items or {}).get(KNOBS[name]['item'])
    if not item or item.get('skip'):
        return None
    match = item.get('match', 'exact')
    if KNOBS[name]['kind'] == 'cmdline_flag':
        return {'present': True, 'not_set': False}.get(match)
    if match != 'exact':
        return None
    return item.get('value')


def _live_value(name, facts):
    """The knob's value on the running kernel from kernel_facts (None: not readable or not there)."""
    knob = KNOBS[name]
    live = knob.get('live')
    if live == 'modparam':
        return ((facts or {}).get('modparams') or {}).get(knob['param'])
    if live == 'sysctl':
        return ((facts or {}).get('sysctl') or {}).get(knob['param'])
    sched = (facts or {}).get('sched') or {}
    if live == 'sched_preempt':
        return sched.get('preempt')
    if live == 'sched_feature':
        features = sched.get('features')
        return None if features is None else features.get(knob['param'])
    return None


def _missing(needs, config):
    return [option for option in needs if (config or {}).get(option) not in ('y', 'm')]


def plan_knobs(role, wanted, unmanaged=(), items=None, target_config=None, facts=None):
    """What ROLE writes for its knobs.

    ``wanted`` maps knob names to the role's variables (None: the profile's item from ``items``); ``unmanaged`` the
    knobs the site leaves alone; ``target_config`` the options of the kernel the persistent settings are for
    (None: not read, every knob is written); ``facts`` kernel_facts of the running kernel (modparams, sysctl,
    sched) for the live writes.

    Returns {'values': {name: value}, 'options': [config options the managed knobs need], 'modparams' and 'sysctls':
    [what kernel_facts reads for the live writes], 'cmdline': [kernel_cmdline
    params], 'sysctl': [{key, value}], 'tmpfiles': [lines], 'live': [{knob, path, value, kind}], 'notes': [text]}.
    A first call without ``target_config`` and ``facts`` checks the values and says which options to read.
    """
    names = knobs_of(role)
    if not isinstance(wanted, dict):
        raise HyperionError('the knobs of %s must be a mapping of %s, got %r' % (role, ', '.join(names), wanted))
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise HyperionError('%s has no knob %s; its knobs: %s' % (role, ', '.join(unknown), ', '.join(names)))
    unmanaged = list(unmanaged or [])
    bad = sorted(set(unmanaged) - set(names))
    if bad:
        raise HyperionError('%s_unmanaged: %s is not a knob of %s (%s)' % (role, ', '.join(bad), role, ', '.join(names)))
    plan = {'values': {}, 'options': [], 'modparams': [], 'sysctls': [], 'cmdline': [], 'sysctl': [], 'tmpfiles': [], 'live': [], 'notes': []}
    for name in names:
        if name in unmanaged:
            plan['notes'].append('%s: left alone (%s_unmanaged)' % (name, role))
            continue
        raw = wanted.get(name)
        source = '%s_%s' % (role, name)
        if raw is None:
            raw = profile_value(name, items)
            source = 'profile item %s' % KNOBS[name]['item']
            if raw is None:
                plan['notes'].append('%s: the profile sets no value (%s) and %s_%s is null: left alone'
                                     % (name, KNOBS[name]['item'], role, name))
                continue
        value = normalize(name, raw, source)
        plan['values'][name] = value
        plan['options'].extend(option for option in _options(name, value) if option not in plan['options'])
        live = KNOBS[name].get('live')
        if live in ('modparam', 'sysctl'):
            plan[live + 's'].append(KNOBS[name]['param'])
        _persist(plan, name, value, target_config)
        _live(plan, name, value, facts)
    return plan


def _options(name, value):
    """The config options the target kernel needs for the knob at this value."""
    # kernel/sched/core.c (6.13+): sched_dynamic_mode() offers lazy only with CONFIG_ARCH_HAS_PREEMPT_LAZY.
    return KNOBS[name]['needs'] + (('CONFIG_ARCH_HAS_PREEMPT_LAZY',) if name == 'preempt' and value == 'lazy' else ())


def _persist(plan, name, value, target_config):
    knob = KNOBS[name]
    missing = _missing(_options(name, value), target_config) if target_config is not None else []
    if missing:
        # The kernel would ignore the setting (or warn at boot about it): leave what is there.
        plan['notes'].append('%s: not set for the target kernel, which lacks %s' % (name, ', '.join(missing)))
        return
    kind = knob['kind']
    if kind == 'cmdline_flag':
        plan['cmdline'].append({'name': knob['param'], 'state': 'present' if value else 'absent'})
    elif kind == 'cmdline':
        plan['cmdline'].append({'name': knob['param'], 'value': str(value), 'state': 'present'})
    elif kind == 'sysctl':
        plan['sysctl'].append({'key': knob['param'], 'value': value})
    elif kind == 'sched_feature':
        plan['tmpfiles'].append('w %s - - - - %s' % (SCHED_FEATURES_PATH, feature_word(knob['param'], value)))


def _live(plan, name, value, facts):
    knob = KNOBS[name]
    live = knob.get('live')
    if live is None or facts is None:
        return
    current = _live_value(name, facts)
    if current is None:
        return
    if live == 'sched_preempt':
        if value not in current['modes'] or current['mode'] == value:
            return
        plan['live'].append({'knob': name, 'kind': 'file', 'path': SCHED_PREEMPT_PATH, 'value': value})
    elif live == 'sched_feature':
        if current == value:
            return
        plan['live'].append({'knob': name, 'kind': 'file', 'path': SCHED_FEATURES_PATH,
                             'value': feature_word(knob['param'], value)})
    elif live == 'sysctl':
        if str(current).strip() == str(value):
            return
        plan['live'].append({'knob': name, 'kind': 'sysctl', 'path': knob['param'], 'value': str(value)})
    elif live == 'modparam':
        if str(current).strip() == str(value):
            return
        module, _sep, param = knob['param'].partition('.')
        plan['live'].append({'knob': name, 'kind': 'file', 'path': '/sys/module/%s/parameters/%s' % (module, param),
                             'value': str(value)})

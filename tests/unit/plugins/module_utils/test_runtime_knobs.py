# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime knobs the roles set: values from the role or the profile, what the target kernel takes, live writes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml
from hypothesis import given, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import runtime_knobs
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.kconfig import parse_kconfig
from ansible_collections.hyperion.kernel.plugins.module_utils.kernel_params import check_extra_params, cmdline_params
from ansible_collections.hyperion.kernel.plugins.module_utils.profile import item_source, resolve_profile

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')
KCONFIG = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'kconfig')


def _profile_items():
    with open(os.path.join(ROOT, 'profiles', 'hyperion-2.2.4.yml')) as handle:
        profile = resolve_profile(yaml.safe_load(handle))
    return dict((item['id'], item) for item in profile['items'])


def _config(name):
    with open(os.path.join(KCONFIG, name)) as handle:
        return parse_kconfig(handle.read(), name).to_dict()


ITEMS = _profile_items()
# The test kernel's configuration (the profile's fragment on Debian's 6.12 source) and Debian trixie's own.
TEST_KERNEL = _config('hyperion-fragment-linux-source-6.12-olddefconfig.config')
TRIXIE = _config('debian-trixie-6.12.117+deb13-amd64.config')


def test_every_knob_names_a_profile_item_of_the_release_profile():
    for name, knob in runtime_knobs.KNOBS.items():
        assert knob['item'] in ITEMS, name
        item_source(knob['item'])
        # Each knob's profile item is checked only where the kernel has what the knob needs.
        assert set(knob['needs']) <= set(ITEMS[knob['item']].get('applies_if', [])), name


def test_the_profile_gives_every_knob_its_release_value():
    values = {}
    for role in ('boot_params', 'tuning', 'network'):
        values.update(runtime_knobs.plan_knobs(role, {}, items=ITEMS)['values'])
    assert values == {'threadirqs': True, 'preempt': 'lazy', 'damon_reclaim': 'Y', 'usb_autosuspend': -1,
                      'schedstats': 1, 'hrtick': True, 'tcp_notsent_lowat': 131072}


def test_boot_params_on_the_test_kernel_leaves_out_what_6_12_lacks():
    plan = runtime_knobs.plan_knobs('boot_params', {}, items=ITEMS, target_config=TEST_KERNEL)
    # 6.12 has no lazy preemption (CONFIG_ARCH_HAS_PREEMPT_LAZY came with 6.13).
    assert plan['cmdline'] == [{'name': 'damon_reclaim.enabled', 'value': 'Y', 'state': 'present'},
                               {'name': 'threadirqs', 'state': 'present'},
                               {'name': 'usbcore.autosuspend', 'value': '-1', 'state': 'present'}]
    assert plan['notes'] == ['preempt: not set for the target kernel, which lacks CONFIG_ARCH_HAS_PREEMPT_LAZY']
    assert plan['options'] == ['CONFIG_DAMON_RECLAIM', 'CONFIG_PREEMPT_DYNAMIC', 'CONFIG_ARCH_HAS_PREEMPT_LAZY',
                               'CONFIG_IRQ_FORCED_THREADING', 'CONFIG_USB']
    assert plan['modparams'] == ['damon_reclaim.enabled', 'usbcore.autosuspend']
    # A kernel built without USB (the lab's test kernel drops it) gets no usbcore parameter.
    without_usb = dict((name, value) for name, value in TEST_KERNEL.items() if name != 'CONFIG_USB')
    plan = runtime_knobs.plan_knobs('boot_params', {}, items=ITEMS, target_config=without_usb)
    assert 'usbcore.autosuspend' not in [entry['name'] for entry in plan['cmdline']]
    assert 'usb_autosuspend: not set for the target kernel, which lacks CONFIG_USB' in plan['notes']


def test_a_mode_the_kernel_offers_goes_on_the_command_line_and_live():
    facts = {'sched': {'preempt': {'mode': 'voluntary', 'modes': ['none', 'voluntary', 'full']}},
             'modparams': {'damon_reclaim.enabled': 'N', 'usbcore.autosuspend': None}}
    plan = runtime_knobs.plan_knobs('boot_params', {'preempt': 'full'}, items=ITEMS, target_config=TRIXIE, facts=facts)
    assert {'name': 'preempt', 'value': 'full', 'state': 'present'} in plan['cmdline']
    # Debian builds usbcore as a module: usbcore.autosuspend= on the command line reaches it when it loads.
    assert {'name': 'usbcore.autosuspend', 'value': '-1', 'state': 'present'} in plan['cmdline']
    assert plan['notes'] == []
    # usbcore is not loaded (no /sys/module/usbcore): nothing to write live for it.
    assert plan['live'] == [
        {'knob': 'damon_reclaim', 'kind': 'file', 'path': '/sys/module/damon_reclaim/parameters/enabled', 'value': 'Y'},
        {'knob': 'preempt', 'kind': 'file', 'path': '/sys/kernel/debug/sched/preempt', 'value': 'full'}]


def test_nothing_live_when_the_running_kernel_already_agrees_or_lacks_the_knob():
    facts = {'sched': {'preempt': {'mode': 'full', 'modes': ['none', 'voluntary', 'full']}, 'features': {'HRTICK': True}},
             'modparams': {'damon_reclaim.enabled': 'Y', 'usbcore.autosuspend': '-1'},
             'sysctl': {'kernel.sched_schedstats': '1', 'net.ipv4.tcp_notsent_lowat': None}}
    for role in ('boot_params', 'tuning', 'network'):
        wanted = {'preempt': 'lazy'} if role == 'boot_params' else {}
        # lazy is not offered by this running kernel: left for the boot of a kernel that has it.
        assert runtime_knobs.plan_knobs(role, wanted, items=ITEMS, facts=facts)['live'] == [], role


def test_tuning_and_network_write_their_files_and_live_values():
    facts = {'sched': {'features': {'HRTICK': False, 'PLACE_LAG': True}},
             'sysctl': {'kernel.sched_schedstats': '0', 'net.ipv4.tcp_notsent_lowat': '4294967295'}}
    tuning = runtime_knobs.plan_knobs('tuning', {}, items=ITEMS, facts=facts)
    assert tuning['sysctl'] == [{'key': 'kernel.sched_schedstats', 'value': 1}]
    assert tuning['tmpfiles'] == ['w /sys/kernel/debug/sched/features - - - - HRTICK']
    assert tuning['live'] == [
        {'knob': 'hrtick', 'kind': 'file', 'path': '/sys/kernel/debug/sched/features', 'value': 'HRTICK'},
        {'knob': 'schedstats', 'kind': 'sysctl', 'path': 'kernel.sched_schedstats', 'value': '1'}]
    network = runtime_knobs.plan_knobs('network', {'tcp_notsent_lowat': 16384}, items=ITEMS, facts=facts)
    assert network['sysctl'] == [{'key': 'net.ipv4.tcp_notsent_lowat', 'value': 16384}]
    assert network['live'] == [{'knob': 'tcp_notsent_lowat', 'kind': 'sysctl', 'path': 'net.ipv4.tcp_notsent_lowat',
                                'value': '16384'}]
    off = runtime_knobs.plan_knobs('tuning', {'hrtick': False, 'schedstats': 'off'}, items=ITEMS, facts=facts)
    assert off['tmpfiles'] == ['w /sys/kernel/debug/sched/features - - - - NO_HRTICK']
    assert off['live'] == []


def test_unmanaged_knobs_are_neither_set_nor_removed():
    plan = runtime_knobs.plan_knobs('boot_params', {'threadirqs': False}, ['threadirqs', 'preempt'], ITEMS,
                                    TEST_KERNEL, {'sched': {'preempt': {'mode': 'none', 'modes': ['none', 'full']}}})
    assert [entry['name'] for entry in plan['cmdline']] == ['damon_reclaim.enabled', 'usbcore.autosuspend']
    assert plan['live'] == []
    assert 'threadirqs' not in plan['values'] and 'preempt' not in plan['values']


def test_an_item_the_site_skips_or_loosens_leaves_the_knob_alone():
    items = dict(ITEMS)
    items['sched:preempt'] = dict(items['sched:preempt'], skip='this site keeps the build default')
    items['cmdline:threadirqs'] = dict(items['cmdline:threadirqs'], match='not_set')
    items['sysctl:net.ipv4.tcp_notsent_lowat'] = {'id': 'sysctl:net.ipv4.tcp_notsent_lowat', 'match': 'range', 'min': 1}
    plan = runtime_knobs.plan_knobs('boot_params', {}, items=items)
    assert plan['values']['threadirqs'] is False
    assert {'name': 'threadirqs', 'state': 'absent'} in plan['cmdline']
    assert 'preempt' not in plan['values']
    assert 'tcp_notsent_lowat' not in runtime_knobs.plan_knobs('network', {}, items=items)['values']


@pytest.mark.parametrize('role, wanted, unmanaged, message', [
    ('boot_params', {'preempt': 'realtime'}, [], "boot_params_preempt must be one of the preemption modes none, voluntary, full, lazy, not 'realtime'"),
    ('boot_params', {'usb_autosuspend': -2}, [], 'boot_params_usb_autosuspend must be from -1 to 2147483647, got -2'),
    ('boot_params', {'usb_autosuspend': '2s'}, [], 'boot_params_usb_autosuspend must be a whole number, got "2s"'),
    ('boot_params', {'threadirqs': 'maybe'}, [], "boot_params_threadirqs must be true or false, not 'maybe'"),
    ('boot_params', {'hrtick': True}, [], 'boot_params has no knob hrtick; its knobs: damon_reclaim, preempt, threadirqs, usb_autosuspend'),
    ('tuning', {}, ['threadirqs'], 'tuning_unmanaged: threadirqs is not a knob of tuning (hrtick, schedstats)'),
    ('network', {'tcp_notsent_lowat': 2 ** 32}, [], 'network_tcp_notsent_lowat must be from 0 to 4294967295, got 4294967296'),
    ('network', {'tcp_notsent_lowat': True}, [], 'network_tcp_notsent_lowat must be a whole number, got True'),
])
def test_bad_values_are_refused_with_the_variable_named(role, wanted, unmanaged, message):
    with pytest.raises(HyperionError) as err:
        runtime_knobs.plan_knobs(role, wanted, unmanaged, ITEMS)
    assert str(err.value) == message


def test_a_bad_profile_value_names_the_item():
    items = dict(ITEMS)
    items['modparam:usbcore.autosuspend'] = dict(items['modparam:usbcore.autosuspend'], value='never')
    with pytest.raises(HyperionError, match="profile item modparam:usbcore.autosuspend must be a whole number"):
        runtime_knobs.plan_knobs('boot_params', {}, items=items)


@given(st.integers(min_value=-2 ** 40, max_value=2 ** 40))
def test_integer_knobs_take_exactly_the_kernels_range(number):
    for name in ('usb_autosuspend', 'tcp_notsent_lowat'):
        knob = runtime_knobs.KNOBS[name]
        if knob['min'] <= number <= knob['max']:
            assert runtime_knobs.normalize(name, number) == number
            assert runtime_knobs.normalize(name, str(number)) == number
        else:
            with pytest.raises(HyperionError):
                runtime_knobs.normalize(name, number)


def test_the_command_line_parameters_of_knobs_cannot_also_be_extra_parameters():
    for param in ('threadirqs', 'preempt', 'damon_reclaim.enabled', 'usbcore.autosuspend'):
        with pytest.raises(HyperionError, match='managed by the role itself'):
            check_extra_params([{'name': param, 'value': '1'}], [param], [param])


def test_the_boot_params_policy_carries_the_knobs():
    plan = runtime_knobs.plan_knobs('boot_params', {}, items=ITEMS, target_config=TEST_KERNEL)
    params = cmdline_params('ttyS0,115200', False, plan['cmdline'], False, 1)
    assert [p['name'] for p in params] == [
        'kgdboc', 'kgdbwait', 'sysrq_always_enabled', 'damon_reclaim.enabled', 'threadirqs', 'usbcore.autosuspend']

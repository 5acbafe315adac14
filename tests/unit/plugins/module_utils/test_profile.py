# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import ProfileError
from ansible_collections.hyperion.kernel.plugins.module_utils.profile import resolve_profile, wanted_sources
from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import available, load_data, load_resolved, locate

BASE = load_data(locate('hyperion-2.2.4', 'profile'))


def _items(profile):
    return dict((item['id'], item) for item in profile['items'])


def test_shipped_profile_and_overlays_resolve():
    assert available('profile') == ['hyperion-2.2.4']
    assert available('overlay') == ['gaming_cafe', 'lab']
    for overlays in ([], ['lab'], ['gaming_cafe']):
        resolved = load_resolved('hyperion-2.2.4', overlays)
        assert resolved['overlays'] == overlays
        assert len(resolved['items']) == len(BASE['items'])


def test_profile_covers_the_release_notes_headlines():
    items = _items(resolve_profile(BASE))
    for item_id in ('CONFIG_SCHED_BORE', 'CONFIG_MQ_IOSCHED_ADIOS', 'CONFIG_ZRAM_MULTI_COMP', 'CONFIG_KGDB_SERIAL_CONSOLE',
                    'CONFIG_NET_SCH_TAPRIO', 'CONFIG_NET_SCH_ETF', 'CONFIG_NET_SCH_CAKE', 'CONFIG_RUST',
                    'zram:zram0:recomp_algorithm', 'bore:burst_smoothness', 'cmdline:kgdboc', 'sysctl:kernel.sysrq',
                    'uname:release', 'iosched:nvme', 'iosched:rotational', 'tracer:timerlat', 'thp:defrag'):
        assert item_id in items
    # Release-notes names that are not real interfaces are kept as seed_name on the real item.
    assert 'comp_algorithm2' in items['zram:zram0:recomp_algorithm']['seed_name']
    assert 'CONFIG_IOSCHED_ADIOS' in items['CONFIG_MQ_IOSCHED_ADIOS']['seed_name']
    assert 'BURST_SMOOTHNESS' in items['bore:burst_smoothness']['seed_name']
    assert all(i.get('reason') and i.get('seed') for i in items.values())


def test_gaming_cafe_overlay():
    items = _items(load_resolved('hyperion-2.2.4', ['gaming_cafe']))
    assert items['cmdline:kgdboc']['match'] == 'not_set'
    assert 'value' not in items['cmdline:kgdboc']
    assert items['sysctl:kernel.sysrq']['value'] == 176
    assert items['sysctl:kernel.sysrq']['severity'] == 'required'


def test_overrides_shorthand_skip_and_new_items():
    resolved = load_resolved('hyperion-2.2.4', ['lab'], {
        'uname:release': {'match': 'pattern', 'pattern': '^6\\.12\\..*-hyperion$'},
        'sysctl:vm.swappiness': {'add': True, 'value': 180, 'match': 'exact', 'severity': 'recommended',
                                 'reason': 'the site swaps to zram eagerly'},
        'CONFIG_SCHED_BORE': {'skip': 'Debian source has no BORE patch'},
    })
    items = _items(resolved)
    assert items['uname:release'] == dict(items['uname:release'], match='pattern', pattern='^6\\.12\\..*-hyperion$')
    assert 'value' not in items['uname:release']
    assert items['sysctl:vm.swappiness']['value'] == 180
    assert 'add' not in items['sysctl:vm.swappiness']
    assert items['CONFIG_SCHED_BORE']['skip']
    assert 'vm.swappiness' in wanted_sources(resolved)[0]


# What a new item (one the profile lacks) states besides its match's keys.
NEW = {'add': True, 'match': 'exact', 'severity': 'recommended', 'reason': 'a site item'}


@pytest.mark.parametrize('change,message', [
    ({'CONFIG_SCHED_BORE': {'valeu': 'y'}}, r'item CONFIG_SCHED_BORE: unknown key\(s\) valeu'),
    ({'CONFIG_SCHED_BORE': {'match': 'sometimes'}}, r'match .sometimes. is not one of'),
    ({'CONFIG_SCHED_BORE': {'severity': 'critical'}}, r'severity .critical. is not one of'),
    ({'zram:zram0:disksize_ratio': {'min': 0.9, 'max': 0.1}}, r'impossible range: min 0.9 is greater than max 0.1'),
    ({'uname:release': {'match': 'pattern', 'pattern': '6.19.('}}, r'does not compile'),
    ({'sysctl:kernel.sysrq': 4096}, r'kernel.sysrq must be 0-511'),
    ({'CONFIG_KGDB': 'n'}, r'Kconfig never writes =n'),
    ({'sysctl:kernel.sysrq': {'match': 'enabled'}}, r'applies to CONFIG_ items only'),
    ({'wibble:thing': 1}, r"item id 'wibble:thing' is not of a known form"),
    ({'CONFIG_X': dict(NEW, values='y', match='one_of')}, r'needs "values", a non-empty list'),
    ({'CONFIG_X': dict(NEW, value=['y'])}, r'needs a scalar "value"'),
    ({'CONFIG_X': dict(NEW, value='y', since='six')}, r'since must be a kernel version'),
    ({'CONFIG_X': dict(NEW, value='y', applies_if=['whenever'])}, r'applies_if must be a list'),
    ({'CONFIG_X': ['y']}, r'expected a mapping or a scalar value, got list'),
])
def test_bad_overrides_are_named(change, message):
    with pytest.raises(ProfileError, match=message):
        resolve_profile(BASE, overrides=change)


@pytest.mark.parametrize('change, message', [
    # A misspelt id is no new item: the change it meant would be lost.
    ({'sysctl:kernel.sysrg': 176}, r'overrides item sysctl:kernel.sysrg: the profile has no item sysctl:kernel.sysrg '
                                   r'\(did you mean "sysctl:kernel.sysrq"'),
    ({'CONFIG_SCHED_BOR': {'skip': 'vendor kernel'}}, r'no item CONFIG_SCHED_BOR \(did you mean "CONFIG_SCHED_BORE"'),
    ({'qdisc:@default_rout:root': 'fq'}, r'did you mean "qdisc:@default_route:root"'),
    # Misspelt out of every known form: the form's error and the close ids.
    ({'zram:zram0:comp_algoritm': 'lz4'}, r"item id 'zram:zram0:comp_algoritm' is not of a known form.*"
                                          r'\(did you mean "zram:zram0:comp_algorithm"'),
    # A full-looking definition without add: true is still a misspelling (the overlays look like this).
    ({'sysctl:kernel.sysrg': {'value': 176, 'severity': 'required', 'reason': 'safe keys'}}, r'no item sysctl:kernel.sysrg'),
    ({'sysctl:vm.swappiness': {'add': True, 'value': 180}}, r'a new item needs "match", "severity", "reason"'),
    ({'sysctl:kernel.sysrq': dict(NEW, value=176)}, r'the profile already has sysctl:kernel.sysrq'),
    ({'sysctl:vm.swappiness': dict(NEW, value=180, add='yes')}, r'add must be true'),
])
def test_unknown_ids_are_errors_with_the_close_matches(change, message):
    with pytest.raises(ProfileError, match=message):
        resolve_profile(BASE, overrides=change)


def test_a_misspelt_id_in_an_overlay_names_the_overlay_and_the_close_match():
    overlay = {'name': 'site', 'items': {'cmdline:kgdbco': {'match': 'not_set', 'severity': 'required', 'reason': 'x'}}}
    with pytest.raises(ProfileError, match=r'overlay site item cmdline:kgdbco: .*did you mean "cmdline:kgdboc"'):
        resolve_profile(BASE, overlays=[overlay])
    # The same overlay adds the item when it says so; a later override may then change it.
    overlay['items']['cmdline:kgdbco']['add'] = True
    resolved = resolve_profile(BASE, overlays=[overlay], overrides={'cmdline:kgdbco': {'severity': 'recommended'}})
    assert _items(resolved)['cmdline:kgdbco']['severity'] == 'recommended'


def test_bad_profiles():
    broken = copy.deepcopy(BASE)
    broken['itemz'] = broken.pop('items')
    with pytest.raises(ProfileError, match=r'unknown key\(s\) itemz'):
        resolve_profile(broken)
    twice = copy.deepcopy(BASE)
    twice['items'].append(dict(twice['items'][0]))
    with pytest.raises(ProfileError, match='listed twice'):
        resolve_profile(twice)
    future = dict(BASE, schema_version=2)
    with pytest.raises(ProfileError, match='schema_version 2 is not supported'):
        resolve_profile(future)
    with pytest.raises(ProfileError, match='must be a mapping'):
        resolve_profile(BASE, overlays=[['not', 'a', 'mapping']])


def test_files_errors(tmp_path):
    with pytest.raises(ProfileError, match=r"unknown overlay 'cafe'; shipped: gaming_cafe, lab"):
        load_resolved('hyperion-2.2.4', ['cafe'])
    with pytest.raises(ProfileError, match='does not exist'):
        load_resolved(str(tmp_path / 'missing.yml'))
    bad_yaml = tmp_path / 'bad.yml'
    bad_yaml.write_text('items: [unclosed\n')
    with pytest.raises(ProfileError, match='bad.yml is not valid YAML'):
        load_resolved(str(bad_yaml))
    scalar = tmp_path / 'scalar.json'
    scalar.write_text('"just a string"')
    with pytest.raises(ProfileError, match='mapping at the top level'):
        load_resolved(str(scalar))
    with pytest.raises(ProfileError, match='overlays must be a list'):
        load_resolved('hyperion-2.2.4', 'lab')

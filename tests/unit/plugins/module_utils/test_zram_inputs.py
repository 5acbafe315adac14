# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zram role's inputs: the size expression under arbitrary strings (hypothesis), the recompression
parameters against zram's recompress keys, the timer spans, and the algorithms the kernel offers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import zram_plan
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures')
TRIXIE_VM = os.path.join(FIXTURES, 'vm', 'trixie-6.12.117+deb13-amd64')
KCONFIG = os.path.join(FIXTURES, 'kconfig')
RAM = 965.0

# Expressions of the accepted grammar, so that the property sees many valid results, not only refusals.
_ATOMS = st.one_of(st.just('ram'), st.integers(-10 ** 6, 10 ** 6).map(str),
                   st.floats(0, 10 ** 4, allow_nan=False).map(lambda f: '%.3f' % f))
_EXPRESSIONS = st.recursive(_ATOMS, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(['+', '-', '*', '/', '%', '^']), inner).map(lambda t: '(%s %s %s)' % t),
    st.tuples(st.sampled_from(['abs', 'int', 'ceil', 'floor', 'round']), inner).map(lambda t: '%s(%s)' % t),
    st.tuples(st.sampled_from(['min', 'max']), st.lists(inner, min_size=1, max_size=3)).map(
        lambda t: '%s(%s)' % (t[0], ', '.join(t[1]))),
    inner.map(lambda e: '-' + e)), max_leaves=12)
_ALPHABET = st.sampled_from(list('ram0123456789.+-*/%^(), \n\t_exinmaxflorcbdsqt[]{}"\'\\;=') + ['\x00', '\u00b2'])


def _check_property(expression):
    try:
        size = zram_plan.check_size(expression, RAM)
    except HyperionError:
        return
    assert isinstance(size, float) and math.isfinite(size) and 0 < size <= RAM, (expression, size)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.text(_ALPHABET, max_size=80)))
def test_arbitrary_strings_only_ever_raise_hyperion_error(expression):
    _check_property(expression)


@settings(max_examples=400, deadline=None)
@given(_EXPRESSIONS)
def test_grammar_expressions_give_a_finite_size_within_ram_or_a_hyperion_error(expression):
    _check_property(expression)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.floats(), st.integers(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)))
def test_values_that_are_not_strings_only_ever_raise_hyperion_error(value):
    _check_property(value)


@pytest.mark.parametrize('text, expected', [
    ('type=idle', 'type=idle'),
    ('', ''),
    ('max_pages=1000 type=huge_idle', 'type=huge_idle max_pages=1000'),
    ('type=idle threshold=2000 priority=1 algo=lz4hc', 'type=idle threshold=2000 algo=lz4hc priority=1'),
    ('threshold=0100', 'threshold=100'),
])
def test_recompress_params_of_the_kernel_documentation(text, expected):
    assert zram_plan.recompress_params(text, 'lz4hc') == expected


@pytest.mark.parametrize('text, message', [
    ('type=idl', r'type must be idle, huge, huge_idle, got .idl. \(did you mean "idle"'),
    ('typ=idle', r'no key .typ. \(did you mean "type"'),
    ('type=idle\nmax_pages=1', 'must be one line'),
    # A parenthesis would end zram-generator's parameter list early.
    ('type=idle) (x', r"got 'idle\)'"),
    ('max_pages=0', 'max_pages must be from 1 to 18446744073709551615'),
    ('max_pages=18446744073709551616', 'max_pages must be from 1'),
    ('max_pages=-5', 'max_pages must be from 1'),
    ('threshold=4096', 'threshold must be from 1 to 3000'),
    ('threshold=1.5', 'threshold must be a whole number'),
    ('priority=4', 'priority must be from 1 to 3'),
    ('algo=zstd', 'algo=zstd is not the recompression algorithm'),
    ('type=idle type=huge', 'type is given twice'),
    ('type', 'must be key=value'),
    ('type=', 'must be key=value'),
])
def test_bad_recompress_params_are_refused(text, message):
    with pytest.raises(HyperionError, match=message):
        zram_plan.recompress_params(text, 'lz4hc')


def test_compression_setting_checks_the_params_even_without_multi_comp():
    with pytest.raises(HyperionError, match='type must be'):
        zram_plan.compression_setting('zstd', 'lz4hc', False, 'type=all')
    assert zram_plan.compression_setting('zstd', 'lz4hc', True, 'max_pages=0100 type=idle') == (
        'zstd lz4hc (type=idle max_pages=100)', None)


@pytest.mark.parametrize('text, minimum, seconds', [
    ('15min', 0, 900), ('1h', 60, 3600), ('1h 30min', 60, 5400), ('90 s', 0, 90), ('0', 0, 0), ('2d', 0, 172800),
])
def test_timespans(text, minimum, seconds):
    assert zram_plan.timespan_seconds(text, 'zram_recompress_interval', minimum) == seconds


@pytest.mark.parametrize('text, minimum, message', [
    ('1h\nOnCalendar=minutely', 0, 'must be a systemd time span'),
    ('hourly', 0, 'must be a systemd time span'),
    ('-1h', 0, 'must be a systemd time span'),
    ('1 fortnight', 0, 'must be a systemd time span'),
    ('10s', 60, "zram_recompress_interval '10s' is 10 s; it must be from 60 s"),
    ('53w', 0, 'a year'),
])
def test_bad_timespans_are_refused(text, minimum, message):
    with pytest.raises(HyperionError, match=message):
        zram_plan.timespan_seconds(text, 'zram_recompress_interval', minimum)


GOOD_INPUTS = {'zram_device': 'zram0', 'zram_kernel_release': '', 'zram_compression_algorithm': None,
               'zram_recompression_algorithm': None, 'zram_size': None, 'zram_swap_priority': None,
               'zram_live_reserve_kib': 131072, 'zram_recompression_params': 'type=idle',
               'zram_recompress_on_boot_sec': '15min', 'zram_recompress_interval': '1h',
               'zram_takeover_packages': ['zram-tools', 'systemd-swap'],
               'zram_takeover_services': ['zramswap.service', 'systemd-swap.service'],
               'zram_package': 'systemd-zram-generator'}


@pytest.mark.parametrize('name, value, message', [
    ('zram_device', 'zram0\n', 'zram_device must be a zram device'),
    ('zram_device', 'sda', 'zram_device must be a zram device'),
    ('zram_swap_priority', 32768, 'zram_swap_priority must be from -1 to 32767'),
    ('zram_swap_priority', -2, 'zram_swap_priority must be from -1 to 32767'),
    ('zram_swap_priority', 'high', 'zram_swap_priority must be a whole number'),
    ('zram_live_reserve_kib', -1, 'zram_live_reserve_kib must be from 0'),
    ('zram_compression_algorithm', 'zstd (level=3)', 'zram_compression_algorithm must be a name'),
    ('zram_recompression_algorithm', 'LZ4HC', 'zram_recompression_algorithm must be a name'),
    ('zram_size', 'ram / 2\nzram-size = ram * 4', 'zram_size must be one line'),
    ('zram_kernel_release', '../../etc', 'zram_kernel_release must be a kernel release'),
    ('zram_recompress_interval', '1h\n[Install]', 'must be a systemd time span'),
    ('zram_recompress_on_boot_sec', 'tomorrow', 'must be a systemd time span'),
    ('zram_takeover_services', ['zramswap.service', '../x'], r'zram_takeover_services\[1\] must be a file name'),
    ('zram_takeover_packages', 'zram-tools', 'zram_takeover_packages must be a list'),
    ('zram_package', 'zram-generator; reboot', 'zram_package must be a package name'),
])
def test_role_inputs_are_refused_naming_the_variable(name, value, message):
    assert zram_plan.check_role_inputs(GOOD_INPUTS) is True
    with pytest.raises(HyperionError, match=message):
        zram_plan.check_role_inputs(dict(GOOD_INPUTS, **{name: value}))


def _state(root, config_path=None):
    return gather_facts(root, None, subsets=['config', 'zram'], config_path=config_path)


def test_offered_by_the_running_device_of_the_trixie_capture():
    offered = zram_plan.offered_algorithms(_state(TRIXIE_VM), 'zram0', True)
    assert offered['source'] == '/sys/block/zram0/comp_algorithm'
    assert 'zstd' in offered['algorithms']
    assert zram_plan.check_offered('zstd', 'lz4hc', False, offered) == ['zstd']


def test_the_config_of_a_kernel_offers_what_its_running_device_lists(tmp_path):
    """Debian's trixie kernel: its config (the target before a boot) and the captured guest running it agree."""
    config = os.path.join(KCONFIG, 'debian-trixie-6.12.117+deb13-amd64.config')
    from_config = zram_plan.offered_algorithms(_state(str(tmp_path), config), 'zram0', False)
    assert from_config['source'].endswith('(CONFIG_ZRAM_BACKEND_*)')
    from_device = zram_plan.offered_algorithms(_state(TRIXIE_VM), 'zram0', True)
    assert from_config['algorithms'] == from_device['algorithms'] == ['lz4', 'lz4hc', 'zstd', 'deflate']


def test_the_profile_kernel_offers_the_profile_algorithms(tmp_path):
    config = os.path.join(KCONFIG, 'hyperion-fragment-linux-source-6.12-olddefconfig.config')
    offered = zram_plan.offered_algorithms(_state(str(tmp_path), config), 'zram0', False)
    assert zram_plan.check_offered('zstd', 'lz4hc', True, offered) == ['zstd', 'lz4hc']
    with pytest.raises(HyperionError, match='lzo-rle is not offered'):
        zram_plan.check_offered('lzo-rle', 'lz4hc', True, offered)


def test_offered_from_crypto_options_before_the_backends():
    state = {'config': {'source': '/boot/config-6.1.0-hyperion', 'options': {
        'CONFIG_ZRAM': 'm', 'CONFIG_CRYPTO_LZO': 'y', 'CONFIG_CRYPTO_ZSTD': 'm', 'CONFIG_CRYPTO_LZ4HC': 'is not set'}}}
    offered = zram_plan.offered_algorithms(state, 'zram0', False)
    assert offered == {'algorithms': ['lzo', 'lzo-rle', 'zstd'], 'source': '/boot/config-6.1.0-hyperion (CONFIG_CRYPTO_*)'}
    with pytest.raises(HyperionError, match=r'recompression algorithm lz4hc is not offered by the kernel: '
                                            r'/boot/config-6.1.0-hyperion \(CONFIG_CRYPTO_\*\) lists lzo, lzo-rle, zstd'):
        zram_plan.check_offered('zstd', 'lz4hc', True, offered)


@pytest.mark.parametrize('state, message', [
    ({'zram': {'devices': {'zram0': {'comp_algorithms_available': ['lzo-rle', 'lzo', 'lz4']}}}},
     r'compression algorithm zstd is not offered by the kernel: /sys/block/zram0/comp_algorithm lists lzo-rle, lzo, lz4'),
    ({'config': {'source': '/boot/config-x', 'options': {'CONFIG_SWAP': 'y'}}}, r'no CONFIG_ZRAM\) lists none'),
    ({'config': {'source': None, 'options': None, 'error': 'no readable kernel config'}},
     'cannot tell which compression algorithms the kernel offers'),
])
def test_algorithms_the_kernel_lacks_are_refused(state, message):
    with pytest.raises(HyperionError, match=message):
        zram_plan.check_offered('zstd', 'lz4hc', True, zram_plan.offered_algorithms(state, 'zram0', True))


def test_a_near_miss_names_the_offered_algorithm():
    offered = {'algorithms': ['lzo-rle', 'lzo', 'lz4'], 'source': '/sys/block/zram0/comp_algorithm'}
    with pytest.raises(HyperionError, match=r'lz5 is not offered .*\(did you mean "lzo" or "lz4"'):
        zram_plan.check_offered('lz5', None, True, offered)


def _items(overrides):
    from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved
    return dict((item['id'], item) for item in load_resolved(profile='hyperion-2.2.4', overlays=[], overrides=overrides)['items'])


def test_the_algorithms_come_from_the_profile_items():
    assert zram_plan.algorithm_choice(_items({})) == {'primary': 'zstd', 'recompression': 'lz4hc'}


def test_a_site_chooses_the_order_with_overrides_which_the_check_reads_too():
    items = _items({'zram:zram0:comp_algorithm': 'lz4', 'zram:zram0:recomp_algorithm': 'zstd'})
    assert zram_plan.algorithm_choice(items) == {'primary': 'lz4', 'recompression': 'zstd'}
    # Restating the override in the role's variables is fine.
    assert zram_plan.algorithm_choice(items, 'lz4', 'zstd') == {'primary': 'lz4', 'recompression': 'zstd'}


def test_a_role_variable_the_check_would_fail_is_refused_naming_the_override():
    with pytest.raises(HyperionError, match=r'zram_compression_algorithm is lz4, but the profile item zram:zram0:comp_algorithm '
                                            r'expects zstd: .*hyperion_profile_overrides \("zram:zram0:comp_algorithm": lz4\)'):
        zram_plan.algorithm_choice(_items({}), 'lz4', None)
    with pytest.raises(HyperionError, match=r'zram_recompression_algorithm is zstd, .* expects lz4hc'):
        zram_plan.algorithm_choice(_items({}), None, 'zstd')


def test_items_that_judge_nothing_leave_the_variables_free():
    skipped = _items({'zram:zram0:comp_algorithm': {'skip': 'the site audits zram elsewhere'}})
    assert zram_plan.algorithm_choice(skipped, 'lz4', None) == {'primary': 'lz4', 'recompression': 'lz4hc'}
    # Without CONFIG_ZRAM_MULTI_COMP the recompression item is not applicable, so the check reads nothing there.
    assert zram_plan.algorithm_choice(_items({}), None, 'zstd', multi_comp=False)['recompression'] == 'zstd'


def test_a_one_of_item_gives_its_first_value_and_admits_the_others():
    items = _items({'zram:zram0:comp_algorithm': {'match': 'one_of', 'values': ['lz4', 'zstd']}})
    assert zram_plan.algorithm_choice(items)['primary'] == 'lz4'
    assert zram_plan.algorithm_choice(items, 'zstd', None)['primary'] == 'zstd'

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zram role's plan, on the memory and swaps of a captured trixie guest and real kernel configs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import zram_plan
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts
from ansible_collections.hyperion.kernel.plugins.module_utils.kconfig import read_config_file
from ansible_collections.hyperion.kernel.plugins.module_utils.zram import parse_proc_swaps

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures')
TRIXIE_VM = os.path.join(FIXTURES, 'vm', 'trixie-6.12.117+deb13-amd64')
KCONFIG = os.path.join(FIXTURES, 'kconfig')


def _read(*parts):
    with open(os.path.join(*parts)) as handle:
        return handle.read()


@pytest.fixture(scope='module')
def trixie_ram_mib():
    for line in _read(TRIXIE_VM, 'proc', 'meminfo').splitlines():
        if line.startswith('MemTotal:'):
            return int(line.split()[1]) / 1024.0
    raise AssertionError('no MemTotal in the capture')


def _multi_comp(name):
    option = read_config_file(os.path.join(KCONFIG, name)).to_dict().get(zram_plan.MULTI_COMP_OPTION)
    return option in ('y', 'm')


@pytest.mark.parametrize('expression, expected', [
    ('ram / 2', 482.55),
    ('ram * 0.5', 482.55),
    ('min(ram / 2, 256)', 256.0),
    ('max(ram / 10, 512)', 512.0),
    ('floor(ram / 3)', 321.0),
    ('ram ^ 1 - 64', 901.11),
])
def test_size_expressions_on_the_trixie_guest(trixie_ram_mib, expression, expected):
    assert int(trixie_ram_mib) == 965
    assert zram_plan.check_size(expression, trixie_ram_mib) == pytest.approx(expected, abs=0.01)


def test_the_captured_device_fits_the_profile_ratio(trixie_ram_mib):
    # The capture's zram0 (256 MiB) is far below the profile's half of RAM; the role's expression is not.
    disksize_mib = int(_read(TRIXIE_VM, 'sys', 'block', 'zram0', 'disksize')) // (1024 * 1024)
    assert disksize_mib == 256
    expression = zram_plan.ratio_expression(0.45, 0.55)
    assert expression == 'ram * 0.5'
    assert 0.45 <= zram_plan.check_size(expression, trixie_ram_mib) / trixie_ram_mib <= 0.55


@pytest.mark.parametrize('expression, message', [
    ('ram * 2', 'more than the host\'s 965 MiB of RAM'),
    ('ram + 1', 'more than the host'),
    ('0', 'must be more than 0'),
    ('ram / 0', 'divides by zero'),
    ('__import__("os").system("true")', 'is not part of a size expression'),
    ('ram.real', 'is not part of a size expression'),
    ('sqrt(ram)', "'sqrt' is not ram or a function"),
    ('rma / 2', 'did you mean "ram"'),
    ('ram ** 2', r'\*\* and // are Python'),
    ('ram // 2', r'\*\* and // are Python'),
    ('1_000', 'is not part of a size expression'),
    ('0x10', "'x' is not ram or a function"),
    ('1e3', "'e' is not ram or a function"),
    ('ram % 0', 'divides by zero'),
    ('0 ^ -1', 'cannot be evaluated: it divides by zero'),
    ('10 ^ 400', 'cannot be evaluated: a number in it is too large'),
    ('round(10 ^ 300 * 10 ^ 300)', 'cannot be evaluated: a number in it is too large'),
    ('(-8) ^ 0.5', 'negative number to a fractional power'),
    # Grouping the evaluators disagree on (fasteval: -2 ^ 2 = 4, Python: -4) must be written out.
    ('-2 ^ 2 + ram', r'write \(-a\) \^ b or -\(a \^ b\)'),
    ('ram ^ 1 ^ 1', 'say with parentheses which'),
    ('abs(1, 2)', r'abs\(\) takes one argument'),
    ('min()', 'only numbers, ram'),
    ('(' * 200 + 'ram' + ')' * 200, 'at most 256'),
    ('ram / 2\n[zram1]', 'must be one line'),
    (float('nan'), 'not a finite number'),
    (float('inf'), 'not a finite number'),
    ('ram /', 'not an arithmetic expression'),
    ('', 'empty'),
    (True, 'must be an expression'),
])
def test_bad_sizes_are_refused(trixie_ram_mib, expression, message):
    with pytest.raises(HyperionError, match=message):
        zram_plan.check_size(expression, trixie_ram_mib)


@pytest.mark.parametrize('expression, expected', [
    # fasteval's semantics, not Python's: % keeps the dividend's sign (Python's -7 % 3 is 2), halves
    # round away from zero (Python's round(2.5) is 2).
    ('-7 % 3', -1.0),
    ('round(2.5) + 1', 4.0),
    ('round(0.5) + ram - ram', 1.0),
    ('min(ram)', 965.0),
    ('max(1, 2, 3)', 3.0),
    ('2 ^ (3 ^ 2) / 2 ^ 9 * 10', 10.0),
    ('(2 ^ 3) ^ 2 - 54', 10.0),
    ('(-2) ^ 2 + 6', 10.0),
    ('-(2 ^ 2) + 14', 10.0),
    ('2 ^ -1 * 20', 10.0),
])
def test_expressions_evaluate_as_fasteval_does(expression, expected):
    assert zram_plan.size_mib(expression, 965.0) == expected


def test_compression_on_the_profile_kernel_names_the_recompression():
    assert _multi_comp('hyperion-fragment-linux-source-6.12-olddefconfig.config')
    assert zram_plan.compression_setting('zstd', 'lz4hc', True) == ('zstd lz4hc (type=idle)', None)
    assert zram_plan.compression_setting('zstd', 'lz4hc', True, '') == ('zstd lz4hc', None)


def test_compression_on_debians_kernel_is_one_stream_with_a_warning():
    assert not _multi_comp('debian-trixie-6.12.117+deb13-amd64.config')
    setting, warning = zram_plan.compression_setting('zstd', 'lz4hc', False)
    assert setting == 'zstd'
    assert 'no CONFIG_ZRAM_MULTI_COMP' in warning and 'lz4hc' in warning


@pytest.mark.parametrize('primary, recompression, message', [
    ('zstd', 'zstd', 'must differ'),
    ('zstd;reboot', 'lz4hc', 'not a compression algorithm'),
    ('zstd', 'lz4hc (type=huge)', 'not a compression algorithm'),
])
def test_bad_algorithms_are_refused(primary, recompression, message):
    with pytest.raises(HyperionError, match=message):
        zram_plan.compression_setting(primary, recompression, True)


def test_generator_conf():
    text = zram_plan.generator_conf('zram0', 'ram * 0.5', 'zstd lz4hc (type=idle)', 100)
    assert text == ('[zram0]\nzram-size = ram * 0.5\ncompression-algorithm = zstd lz4hc (type=idle)\n'
                    'swap-priority = 100\noptions = discard\n')
    with pytest.raises(HyperionError, match='swap priority'):
        zram_plan.generator_conf('zram0', 'ram / 2', 'zstd', 40000)
    with pytest.raises(HyperionError, match='not a zram device'):
        zram_plan.generator_conf('sda', 'ram / 2', 'zstd', 100)


def test_live_swap_of_the_capture():
    swaps = parse_proc_swaps(_read(TRIXIE_VM, 'proc', 'swaps'))
    swap = zram_plan.live_swap_state(swaps, 'zram0')
    assert swap['priority'] == 100 and swap['used_kib'] == 32768
    assert zram_plan.live_swap_state(swaps, 'zram1') is None
    assert zram_plan.swapoff_is_safe(swap['used_kib'], 500000)
    assert not zram_plan.swapoff_is_safe(swap['used_kib'], 100000)


def test_live_rebuild_of_the_captured_guest_depends_on_the_reserve():
    # 32768 KiB on zram0, 837640 KiB MemAvailable.
    state = gather_facts(TRIXIE_VM, None, subsets=['zram'])
    assert zram_plan.zram_swap_used_kib(state['zram']['swaps']) == 32768
    assert zram_plan.live_rebuild_is_safe(state, 131072)
    assert zram_plan.live_rebuild_is_safe(state, 837640 - 32768)
    assert not zram_plan.live_rebuild_is_safe(state, 837640 - 32768 + 1)


ZRAM0 = {'filename': '/dev/zram0', 'used_kib': 1000}
ZRAM1 = {'filename': '/dev/zram1', 'used_kib': 500}
DISK = {'filename': '/swapfile', 'used_kib': 10 ** 9}


@pytest.mark.parametrize('swaps, available, reserve, safe', [
    ([], 0, 0, True),                              # nothing to move back
    ([ZRAM0], 1100, 100, True),                    # fits exactly
    ([ZRAM0], 1099, 100, False),
    ([ZRAM0, ZRAM1], 1600, 100, True),             # every zram swap counts
    ([ZRAM0, ZRAM1], 1599, 100, False),
    ([ZRAM0, DISK], 1100, 100, True),              # a disk swap stays on
    ([ZRAM0], None, 0, False),                     # MemAvailable unread counts as none
    ([ZRAM0], 2000, '1000', True),                 # -e zram_live_reserve_kib=1000 arrives as a string
    ([ZRAM0], 2000, '1001', False),
])
def test_live_rebuild_needs_room_for_every_zram_swaps_pages(swaps, available, reserve, safe):
    state = {'zram': {'swaps': swaps, 'mem_available_kib': available}}
    assert zram_plan.live_rebuild_is_safe(state, reserve) is safe


@pytest.mark.parametrize('state, reserve, message', [
    ({}, 0, 'zram facts are missing'),
    (None, 0, 'zram facts are missing'),
    ({'zram': {'swaps': []}}, -1, 'zram_live_reserve_kib must be from 0 to 67108864'),
    ({'zram': {'swaps': []}}, 'lots', 'zram_live_reserve_kib must be a whole number'),
])
def test_live_rebuild_refuses_what_it_cannot_judge(state, reserve, message):
    with pytest.raises(HyperionError, match=message):
        zram_plan.live_rebuild_is_safe(state, reserve)


# The zram role's probe (roles/zram/files/hyperion-zram-probe), run in a trixie lab machine in each state the role
# meets (workbench/capture/zram-takeover-probe.sh).
PROBE = os.path.join(FIXTURES, 'zram-probe')
PROBE_PACKAGES = ('systemd-zram-generator', ['zram-tools', 'systemd-swap'])


@pytest.mark.parametrize('capture, units, remove_packages', [
    ('no-replaced-setup.txt', [], False),
    ('zram-tools-running.txt', ['zramswap.service'], True),
    # Removed, not purged: the unit file went with the package, the configuration stays for apt to purge.
    ('zram-tools-config-files.txt', [], True),
])
def test_takeover_probe_reads_each_captured_state(capture, units, remove_packages):
    text = _read(PROBE, capture)
    found = zram_plan.takeover_probe(text, *PROBE_PACKAGES)
    assert found == {'units': units, 'remove_packages': remove_packages, 'install_package': False}
    # Through ansible.builtin.script the output comes over a terminal: the same lines, ending in CR LF.
    assert zram_plan.takeover_probe(text.replace('\n', '\r\n'), *PROBE_PACKAGES) == found


def test_takeover_probe_installs_a_package_dpkg_does_not_list():
    text = _read(PROBE, 'no-replaced-setup.txt')
    assert zram_plan.takeover_probe(text, 'zram-generator-that-is-not-there', [])['install_package'] is True


@pytest.mark.parametrize('text, message', [
    ('', 'printed no'),
    (None, 'printed no'),
    ('Id=zramswap.service\nLoadState=not-found\n', 'printed no'),
    ('--- packages\nzram-tools\n', 'cannot read'),
    ('--- packages\nzram-tools installed extra\n', 'cannot read'),
])
def test_takeover_probe_refuses_output_it_cannot_read(text, message):
    with pytest.raises(HyperionError, match=message):
        zram_plan.takeover_probe(text, *PROBE_PACKAGES)

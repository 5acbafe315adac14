# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot_params role's checks, on the parameter names of linux-source-6.12 and captured kernels."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import kernel_params
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts
from ansible_collections.hyperion.kernel.plugins.module_utils.kconfig import read_config_file
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import sys_class_tty_tree

KCONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'kconfig')

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
NAMES_FILE = os.path.join(ROOT, 'roles', 'boot_params', 'files', 'kernel-parameter-names.txt')


@pytest.fixture(scope='module')
def known_names():
    with open(NAMES_FILE) as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith('#')]


def _config(prefix):
    names = sorted(n for n in os.listdir(KCONFIG) if n.startswith(prefix) and n.endswith('.config'))
    assert names, 'no %s* config in the fixtures' % prefix
    return read_config_file(os.path.join(KCONFIG, names[-1])).to_dict()


def test_names_file_has_the_parameters_the_roles_use(known_names):
    for name in ('kgdboc', 'kgdbwait', 'nmi_watchdog', 'transparent_hugepage', 'mitigations', 'usbcore.autosuspend'):
        assert name in known_names
    assert len(known_names) > 900


def _spec(kms=False, kbd=False, tty=None, baud=None, options=None):
    return {'kms': kms, 'kbd': kbd, 'tty': tty, 'baud': baud, 'options': options}


# Every form of kernel-parameters.txt and Documentation/dev-tools/kgdb.rst.
@pytest.mark.parametrize('value, expected', [
    ('ttyS0,115200', _spec(tty='ttyS0', baud=115200, options='115200')),
    ('ttyAMA0,9600', _spec(tty='ttyAMA0', baud=9600, options='9600')),
    ('ttyS0', _spec(tty='ttyS0')),
    ('ttyS1,115200n8', _spec(tty='ttyS1', baud=115200, options='115200n8')),
    ('kbd', _spec(kbd=True)),
    ('kms,kbd', _spec(kms=True, kbd=True)),
    ('kbd,ttyS0,115200', _spec(kbd=True, tty='ttyS0', baud=115200, options='115200')),
    ('kms,kbd,ttyS0,115200', _spec(kms=True, kbd=True, tty='ttyS0', baud=115200, options='115200')),
    ('kms,ttyS0', _spec(kms=True, tty='ttyS0')),
])
def test_kgdboc_forms(value, expected):
    assert kernel_params.parse_kgdboc(value) == expected


@pytest.mark.parametrize('value, message', [
    ('ttyS0,115201', 'not a standard baud rate'),
    ('/dev/ttyS0,115200', 'not a serial port'),
    ('ttyS0,115200;reboot', 'not a serial port'),
    ('kbdx', 'read only the keyboard'),
    ('kbd,', 'ends with a comma'),
    ('kms,', 'ends with a comma'),
    ('kms', 'not a serial port'),
    ('kbd,kms', 'not a serial port'),
    (' ttyS0', 'one of the kernel'),
    ('kms,kbd,ttyUSB0,115200n8r' + ',' * 15, 'refuses 40 or more'),
    ('', 'one of the kernel'),
])
def test_bad_kgdboc_is_refused(value, message):
    with pytest.raises(HyperionError, match=message):
        kernel_params.parse_kgdboc(value)


def test_kgdboc_on_debians_kernel_is_refused_for_want_of_the_serial_console():
    config = _config('debian-trixie')
    assert config.get('CONFIG_KGDB_SERIAL_CONSOLE') != 'y'
    problems = kernel_params.check_kgdboc_host('ttyS0,115200', ['ttyS0', 'ttyS1'], config, '6.12-trixie')
    assert problems == ['kgdboc=ttyS0,115200: kernel 6.12-trixie has CONFIG_KGDB_SERIAL_CONSOLE=%s, not built in, so '
                        'the debugger would never attach' % (config.get('CONFIG_KGDB_SERIAL_CONSOLE') or 'n')]


def test_kgdboc_on_the_profile_kernel_passes_and_a_missing_port_does_not():
    config = _config('hyperion-fragment')
    assert config['CONFIG_KGDB_SERIAL_CONSOLE'] == 'y'
    assert kernel_params.check_kgdboc_host('ttyS0,115200', ['ttyS0'], config, 'r') == []
    problems = kernel_params.check_kgdboc_host('ttyS3,115200', ['ttyS0'], config, 'r')
    assert problems == ['kgdboc=ttyS3,115200: the serial port ttyS3 does not exist on this host (no /sys/class/tty/ttyS3)']
    assert 'could not be read' in kernel_params.check_kgdboc_host('ttyS0,115200', ['ttyS0'], None, 'r')[0]


def test_a_serial_name_without_a_uart_and_the_keyboard_options(tmp_path):
    config = {'CONFIG_KGDB_SERIAL_CONSOLE': 'y', 'CONFIG_KGDB_KDB': 'y', 'CONFIG_KDB_KEYBOARD': 'y'}
    # A lab guest's /sys/class/tty as captured, read by kernel_facts' tty subset: the 8250 driver registers ttyS0 to
    # ttyS3 whether or not a UART answers; qemu gives one (ttyS0, type 4, PORT_16550A), the others are type 0.
    sys_class_tty_tree('trixie-qemu-sys-class-tty.txt', str(tmp_path))
    ttys = gather_facts(str(tmp_path), subsets=['tty'], ttys=['ttyS0', 'ttyS2', 'ttyS9'])['tty']
    problems = kernel_params.check_kgdboc_host('ttyS2', ttys, config, 'r')
    assert problems == ['kgdboc=ttyS2: ttyS2 has no UART behind it (/sys/class/tty/ttyS2/type is 0, PORT_UNKNOWN)']
    assert kernel_params.check_kgdboc_host('ttyS0,115200', ttys, config, 'r') == []
    assert kernel_params.check_kgdboc_host('kbd,ttyS9', ttys, config, 'r') == [
        'kgdboc=kbd,ttyS9: the serial port ttyS9 does not exist on this host (no /sys/class/tty/ttyS9)']
    assert kernel_params.check_kgdboc_host('kms,kbd', {}, config, 'r') == []
    problems = kernel_params.check_kgdboc_host('kms,kbd', [], {'CONFIG_KGDB_SERIAL_CONSOLE': 'y'}, 'r')
    assert problems == [
        'kgdboc=kms,kbd: kernel r has CONFIG_KDB_KEYBOARD=n, not built in, so the debugger would never attach on the keyboard',
        'kgdboc=kms,kbd: kernel r has CONFIG_KGDB_KDB=n, not built in, so the debugger would never attach']
    # kgdboc= is read by the built-in driver only; a module takes kgdboc.kgdboc=.
    problems = kernel_params.check_kgdboc_host('ttyS0', ['ttyS0'], {'CONFIG_KGDB_SERIAL_CONSOLE': 'm'}, 'r')
    assert problems == ['kgdboc=ttyS0: kernel r has CONFIG_KGDB_SERIAL_CONSOLE=m, not built in, so the debugger would never attach']


def test_extra_parameters_known_and_module_parameters(known_names):
    params = [{'name': 'nmi-watchdog', 'value': 0}, {'name': 'quiet', 'state': 'absent'},
              {'name': 'zswap.enabled', 'value': 'N'}]
    checked = kernel_params.check_extra_params(params, known_names, ['zswap.enabled'])
    assert checked == [{'name': 'nmi-watchdog', 'state': 'present', 'value': '0'},
                       {'name': 'quiet', 'state': 'absent'},
                       {'name': 'zswap.enabled', 'state': 'present', 'value': 'N'}]


def test_unknown_and_invalid_extra_parameters_are_refused_together(known_names):
    params = [{'name': 'nmi_watchdgo', 'value': '0'}, {'name': 'zswap.enabld', 'value': 'N'},
              {'name': 'kgdboc', 'value': 'ttyS1,9600'}, {'name': 'a b'}, {'name': 'quiet', 'colour': 'red'}]
    with pytest.raises(HyperionError) as info:
        kernel_params.check_extra_params(params, known_names, ['zswap.enabled'])
    text = str(info.value)
    assert 'nmi_watchdgo is not a kernel parameter' in text and 'did you mean "nmi_watchdog"' in text
    assert '/sys/module/zswap/parameters/enabld' in text
    assert 'kgdboc is managed by the role itself' in text
    assert '"a b" is not a kernel parameter name' in text
    assert 'unknown keys colour' in text


@pytest.mark.parametrize('entry, message', [
    ({'name': 'quiet\n'}, '"quiet\\n" is not a kernel parameter name'),
    ({'name': '--'}, '"--" is not a kernel parameter name'),
    ({'name': 'nmi_watchdog', 'value': '0}'}, 'contains a closing brace'),
    ({'name': 'nmi_watchdog', 'value': '0\n'}, 'contains a newline'),
    ({'name': 'nmi_watchdog', 'value': '$x'}, 'contains a dollar sign'),
])
def test_extra_parameter_names_and_values_are_checked_whole(known_names, entry, message):
    with pytest.raises(HyperionError, match=re.escape(message)):
        kernel_params.check_extra_params([entry], known_names)


def test_removing_an_unknown_name_is_allowed(known_names):
    assert kernel_params.check_extra_params([{'name': 'hyperion_old', 'state': 'absent'}], known_names) == [
        {'name': 'hyperion_old', 'state': 'absent'}]


def test_cmdline_policy():
    assert kernel_params.cmdline_params('ttyS0,115200', True, [{'name': 'quiet', 'state': 'present'}]) == [
        {'name': 'kgdboc', 'value': 'ttyS0,115200', 'state': 'present'},
        {'name': 'kgdbwait', 'state': 'present'},
        {'name': 'sysrq_always_enabled', 'state': 'absent'},
        {'name': 'quiet', 'state': 'present'}]
    assert kernel_params.cmdline_params('', False) == [
        {'name': 'kgdboc', 'state': 'absent'}, {'name': 'kgdbwait', 'state': 'absent'},
        {'name': 'sysrq_always_enabled', 'state': 'absent'}]
    with pytest.raises(HyperionError, match='kgdbwait without kgdboc'):
        kernel_params.cmdline_params('', True)


@pytest.mark.parametrize('mask', [1, '1', None])
def test_sysrq_always_enabled_goes_on_beside_the_mask_that_allows_all(mask):
    assert kernel_params.cmdline_params('', False, (), True, mask)[2] == {'name': 'sysrq_always_enabled', 'state': 'present'}


@pytest.mark.parametrize('mask', [0, 176, '176', 511])
def test_sysrq_always_enabled_beside_a_restrictive_mask_is_refused(mask):
    with pytest.raises(HyperionError, match=r'sysrq_always_enabled overrides kernel.sysrq=%s: the kernel would allow every' % mask):
        kernel_params.cmdline_params('', False, (), True, mask)


@pytest.mark.parametrize('flag', ['yes', 1, None])
def test_sysrq_always_enabled_must_be_a_boolean(flag):
    with pytest.raises(HyperionError, match='sysrq_always_enabled must be true or false'):
        kernel_params.cmdline_params('', False, (), flag, 176)

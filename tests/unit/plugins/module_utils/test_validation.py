# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared full-match validation: no kind accepts a line break, numbers keep their bounds."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import validation
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError

KINDS = sorted(validation.KINDS)
# One value of each kind that its consumer takes, so the properties below start from real input.
GOOD = {
    'absolute_path': '/root/.cache/hyperion-kernel/kernel-package',
    'file_name': 'hyperion-kernel.asc', 'grub_dropin': '90-hyperion-kernel.cfg', 'kernel_release': '6.19.2-hyperion',
    'param_name': 'usbcore.autosuspend', 'netdev': 'enp0s3', 'mac': '52:54:00:12:34:56',
    'hhmm_window': '22:00-06:00', 'zram_device': 'zram0', 'kernel_algorithm': 'mq-deadline',
    'driver_name': 'rk_gmac-dwmac',
    'sha256': 'a' * 64, 'checksum': 'sha256:' + 'b' * 64, 'http_url': 'https://repo.example.org/hyperion/',
    'apt_word': 'trixie', 'apt_url': 'file:///srv/hyperion-repo', 'package_name': 'linux-image-hyperion',
    'deb_package_name': 'linux-image-6.19.2+hyp1-hyperion', 'systemd_timespan': '1h 30min',
    'sysctl_name': 'net.core.default_qdisc', 'tty_name': 'ttyS0', 'sysctl_d_file': '/etc/sysctl.d/90-hyperion.conf',
    'tmpfiles_d_file': '/etc/tmpfiles.d/hyperion-sched.conf',
}


def test_the_valid_test_documents_every_kind():
    with open(os.path.join(os.path.dirname(validation.__file__), '..', 'test', 'valid.yml')) as handle:
        documented = set(re.findall(r'V\((\w+)\)', handle.read()))
    assert set(KINDS) <= documented


def test_every_kind_has_a_good_example():
    assert sorted(GOOD) == KINDS
    for kind, value in GOOD.items():
        assert validation.require(kind, value, kind) == value


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('tail', ['\n', '\r\n', '\x00', ' ', '\t'])
def test_a_trailing_break_or_blank_is_refused(kind, tail):
    bad = GOOD[kind] + tail
    assert not validation.is_valid(kind, bad)
    with pytest.raises(validation.ValidationError) as excinfo:
        validation.require(kind, bad, 'the value')
    # The message shows the control character instead of breaking its own line.
    assert '\n' not in str(excinfo.value) and 'the value must be' in str(excinfo.value)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KINDS), text=st.text(max_size=140))
def test_no_kind_accepts_a_control_character(kind, text):
    if validation.is_valid(kind, text):
        assert not re.search(r'[\x00-\x1f\x7f]', text)
        assert text not in ('.', '..')


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(KINDS), prefix=st.text(max_size=20), suffix=st.text(max_size=20))
def test_a_value_with_a_line_break_is_never_valid(kind, prefix, suffix):
    assert not validation.is_valid(kind, prefix + '\n' + suffix)


@pytest.mark.parametrize('kind', ['file_name', 'netdev'])
@pytest.mark.parametrize('name', ['.', '..'])
def test_dot_names_do_not_name_a_file(kind, name):
    assert not validation.is_valid(kind, name)


@pytest.mark.parametrize('value', ['../../etc/apt/trusted', 'a/b', '.hidden', ''])
def test_a_file_name_cannot_leave_its_directory(value):
    with pytest.raises(validation.ValidationError):
        validation.require('file_name', value, 'kernel_repo_name')


@pytest.mark.parametrize('value', ['/', 'relative/dir', '/a/../b', '/a/./b', '/a//b', '/a/', '/..', '/a/b c'])
def test_an_absolute_path_stays_where_it_says(value):
    assert not validation.is_valid('absolute_path', value)


@pytest.mark.parametrize('value', ['/var/tmp/hyperion-kernel', '/root/.cache/hyperion-kernel', '/srv/repo/.x..y'])
def test_an_absolute_path_may_hold_hidden_directories(value):
    assert validation.is_valid('absolute_path', value)


def test_an_unknown_kind_names_the_close_ones():
    with pytest.raises(validation.ValidationError, match='did you mean "mac"'):
        validation.is_valid('macc', 'x')


@pytest.mark.parametrize('value', ['ok', 'a b', ''])
def test_single_line_takes_printable_text(value):
    assert validation.single_line(value, 'x') == value


@pytest.mark.parametrize('value, shown', [('a\nTrusted: yes', 'a newline'), ('a\x1b[31m', 'an escape'),
                                          ('a\tb', 'a tab'), ('\x00', 'a NUL byte')])
def test_single_line_refuses_control_characters(value, shown):
    with pytest.raises(validation.ValidationError, match=shown):
        validation.single_line(value, 'kernel_repo_suite')


@pytest.mark.parametrize('value', [None, 3, ['a']])
def test_single_line_refuses_what_is_not_text(value):
    with pytest.raises(validation.ValidationError, match='must be a string'):
        validation.single_line(value, 'x')


@pytest.mark.parametrize('value, expected', [(5, 5), ('5', 5), (' 7 ', 7), (5.0, 5), ('-3', -3)])
def test_bounded_int_takes_whole_numbers(value, expected):
    assert validation.bounded_int(value, 'n', -10, 10) == expected


@pytest.mark.parametrize('value', [True, 5.5, '5.5', '5\n6', '0x10', '', None, float('nan'), float('inf'), '1e3'])
def test_bounded_int_refuses_what_is_no_whole_number(value):
    with pytest.raises(validation.ValidationError, match='whole number'):
        validation.bounded_int(value, 'n', 0, 10)


@settings(max_examples=200, deadline=None)
@given(number=st.integers(), low=st.integers(-1000, 1000), span=st.integers(0, 1000))
def test_bounded_int_keeps_its_bounds(number, low, span):
    high = low + span
    if low <= number <= high:
        assert validation.bounded_int(number, 'n', low, high) == number
    else:
        with pytest.raises(validation.ValidationError) as excinfo:
            validation.bounded_int(number, 'n', low, high, why="the kernel's int")
        assert 'from %d to %d' % (low, high) in str(excinfo.value)
        assert "(the kernel's int)" in str(excinfo.value)


def test_require_known_suggests_close_matches():
    with pytest.raises(HyperionError, match='did you mean "CONFIG_SCHED_BORE"'):
        validation.require_known('CONFIG_SCHED_BOREE', ['CONFIG_SCHED_BORE', 'CONFIG_HZ_1000'], 'item')
    assert validation.require_known('a', ['a'], 'item') == 'a'


def test_describe_makes_control_characters_visible():
    assert validation.describe('x\ny') == '"x\\ny"'
    assert validation.describe('q"q') == '"q\\"q"'
    assert len(validation.describe('z' * 500)) < 90


DPKG = shutil.which('dpkg')


@pytest.mark.skipif(DPKG is None, reason='needs dpkg (Debian)')
@settings(max_examples=150, deadline=None)
@given(name=st.text(alphabet='abcXYZ019+-._~:/ ', min_size=0, max_size=12))
def test_a_debian_package_name_is_one_dpkg_takes(name):
    """Differential: whatever deb_package_name accepts, dpkg --validate-pkgname accepts too (Policy is the
    stricter of the two: dpkg also takes upper case and "_")."""
    if validation.is_valid('deb_package_name', name):
        done = subprocess.run([DPKG, '--validate-pkgname', name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        assert done.returncode == 0, done.stderr

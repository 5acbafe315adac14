# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight core on captured data: the /boot of a Debian trixie lab machine (file sizes recreated as sparse
files from the capture's listing), the PE headers of Debian's signed kernel and of the unsigned Hyperion test
kernel (workbench/capture/kernel-image-head.sh), EFI variable files in efivarfs layout."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError

from ansible_collections.hyperion.kernel.plugins.module_utils import preflight
from ansible_collections.hyperion.kernel.plugins.module_utils.host import EFI_GLOBAL_GUID
from ansible_collections.hyperion.kernel.plugins.module_utils.preflight import (
    MIB, PreflightError, check, gather_host, inspect_kernel_image, secure_boot_state)
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import FIXTURES

CAPTURES = os.path.join(FIXTURES, 'boot-entries')
HYPERION = {'release': '6.12.117-hyperion', 'arch': 'amd64', 'boot_bytes': 20727595, 'installed_bytes': 21031936,
            'signature': 'unsigned'}


def head(name):
    with open(os.path.join(CAPTURES, name), 'rb') as handle:
        return handle.read()


def lab_boot(root):
    """/boot of the captured lab machine, every file sparse at its captured size."""
    boot = root / 'boot'
    boot.mkdir(parents=True)
    with open(os.path.join(CAPTURES, 'trixie-one-kernel', 'boot-sizes.txt')) as handle:
        for line in handle:
            size, name = line.split()
            with open(str(boot / name), 'wb') as out:
                out.truncate(int(size))
    return str(root)


def efivar(root, name, value):
    efivars = root / 'sys' / 'firmware' / 'efi' / 'efivars'
    efivars.mkdir(parents=True, exist_ok=True)
    # efivarfs: a 32-bit attribute word (NV|BS|RT = 7, BS|RT = 6), then the value.
    (efivars / ('%s-%s' % (name, EFI_GLOBAL_GUID))).write_bytes(b'\x06\x00\x00\x00' + bytes([value]))


def test_debian_kernel_is_signed_and_hyperion_is_not():
    assert preflight.pe_signature_size(head('debian-6.12.107+deb13-amd64-vmlinuz-head-4096.bin')) == 1472
    assert inspect_kernel_image(head('debian-6.12.107+deb13-amd64-vmlinuz-head-4096.bin')) == 'signed'
    assert inspect_kernel_image(head('hyperion-6.12.117-vmlinuz-head-4096.bin')) == 'unsigned'
    assert inspect_kernel_image(b'\x7fELF' + b'\0' * 100) == 'not_pe'


def test_lab_machine_passes_with_the_test_kernel(tmp_path):
    host = gather_host(lab_boot(tmp_path), machine='x86_64')
    assert host['secure_boot'] == 'bios'
    assert host['initramfs_bytes'] == {'initrd.img-6.12.107+deb13-amd64': 36769383}
    refusals, report = check(host, HYPERION)
    assert refusals == []
    # kernel files + the largest initramfs + margin (+ modules: same file system here)
    assert report['boot_needed_bytes'] == 20727595 + 36769383 + 8 * MIB + 21031936


def test_small_boot_is_refused_with_numbers(tmp_path):
    host = gather_host(lab_boot(tmp_path), machine='x86_64')
    host['boot_free_bytes'] = 40 * MIB  # what a 40 MiB /boot partition would leave
    host['boot_and_modules_share_fs'] = False
    refusals, report = check(host, HYPERION)
    assert len(refusals) == 1
    assert refusals[0].startswith('/boot has 40 MiB free, kernel 6.12.117-hyperion needs about 62 MiB')


def test_secure_boot_on_refuses_the_unsigned_kernel(tmp_path):
    root = tmp_path
    lab_boot(root)
    efivar(root, 'SecureBoot', 1)
    efivar(root, 'SetupMode', 0)
    host = gather_host(str(root), machine='x86_64')
    assert host['secure_boot'] == 'on'
    refusals, _report = check(host, HYPERION)
    assert len(refusals) == 1 and 'Secure Boot is on and kernel 6.12.117-hyperion is not signed' in refusals[0]
    assert check(host, dict(HYPERION, signature='signed'))[0] == []
    assert check(host, HYPERION, allow_unsigned=True)[0] == []


@pytest.mark.parametrize('secure_boot, setup_mode, expected', [(0, 0, 'off'), (1, 1, 'setup'), (None, None, 'unknown')])
def test_secure_boot_states(tmp_path, secure_boot, setup_mode, expected):
    (tmp_path / 'sys' / 'firmware' / 'efi' / 'efivars').mkdir(parents=True)
    if secure_boot is not None:
        efivar(tmp_path, 'SecureBoot', secure_boot)
        efivar(tmp_path, 'SetupMode', setup_mode)
    assert secure_boot_state(str(tmp_path)) == expected


def test_wrong_architecture_is_refused(tmp_path):
    host = gather_host(lab_boot(tmp_path), machine='aarch64')
    refusals, _report = check(host, HYPERION)
    assert refusals == ['kernel 6.12.117-hyperion is built for amd64, but this machine is aarch64 (uname -m): '
                        'it cannot boot it']
    assert check(dict(host, machine='x86_64'), dict(HYPERION, arch='x86_64'))[0] == []


@pytest.mark.parametrize('package', [None, {}, {'release': '6.1', 'arch': 'amd64', 'boot_bytes': -1},
                                     {'release': '6.1', 'arch': 'amd64', 'signature': 'maybe'}])
def test_bad_package_description(tmp_path, package):
    host = gather_host(lab_boot(tmp_path), machine='x86_64')
    with pytest.raises(PreflightError):
        check(host, package)


@pytest.mark.parametrize('release', ['../../etc', '6.12.117-hyperion\n', '6.12 117', '/6.12'])
def test_a_release_that_is_no_single_path_component_is_refused(tmp_path, release):
    host = gather_host(lab_boot(tmp_path), machine='x86_64')
    with pytest.raises(HyperionError, match='package.release must be a kernel release'):
        check(host, dict(HYPERION, release=release))


@pytest.mark.parametrize('margin_mib', [-1, 4097])
def test_the_margin_is_bounded(tmp_path, margin_mib):
    host = gather_host(lab_boot(tmp_path), machine='x86_64')
    with pytest.raises(HyperionError, match='margin_mib must be from 0 to 4096'):
        check(host, HYPERION, margin_bytes=margin_mib * 1024 * 1024)


def test_truncated_efivar_is_an_error(tmp_path):
    efivars = tmp_path / 'sys' / 'firmware' / 'efi' / 'efivars'
    efivars.mkdir(parents=True)
    (efivars / ('SecureBoot-' + EFI_GLOBAL_GUID)).write_bytes(b'\x06\x00')
    with pytest.raises(PreflightError):
        secure_boot_state(str(tmp_path))


def test_not_a_deb_is_refused(tmp_path):
    path = tmp_path / 'empty.deb'
    path.write_bytes(b'')
    with pytest.raises(PreflightError) as excinfo:
        preflight.describe_deb(str(path))
    assert 'not an ar archive' in str(excinfo.value)


def test_missing_boot_is_an_error(tmp_path):
    with pytest.raises(PreflightError):
        gather_host(str(tmp_path))

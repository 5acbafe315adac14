# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout's preflight.sh and host.py answer alike: bootloader and Secure Boot on the same fake roots.

preflight.sh keeps a shell twin of host.detect_bootloader() and host.secure_boot_state(); this
differential test runs both on captured bootloader trees and on built ones, so a rule changed on
one side fails here until the other follows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.host import (
    EFI_GLOBAL_GUID, Host, detect_bootloader, secure_boot_state)
from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import FIXTURES

SCRIPT = os.path.join(ROOT, 'roles', 'rollout', 'files', 'preflight.sh')
CAPTURED = [os.path.join(FIXTURES, 'bootloader', 'debian-bookworm'),
            os.path.join(FIXTURES, 'bootloader', 'debian-trixie'),
            os.path.join(FIXTURES, 'boot-entries', 'trixie-one-kernel', 'root')]

pytestmark = pytest.mark.skipif(shutil.which('sh') is None or shutil.which('od') is None,
                                reason='needs a POSIX shell and od')


def run_script(root):
    env = dict(os.environ, HYPERION_PREFLIGHT_ROOT=root)
    out = subprocess.run(['sh', SCRIPT], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    return json.loads(out)


def touch(root, rel, data=b''):
    path = os.path.join(root, rel)
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as handle:
        handle.write(data)


def efivar(root, name, value):
    touch(root, 'sys/firmware/efi/efivars/%s-%s' % (name, EFI_GLOBAL_GUID), b'\x06\x00\x00\x00' + bytes([value]))


def grubby_tree(root):
    touch(root, 'usr/sbin/grubby')
    touch(root, 'usr/sbin/grub2-mkconfig')
    touch(root, 'usr/sbin/grub2-reboot')
    touch(root, 'etc/default/grub', b'GRUB_CMDLINE_LINUX="rhgb quiet"\n')
    os.makedirs(os.path.join(root, 'boot', 'loader', 'entries'))


def systemd_boot_tree(root):
    touch(root, 'boot/efi/EFI/systemd/systemd-bootx64.efi')
    os.makedirs(os.path.join(root, 'boot', 'efi', 'loader', 'entries'))


def grub_without_tools(root):
    touch(root, 'etc/default/grub', b'GRUB_CMDLINE_LINUX=""\n')


def systemd_boot_without_entries(root):
    touch(root, 'efi/EFI/systemd/systemd-bootaa64.efi')


def empty_tree(root):
    os.makedirs(os.path.join(root, 'boot'))


BUILT = {'grubby': grubby_tree, 'systemd-boot': systemd_boot_tree, 'grub-without-tools': grub_without_tools,
         'systemd-boot-without-entries': systemd_boot_without_entries, 'empty': empty_tree}


def assert_agree(root):
    shell = run_script(root)
    python = detect_bootloader(Host(root, None)) or 'unknown'
    assert shell['detected_bootloader'] == python
    # The rollout boots once through grub-reboot on grubby's hosts too, so it reports those as grub.
    assert shell['bootloader'] == ('grub' if python == 'grubby' else python)
    state = secure_boot_state(root)
    assert shell['secure_boot_state'] == state
    assert shell['secure_boot'] is (state == 'on')
    assert shell['firmware'] == ('bios' if state == 'bios' else 'uefi')
    return shell, python


@pytest.mark.parametrize('root', CAPTURED, ids=['debian-bookworm', 'debian-trixie', 'trixie-one-kernel'])
def test_captured_trees_agree(root):
    _shell, python = assert_agree(root)
    # The boot-entries capture holds GRUB's files but none of its tools: neither side guesses from grub.cfg.
    assert python == ('unknown' if root.endswith('root') else 'grub')


@pytest.mark.parametrize('name', sorted(BUILT))
def test_built_trees_agree(tmp_path, name):
    BUILT[name](str(tmp_path))
    _shell, python = assert_agree(str(tmp_path))
    assert python == {'grubby': 'grubby', 'systemd-boot': 'systemd-boot'}.get(name, 'unknown')


@pytest.mark.parametrize('secure_boot, setup_mode, expected', [
    (1, 0, 'on'), (0, 0, 'off'), (1, 1, 'setup'), (0, 1, 'setup'), (None, None, 'unknown')])
def test_secure_boot_states_agree(tmp_path, secure_boot, setup_mode, expected):
    os.makedirs(str(tmp_path / 'sys' / 'firmware' / 'efi' / 'efivars'))
    if secure_boot is not None:
        efivar(str(tmp_path), 'SecureBoot', secure_boot)
    if setup_mode is not None:
        efivar(str(tmp_path), 'SetupMode', setup_mode)
    shell, _python = assert_agree(str(tmp_path))
    assert shell['secure_boot_state'] == expected


def test_boot_once_follows_the_reboot_tool(tmp_path):
    grubby_tree(str(tmp_path))
    assert run_script(str(tmp_path))['boot_once'] is True
    os.unlink(str(tmp_path / 'usr' / 'sbin' / 'grub2-reboot'))
    assert run_script(str(tmp_path))['boot_once'] is False

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""boot_entries core on grub.cfg, grubenv and /etc/default/grub* captured from Debian trixie lab machines.

The captures (workbench/capture/capture-boot-entries.sh) are: one kernel as the lab image boots (GRUB_DEFAULT=0),
and the same machine after the Hyperion test kernel was installed with the running kernel pinned as the saved
default and a one-time boot into the new kernel armed (grub-set-default, grub-reboot run by the module itself).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import boot_entries
from ansible_collections.hyperion.kernel.plugins.module_utils.boot_entries import BootEntryError, plan_boot_entry
from ansible_collections.hyperion.kernel.plugins.module_utils.grub import parse_grub_cfg, parse_grubenv, resolve_grub_entry
from ansible_collections.hyperion.kernel.plugins.module_utils.host import Host
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import FIXTURES, copy_fixture_tree

CAPTURES = os.path.join(FIXTURES, 'boot-entries')
UUID = '65684352-25ca-d639-bbc3-2306e1616bd4'
DEBIAN = '6.12.107+deb13-amd64'
HYPERION = '6.12.117-hyperion'


def advanced_path(release):
    return 'gnulinux-advanced-%s>gnulinux-%s-advanced-%s' % (UUID, release, UUID)


def run(argv):
    """Runs the read-only commands the planner needs (sh sourcing /etc/default/grub*) for real."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def machine(tmp_path, capture):
    """A scratch root: the captured tree plus Debian trixie's real update-grub and grub-mkconfig."""
    root = str(tmp_path / capture)
    shutil.copytree(os.path.join(CAPTURES, capture, 'root'), root)
    copy_fixture_tree(os.path.join('bootloader', 'debian-trixie', 'usr'), os.path.join(root, 'usr'))
    return root


def read(capture, rel):
    with open(os.path.join(CAPTURES, capture, 'root', rel)) as handle:
        return handle.read()


def test_grub_cfg_entries_of_the_lab_image():
    entries = parse_grub_cfg(read('trixie-one-kernel', 'boot/grub/grub.cfg'))
    kinds = [(entry['kind'], entry['release']) for entry in entries]
    assert kinds == [('simple', DEBIAN), ('advanced', DEBIAN), ('recovery', DEBIAN), ('other', None)]
    assert entries[1]['path'] == advanced_path(DEBIAN)
    assert entries[0]['top_index'] == 0 and entries[1]['top_index'] is None
    # The firmware entry comes after the submenu (top-level index 1).
    assert entries[3]['top_index'] == 2


def test_resolve_default_values():
    entries = parse_grub_cfg(read('trixie-one-kernel', 'boot/grub/grub.cfg'))
    assert resolve_grub_entry(entries, '0')['kind'] == 'simple'
    assert resolve_grub_entry(entries, '') is entries[0]
    assert resolve_grub_entry(entries, advanced_path(DEBIAN)) is entries[1]
    assert resolve_grub_entry(entries, '1') is None, 'index 1 is the submenu, not a kernel entry'
    title_path = 'Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux %s' % DEBIAN
    assert resolve_grub_entry(entries, title_path) is entries[1]


def test_listing_changes_nothing(tmp_path):
    root = machine(tmp_path, 'trixie-one-kernel')
    plan = plan_boot_entry(root=root, run=run)
    assert plan.bootloader == 'grub' and not plan.changed
    assert plan.details['grub_default'] == '0'
    assert plan.default['kind'] == 'simple' and plan.default['release'] == DEBIAN
    assert plan.next_boot == plan.default


def test_once_switches_to_saved_and_pins_the_running_kernel(tmp_path):
    root = machine(tmp_path, 'trixie-one-kernel')
    plan = plan_boot_entry(once=DEBIAN, root=root, run=run)
    actions = plan.actions
    assert actions[0]['action'] == 'write'
    assert actions[0]['path'].endswith('etc/default/grub.d/90-hyperion-boot-entry.cfg')
    argvs = [action['argv'] for action in actions[1:]]
    # chroot because root is not /; the running kernel is saved first so the switch changes no default.
    assert argvs == [['chroot', root, 'update-grub'],
                     ['chroot', root, 'grub-set-default', advanced_path(DEBIAN)],
                     ['chroot', root, 'grub-reboot', advanced_path(DEBIAN)]]
    assert plan.diffs()[0]['after'].endswith('GRUB_DEFAULT=saved\n')


def test_unknown_release_is_refused_with_the_known_ones(tmp_path):
    root = machine(tmp_path, 'trixie-one-kernel')
    with pytest.raises(BootEntryError) as excinfo:
        plan_boot_entry(default='6.99.0-nope', root=root, run=run)
    assert 'no boot entry boots kernel 6.99.0-nope' in str(excinfo.value)
    assert DEBIAN in str(excinfo.value)


@pytest.mark.parametrize('bad', ['6.12 x', '../boot', '', 'a;b', '6.12.1\n'])
def test_bad_release_is_refused_before_reading(bad, tmp_path):
    with pytest.raises(BootEntryError):
        plan_boot_entry(default=bad, root=str(tmp_path), run=run)


def test_dropin_overridden_by_a_later_file_is_refused(tmp_path):
    root = machine(tmp_path, 'trixie-one-kernel')
    with open(os.path.join(root, 'etc/default/grub.d/99-local.cfg'), 'w') as handle:
        handle.write('GRUB_DEFAULT=0\n')
    with pytest.raises(BootEntryError) as excinfo:
        plan_boot_entry(default=DEBIAN, root=root, run=run)
    assert 'GRUB_DEFAULT would still not be saved' in str(excinfo.value)


def test_without_dropins_the_main_file_is_edited(tmp_path):
    root = machine(tmp_path, 'trixie-one-kernel')
    # Upstream GRUB (Arch): grub-mkconfig without Debian's grub.d patch.
    os.unlink(os.path.join(root, 'usr/sbin/grub-mkconfig'))
    os.unlink(os.path.join(root, 'usr/sbin/update-grub'))
    shutil.rmtree(os.path.join(root, 'etc/default/grub.d'))
    with open(os.path.join(root, 'usr/sbin/grub-mkconfig'), 'w') as handle:
        handle.write('#!/bin/sh\n')
    plan = plan_boot_entry(default=DEBIAN, root=root, run=run)
    change = plan.files[0]
    assert change.path.endswith('etc/default/grub')
    assert 'GRUB_DEFAULT=saved\n' in change.after and 'GRUB_DEFAULT=0\n' not in change.after
    assert plan.actions[1]['argv'] == ['chroot', root, 'grub-mkconfig', '-o', '/boot/grub/grub.cfg']


def test_grubenv_parser():
    assert parse_grubenv(read('trixie-one-kernel', 'boot/grub/grubenv')) == {}
    assert parse_grubenv('# GRUB Environment Block\nsaved_entry=a>b\nnext_entry=\n####') == {
        'saved_entry': 'a>b', 'next_entry': ''}


def test_systemd_boot_entries_from_kernel_install(tmp_path):
    root = str(tmp_path / 'sdboot')
    copy_fixture_tree(os.path.join('bootloader', 'debian-trixie'), root)
    plan = plan_boot_entry(bootloader='systemd-boot', root=root, once='6.12.0-capture1-amd64', run=run)
    ids = [entry['id'] for entry in plan.entries]
    assert ids == ['0123456789abcdef0123456789abcdef-6.12.0-capture1-amd64.conf',
                   '0123456789abcdef0123456789abcdef-6.12.0-capture2-amd64.conf']
    assert plan.default['release'] == '6.12.0-capture2-amd64', 'without a default the last entry boots'
    assert plan.actions == [{'action': 'run', 'argv': ['chroot', root, 'bootctl', 'set-oneshot', ids[0]],
                             'reason': 'boot 6.12.0-capture1-amd64 on the next boot only'}]


def test_loader_efivar_is_utf16_after_four_attribute_bytes(tmp_path):
    efivars = tmp_path / 'sys' / 'firmware' / 'efi' / 'efivars'
    efivars.mkdir(parents=True)
    name = 'LoaderEntryOneShot-' + boot_entries.LOADER_VENDOR_GUID
    # Layout of efivarfs: a 32-bit attribute word, then the value (systemd-boot writes NUL-terminated UTF-16LE).
    (efivars / name).write_bytes(b'\x07\x00\x00\x00' + 'x-6.12.conf\x00'.encode('utf-16-le'))
    host = Host(str(tmp_path), None)
    assert boot_entries.read_loader_efivar(host, 'LoaderEntryOneShot') == 'x-6.12.conf'
    assert boot_entries.read_loader_efivar(host, 'LoaderEntryDefault') is None

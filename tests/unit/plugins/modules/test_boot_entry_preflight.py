# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""boot_entry and kernel_preflight through AnsibleModule on the captured Debian trixie lab machine."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

import pytest

from ansible_collections.hyperion.kernel.plugins.modules import boot_entry, kernel_preflight
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import FIXTURES, copy_fixture_tree
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module

CAPTURE = os.path.join(FIXTURES, 'boot-entries', 'trixie-one-kernel')


@pytest.fixture
def lab_root(tmp_path):
    root = str(tmp_path / 'lab')
    shutil.copytree(os.path.join(CAPTURE, 'root'), root)
    copy_fixture_tree(os.path.join('bootloader', 'debian-trixie', 'usr'), os.path.join(root, 'usr'))
    with open(os.path.join(CAPTURE, 'boot-sizes.txt')) as handle:
        for line in handle:
            size, name = line.split()
            with open(os.path.join(root, 'boot', name), 'wb') as out:
                out.truncate(int(size))
    return root


def test_boot_entry_check_mode_changes_nothing(lab_root, capsys):
    with open(os.path.join(lab_root, 'etc/default/grub')) as handle:
        before = handle.read()
    code, result = run_module(boot_entry, {'root': lab_root, 'default': '6.12.107+deb13-amd64',
                                           '_ansible_check_mode': True, '_ansible_diff': True}, capsys)
    assert code == 0 and result['changed'] is True
    assert [a['action'] for a in result['actions']] == ['write', 'run', 'run']
    assert not os.path.exists(os.path.join(lab_root, 'etc/default/grub.d/90-hyperion-boot-entry.cfg'))
    with open(os.path.join(lab_root, 'etc/default/grub')) as handle:
        assert handle.read() == before
    assert result['diff'][-1]['after'] == 'default: 6.12.107+deb13-amd64\nnext boot: 6.12.107+deb13-amd64\n'
    assert result['boot_entry_reboot_required'] is False


def test_boot_entry_unknown_release_fails_cleanly(lab_root, capsys):
    code, result = run_module(boot_entry, {'root': lab_root, 'once': '6.12.117-hyperion'}, capsys)
    assert code == 1 and result['failed']
    assert 'no boot entry boots kernel 6.12.117-hyperion' in result['msg']


def test_preflight_passes_and_refuses(lab_root, capsys):
    package = {'release': '6.12.117-hyperion', 'arch': 'amd64', 'boot_bytes': 20727595, 'signature': 'unsigned'}
    code, result = run_module(kernel_preflight, {'root': lab_root, 'package': package}, capsys)
    assert code == 0 and result['changed'] is False and result['refusals'] == []
    code, result = run_module(kernel_preflight, {'root': lab_root, 'package': dict(package, arch='arm64')}, capsys)
    assert code == 1 and 'built for arm64' in result['msg'] and result['refusals']


def test_preflight_refuses_a_file_that_is_not_a_deb(lab_root, tmp_path, capsys):
    fake = tmp_path / 'linux-image.deb'
    fake.write_text('not a package')
    code, result = run_module(kernel_preflight, {'root': lab_root, 'package_path': str(fake)}, capsys)
    assert code == 1 and 'not an ar archive' in result['msg']


def _files(root):
    found = {}
    for base, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(base, name)
            if not os.path.islink(path):
                with open(path, 'rb') as handle:
                    found[os.path.relpath(path, root)] = handle.read()
    return found


@pytest.mark.parametrize('check_mode', [True, False], ids=['check', 'run'])
@pytest.mark.parametrize('args, message', [
    # grub-mkconfig reads /etc/default/grub.d/*.cfg only: "x.cfg\n" would be written and never read.
    ({'default': '6.12.107+deb13-amd64', 'grub_dropin': 'x.cfg\n'}, 'got "x.cfg\\n"; grub-mkconfig sources only'),
    ({'default': '6.12.107+deb13-amd64', 'grub_dropin': '../grub'}, 'must be a file name ending in .cfg'),
    ({'default': '6.12.107+deb13-amd64\n'}, 'default must be a kernel release'),
    ({'once': '../../vmlinuz'}, 'once must be a kernel release'),
])
def test_boot_entry_refuses_bad_names_before_any_change(lab_root, capsys, args, message, check_mode):
    before = _files(lab_root)
    code, result = run_module(boot_entry, dict(args, root=lab_root, _ansible_check_mode=check_mode), capsys)
    assert code == 1 and result['failed']
    assert message in result['msg']
    assert _files(lab_root) == before

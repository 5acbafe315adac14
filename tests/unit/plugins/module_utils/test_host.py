# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public host-side helpers: reads below a root, atomic writes, finding and running tools."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError, SourceError
from ansible_collections.hyperion.kernel.plugins.module_utils.host import Host, atomic_write, read_file


class OwnError(HyperionError):
    pass


def test_atomic_write_keeps_mode_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / 'grub'
    path.write_text('old\n')
    os.chmod(str(path), 0o640)
    atomic_write(str(path), 'new\n')
    assert path.read_text() == 'new\n'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert os.listdir(str(tmp_path)) == ['grub']


def test_atomic_write_creates_the_directory_and_a_0644_file(tmp_path):
    path = tmp_path / 'etc' / 'default' / 'grub.d' / 'x.cfg'
    atomic_write(str(path), 'X=1\n')
    assert path.read_text() == 'X=1\n'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644


def test_atomic_write_refuses_a_directory_and_cleans_up(tmp_path):
    target = tmp_path / 'entries'
    target.mkdir()
    (target / 'keep.conf').write_text('kept\n')
    with pytest.raises(OSError):
        atomic_write(str(target), 'text\n')
    assert (target / 'keep.conf').read_text() == 'kept\n'
    assert sorted(os.listdir(str(tmp_path))) == ['entries']


def test_read_file_is_none_when_missing_and_a_source_error_when_unreadable(tmp_path):
    assert read_file(str(tmp_path / 'absent')) is None
    with pytest.raises(SourceError, match='cannot read'):
        read_file(str(tmp_path))  # a directory exists but is not a file


def test_host_paths_reads_and_tools_stay_below_root(tmp_path):
    (tmp_path / 'proc').mkdir()
    (tmp_path / 'proc' / 'cmdline').write_text('ro quiet\n')
    (tmp_path / 'usr' / 'sbin').mkdir(parents=True)
    (tmp_path / 'usr' / 'sbin' / 'grub-mkconfig').write_text('#!/bin/sh\n')
    host = Host(str(tmp_path), None)
    assert host.path('/proc/cmdline') == str(tmp_path / 'proc' / 'cmdline')
    assert host.read('proc/cmdline') == 'ro quiet\n'
    assert host.read('etc/default/grub') is None
    assert host.find_tool('grub-mkconfig') == '/usr/sbin/grub-mkconfig'
    assert host.find_tool('grubby') is None
    assert host.command(['update-grub']) == ['chroot', str(tmp_path), 'update-grub']
    assert Host('/', None).command(['update-grub']) == ['update-grub']


def test_a_missing_runner_or_command_is_a_hyperion_error(tmp_path):
    with pytest.raises(HyperionError, match='regenerating grub.cfg needs to run update-grub, but no command runner'):
        Host(str(tmp_path), None).run(['update-grub'], 'regenerating grub.cfg')

    def missing(argv):
        raise OSError(2, 'No such file or directory')
    with pytest.raises(OwnError, match='regenerating grub.cfg: cannot run update-grub: No such file or directory'):
        Host(str(tmp_path), missing, OwnError).run(['update-grub'], 'regenerating grub.cfg')

    def not_found(argv):
        return 127, '', '%s not found in PATH' % argv[0]
    with pytest.raises(OwnError, match=r'update-grub failed \(rc=127\): update-grub not found in PATH'):
        Host(str(tmp_path), not_found, OwnError).run(['update-grub'], 'regenerating grub.cfg')


def test_run_returns_stdout():
    def succeeds(argv):
        return 0, 'out\n', ''
    assert Host('/', succeeds).run(['true'], 'x') == 'out\n'

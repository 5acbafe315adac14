# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The managed_files module: check mode, diff mode, a second run that changes nothing, the restore."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd

from ansible_collections.hyperion.kernel.plugins.modules import managed_files
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def files_args(tmp_path, **extra):
    args = {'files': [
        {'path': str(tmp_path / 'etc' / 'zram-generator.conf'), 'content': '[zram0]\ncompression-algorithm = zstd\n',
         'owner': OWNER, 'group': GROUP},
        {'path': str(tmp_path / 'libexec' / 'hyperion-zram-recompress'), 'content': '#!/bin/sh\n', 'mode': '0755',
         'owner': OWNER, 'group': GROUP},
        {'path': str(tmp_path / 'etc' / 'zram-tools.conf'), 'state': 'absent'},
    ], 'snapshot_dir': str(tmp_path / 'snapshot')}
    args.update(extra)
    return args


def test_check_mode_reports_the_changes_and_writes_nothing(tmp_path, capsys):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'zram-tools.conf').write_text('ALGO=lz4\n')
    code, result = run_module(managed_files, dict(files_args(tmp_path), _ansible_check_mode=True, _ansible_diff=True),
                              capsys)
    assert code == 0 and result['changed']
    assert sorted(os.path.basename(p) for p in result['changed_paths']) == [
        'hyperion-zram-recompress', 'zram-generator.conf', 'zram-tools.conf']
    assert result['recorded'] == []
    assert sorted(os.listdir(str(tmp_path))) == ['etc'] and os.listdir(str(tmp_path / 'etc')) == ['zram-tools.conf']
    by_path = dict((entry['before_header'].split(' ')[0], entry) for entry in result['diff'])
    conf = by_path[str(tmp_path / 'etc' / 'zram-generator.conf')]
    assert conf['before'] == '' and 'compression-algorithm = zstd' in conf['after']
    assert by_path[str(tmp_path / 'etc' / 'zram-tools.conf')]['before'] == 'ALGO=lz4\n'


def test_a_run_writes_records_and_the_next_changes_nothing(tmp_path, capsys):
    code, result = run_module(managed_files, files_args(tmp_path), capsys)
    assert code == 0 and result['changed'] and len(result['recorded']) == 2
    assert (tmp_path / 'etc' / 'zram-generator.conf').read_text().endswith('zstd\n')
    assert oct(os.stat(str(tmp_path / 'libexec' / 'hyperion-zram-recompress')).st_mode & 0o777) == '0o755'
    code, again = run_module(managed_files, dict(files_args(tmp_path), _ansible_diff=True), capsys)
    assert code == 0 and not again['changed'] and again['changed_paths'] == [] and again['diff'] == []


def test_restore_puts_back_what_was_there(tmp_path, capsys):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'zram-tools.conf').write_text('ALGO=lz4\n')
    run_module(managed_files, files_args(tmp_path), capsys)
    restore = {'restore': True, 'snapshot_dir': str(tmp_path / 'snapshot')}
    code, checked = run_module(managed_files, dict(restore, _ansible_check_mode=True), capsys)
    assert code == 0 and checked['changed'] and len(checked['changed_paths']) == 3
    assert (tmp_path / 'etc' / 'zram-generator.conf').exists()
    code, result = run_module(managed_files, restore, capsys)
    assert code == 0 and result['changed']
    assert result['removed_dirs'] == [str(tmp_path / 'libexec')]
    assert sorted(os.listdir(str(tmp_path))) == ['etc']
    assert os.listdir(str(tmp_path / 'etc')) == ['zram-tools.conf']
    code, again = run_module(managed_files, restore, capsys)
    assert code == 0 and not again['changed']


def test_bad_input_fails_cleanly_before_any_write(tmp_path, capsys):
    args = files_args(tmp_path)
    args['files'].append({'path': 'relative/x.conf', 'content': 'x'})
    code, result = run_module(managed_files, args, capsys)
    assert code == 1 and 'absolute path' in result['msg']
    assert os.listdir(str(tmp_path)) == []
    code, result = run_module(managed_files, dict(files_args(tmp_path), restore=True), capsys)
    assert code == 1 and 'give one of files' in result['msg']
    code, result = run_module(managed_files, {'snapshot_dir': str(tmp_path / 's')}, capsys)
    assert code == 1 and 'give one of files' in result['msg']
    code, result = run_module(managed_files, dict(files_args(tmp_path), claim_for='6.12.118-hyperion'), capsys)
    assert code == 1 and 'give one of files' in result['msg']
    code, result = run_module(managed_files, {'snapshot_dir': str(tmp_path / 's'), 'claim_for': '6.12 x'}, capsys)
    assert code == 1 and 'claim_for must be a kernel release' in result['msg']
    code, result = run_module(managed_files, dict(files_args(tmp_path), directory_mode='755\n'), capsys)
    assert code == 1 and 'directory_mode' in result['msg']


def test_work_files_can_skip_the_record(tmp_path, capsys):
    code, result = run_module(managed_files, files_args(tmp_path, record_previous=False), capsys)
    assert code == 0 and result['changed'] and result['recorded'] == []
    assert not (tmp_path / 'snapshot').exists()


def test_a_rollout_claims_the_snapshot_once(tmp_path, capsys):
    args = {'snapshot_dir': str(tmp_path / 'snapshot'), 'claim_for': '6.12.118-hyperion'}
    code, result = run_module(managed_files, dict(args, _ansible_check_mode=True), capsys)
    assert code == 0 and result['changed'] and not result['forgot'] and not (tmp_path / 'snapshot').exists()
    code, result = run_module(managed_files, args, capsys)
    assert code == 0 and result['changed']
    assert json.loads((tmp_path / 'snapshot' / 'owner.json').read_text()) == {'release': '6.12.118-hyperion'}
    code, result = run_module(managed_files, args, capsys)
    assert code == 0 and not result['changed']
    # The restore forgets the claim with the snapshot.
    code, result = run_module(managed_files, {'snapshot_dir': args['snapshot_dir'], 'restore': True}, capsys)
    assert code == 0 and result['changed'] and not (tmp_path / 'snapshot').exists()

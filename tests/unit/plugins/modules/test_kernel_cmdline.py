# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_cmdline through AnsibleModule on real Debian GRUB and systemd-boot files in a scratch root."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import managed_files
from ansible_collections.hyperion.kernel.plugins.modules import kernel_cmdline
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import copy_fixture_tree
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'bootloader')
PARAMS = [{'name': 'kgdboc', 'value': 'ttyS0,115200'}, {'name': 'nmi_watchdog', 'value': '0'},
          {'name': 'quiet', 'state': 'absent'}]


def _snapshot(root):
    found = {}
    for base, _dirs, files in os.walk(root):
        for name in files:
            with open(os.path.join(base, name), 'rb') as handle:
                found[os.path.relpath(os.path.join(base, name), root)] = handle.read()
    return found


@pytest.fixture
def grub_root(tmp_path):
    root = tmp_path / 'trixie'
    copy_fixture_tree(os.path.join('bootloader', 'debian-trixie'), str(root), ignore=shutil.ignore_patterns('efi'))
    (root / 'etc' / 'default' / 'grub.d').mkdir()
    (root / 'proc').mkdir()
    (root / 'proc' / 'cmdline').write_text('BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro quiet\n')
    return str(root)


def test_check_mode_then_real_run_then_idempotent(grub_root, capsys):
    args = {'params': PARAMS, 'root': grub_root, 'update': False}
    before = _snapshot(grub_root)
    code, result = run_module(kernel_cmdline, dict(args, _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert code == 0 and result['changed'] is True
    assert _snapshot(grub_root) == before, 'check mode must not change a file'
    assert result['bootloader'] == 'grub'
    assert [a['path'] for a in result['actions']] == [os.path.join(grub_root, 'etc/default/grub'),
                                                      os.path.join(grub_root, 'etc/default/grub.d/90-hyperion-kernel.cfg')]
    assert result['next_boot'] == {'kgdboc': 'ttyS0,115200', 'nmi_watchdog': '0'}
    assert result['current'] == {'quiet': None}
    assert result['reboot_required'] is True
    assert result['cmdline_difference']['quiet'] == {'current': 'quiet', 'next_boot': None, 'differs': True}
    assert 'would change grub' in result['msg']
    main_diff, dropin_diff = result['diff']
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' in main_diff['before']
    assert 'GRUB_CMDLINE_LINUX_DEFAULT=""' in main_diff['after']
    assert dropin_diff['before'] == ''
    assert 'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} kgdboc=ttyS0,115200 nmi_watchdog=0"' in dropin_diff['after']

    code, result = run_module(kernel_cmdline, args, capsys)
    assert code == 0 and result['changed'] is True and len(result['actions']) == 2
    with open(os.path.join(grub_root, 'etc/default/grub.d/90-hyperion-kernel.cfg')) as handle:
        assert handle.read() == dropin_diff['after']
    # The files as they were, recorded in the snapshot below the root, for managed_files' restore.
    assert result['recorded'] == [a['path'] for a in result['actions']]
    snapshot = os.path.join(grub_root, 'var/lib/hyperion-kernel/previous-state')
    restores, _dirs = managed_files.plan_restore(snapshot)
    assert [(item.path, item.after['kind']) for item in restores] == [
        (os.path.join(grub_root, 'etc/default/grub'), 'file'),
        (os.path.join(grub_root, 'etc/default/grub.d/90-hyperion-kernel.cfg'), 'absent')]
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' in restores[0].after['content'].decode()

    code, result = run_module(kernel_cmdline, args, capsys)
    assert code == 0 and result['changed'] is False and result['actions'] == []
    assert result['reboot_required'] is True  # still not booted with them
    assert 'already has the parameters' in result['msg']


def test_a_restore_that_removed_the_dropin_makes_grub_cfg_stale(grub_root, capsys):
    code, result = run_module(kernel_cmdline, {'params': PARAMS, 'root': grub_root, 'update': False}, capsys)
    assert code == 0 and result['recorded']
    cfg = os.path.join(grub_root, 'boot', 'grub', 'grub.cfg')
    os.makedirs(os.path.dirname(cfg), exist_ok=True)
    with open(cfg, 'w') as handle:
        handle.write('# generated with the drop-in\n')
    stamp = os.stat(os.path.join(grub_root, 'etc/default/grub.d')).st_mtime + 10
    os.utime(cfg, (stamp, stamp))
    # Up to date: nothing to do without parameters.
    code, result = run_module(kernel_cmdline, {'root': grub_root, '_ansible_check_mode': True}, capsys)
    assert code == 0 and not result['changed'] and result['actions'] == []
    managed_files.restore(*((os.path.join(grub_root, 'var/lib/hyperion-kernel/previous-state'),)
                            + managed_files.plan_restore(os.path.join(grub_root, 'var/lib/hyperion-kernel/previous-state'))))
    assert not os.path.exists(os.path.join(grub_root, 'etc/default/grub.d/90-hyperion-kernel.cfg'))
    os.utime(os.path.join(grub_root, 'etc/default/grub.d'), (stamp + 5, stamp + 5))
    os.utime(os.path.join(grub_root, 'etc/default/grub'), (stamp - 5, stamp - 5))
    code, result = run_module(kernel_cmdline, {'root': grub_root, '_ansible_check_mode': True}, capsys)
    assert code == 0 and result['changed'] and [a['argv'][-1] for a in result['actions']] == ['update-grub']
    code, result = run_module(kernel_cmdline, {'root': grub_root, 'params': []}, capsys)
    assert code == 1 and 'params is empty' in result['msg']


def test_custom_dropin_name(grub_root, capsys):
    code, result = run_module(kernel_cmdline, {'params': PARAMS[:1], 'root': grub_root, 'update': False,
                                               'grub_dropin': '95-lab.cfg'}, capsys)
    assert code == 0
    assert os.path.exists(os.path.join(grub_root, 'etc/default/grub.d/95-lab.cfg'))


def test_systemd_boot_forced_on_kernel_install_entries(tmp_path, capsys):
    root = tmp_path / 'esp'
    shutil.copytree(os.path.join(FIXTURES, 'debian-trixie', 'efi'), str(root / 'efi'))
    shutil.copytree(os.path.join(FIXTURES, 'debian-trixie', 'etc', 'kernel'), str(root / 'etc' / 'kernel'))
    args = {'params': PARAMS, 'root': str(root), 'bootloader': 'systemd-boot'}
    code, result = run_module(kernel_cmdline, args, capsys)
    assert code == 0 and result['changed'] is True and result['bootloader'] == 'systemd-boot'
    assert len(result['actions']) == 3  # /etc/kernel/cmdline and both entries
    # No /proc/cmdline below this root: the change itself is what calls for a boot.
    assert result['current'] is None and result['reboot_required'] is True
    assert result['next_boot'] == {'kgdboc': 'ttyS0,115200', 'nmi_watchdog': '0'}
    code, result = run_module(kernel_cmdline, args, capsys)
    assert code == 0 and result['changed'] is False


@pytest.mark.parametrize('params, message', [
    ([{'name': 'kgdboc', 'value': 'ttyS0 ; reboot'}], 'contains white space'),
    ([{'name': 'x', 'value': '$(id)'}], 'contains a dollar sign'),
    ([{'name': 'bad name'}], 'must be a kernel parameter name'),
    ([{'name': 'quiet'}, {'name': 'quiet', 'state': 'absent'}], 'both present and absent'),
    ([{'name': 'quiet'}, {'name': 'quiet'}], 'is given twice'),
])
def test_bad_input_fails_cleanly_and_changes_nothing(grub_root, capsys, params, message):
    before = _snapshot(grub_root)
    code, result = run_module(kernel_cmdline, {'params': params, 'root': grub_root}, capsys)
    assert code == 1 and result['failed'] is True
    assert message in result['msg']
    assert _snapshot(grub_root) == before


def test_unknown_bootloader_lists_what_was_looked_for(tmp_path, capsys):
    code, result = run_module(kernel_cmdline, {'params': PARAMS, 'root': str(tmp_path)}, capsys)
    assert code == 1
    assert 'cannot tell which bootloader' in result['msg'] and 'systemd-boot' in result['msg']


def test_regeneration_failure_is_reported(grub_root, capsys):
    # No chroot-able system below this root: update-grub cannot run, and the module says so.
    code, result = run_module(kernel_cmdline, {'params': PARAMS, 'root': grub_root}, capsys)
    assert code == 1
    assert 'regenerate grub.cfg: chroot %s update-grub failed' % grub_root in result['msg']


@pytest.mark.skipif(not os.environ.get('HYPERION_E2E_GRUB_ROOT'),
                    reason='needs a chroot with GRUB installed (KEEP_ROOT of workbench/capture/fetch-bootloader-files.sh)')
def test_end_to_end_in_a_real_chroot(capsys):
    root = os.environ['HYPERION_E2E_GRUB_ROOT']
    args = {'params': PARAMS, 'root': root}
    code, result = run_module(kernel_cmdline, args, capsys)
    assert code == 0, result
    with open(os.path.join(root, 'boot/grub/grub.cfg')) as handle:
        linux_lines = [line for line in handle if line.strip().startswith('linux')]
    assert linux_lines and all('kgdboc=ttyS0,115200 nmi_watchdog=0' in line for line in linux_lines)
    code, result = run_module(kernel_cmdline, args, capsys)
    assert code == 0 and result['changed'] is False and result['actions'] == []


@pytest.fixture
def sdboot_root(tmp_path):
    root = tmp_path / 'esp'
    shutil.copytree(os.path.join(FIXTURES, 'debian-trixie', 'efi'), str(root / 'efi'))
    shutil.copytree(os.path.join(FIXTURES, 'debian-trixie', 'etc', 'kernel'), str(root / 'etc' / 'kernel'))
    return str(root)


# One case per class of input the module refuses; each must fail in check mode too (it used to report
# success there), and leave every file of the host as it was.
REFUSED = [
    # '--' would end the kernel's parameters: everything after it on the line would go to init.
    ({'params': [{'name': '--'}]}, 'got "--"'),
    ({'params': [{'name': '-quiet'}]}, 'must be a kernel parameter name'),
    ({'params': [{'name': 'quiet\n'}]}, 'got "quiet\\n"'),
    # GRUB's script (yylex.l) and sh would read these as syntax.
    ({'params': [{'name': 'x', 'value': '${root}'}]}, 'contains a dollar sign'),
    ({'params': [{'name': 'x', 'value': 'a{b}'}]}, 'contains an opening brace'),
    ({'params': [{'name': 'x', 'value': 'a}'}]}, 'contains a closing brace'),
    ({'params': [{'name': 'x', 'value': 'a|b'}]}, 'contains a pipe'),
    ({'params': [{'name': 'x', 'value': 'a&&b'}]}, 'contains an ampersand'),
    ({'params': [{'name': 'x', 'value': '<b'}]}, 'contains a less-than sign'),
    ({'params': [{'name': 'x', 'value': 'a>b'}]}, 'contains a greater-than sign'),
    ({'params': [{'name': 'x', 'value': 'a;reboot'}]}, 'contains a semicolon'),
    ({'params': [{'name': 'x', 'value': 'a\\b'}]}, 'contains a backslash'),
    ({'params': [{'name': 'x', 'value': "a'b"}]}, 'contains a single quote'),
    ({'params': [{'name': 'x', 'value': 'a"b'}]}, 'contains a double quote'),
    ({'params': [{'name': 'x', 'value': 'a`b`'}]}, 'contains a backtick'),
    # White space, line breaks and control characters.
    ({'params': [{'name': 'x', 'value': 'a\tb'}]}, 'contains white space'),
    ({'params': [{'name': 'x', 'value': 'a\nGRUB_DEFAULT=0'}]}, 'contains a newline'),
    ({'params': [{'name': 'x', 'value': 'a\x1b[2J'}]}, 'contains a control character'),
    ({'params': [{'name': 'x', 'value': 'a\x7f'}]}, 'contains a control character'),
    ({'params': [{'name': 'x', 'value': 'caf\u00e0'}]}, 'outside printable ASCII'),
    # Numbers the kernel cannot take.
    ({'params': [{'name': 'panic', 'value': '2147484'}]}, 'must be from -2147483648 to 2147483, got 2147484'),
    ({'params': [{'name': 'panic', 'value': '4294967306'}]}, 'got 4294967306'),
    ({'params': [{'name': 'panic', 'value': '10s'}]}, 'must be a whole number'),
    ({'params': [{'name': 'panic'}]}, 'panic needs a value'),
    ({'params': [{'name': 'x', 'value': 'v' * 2100}]}, 'bytes long; the kernel on'),
    # Drop-in names grub-mkconfig would never source.
    ({'params': [{'name': 'quiet'}], 'grub_dropin': 'x.cfg\n'}, 'got "x.cfg\\n"'),
    ({'params': [{'name': 'quiet'}], 'grub_dropin': '../x.cfg'}, 'must be a file name ending in .cfg'),
    ({'params': [{'name': 'quiet'}], 'grub_dropin': 'x.conf'}, 'must be a file name ending in .cfg'),
]


@pytest.mark.parametrize('check_mode', [True, False], ids=['check', 'run'])
@pytest.mark.parametrize('args, message', REFUSED)
def test_refused_input_changes_nothing_on_grub(grub_root, capsys, args, message, check_mode):
    before = _snapshot(grub_root)
    code, result = run_module(kernel_cmdline, dict(args, root=grub_root, update=False, _ansible_check_mode=check_mode),
                              capsys)
    assert code == 1 and result['failed'] is True
    assert message in result['msg']
    assert _snapshot(grub_root) == before


@pytest.mark.parametrize('check_mode', [True, False], ids=['check', 'run'])
@pytest.mark.parametrize('args, message', [case for case in REFUSED if 'grub_dropin' not in case[0]])
def test_refused_input_changes_nothing_on_systemd_boot(sdboot_root, capsys, args, message, check_mode):
    before = _snapshot(sdboot_root)
    code, result = run_module(kernel_cmdline, dict(args, root=sdboot_root, bootloader='systemd-boot',
                                                   _ansible_check_mode=check_mode), capsys)
    assert code == 1 and result['failed'] is True
    assert message in result['msg']
    assert _snapshot(sdboot_root) == before


def test_panic_within_the_kernels_bound_is_written(grub_root, capsys):
    code, result = run_module(kernel_cmdline, {'params': [{'name': 'panic', 'value': '2147483'}], 'root': grub_root,
                                               'update': False}, capsys)
    assert code == 0 and result['next_boot'] == {'panic': '2147483'}

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""trial_boot through AnsibleModule: a trial armed on the captured Debian trixie lab machine, the boot into it,
its promotion, with the rollout role's real trial guard watching and confirming.

The capture (tests/unit/fixtures/boot-entries/trixie-one-kernel) gets a second kernel in its grub.cfg, as
grub-mkconfig lists a newer kernel first. GRUB's tools run through chroot in the root, which a test cannot
do: grub-set-default and grub-reboot are stood in for by their effect on grubenv (grub-editenv's 1024-byte
block), update-grub by nothing (the planner reads GRUB_DEFAULT from the sourced files, not grub.cfg). The
shell that sources /etc/default/grub* and the guard run for real.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import time

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils import grub
from ansible_collections.hyperion.kernel.plugins.module_utils.trial import ARM_FILE, ENDED_FILE
from ansible_collections.hyperion.kernel.plugins.modules import trial_boot
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import FIXTURES, copy_fixture_tree
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module

CAPTURE = os.path.join(FIXTURES, 'boot-entries', 'trixie-one-kernel')
GUARD_SOURCE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'rollout', 'files',
                            'hyperion-trial-guard')
UUID = '65684352-25ca-d639-bbc3-2306e1616bd4'
DEBIAN = '6.12.107+deb13-amd64'
HYPERION = '6.12.118-hyperion'
GRUBENV_SIZE = 1024


def advanced_path(release):
    return 'gnulinux-advanced-%s>gnulinux-%s-advanced-%s' % (UUID, release, UUID)


def write_grubenv(path, values):
    """The block grub-editenv writes: a header, the variables, '#' up to 1024 bytes."""
    text = '# GRUB Environment Block\n' + ''.join('%s=%s\n' % item for item in sorted(values.items()))
    with open(path, 'w') as handle:
        handle.write(text + '#' * (GRUBENV_SIZE - len(text)))


@pytest.fixture
def host(tmp_path, monkeypatch):
    """The captured machine running DEBIAN with HYPERION installed beside it, and the guard installed."""
    root = str(tmp_path / 'root')
    shutil.copytree(os.path.join(CAPTURE, 'root'), root)
    copy_fixture_tree(os.path.join('bootloader', 'debian-trixie', 'usr'), os.path.join(root, 'usr'))
    cfg_path = os.path.join(root, 'boot/grub/grub.cfg')
    with open(cfg_path) as handle:
        lines = handle.read().split('\n')
    start = next(i for i, line in enumerate(lines) if line.startswith('\tmenuentry') and DEBIAN in line)
    end = next(i for i in range(start, len(lines)) if lines[i] == '\t}')
    newer = [line.replace(DEBIAN, HYPERION) for line in lines[start:end + 1]]
    with open(cfg_path, 'w') as handle:
        handle.write('\n'.join(lines[:start] + newer + lines[start:]))
    for name in ('dev', 'run', 'proc/sys/kernel'):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    for name in ('panic_on_oops', 'softlockup_panic', 'hung_task_panic'):
        with open(os.path.join(root, 'proc/sys/kernel', name), 'w') as handle:
            handle.write('0\n')
    with open(os.path.join(root, 'proc/uptime'), 'w') as handle:
        handle.write('30.00 50.00\n')
    open(os.path.join(root, 'dev/kmsg'), 'w').close()
    guard = str(tmp_path / 'hyperion-trial-guard')
    shutil.copy(GUARD_SOURCE, guard)
    os.chmod(guard, 0o755)
    grubenv = os.path.join(root, 'boot/grub/grubenv')
    commands = []
    real_run_command = AnsibleModule.run_command

    def run_command(self, argv, *args, **kwargs):
        if argv[0].endswith('chroot') and argv[1] == root:
            tool = argv[2]
            commands.append(argv[2:])
            values = grub.parse_grubenv(open(grubenv).read())
            if tool == 'grub-set-default':
                values['saved_entry'] = argv[3]
            elif tool == 'grub-reboot':
                values['next_entry'] = argv[3]
            elif tool != 'update-grub':
                raise AssertionError('unexpected command %s' % argv)
            write_grubenv(grubenv, values)
            return 0, '', ''
        if argv[0] == guard:
            commands.append([os.path.basename(argv[0])] + argv[1:])
        return real_run_command(self, argv, *args, **kwargs)
    monkeypatch.setattr(AnsibleModule, 'run_command', run_command)
    monkeypatch.setenv('HYPERION_TRIAL_POLL', '0.1')
    monkeypatch.setenv('HYPERION_TRIAL_REBOOT', 'touch %s' % os.path.join(root, 'rebooted'))
    return {'root': root, 'guard': guard, 'grubenv': grubenv, 'commands': commands,
            'record': os.path.join(root, 'etc/ansible/facts.d/hyperion_rollout.fact')}


def _run(host, capsys, **args):
    args.setdefault('root', host['root'])
    args.setdefault('guard', host['guard'])
    args.setdefault('release_record', host['record'])
    args.setdefault('release', HYPERION)
    return run_module(trial_boot, args, capsys)


def _grubenv(host):
    with open(host['grubenv']) as handle:
        return grub.parse_grubenv(handle.read())


def _boot(host, release, monkeypatch):
    """The reboot: GRUB spends the one-time entry, the kernel RELEASE runs."""
    values = _grubenv(host)
    values.pop('next_entry', None)
    write_grubenv(host['grubenv'], values)
    with open(os.path.join(host['root'], 'proc/sys/kernel/osrelease'), 'w') as handle:
        handle.write(release + '\n')
    monkeypatch.setenv('HYPERION_TRIAL_RELEASE', release)


def _watch(host):
    """The guard's unit at boot, in the background until the trial is confirmed or its deadline passes."""
    return subprocess.Popen(['/bin/sh', host['guard'], 'watch'], env=dict(os.environ, HYPERION_TRIAL_ROOT=host['root']),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def _setting(host, name):
    with open(os.path.join(host['root'], 'proc/sys/kernel', name)) as handle:
        return handle.read().strip()


def test_a_trial_armed_booted_and_promoted(host, capsys, monkeypatch):
    arm_file = os.path.join(host['root'], ARM_FILE)
    ended_file = os.path.join(host['root'], ENDED_FILE)
    os.makedirs(os.path.dirname(ended_file))
    with open(ended_file, 'w') as handle:
        handle.write('trial boot of 6.12.117-hyperion not confirmed within 600 s of boot\n')

    code, result = _run(host, capsys, state='armed', deadline=600, _ansible_check_mode=True, _ansible_diff=True)
    assert code == 0 and result['changed'] and result['boot_entry_changed']
    # The guard first, then GRUB: saved default, the running kernel pinned, the new one once.
    assert [(a['action'], a.get('path', ' '.join(a.get('argv', [])))) for a in result['actions']] == [
        ('write', arm_file), ('remove', ended_file),
        ('write', os.path.join(host['root'], 'etc/default/grub.d/90-hyperion-boot-entry.cfg')),
        ('run', 'chroot %s update-grub' % host['root']),
        ('run', 'chroot %s grub-set-default %s' % (host['root'], advanced_path(DEBIAN))),
        ('run', 'chroot %s grub-reboot %s' % (host['root'], advanced_path(HYPERION)))]
    assert result['diff'][0] == {'before_header': arm_file, 'after_header': arm_file, 'before': '',
                                 'after': 'release=%s\ndeadline=600\n' % HYPERION}
    assert result['diff'][-1]['after'] == 'default: %s\nnext boot: %s\n' % (DEBIAN, HYPERION)
    assert host['commands'] == [] and os.path.exists(ended_file) and not os.path.exists(arm_file)

    code, result = _run(host, capsys, state='armed', deadline=600)
    assert code == 0 and result['changed'], result
    assert _grubenv(host)['saved_entry'] == advanced_path(DEBIAN)
    assert _grubenv(host)['next_entry'] == advanced_path(HYPERION)
    with open(arm_file) as handle:
        assert handle.read() == 'release=%s\ndeadline=600\n' % HYPERION
    assert not os.path.exists(ended_file)
    assert result['default']['release'] == DEBIAN and result['next_boot']['release'] == HYPERION

    code, result = _run(host, capsys, state='armed', deadline=600)
    assert code == 0 and not result['changed'] and result['actions'] == []

    # A promotion before the boot is refused: the new kernel has not run.
    code, result = _run(host, capsys, state='promoted', previous=DEBIAN)
    assert code == 1 and 'the host runs %s' % DEBIAN in result['msg']

    _boot(host, HYPERION, monkeypatch)
    watcher = _watch(host)
    deadline = time.time() + 30
    while _setting(host, 'panic_on_oops') != '1' and time.time() < deadline:
        time.sleep(0.1)
    assert _setting(host, 'softlockup_panic') == '1' and watcher.poll() is None

    del host['commands'][:]
    code, result = _run(host, capsys, state='promoted', previous=DEBIAN, _ansible_check_mode=True)
    assert code == 0 and result['changed'] and result['guard_confirmed'] and host['commands'] == []
    assert os.path.exists(arm_file) and not os.path.exists(host['record'])

    code, result = _run(host, capsys, state='promoted', previous=DEBIAN, _ansible_diff=True)
    assert code == 0 and result['changed'] and result['guard_confirmed'], result
    assert host['commands'] == [['hyperion-trial-guard', 'confirm'], ['grub-set-default', advanced_path(HYPERION)]]
    out, _err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0 and 'confirmed' in out
    assert not os.path.exists(arm_file) and not os.path.exists(os.path.join(host['root'], 'rebooted'))
    assert [_setting(host, name) for name in ('panic_on_oops', 'softlockup_panic', 'hung_task_panic')] == ['0'] * 3
    assert _grubenv(host)['saved_entry'] == advanced_path(HYPERION)
    with open(host['record']) as handle:
        assert json.load(handle) == {'current_release': HYPERION, 'previous_release': DEBIAN}
    assert result['record'] == {'current_release': HYPERION, 'previous_release': DEBIAN}
    assert result['diff'][0]['after_header'] == host['record']
    assert result['msg'] == ('promotion of %s (changed): default %s, trial confirmed, a rollback goes back to %s'
                             % (HYPERION, HYPERION, DEBIAN))

    # Once more, as a re-run of the rollout on the promoted host passes previous=the release it runs.
    code, result = _run(host, capsys, state='promoted', previous=HYPERION)
    assert code == 0 and not result['changed'] and result['actions'] == []
    assert result['record']['previous_release'] == DEBIAN


def test_a_trial_without_the_guard_sets_only_the_next_boot(host, capsys):
    code, result = _run(host, capsys, state='armed')
    assert code == 0 and result['changed']
    assert [a['action'] for a in result['actions']] == ['write', 'run', 'run', 'run']
    assert not os.path.exists(os.path.join(host['root'], ARM_FILE))
    assert result['msg'].endswith('no guard deadline')


def test_a_deadline_without_the_guard_installed_is_refused_before_any_change(host, capsys):
    before = dict(_grubenv(host))
    code, result = _run(host, capsys, state='armed', deadline=600, guard=host['guard'] + '-missing')
    assert code == 1 and 'is not installed: a deadline would not be kept' in result['msg']
    assert _grubenv(host) == before and not os.path.exists(os.path.join(host['root'], ARM_FILE))


def test_a_trial_armed_for_another_release_is_not_promoted(host, capsys, monkeypatch):
    _boot(host, HYPERION, monkeypatch)
    os.makedirs(os.path.dirname(os.path.join(host['root'], ARM_FILE)))
    with open(os.path.join(host['root'], ARM_FILE), 'w') as handle:
        handle.write('release=6.12.119-hyperion\ndeadline=600\n')
    code, result = _run(host, capsys, state='promoted', previous=DEBIAN)
    assert code == 1 and 'arms a trial of 6.12.119-hyperion' in result['msg']
    assert host['commands'] == [] and not os.path.exists(host['record'])


@pytest.mark.parametrize('args, message', [
    ({'state': 'armed', 'release': '6.12.118-hyperion\n'}, 'release must be a kernel release'),
    ({'state': 'armed', 'release': '../../vmlinuz'}, 'release must be a kernel release'),
    ({'state': 'armed', 'deadline': 0}, 'deadline must be from 1 to 86400'),
    ({'state': 'armed', 'deadline': 86401}, 'deadline must be from 1 to 86400'),
    ({'state': 'armed', 'previous': DEBIAN}, 'previous is for state=promoted'),
    ({'state': 'promoted'}, 'state is promoted but all of the following are missing: previous'),
    ({'state': 'promoted', 'previous': DEBIAN, 'deadline': 600}, 'deadline is for state=armed'),
    ({'state': 'promoted', 'previous': 'x y'}, 'previous must be a kernel release'),
])
def test_bad_input_is_refused_before_any_change(host, capsys, args, message):
    before = dict(_grubenv(host))
    code, result = _run(host, capsys, **args)
    assert code == 1 and message in result['msg'], result['msg']
    assert _grubenv(host) == before and host['commands'] == []
    assert not os.path.exists(os.path.join(host['root'], ARM_FILE)) and not os.path.exists(host['record'])


def test_the_module_and_the_guard_name_the_same_files():
    with open(GUARD_SOURCE) as handle:
        text = handle.read()
    assert 'ARM=$ROOT/%s\n' % ARM_FILE in text and 'ENDED=$ROOT/%s\n' % ENDED_FILE in text

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout role's trial guard (files/hyperion-trial-guard) run by the real /bin/sh on a fake root.

The root holds the arm file, /proc/uptime, the kernel settings the trial changes and /dev/kmsg as plain
files; the running release and the reboot are given through the script's test hooks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import time

import pytest

GUARD = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'rollout', 'files', 'hyperion-trial-guard')
SETTINGS = {'panic_on_oops': '0', 'softlockup_panic': '0', 'hung_task_panic': '0'}


@pytest.fixture
def root(tmp_path):
    for name in ('etc/hyperion-kernel', 'proc/sys/kernel', 'dev', 'run'):
        (tmp_path / name).mkdir(parents=True)
    for name, value in SETTINGS.items():
        (tmp_path / 'proc' / 'sys' / 'kernel' / name).write_text(value + '\n')
    (tmp_path / 'proc' / 'uptime').write_text('12.34 20.00\n')
    (tmp_path / 'dev' / 'kmsg').write_text('')
    return tmp_path


def arm(root, release='6.12.118-hyperion', deadline='600'):
    (root / 'etc' / 'hyperion-kernel' / 'trial-boot').write_text('release=%s\ndeadline=%s\n' % (release, deadline))


def guard(root, command, release='6.12.118-hyperion', background=False):
    env = dict(os.environ, HYPERION_TRIAL_ROOT=str(root), HYPERION_TRIAL_RELEASE=release, HYPERION_TRIAL_POLL='0.1',
               HYPERION_TRIAL_REBOOT='touch %s' % (root / 'rebooted'))
    argv = ['/bin/sh', GUARD, command]
    if background:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    return subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=60, check=False)


def setting(root, name):
    return (root / 'proc' / 'sys' / 'kernel' / name).read_text().strip()


def test_a_boot_without_a_trial_does_nothing(root):
    done = guard(root, 'watch')
    assert done.returncode == 0 and 'no trial armed' in done.stdout
    assert all(setting(root, name) == value for name, value in SETTINGS.items())
    assert not (root / 'rebooted').exists()


def test_the_boot_after_a_fallback_disarms(root):
    arm(root, release='6.12.118-hyperion')
    done = guard(root, 'watch', release='6.12.117+deb13-amd64')
    assert done.returncode == 0
    assert not (root / 'etc' / 'hyperion-kernel' / 'trial-boot').exists()
    assert '<5>hyperion-trial-guard: the trial boot of 6.12.118-hyperion is over' in (root / 'dev' / 'kmsg').read_text()
    assert not (root / 'rebooted').exists() and setting(root, 'softlockup_panic') == '0'


def test_an_unconfirmed_trial_reboots_at_its_deadline_with_the_trial_settings_on(root):
    arm(root, deadline='60')
    watcher = guard(root, 'watch', background=True)
    time.sleep(1)
    assert watcher.poll() is None and not (root / 'rebooted').exists()
    assert [setting(root, name) for name in sorted(SETTINGS)] == ['1', '1', '1']
    (root / 'proc' / 'uptime').write_text('60.01 80.00\n')
    out, _err = watcher.communicate(timeout=30)
    assert watcher.returncode == 1 and (root / 'rebooted').exists()
    kmsg = (root / 'dev' / 'kmsg').read_text()
    assert ('<3>hyperion-trial-guard: trial boot of 6.12.118-hyperion not confirmed within 60 s of boot: '
            'rebooting into the default kernel') in kmsg
    assert 'rebooting' in out


def test_a_confirmed_trial_stops_the_watch_and_leaves_no_trial_setting(root):
    (root / 'proc' / 'sys' / 'kernel' / 'hung_task_panic').write_text('1\n')  # the site's own value stays
    arm(root, deadline='600')
    watcher = guard(root, 'watch', background=True)
    time.sleep(1)
    assert setting(root, 'panic_on_oops') == '1'
    confirmed = guard(root, 'confirm')
    assert confirmed.returncode == 0
    watcher.communicate(timeout=30)
    assert watcher.returncode == 0 and not (root / 'rebooted').exists()
    assert setting(root, 'panic_on_oops') == '0' and setting(root, 'softlockup_panic') == '0'
    assert setting(root, 'hung_task_panic') == '1'
    assert not (root / 'etc' / 'hyperion-kernel' / 'trial-boot').exists()
    again = guard(root, 'confirm')
    assert again.returncode == 0 and 'no trial armed' in again.stdout


def test_confirm_refuses_a_boot_of_another_kernel(root):
    arm(root, release='6.12.118-hyperion')
    done = guard(root, 'confirm', release='6.12.117+deb13-amd64')
    assert done.returncode == 2 and 'refusing to confirm' in done.stderr
    assert (root / 'etc' / 'hyperion-kernel' / 'trial-boot').exists()


@pytest.mark.parametrize('release, deadline', [
    ('6.12.118-hyperion', '600; reboot'),
    ('6.12.118-hyperion', ''),
    ('6.12.118 hyperion', '600'),
    ('$(reboot)', '600'),
])
def test_an_unreadable_arm_file_is_removed_and_arms_nothing(root, release, deadline):
    arm(root, release=release, deadline=deadline)
    done = guard(root, 'watch', release=release)
    assert done.returncode == 0 and not (root / 'rebooted').exists()
    assert not (root / 'etc' / 'hyperion-kernel' / 'trial-boot').exists()
    assert 'unreadable' in done.stdout


def test_an_unknown_command_is_refused(root):
    done = guard(root, 'reboot')
    assert done.returncode == 2 and 'usage' in done.stderr

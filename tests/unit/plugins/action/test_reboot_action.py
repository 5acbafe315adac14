# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel.reboot's action: the three steps it does otherwise than ansible.builtin.reboot.

In process, with the task, connection and loader mocked: nothing here can reboot the machine that runs the
tests. The reboot itself runs in every lab scenario that reboots a host (molecule/rollout, trial_faults).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect
import os
import subprocess

import pytest

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.action.reboot import ActionModule as BuiltinReboot
from ansible.plugins.action.reboot import TimedOutException

from ansible_collections.hyperion.kernel.plugins.action import reboot

try:
    from unittest import mock
except ImportError:  # pragma: no cover
    import mock


def _action(args=None):
    task = mock.MagicMock()
    task.args = dict(args or {})
    task.action = 'hyperion.kernel.reboot'
    task.async_val = 0
    connection = mock.MagicMock()
    return reboot.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock())


class Clock(object):
    """time.monotonic and time.sleep of the plugin: sleeping moves the clock."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(reboot.time, 'monotonic', fake.monotonic)
    monkeypatch.setattr(reboot.time, 'sleep', fake.sleep)
    return fake


def test_the_host_is_asked_at_a_steady_interval_until_it_answers(clock):
    action = _action()
    action._poll_interval = 1.0
    tries = []

    def boot_id_changed(distribution, previous_boot_time):
        tries.append(clock.now)
        if len(tries) <= 5:
            raise AnsibleConnectionFailure('ssh: connect to host 10.0.2.2 port 2222: Connection refused')
        return None
    action.do_until_success_or_timeout(boot_id_changed, 60, 'boot id changed', {'name': 'debian'},
                                       action_kwargs={'previous_boot_time': 'a'})
    # The builtin would have waited 1, 2, 4, 8 and 12 s (27 s): here 1 s each time.
    assert clock.sleeps == [1.0] * 5 and tries[-1] - tries[0] == 5.0
    assert action._connection.reset.call_count == 5


def test_an_unchanged_boot_id_is_asked_again_without_a_reset(clock):
    action = _action()
    action._poll_interval = 2.5
    answers = iter([ValueError('boot time has not changed'), None])

    def check(distribution):
        answer = next(answers)
        if answer is not None:
            raise answer
    action.do_until_success_or_timeout(check, 60, 'boot id changed', {})
    assert clock.sleeps == [2.5] and action._connection.reset.call_count == 0


def test_the_timeout_ends_the_wait_with_the_last_error(clock):
    action = _action()
    action._poll_interval = 4.0

    def never(distribution):
        raise AnsibleConnectionFailure('Connection timed out during banner exchange')
    with pytest.raises(TimedOutException) as excinfo:
        action.do_until_success_or_timeout(never, 10, 'boot id changed', {})
    assert 'timeout=10' in str(excinfo.value) and 'banner exchange' in str(excinfo.value)
    # The last sleep ends at the deadline, not past it.
    assert clock.sleeps == [4.0, 4.0, 2.0]


def test_the_distribution_comes_from_the_facts_without_a_module_call():
    action = _action()
    action._execute_module = mock.MagicMock(side_effect=AssertionError('setup must not run'))
    facts = {'distribution': 'Debian', 'distribution_version': '13.2', 'os_family': 'Debian'}
    assert action.get_distribution({'ansible_facts': facts}) == {'name': 'debian', 'version': '13', 'family': 'debian'}


def test_without_facts_the_builtin_runs_setup():
    action = _action()
    action._execute_module = mock.MagicMock(return_value={'ansible_facts': {
        'ansible_distribution': 'Fedora', 'ansible_distribution_version': '41', 'ansible_os_family': 'RedHat'}})
    assert action.get_distribution({'ansible_facts': {'distribution': 'Fedora'}}) == {
        'name': 'fedora', 'version': '41', 'family': 'redhat'}
    assert action._execute_module.call_args[1]['module_name'] == 'ansible.legacy.setup'


def test_the_shutdown_command_is_found_by_one_shell_command():
    action = _action()
    action._execute_module = mock.MagicMock(side_effect=AssertionError('find must not run'))
    action._low_level_execute_command = mock.MagicMock(return_value={'rc': 0, 'stdout': '/usr/sbin/shutdown\n', 'stderr': ''})
    assert action.get_shutdown_command({}, {'name': 'debian', 'version': '13', 'family': 'debian'}) == '/usr/sbin/shutdown'
    script = action._low_level_execute_command.call_args[0][0]
    assert script.startswith('for candidate in /sbin/shutdown /bin/shutdown /usr/sbin/shutdown ')


def test_where_the_shell_finds_nothing_the_builtin_searches_and_says_so():
    action = _action()
    action._low_level_execute_command = mock.MagicMock(return_value={'rc': 1, 'stdout': '', 'stderr': ''})
    action._execute_module = mock.MagicMock(return_value={'files': []})
    with pytest.raises(Exception) as excinfo:
        action.get_shutdown_command({}, {'name': 'debian', 'version': '13', 'family': 'debian'})
    assert 'Unable to find command "shutdown"' in str(excinfo.value)


def test_the_lookup_script_under_the_real_shell(tmp_path):
    """Differential against /bin/sh: the first executable candidate, a path with a space, none at all."""
    first, second = tmp_path / 'no exec', tmp_path / 's bin'
    first.mkdir()
    second.mkdir()
    (first / 'shutdown').write_text('#!/bin/sh\n')  # not executable: skipped
    tool = second / 'shutdown'
    tool.write_text('#!/bin/sh\n')
    os.chmod(str(tool), 0o755)
    script = reboot.find_command_script('shutdown', [str(first), str(second) + '/'])
    done = subprocess.run(['/bin/sh', '-c', script], stdout=subprocess.PIPE, universal_newlines=True, check=False)
    assert done.returncode == 0 and done.stdout == '%s\n' % tool
    done = subprocess.run(['/bin/sh', '-c', reboot.find_command_script('shutdown', [str(first)])],
                          stdout=subprocess.PIPE, universal_newlines=True, check=False)
    assert done.returncode == 1 and done.stdout == ''


@pytest.mark.parametrize('value', [0, -1, 61, 'soon', True, [1]])
def test_a_bad_poll_interval_fails_before_anything_runs(value):
    action = _action({'poll_interval': value})
    with mock.patch.object(BuiltinReboot, 'run', side_effect=AssertionError('nothing may run')):
        result = action.run(task_vars={})
    assert result['failed'] and not result['rebooted'] and 'poll_interval must be' in result['msg']


def test_the_builtin_steps_it_replaces_keep_their_signatures():
    """A newer ansible-core that renames or reshapes these would bypass the plugin silently: it fails here."""
    for name, parameters in (('get_distribution', ['self', 'task_vars']),
                             ('get_shutdown_command', ['self', 'task_vars', 'distribution']),
                             ('do_until_success_or_timeout', ['self', 'action', 'reboot_timeout', 'action_desc',
                                                              'distribution', 'action_kwargs'])):
        assert list(inspect.signature(getattr(BuiltinReboot, name)).parameters) == parameters
    assert 'poll_interval' in reboot.ActionModule._VALID_ARGS and BuiltinReboot._VALID_ARGS < reboot.ActionModule._VALID_ARGS

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible.builtin.reboot, less the round trips that are not the reboot (see the module's documentation).

Three of the builtin action's steps are done otherwise; everything else (the shutdown, the boot id
comparison, the test command, every option) is the builtin's own code:
- the distribution comes from the facts the play already has; the builtin runs the setup module each time;
- the shutdown command is looked up with one shell command; the builtin runs the find module;
- the host is asked every ``poll_interval`` seconds until it is back; the builtin backs off to 12 s between
  tries, so a host that is up waits up to 12 s more to be seen.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex
import time

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.common.validation import check_type_list
from ansible.plugins.action.reboot import ActionModule as BuiltinReboot
from ansible.plugins.action.reboot import TimedOutException
from ansible.utils.display import Display

display = Display()

DEFAULT_POLL_INTERVAL = 1.0
POLL_INTERVAL_MAX = 60.0
SEARCH_PATHS = ['/sbin', '/bin', '/usr/sbin', '/usr/bin', '/usr/local/sbin']


def poll_interval(value):
    """The interval in seconds, or a ValueError that says what is accepted."""
    if value is None:
        return DEFAULT_POLL_INTERVAL
    if isinstance(value, bool):
        raise ValueError('poll_interval must be a number of seconds, got %r' % (value,))
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError('poll_interval must be a number of seconds, got %r' % (value,))
    if not 0 < seconds <= POLL_INTERVAL_MAX:
        raise ValueError('poll_interval must be more than 0 and at most %d seconds, got %r' % (POLL_INTERVAL_MAX, value))
    return seconds


def distribution_of_facts(facts):
    """The builtin's distribution dict (name, version, family) from gathered facts; None when they lack a part."""
    facts = facts or {}
    name, version, family = (facts.get(key) for key in ('distribution', 'distribution_version', 'os_family'))
    if not (name and version and family):
        return None
    return {'name': to_text(name).lower(), 'version': to_text(version).split('.')[0], 'family': to_text(family).lower()}


def find_command_script(command, paths):
    """A POSIX sh script that prints the first executable PATHS/COMMAND and fails without one."""
    candidates = ' '.join(shlex.quote('%s/%s' % (path.rstrip('/'), command)) for path in paths)
    return 'for candidate in %s; do if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi; done; exit 1' % candidates


class ActionModule(BuiltinReboot):

    _VALID_ARGS = BuiltinReboot._VALID_ARGS | frozenset(('poll_interval',))

    def run(self, tmp=None, task_vars=None):
        try:
            self._poll_interval = poll_interval(self._task.args.get('poll_interval'))
        except ValueError as exc:
            return {'failed': True, 'rebooted': False, 'changed': False, 'msg': str(exc)}
        return super(ActionModule, self).run(tmp, task_vars)

    def get_distribution(self, task_vars):
        known = distribution_of_facts((task_vars or {}).get('ansible_facts'))
        if known is not None:
            return known
        return super(ActionModule, self).get_distribution(task_vars)

    def get_shutdown_command(self, task_vars, distribution):
        if self._task.args.get('reboot_command') is not None:
            return super(ActionModule, self).get_shutdown_command(task_vars, distribution)
        command = self._get_value_from_facts('SHUTDOWN_COMMANDS', distribution, 'DEFAULT_SHUTDOWN_COMMAND')
        if command.startswith('/'):
            return command
        try:
            paths = check_type_list(self._task.args.get('search_paths', SEARCH_PATHS))
        except TypeError:
            # The builtin says what is wrong with it.
            return super(ActionModule, self).get_shutdown_command(task_vars, distribution)
        found = self._low_level_execute_command(find_command_script(command, paths), sudoable=False)
        lines = to_text(found.get('stdout', '')).strip().splitlines()
        if found.get('rc') == 0 and lines and lines[0].startswith('/'):
            return lines[0]
        # Not found by the script (or no POSIX shell): the builtin's own search, and its error.
        return super(ActionModule, self).get_shutdown_command(task_vars, distribution)

    def do_until_success_or_timeout(self, action, reboot_timeout, action_desc, distribution, action_kwargs=None):
        interval = getattr(self, '_poll_interval', DEFAULT_POLL_INTERVAL)
        deadline = time.monotonic() + reboot_timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                action(distribution=distribution, **(action_kwargs or {}))
                return
            # As the builtin: anything is tried again (a refused connection, an unchanged boot id) until the timeout.
            except Exception as exc:  # pylint: disable=broad-except
                if isinstance(exc, AnsibleConnectionFailure):
                    try:
                        self._connection.reset()
                    except AnsibleConnectionFailure:
                        pass
                last_error = exc
                if action_desc:
                    lines = to_text(exc).strip().splitlines()
                    display.vvv('%s: %s failed (%s), asking again in %.1f s'
                                % (self._task.action, action_desc, lines[-1] if lines else type(exc).__name__, interval))
                time.sleep(max(0.0, min(interval, deadline - time.monotonic())))
        raise TimedOutException('Timed out waiting for %s (timeout=%s)%s' % (
            action_desc, reboot_timeout, '; last error: %s' % to_text(last_error).strip() if last_error else ''))

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout role's names: options (meta/argument_specs.yml) are rollout_*, everything else the role sets is
__rollout_*; the playbooks read no internal but the plan their play keywords need; the report callback knows
no name of the role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT

ROLE = os.path.join(ROOT, 'roles', 'rollout')
# What the playbooks may read of the role's internals: the plan of their play keywords.
PLAYBOOK_INTERNALS = {'__rollout_plan'}


def _options():
    with open(os.path.join(ROLE, 'meta', 'argument_specs.yml')) as handle:
        specs = yaml.safe_load(handle)['argument_specs']
    return set(name for entry in specs.values() for name in entry.get('options', {}))


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for section in ('block', 'rescue', 'always'):
            yield from _tasks(task.get(section))


def _set_names():
    """(file, name) of every variable a task of the role sets: set_fact, register, vars."""
    for path in sorted(glob.glob(os.path.join(ROLE, 'tasks', '*.yml'))):
        with open(path) as handle:
            for task in _tasks(yaml.safe_load(handle)):
                names = list(task.get('vars') or {})
                if task.get('register'):
                    names.append(task['register'])
                for action in ('ansible.builtin.set_fact', 'set_fact'):
                    names.extend(key for key in task.get(action) or {} if key != 'cacheable')
                for name in names:
                    yield os.path.basename(path), name


def test_the_role_sets_only_internals_and_options():
    options = _options()
    assert options and all(name.startswith('rollout_') for name in options)
    found = list(_set_names())
    assert ('report.yml', '__rollout_report') in found
    wrong = [(path, name) for path, name in found
             if name not in options and not name.startswith('__rollout_')
             # Variables of another role, given to it by the include (host.yml sets the kernel role's).
             and not name.startswith(('kernel_', 'boot_params_', 'zram_'))]
    assert not wrong, 'internal variables of the rollout role are named __rollout_<name>: %s' % wrong
    assert not [(path, name) for path, name in found if name in options], 'a task must not set an option'


def test_the_playbooks_read_options_and_only_the_plan_of_the_internals():
    options = _options()
    for name in ('deploy.yml', 'rollback.yml', 'check.yml'):
        with open(os.path.join(ROOT, 'playbooks', name)) as handle:
            used = set(re.findall(r'(?<![A-Za-z0-9_])_*rollout_[a-z0-9_]+', handle.read()))
        assert used <= options | PLAYBOOK_INTERNALS, (name, sorted(used - options - PLAYBOOK_INTERNALS))


def test_the_report_knows_no_name_of_the_role():
    for path in ('plugins/callback/hyperion_report.py', 'plugins/plugin_utils/fleet_report.py'):
        with open(os.path.join(ROOT, path)) as handle:
            assert 'rollout_' not in handle.read(), path

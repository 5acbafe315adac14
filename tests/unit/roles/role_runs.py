# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a role of the collection with the real ansible-playbook against local hosts and read what happened.

The input tests of the roles use it: a refused value must fail the role's first check, with no task
before it but validation, none after it, and none reporting a change. The runs are in check mode, so
a check that stops refusing (a regression) shows up as tasks that ran and "changed" (check mode
reports what would change) instead of changing the machine the tests run on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess
import sys

import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import JSON_STDOUT_CALLBACK, ansible_command, ansible_env
# The implicit first task of a role with meta/argument_specs.yml.
ARG_SPEC_TASK = 'Validating arguments against arg spec'


def run_role(tmp_path, role, hosts, extra_args=(), gather_facts=False, check=True):
    """Run ROLE once on the local HOSTS ({name: {variable: value}}); (returncode, document, stderr).

    Every host is this machine (connection local, this Python); its variables come from the inventory,
    EXTRA_ARGS (such as -e) go to ansible-playbook as they are.
    """
    inventory = {'all': {'hosts': dict(
        (name, dict(variables, ansible_connection='local', ansible_python_interpreter=sys.executable))
        for name, variables in hosts.items())}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    (tmp_path / 'playbook.yml').write_text(yaml.safe_dump([{
        'name': 'Run the role', 'hosts': 'all', 'gather_facts': gather_facts, 'roles': [role]}]))
    env = ansible_env(tmp_path, ANSIBLE_STDOUT_CALLBACK=JSON_STDOUT_CALLBACK)
    command = [ansible_command('ansible-playbook'), '-i', str(tmp_path / 'inventory.yml'),
               str(tmp_path / 'playbook.yml')] + (['--check'] if check else []) + list(extra_args)
    proc = subprocess.run(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    assert '{' in proc.stdout, 'ansible-playbook printed no JSON: %s %s' % (proc.stdout, proc.stderr)
    # The report callback's summary may follow the JSON document.
    document = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index('{'):])[0]
    return proc.returncode, document, proc.stderr


def host_tasks(document, host):
    """[(task name without the role prefix, result)] of HOST, in the order the tasks ran."""
    tasks = []
    for play in document['plays']:
        for task in play['tasks']:
            if host in task['hosts']:
                tasks.append((task['task']['name'].split(' : ', 1)[-1], task['hosts'][host]))
    return tasks


def assert_refused_first(document, host, check_task, expected, before=()):
    """HOST failed at CHECK_TASK with every string of EXPECTED in its message, ran nothing else but the
    argument spec validation and the read-only tasks BEFORE (names, in order) before it, nothing after
    it, and no task reported a change.

    CHECK_TASK may be ARG_SPEC_TASK: a value the argument spec itself refuses (a choice, a type)."""
    tasks = host_tasks(document, host)
    names = [name for name, _result in tasks]
    assert names and names[0].startswith(ARG_SPEC_TASK), (host, names)
    if check_task == ARG_SPEC_TASK:
        assert len(tasks) == 1, (host, names)
    else:
        assert names[1:] == list(before) + [check_task], (host, names)
        assert not any(result.get('failed') for _name, result in tasks[:-1]), (host, tasks)
    check = tasks[-1][1]
    assert check.get('failed'), (host, 'the check passed', check.get('msg'))
    message = check.get('msg', '')
    for text in expected:
        assert text in message, (host, text, message)
    # The role's message shows a bad value's newline as \n instead of breaking its own line (Ansible's
    # own argument spec message is not the role's to change).
    assert check_task == ARG_SPEC_TASK or '\n' not in message, (host, message)
    assert not any(result.get('changed') for _name, result in tasks), (host, tasks)
    stats = document['stats'][host]
    assert stats['changed'] == 0 and stats['failures'] == 1, (host, stats)
    return message

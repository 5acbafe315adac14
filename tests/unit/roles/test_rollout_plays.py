# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""deploy.yml's plays through the real ansible-playbook on this machine, as far as they go without a VM:
every host is this machine over the local connection, and a preflight that cannot pass (an architecture
no machine has) stops each host before anything could change. What is left to see: which plays reach
which host (the groups the converged play builds) and what the report says of each."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import (
    ROOT, ansible_command, ansible_env, collections_path)

PLAYBOOK = ansible_command('ansible-playbook')

pytestmark = pytest.mark.skipif(not os.path.isdir(collections_path()) or not os.path.exists(PLAYBOOK),
                                reason='needs `make setup` (venv with ansible and the collection link)')


def _deploy(tmp_path, hosts, canaries, extra_groups=None):
    """Run deploy.yml on HOSTS (CANARIES among them); (process, {host: report row})."""
    fleet_vars = {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
        # The play's become stays off on the machine that runs the tests.
        'ansible_become': False,
        'rollout_architectures': ['no-such-architecture'],
        'rollout_converged_record': str(tmp_path / 'converged-{{ inventory_hostname }}.json'),
    }
    children = {'hyperion_fleet': {'hosts': dict((name, {}) for name in hosts), 'vars': fleet_vars}}
    if canaries:
        children['canary'] = {'hosts': dict((name, {}) for name in canaries)}
    children.update(extra_groups or {})
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump({'all': {'children': children}}))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'inventory.yml'), os.path.join(ROOT, 'playbooks', 'deploy.yml')],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=ansible_env(tmp_path), cwd=str(tmp_path), check=False)
    assert 'Traceback' not in proc.stdout, proc.stdout
    with open(str(tmp_path / 'reports' / 'latest' / 'report.json')) as handle:
        report = json.load(handle)
    return proc, dict((row['host'], row) for row in report['hosts'])


def test_a_failed_canary_preflight_leaves_the_other_hosts_untouched(tmp_path):
    proc, rows = _deploy(tmp_path, ['c1', 'b1', 'b2'], ['c1'])
    assert proc.returncode != 0
    assert rows['c1']['outcome'] == 'preflight_failed', rows
    assert rows['c1']['reason'].startswith('preflight: architecture '), rows['c1']
    # Only the canary was in the canaries' preflight; the run ended there.
    assert rows['b1']['outcome'] == rows['b2']['outcome'] == 'not_reached', rows
    assert 'PLAY [Preflight of the other hosts' not in proc.stdout


def test_without_canaries_each_host_fails_its_own_preflight_and_no_play_warns(tmp_path):
    proc, rows = _deploy(tmp_path, ['b1', 'b2'], [])
    assert proc.returncode != 0
    assert [rows[name]['outcome'] for name in ('b1', 'b2')] == ['preflight_failed'] * 2, rows
    # The canaries' plays have no host: skipped, without a warning about a pattern that matched nothing.
    assert 'skipping: no hosts matched' in proc.stdout
    assert 'Could not match supplied host pattern' not in proc.stdout, proc.stdout


def test_an_inventory_group_of_the_rollout_names_is_refused(tmp_path):
    proc, rows = _deploy(tmp_path, ['b1'], [], extra_groups={'hyperion_rollout_batches': {'hosts': {'other': {}}}})
    assert proc.returncode != 0
    assert 'the inventory has groups named hyperion_rollout_* (hyperion_rollout_batches)' in proc.stdout
    assert 'other' not in rows, rows
    assert 'PLAY [Preflight' not in proc.stdout


def test_a_deferred_canary_is_reported_and_is_no_proof(tmp_path):
    # A window that starts an hour from now: the controller's time is outside it.
    start = datetime.datetime.now() + datetime.timedelta(hours=1)
    window = '%s-%s' % (start.strftime('%H:%M'), (start + datetime.timedelta(hours=1)).strftime('%H:%M'))
    host = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
            'rollout_defer_active_sessions': False}
    inventory = {'all': {'hosts': {'deferred': dict(host, rollout_maintenance_window=window), 'idle': host}}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    role_play = [{'name': name, 'hosts': 'all', 'gather_facts': False, 'tasks': [{
        'name': name, 'ansible.builtin.include_role': {'name': 'hyperion.kernel.rollout', 'tasks_from': tasks}}]}
        for name, tasks in (('Defer', 'availability'), ('Prove', 'proven'))]
    (tmp_path / 'playbook.yml').write_text(yaml.safe_dump(role_play))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'inventory.yml'), str(tmp_path / 'playbook.yml')],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=ansible_env(tmp_path), cwd=str(tmp_path), check=False)
    assert proc.returncode != 0, proc.stdout
    with open(str(tmp_path / 'reports' / 'latest' / 'report.json')) as handle:
        rows = dict((row['host'], row) for row in json.load(handle)['hosts'])
    assert rows['deferred']['outcome'] == 'deferred', rows
    assert rows['deferred']['reason'].startswith('outside the maintenance window %s (controller time ' % window)
    assert 'canary deferred is deferred (outside the maintenance window %s' % window in proc.stdout
    # A host that published nothing was not rolled out: no proof either.
    assert rows['idle']['outcome'] == 'failed', rows
    assert 'canary idle is not rolled out ()' in rows['idle']['reason']

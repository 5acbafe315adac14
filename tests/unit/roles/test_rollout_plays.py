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
        'rollout_staged_record': str(tmp_path / 'staged-{{ inventory_hostname }}.json'),
        'rollout_snapshot_dir': str(tmp_path / 'previous-state-{{ inventory_hostname }}'),
        # The guard would be installed on this machine, which the hosts here are.
        'rollout_trial_guard': False,
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


# Staging on this machine: the preflight passes on a made-up root (HYPERION_PREFLIGHT_ROOT), and what would
# change it is replaced in a copy of the collection: the host roles of the staging are stubs (the kernel one
# fails for a host whose kernel_file is "broken") and kernel_cmdline changes nothing. No host gets past
# `availability` (a maintenance window that starts in an hour defers each one), so nothing reboots.
STUB_ROLES = ('kernel', 'boot_params', 'zram', 'network', 'tuning')
STUB_CMDLINE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(params=dict(type='list', elements='dict'), grub_dropin=dict(type='str')))
    module.exit_json(changed=False)


if __name__ == '__main__':
    main()
'''
STUB_KERNEL = [
    {'name': 'Refuse a broken package', 'ansible.builtin.fail': {'msg': 'the test refuses this package'},
     'when': "kernel_file | default('') == 'broken'"},
    {'name': 'Install', 'ansible.builtin.set_fact': {'kernel_installed_release': '9.9.9-hyperion'}},
]


def _link_all_but(source, target, kept):
    os.makedirs(target)
    for name in os.listdir(source):
        if name not in kept:
            os.symlink(os.path.join(source, name), os.path.join(target, name))


def _stub_collection(tmp_path):
    base = tmp_path / 'collections'
    top = str(base / 'ansible_collections' / 'hyperion' / 'kernel')
    _link_all_but(ROOT, top, ('roles', 'plugins', '.build', '.venv', '.git'))
    _link_all_but(os.path.join(ROOT, 'roles'), os.path.join(top, 'roles'), STUB_ROLES)
    for role in STUB_ROLES:
        os.makedirs(os.path.join(top, 'roles', role, 'tasks'))
        tasks = STUB_KERNEL if role == 'kernel' else [{'name': 'Configure', 'ansible.builtin.debug': {'msg': role}}]
        with open(os.path.join(top, 'roles', role, 'tasks', 'main.yml'), 'w') as handle:
            handle.write(yaml.safe_dump(tasks))
    _link_all_but(os.path.join(ROOT, 'plugins'), os.path.join(top, 'plugins'), ('modules',))
    _link_all_but(os.path.join(ROOT, 'plugins', 'modules'), os.path.join(top, 'plugins', 'modules'), ('kernel_cmdline.py',))
    with open(os.path.join(top, 'plugins', 'modules', 'kernel_cmdline.py'), 'w') as handle:
        handle.write(STUB_CMDLINE)
    # A root where the preflight finds GRUB with grub-reboot.
    root = tmp_path / 'root'
    for name in ('etc/default/grub', 'usr/sbin/update-grub', 'usr/sbin/grub-reboot'):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text('')
    (root / 'boot').mkdir()
    return str(base), str(root)


def _staged_deploy(tmp_path, hosts, canaries, broken):
    """Run deploy.yml on HOSTS (CANARIES among them) with the stubs; the hosts of BROKEN fail their staging.
    (process, {host: report row}, {host: what it published under hyperion_report})."""
    collections, root = _stub_collection(tmp_path)
    start = datetime.datetime.now() + datetime.timedelta(hours=1)
    fleet_vars = {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable, 'ansible_become': False,
        'rollout_boot_min_free_mib': 1, 'rollout_allow_secure_boot': True, 'rollout_defer_active_sessions': False,
        'rollout_architectures': [os.uname()[4]],
        'rollout_maintenance_window': '%s-%s' % (start.strftime('%H:%M'), (start + datetime.timedelta(hours=1)).strftime('%H:%M')),
        'rollout_converged_record': str(tmp_path / 'converged-{{ inventory_hostname }}.json'),
        'rollout_staged_record': str(tmp_path / 'staged-{{ inventory_hostname }}.json'),
        'rollout_snapshot_dir': str(tmp_path / 'previous-state-{{ inventory_hostname }}'),
        # The guard would be installed on this machine, which the hosts here are.
        'rollout_trial_guard': False,
        'rollout_state_file': str(tmp_path / 'state-{{ inventory_hostname }}.fact'),
        'kernel_file': "{{ 'broken' if inventory_hostname in %r else 'good' }}" % (list(broken),),
    }
    children = {'hyperion_fleet': {'hosts': dict((name, {}) for name in hosts), 'vars': fleet_vars}}
    if canaries:
        children['canary'] = {'hosts': dict((name, {}) for name in canaries)}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump({'all': {'children': children}}))
    env = ansible_env(tmp_path, HYPERION_PREFLIGHT_ROOT=root, ANSIBLE_SHOW_CUSTOM_STATS='1', ANSIBLE_CALLBACK_RESULT_FORMAT='json',
                      ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(
                          [collections] + [p for p in [os.environ.get('HYPERION_TEST_DEPENDENCIES')] if p]))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'inventory.yml'),
                           os.path.join(collections, 'ansible_collections', 'hyperion', 'kernel', 'playbooks', 'deploy.yml')],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=env, cwd=str(tmp_path), check=False)
    assert 'Traceback' not in proc.stdout, proc.stdout
    with open(str(tmp_path / 'reports' / 'latest' / 'report.json')) as handle:
        rows = dict((row['host'], row) for row in json.load(handle)['hosts'])
    # The default callback's CUSTOM STATS: one line per host, its data as JSON.
    published = {}
    stats = proc.stdout.split('CUSTOM STATS:', 1)[-1] if 'CUSTOM STATS:' in proc.stdout else ''
    for line in stats.splitlines():
        name, _sep, data = line.strip().partition(': ')
        if name in hosts and data.startswith('{'):
            published[name] = json.loads(data)['hyperion_report']
    return proc, rows, published


def _phase_ok(phase):
    stamp = '%Y-%m-%dT%H:%M:%SZ'
    start, end = (datetime.datetime.strptime(phase[key], stamp) for key in ('start', 'end'))
    return start <= end and set(phase) == {'start', 'end', 'result'}


def test_a_host_that_fails_staging_is_left_out_and_the_others_go_on(tmp_path):
    proc, rows, published = _staged_deploy(tmp_path, ['b1', 'b2', 'b3'], [], broken=['b2'])
    assert proc.returncode != 0
    assert rows['b2']['outcome'] == 'staging_failed', rows
    assert rows['b2']['reason'].startswith('staging (nothing rebooted, the old kernel stays the default): '), rows['b2']
    assert 'the test refuses this package' in rows['b2']['reason']
    assert published['b2']['phases']['staging']['result'] == 'failed', published
    # The others were staged (their release is reported) and reached their batch, where the window defers them.
    for name in ('b1', 'b3'):
        assert rows[name]['outcome'] == 'deferred', rows
        assert rows[name]['target_release'] == '9.9.9-hyperion', rows
        assert published[name]['phases']['staging']['result'] == 'ok', published
        assert _phase_ok(published[name]['phases']['staging'])
        # Not rebooted: no phase of the trial.
        assert set(published[name]['phases']) == {'staging'}, published
    assert 'PLAY [Roll out to the other hosts in batches]' in proc.stdout
    batches = proc.stdout.split('PLAY [Roll out to the other hosts in batches]', 1)[1]
    assert '[b2]' not in batches and '[b1]' in batches and '[b3]' in batches, batches


def test_a_canary_that_fails_staging_ends_the_run_before_any_reboot(tmp_path):
    proc, rows, published = _staged_deploy(tmp_path, ['c1', 'b1'], ['c1'], broken=['c1'])
    assert proc.returncode != 0
    assert rows['c1']['outcome'] == 'staging_failed', rows
    # b1 was staged beside the canary, then the run ended: never rebooted, and the next run picks it up.
    assert rows['b1']['outcome'] == 'not_reached', rows
    assert published['b1']['phases']['staging']['result'] == 'ok', published
    assert 'canary c1 is staging_failed (staging (nothing rebooted' in proc.stdout
    assert 'PLAY [Roll out to the canaries' not in proc.stdout
    assert 'PLAY [Roll out to the other hosts in batches]' not in proc.stdout
    assert not (tmp_path / 'converged-b1.json').exists()


def test_the_phases_reach_the_report_with_their_names(tmp_path):
    proc, rows, published = _staged_deploy(tmp_path, ['b1'], [], broken=[])
    assert rows['b1']['outcome'] == 'deferred', (rows, proc.stdout)
    assert list(published['b1']['phases']) == ['staging'], published
    assert _phase_ok(published['b1']['phases']['staging'])
    # The callback's report.json carries the phases once its drawing side reads them (same names).
    if 'phases' in rows['b1']:
        assert rows['b1']['phases'] == published['b1']['phases'], rows['b1']


def test_a_batch_is_not_started_when_the_window_ends_before_it_could_finish(tmp_path):
    # Windows that started ten minutes ago: one ends in twenty minutes, less than the batch's thirty; one in two hours.
    now = datetime.datetime.now()
    if now.hour == 23 and now.minute >= 50 or now.hour == 0 and now.minute < 10:
        pytest.skip('the windows of this test would cross midnight in a way the test does not spell out')
    start = now - datetime.timedelta(minutes=10)

    def window(minutes):
        return '%s-%s' % (start.strftime('%H:%M'), (now + datetime.timedelta(minutes=minutes)).strftime('%H:%M'))
    host = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
            'rollout_defer_active_sessions': False, 'rollout_batch_minutes': 30}
    inventory = {'all': {'hosts': {'closing': dict(host, rollout_maintenance_window=window(20)),
                                   'open': dict(host, rollout_maintenance_window=window(120))}}}
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    play = [{'name': 'Defer', 'hosts': 'all', 'gather_facts': False, 'tasks': [
        {'name': 'Defer', 'ansible.builtin.include_role': {'name': 'hyperion.kernel.rollout', 'tasks_from': 'availability'}},
        {'name': 'Reached the batch', 'ansible.builtin.debug': {'msg': 'batch starts on {{ inventory_hostname }}'}}]}]
    (tmp_path / 'playbook.yml').write_text(yaml.safe_dump(play))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'inventory.yml'), str(tmp_path / 'playbook.yml')],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=ansible_env(tmp_path), cwd=str(tmp_path), check=False)
    with open(str(tmp_path / 'reports' / 'latest' / 'report.json')) as handle:
        rows = dict((row['host'], row) for row in json.load(handle)['hosts'])
    assert rows['closing']['outcome'] == 'deferred', rows
    assert rows['closing']['reason'].startswith('the maintenance window %s ends in ' % window(20)), rows['closing']
    assert 'less than a batch takes (rollout_batch_minutes 30)' in rows['closing']['reason']
    assert 'batch starts on open' in proc.stdout and 'batch starts on closing' not in proc.stdout, proc.stdout

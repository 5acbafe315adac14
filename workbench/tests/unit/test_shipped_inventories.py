# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped inventories as Ansible reads them: every variable they set templates for every host,
every login that is not root has a way to escalate in every play that works on the fleet, and the
demo inventory (the VM lab the tests run) shares its policies with the site inventories."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import JSON_STDOUT_CALLBACK, ansible_env

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
INVENTORIES = os.path.join(REPO, 'inventories')
SHIPPED = sorted(name for name in os.listdir(INVENTORIES) if os.path.isdir(os.path.join(INVENTORIES, name)))
FLEET_PLAYBOOKS = ('deploy.yml', 'rollback.yml', 'check.yml')
# Templates every variable the inventory sets, for every host of the fleet, as a play would: the real
# ansible-playbook, no connection (debug needs none).
TEMPLATE_PLAYBOOK = """\
- name: Template the inventory's variables
  hosts: hyperion_fleet
  gather_facts: false
  tasks:
    - name: Template them
      ansible.builtin.debug:
        msg: "{{ dict(names | zip(query('ansible.builtin.vars', *names, default='(unset)'))) | to_json }}"
"""


def _demo_copy(tmp_path):
    """The demo inventory beside a workbench/lab/run/demo/machines.json that the lab's own code wrote, as after
    `make lab-up` (the inventory reads how to reach each machine from there)."""
    sys.path.insert(0, os.path.join(REPO, 'workbench', 'lab'))
    try:
        from hyperion_lab import machines
        from hyperion_lab.inventory import machine_records
    finally:
        sys.path.pop(0)
    shutil.copytree(os.path.join(INVENTORIES, 'demo'), str(tmp_path / 'inventories' / 'demo'))
    planned = machines.plan('demo', list(machines.DEMO_NAMES), 'trixie', available_mib=10 ** 6)
    for port, machine in enumerate(planned, start=2201):
        machine.ssh_port = port
    run_dir = tmp_path / 'workbench' / 'lab' / 'run' / 'demo'
    run_dir.mkdir(parents=True)
    (run_dir / 'machines.json').write_text(json.dumps(machine_records(planned, '/keys/id_ed25519')))
    return str(tmp_path / 'inventories' / 'demo')


def _inventory_dir(name, tmp_path):
    return _demo_copy(tmp_path) if name == 'demo' else os.path.join(INVENTORIES, name)


def _variable_names(directory):
    """Every variable the inventory's group_vars and host_vars files set."""
    names = set()
    for sub in ('group_vars', 'host_vars'):
        for top, _dirs, files in os.walk(os.path.join(directory, sub)):
            for name in files:
                if name.endswith(('.yml', '.yaml')):
                    with open(os.path.join(top, name)) as handle:
                        names.update((yaml.safe_load(handle) or {}).keys())
    return names


def _templated(directory, tmp_path):
    """{host: {variable: templated value}} of every variable the inventory sets, or the failures."""
    playbook = tmp_path / 'template-inventory.yml'
    playbook.write_text(TEMPLATE_PLAYBOOK)
    names = sorted(_variable_names(directory) | {'ansible_user', 'ansible_become', 'hyperion_profile_overrides',
                                                 'hyperion_profile_overlays'})
    env = ansible_env(tmp_path, ANSIBLE_STDOUT_CALLBACK=JSON_STDOUT_CALLBACK)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', directory, str(playbook),
                           '-e', json.dumps({'names': names})], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env, cwd=str(tmp_path), check=False)
    document = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index('{'):])[0]
    results = document['plays'][0]['tasks'][0]['hosts']
    failed = dict((host, result.get('msg')) for host, result in results.items() if result.get('failed'))
    assert proc.returncode == 0 and not failed, 'variables that do not template: %s %s' % (failed, proc.stderr)
    return dict((host, json.loads(result['msg'])) for host, result in results.items())


def _fleet_plays():
    for playbook in FLEET_PLAYBOOKS:
        with open(os.path.join(REPO, 'playbooks', playbook)) as handle:
            for play in yaml.safe_load(handle):
                # The controller's own plays (localhost, connection local) log in nowhere.
                if play.get('hosts') not in (None, 'localhost') and play.get('connection') != 'local':
                    yield playbook, play


@pytest.mark.parametrize('name', SHIPPED)
def test_every_variable_templates_for_every_host(name, tmp_path):
    directory = _inventory_dir(name, tmp_path)
    hosts = _templated(directory, tmp_path)
    assert hosts, '%s has no host in hyperion_fleet' % name
    for host, values in hosts.items():
        assert values['hyperion_profile_overlays'], (name, host)


@pytest.mark.parametrize('name', SHIPPED)
def test_a_login_that_is_not_root_can_escalate_in_every_fleet_play(name, tmp_path):
    plays = list(_fleet_plays())
    assert len(plays) >= 10, plays
    for host, values in _templated(_inventory_dir(name, tmp_path), tmp_path).items():
        if values['ansible_user'] == 'root' or values['ansible_become'] not in ('(unset)', False, 'false', 'no'):
            continue
        lacking = ['%s: %s' % (playbook, play.get('name')) for playbook, play in plays if play.get('become') is not True]
        assert not lacking, '%s logs in to %s as %s, and these plays do not escalate: %s' % (
            name, host, values['ansible_user'].replace('(unset)', '(the controller user)'), lacking)


def test_the_site_inventories_log_in_unprivileged(tmp_path):
    for name in SHIPPED:
        for host, values in _templated(_inventory_dir(name, tmp_path / name), tmp_path).items():
            assert values['ansible_user'] == 'ansible', (name, host)


@pytest.mark.parametrize('group, site', [('gaming_cafe', 'gaming-cafe'), ('lab', 'lab')])
def test_the_demo_runs_the_site_policies(group, site):
    """What the tests run is what ships: the demo's policy group_vars are the site inventories' files."""
    demo = os.path.join(INVENTORIES, 'demo', 'group_vars', group)
    shipped = os.path.join(INVENTORIES, site, 'group_vars', group)
    assert sorted(os.listdir(demo)) == sorted(os.listdir(shipped))
    for name in os.listdir(demo):
        assert os.path.realpath(os.path.join(demo, name)) == os.path.realpath(os.path.join(shipped, name)), name


def test_the_demo_has_the_site_group_structure(tmp_path):
    groups = {}
    for name in ('demo', 'gaming-cafe', 'lab'):
        listing = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i',
                                  _inventory_dir(name, tmp_path / name), '--list'], stdout=subprocess.PIPE,
                                 universal_newlines=True, check=True).stdout
        groups[name] = set(key for key, value in json.loads(listing).items() if isinstance(value, dict) and key != '_meta')
    assert {'hyperion_fleet', 'canary', 'gaming_cafe'} <= groups['gaming-cafe'] & groups['demo'], groups
    assert {'hyperion_fleet', 'canary', 'lab'} <= groups['lab'] & groups['demo'], groups

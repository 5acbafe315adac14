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
import sys

import pytest
import yaml

from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar
from ansible.vars.manager import VariableManager

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
INVENTORIES = os.path.join(REPO, 'inventories')
SHIPPED = sorted(name for name in os.listdir(INVENTORIES) if os.path.isdir(os.path.join(INVENTORIES, name)))
FLEET_PLAYBOOKS = ('deploy.yml', 'rollback.yml', 'check.yml')
# Lookups in the inventories (ansible.builtin.file, hyperion.kernel.test_kernel) load as in ansible-playbook.
init_plugin_loader([os.path.join(REPO, '.build', 'collections')])


def _demo_copy(tmp_path):
    """The demo inventory beside a lab/run/demo/machines.json that the lab's own code wrote, as after
    `make lab-up` (the inventory reads how to reach each machine from there)."""
    sys.path.insert(0, os.path.join(REPO, 'lab'))
    try:
        from hyperion_lab import machines
        from hyperion_lab.inventory import machine_records
    finally:
        sys.path.pop(0)
    shutil.copytree(os.path.join(INVENTORIES, 'demo'), str(tmp_path / 'inventories' / 'demo'))
    planned = machines.plan('demo', list(machines.DEMO_NAMES), 'trixie', available_mib=10 ** 6)
    for port, machine in enumerate(planned, start=2201):
        machine.ssh_port = port
    run_dir = tmp_path / 'lab' / 'run' / 'demo'
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


def _hosts(directory):
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[directory])
    variables = VariableManager(loader=loader, inventory=inventory)
    for host in inventory.get_hosts('hyperion_fleet'):
        yield host.name, Templar(loader=loader, variables=variables.get_vars(host=host))


def _fleet_plays():
    for playbook in FLEET_PLAYBOOKS:
        with open(os.path.join(REPO, 'playbooks', playbook)) as handle:
            for play in yaml.safe_load(handle):
                if play.get('hosts') not in (None, 'localhost'):
                    yield playbook, play


@pytest.mark.parametrize('name', SHIPPED)
def test_every_variable_templates_for_every_host(name, tmp_path):
    directory = _inventory_dir(name, tmp_path)
    names = _variable_names(directory)
    assert 'hyperion_profile_overlays' in names or name == 'demo', names
    hosts = 0
    for host, templar in _hosts(directory):
        hosts += 1
        for variable in sorted(names | {'ansible_user', 'hyperion_profile_overrides', 'hyperion_profile_overlays'}):
            if templar.available_variables.get(variable) is None:
                continue
            try:
                templar.template(templar.available_variables[variable])
            except Exception as exc:  # pylint: disable=broad-except
                pytest.fail('%s: %s of %s does not template: %s' % (name, variable, host, exc))
    assert hosts > 0, '%s has no host in hyperion_fleet' % name


@pytest.mark.parametrize('name', SHIPPED)
def test_a_login_that_is_not_root_can_escalate_in_every_fleet_play(name, tmp_path):
    plays = list(_fleet_plays())
    assert len(plays) >= 10, plays
    for host, templar in _hosts(_inventory_dir(name, tmp_path)):
        login = templar.template(templar.available_variables.get('ansible_user', '(the controller user)'))
        if login == 'root' or templar.template(templar.available_variables.get('ansible_become', False)):
            continue
        lacking = ['%s: %s' % (playbook, play.get('name')) for playbook, play in plays if play.get('become') is not True]
        assert not lacking, '%s logs in to %s as %s, and these plays do not escalate: %s' % (name, host, login, lacking)


def test_the_site_inventories_log_in_unprivileged(tmp_path):
    for name in SHIPPED:
        for host, templar in _hosts(_inventory_dir(name, tmp_path)):
            assert templar.template(templar.available_variables['ansible_user']) == 'ansible', (name, host)


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
        inventory = InventoryManager(loader=DataLoader(), sources=[_inventory_dir(name, tmp_path / name)])
        groups[name] = set(inventory.groups)
    assert {'hyperion_fleet', 'canary', 'gaming_cafe'} <= groups['gaming-cafe'] & groups['demo']
    assert {'hyperion_fleet', 'canary', 'lab'} <= groups['lab'] & groups['demo']

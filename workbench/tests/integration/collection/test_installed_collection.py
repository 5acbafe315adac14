# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as a user has it: built, installed with exactly its declared dependencies, and
used with nothing else visible (`make test-collection-install`, seconds).

workbench/tools/install-collection builds the tarball and installs it with the dependencies of galaxy.yml
from the ansible package of this environment (`make collection-install`). Every command here runs
with ANSIBLE_COLLECTIONS_PATH set to that directory alone and ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false,
as the molecule scenarios do, so the ansible package's own collections are invisible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible.galaxy.dependency_resolution.versioning import meets_requirements

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
BIN = os.path.dirname(sys.executable)
OWN = 'hyperion.kernel'
# Plugins whose every file is one plugin of that name.
PLUGIN_DIRS = {'modules': 'module', 'lookup': 'lookup', 'callback': 'callback'}
# Filters of host_config.py and convergence.py carry no documentation yet: they must load, and
# ansible-doc must find them in the installed copy, but it has nothing to show.
UNDOCUMENTED_OK = ('filter',)

NETWORK_ROLE_PLAY = """\
- name: Load the network role (community.general.modprobe, ansible.utils.ipaddr)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Import it, so that its tasks are loaded and their modules resolved
      ansible.builtin.import_role:
        name: hyperion.kernel.network
"""


def _scanner():
    """The unit tests' scan of the content (tests/unit/test_collection_dependencies.py)."""
    spec = importlib.util.spec_from_file_location(
        'collection_dependencies', os.path.join(ROOT, 'tests', 'unit', 'test_collection_dependencies.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declared():
    with open(os.path.join(ROOT, 'galaxy.yml')) as stream:
        return yaml.safe_load(stream).get('dependencies') or {}


def only(path, scan_sys_path=False):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=path,
               ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    env.pop('PYTHONPATH', None)
    if not scan_sys_path:
        env['ANSIBLE_COLLECTIONS_SCAN_SYS_PATH'] = 'false'
    return env


def run(argv, env, cwd=ROOT):
    return subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)


@pytest.fixture(scope='module')
def installed():
    """The collections path of `make collection-install` (built and installed now if the sources changed)."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'workbench', 'tools', 'install-collection')],
                            stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return result.stdout.strip()


def test_ansible_sees_exactly_the_collection_and_its_declared_dependencies(installed):
    result = run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'list', '--format', 'json'], only(installed))
    assert result.returncode == 0, result.stderr
    seen = {}
    for collections in json.loads(result.stdout).values():
        for name, info in collections.items():
            if not name.startswith('ansible._'):  # ansible-core's own internal collection
                seen[name] = info['version']
    wanted = declared()
    assert wanted, 'galaxy.yml declares no dependencies'
    assert set(seen) == {OWN} | set(wanted), seen
    for name, minimum in wanted.items():
        assert meets_requirements(seen[name], minimum), '%s %s installed, galaxy.yml wants %s' % (name, seen[name], minimum)


def test_every_plugin_and_role_loads_from_the_installed_copy(installed):
    """ansible-doc of every plugin and role's argument spec, in one call that goes on past errors."""
    env = only(installed)
    result = run([os.path.join(BIN, 'ansible-doc'), '--metadata-dump', '--no-fail-on-errors', OWN], env)
    assert result.returncode == 0, result.stderr
    dump = {kind: plugins for kind, plugins in json.loads(result.stdout)['all'].items() if kind != 'keyword'}
    installed_copy = os.path.join(installed, 'ansible_collections', 'hyperion', 'kernel') + os.sep

    # Everything of the checkout is in the installed copy.
    for plugin_dir, kind in sorted(PLUGIN_DIRS.items()):
        files = {os.path.splitext(name)[0] for name in os.listdir(os.path.join(ROOT, 'plugins', plugin_dir))} - {'__init__'}
        assert set(dump.get(kind, {})) == {'%s.%s' % (OWN, name) for name in files}, (kind, sorted(dump.get(kind, {})))
    roles = {name for name in os.listdir(os.path.join(ROOT, 'roles'))
             if os.path.isfile(os.path.join(ROOT, 'roles', name, 'meta', 'argument_specs.yml'))}
    assert set(dump.get('role', {})) == {'%s.%s' % (OWN, name) for name in roles}, sorted(dump.get('role', {}))
    assert dump.get('filter') and dump.get('lookup') and dump.get('callback')

    for kind, plugins in sorted(dump.items()):
        for name, data in sorted(plugins.items()):
            assert name.startswith(OWN + '.'), (kind, name)
            if 'error' not in data:
                assert data.get('doc') or data.get('entry_points'), (kind, name, sorted(data))
                continue
            # Found and loaded in the installed copy, only without documentation.
            assert kind in UNDOCUMENTED_OK and 'No documentation available' in data['error'], (kind, name, data['error'])
            assert "in '%s" % installed_copy in data['error'], (kind, name, data['error'])


def test_every_dependency_the_content_uses_loads(installed):
    """ansible-doc of each module, filter, test and lookup of another collection the content uses."""
    scanner = _scanner()
    uses = {}
    for _path, kind, name in scanner.scan_content().uses:
        if scanner.collection_of(name) not in scanner.OWN and kind in ('module', 'filter', 'test', 'lookup'):
            uses.setdefault(kind, set()).add(name)
    assert uses.get('module') and uses.get('filter'), uses
    env = only(installed)
    for kind, names in sorted(uses.items()):
        result = run([os.path.join(BIN, 'ansible-doc'), '-t', kind, '--json'] + sorted(names), env)
        assert result.returncode == 0, result.stderr
        docs = json.loads(result.stdout)
        for name in names:
            assert docs[name]['doc']['collection'] == scanner.collection_of(name), docs[name]['doc']
            assert docs[name]['doc']['filename'].startswith(installed + os.sep), docs[name]['doc']['filename']


def test_the_playbooks_and_scenarios_load(installed):
    env = only(installed)
    result = run([os.path.join(BIN, 'ansible-playbook'), '--syntax-check', 'deploy.yml', 'check.yml', 'rollback.yml',
                  '-i', 'inventories/demo'], env)
    assert result.returncode == 0, result.stdout + result.stderr
    # The scenarios' own playbooks run with only the installed copy as well (workbench/mk/deploy.mk, workbench/mk/host-config.mk).
    scenario_playbooks = []
    for scenario in ('rollout', 'host_config'):
        with open(os.path.join(ROOT, 'molecule', scenario, 'molecule.yml')) as stream:
            playbooks = yaml.safe_load(stream)['provisioner']['playbooks']
        scenario_playbooks += [os.path.normpath(os.path.join('molecule', scenario, path)) for path in playbooks.values()]
    scenario_playbooks.append('playbooks/build_test_kernel.yml')
    result = run([os.path.join(BIN, 'ansible-playbook'), '--syntax-check', '-i', 'localhost,'] + sorted(set(scenario_playbooks)), env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_profile_check_runs_on_this_machine(installed):
    """The module and its action plugin run; this machine drifts, so the task fails with a verdict."""
    env = dict(only(installed), ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    result = run([os.path.join(BIN, 'ansible'), 'localhost', '-m', 'hyperion.kernel.profile_check', '-a', 'profile=hyperion-2.2.4'], env)
    assert result.returncode in (0, 2), result.stdout + result.stderr
    status, _arrow, data = result.stdout.partition(' => ')
    assert status.strip().endswith(('localhost | SUCCESS', 'localhost | FAILED!')), result.stdout[:2000]
    host = json.loads(data)
    assert host['summary']['total'] > 100, sorted(host)
    assert host['summary']['failed_required'] or not host.get('failed'), host['summary']


def test_a_dependency_left_out_fails_to_load(installed, tmp_path):
    """The isolation is real: without community.general the network role does not load; with the
    ansible package's collections visible (no ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false) it would."""
    collections = tmp_path / 'ansible_collections'
    for name in ['%s.%s' % (ns, coll) for ns in os.listdir(os.path.join(installed, 'ansible_collections'))
                 for coll in os.listdir(os.path.join(installed, 'ansible_collections', ns))]:
        if name == 'community.general':
            continue
        namespace, collection = name.split('.')
        (collections / namespace).mkdir(parents=True, exist_ok=True)
        (collections / namespace / collection).symlink_to(os.path.join(installed, 'ansible_collections', namespace, collection))
    play = tmp_path / 'network.yml'
    play.write_text(NETWORK_ROLE_PLAY)
    syntax = [os.path.join(BIN, 'ansible-playbook'), '--syntax-check', '-i', 'localhost,', str(play)]

    without = run(syntax, only(str(tmp_path)))
    assert without.returncode != 0, without.stdout
    assert "couldn't resolve module/action 'community.general.modprobe'" in without.stderr, without.stderr

    assert run(syntax, only(installed)).returncode == 0
    assert run(syntax, only(str(tmp_path), scan_sys_path=True)).returncode == 0, (
        'the ansible package should have provided community.general: the check above proves nothing')

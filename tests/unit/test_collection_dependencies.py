# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""galaxy.yml declares every collection the shipped content uses.

A user installs the collection with `ansible-galaxy collection install`, which brings exactly the
collections of galaxy.yml's `dependencies` and nothing else. A module, filter, test, lookup, role or
playbook of any other collection works on a controller with the full `ansible` package and fails on
the user's. So the shipped content (roles/, playbooks/, plugins/ and the top-level playbooks) is
read the way Ansible reads it: the YAML task structure (the action of each task, loop lookups,
roles, imported playbooks), every Jinja template and condition parsed by Jinja itself (filters,
tests, lookup() and query() calls), the role templates, and the plugins' Python imports. Short names
are resolved through ansible-core's own routing (`sysctl` is ansible.posix.sysctl).

The molecule scenarios run with only the installed collection and its declared dependencies
visible (workbench/mk/collection.mk), so they are held to the same rule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import glob
import json
import os
import re
import warnings

import jinja2
import jinja2.nodes
import pytest
import yaml

import ansible
from ansible.playbook.play import Play
from ansible.playbook.task import Task

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import IN_REPOSITORY, ROOT, needs_repository

OWN = ('hyperion.kernel', 'ansible.builtin', 'ansible.legacy')
# Uses the content is known to have: the scan must find each somewhere, or it read nothing.
KNOWN_USES = {
    ('module', 'community.general.modprobe'),
    ('module', 'community.general.wakeonlan'),
    ('filter', 'ansible.utils.ipaddr'),
    ('module', 'hyperion.kernel.profile_check'),
    ('lookup', 'hyperion.kernel.profile_items'),
}
# The repository's top-level deploy.yml imports the collection's playbook; the tarball has no such file.
if IN_REPOSITORY:
    KNOWN_USES.add(('playbook', 'hyperion.kernel.deploy'))
FQCN = re.compile(r'^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_.]*$')
TASK_KEYWORDS = set(Task.fattributes) | {'local_action', 'action', 'args'}
PLAY_TASK_LISTS = ('pre_tasks', 'tasks', 'post_tasks', 'handlers')
BLOCK_LISTS = ('block', 'rescue', 'always')
CONDITION_KEYS = ('when', 'changed_when', 'failed_when', 'until')
LOOKUP_CALLS = ('lookup', 'query', 'q')
# Only ansible-core's parser for the shape of the templates: the names are what matters here.
JINJA = jinja2.Environment(extensions=['jinja2.ext.do', 'jinja2.ext.loopcontrols'])

with open(os.path.join(os.path.dirname(ansible.__file__), 'config', 'ansible_builtin_runtime.yml')) as _routing:
    BUILTIN_ROUTING = yaml.safe_load(_routing)['plugin_routing']
ROUTING_KIND = {'module': 'modules', 'filter': 'filter', 'test': 'test', 'lookup': 'lookup'}


def collection_of(fqcn):
    return '.'.join(fqcn.split('.')[:2])


def resolve(kind, name):
    """The FQCN a name stands for: short and ansible.builtin names go through ansible-core's routing."""
    short = name
    for prefix in ('ansible.builtin.', 'ansible.legacy.'):
        if name.startswith(prefix):
            short = name[len(prefix):]
    if '.' in short:
        return name
    redirect = BUILTIN_ROUTING.get(ROUTING_KIND.get(kind, ''), {}).get(short, {}).get('redirect')
    return redirect or 'ansible.builtin.' + short


class Scan(object):
    """Every use of a plugin, role or playbook by name: (file relative to ROOT, kind, FQCN)."""

    def __init__(self):
        self.uses = set()
        self.errors = []
        self.files = 0

    def use(self, path, kind, name):
        self.uses.add((os.path.relpath(path, ROOT), kind, resolve(kind, name)))

    # Jinja ------------------------------------------------------------------------------------
    def template(self, path, text, condition=False):
        if not isinstance(text, str):
            return
        if condition and '{{' not in text and '{%' not in text:
            source = '{{ (' + text + ') }}'
        elif '{{' in text or '{%' in text or '{#' in text:
            source = text
        else:
            return
        try:
            with warnings.catch_warnings():
                # Jinja warns about a backslash in a string literal ('^10\\.77'); Ansible reads it as is.
                warnings.simplefilter('ignore', DeprecationWarning)
                tree = JINJA.parse(source)
        except jinja2.TemplateSyntaxError as error:
            self.errors.append('%s: cannot parse %r: %s' % (os.path.relpath(path, ROOT), text, error))
            return
        for node in tree.find_all(jinja2.nodes.Filter):
            self.use(path, 'filter', node.name)
        for node in tree.find_all(jinja2.nodes.Test):
            self.use(path, 'test', node.name)
        for node in tree.find_all(jinja2.nodes.Call):
            if isinstance(node.node, jinja2.nodes.Name) and node.node.name in LOOKUP_CALLS:
                if node.args and isinstance(node.args[0], jinja2.nodes.Const) and isinstance(node.args[0].value, str):
                    self.use(path, 'lookup', node.args[0].value)
                else:
                    self.errors.append('%s: a lookup whose name is not a literal: %r' % (os.path.relpath(path, ROOT), text))

    def strings(self, path, node, key=None):
        """Every string of a YAML value as a template (conditions as bare expressions)."""
        if isinstance(node, dict):
            for child_key, child in node.items():
                self.strings(path, child, child_key)
        elif isinstance(node, list):
            for child in node:
                self.strings(path, child, key)
        elif isinstance(node, str):
            self.template(path, node, condition=key in CONDITION_KEYS)

    # YAML structure --------------------------------------------------------------------------
    def tasks(self, path, tasks):
        for task in tasks or []:
            if not isinstance(task, dict):
                self.errors.append('%s: a task that is not a mapping: %r' % (os.path.relpath(path, ROOT), task))
                continue
            self.task(path, task)

    def task(self, path, task):
        if any(key in task for key in BLOCK_LISTS):
            for key in BLOCK_LISTS:
                self.tasks(path, task.get(key))
            self.keywords(path, {k: v for k, v in task.items() if k not in BLOCK_LISTS})
            return
        actions = [key for key in task if key not in TASK_KEYWORDS and not key.startswith('with_')]
        for key in ('action', 'local_action'):
            if key in task:
                value = task[key]
                actions.append(value.get('module') if isinstance(value, dict) else str(value).split()[0])
        if len(actions) != 1:
            self.errors.append('%s: task %r has %d actions: %s' % (os.path.relpath(path, ROOT), task.get('name'), len(actions), actions))
        for action in actions:
            self.use(path, 'module', action)
            args = task.get(action) if action in task else task.get('args')
            if resolve('module', action) in ('ansible.builtin.include_role', 'ansible.builtin.import_role') and isinstance(args, dict):
                self.role(path, args.get('name'))
        for key in task:
            if key.startswith('with_'):
                self.use(path, 'lookup', key[len('with_'):])
        self.keywords(path, task)

    def keywords(self, path, data):
        """What any play, block or task may name: collections, module_defaults, templates in every value."""
        for name in data.get('collections') or []:
            if name not in OWN:
                self.use(path, 'collections keyword', name + '.*')
        for name in data.get('module_defaults') or {}:
            self.use(path, 'module', name[len('group/'):] + '.*' if name.startswith('group/') else name)
        self.strings(path, data)

    def role(self, path, name):
        if isinstance(name, str) and '{' not in name:
            self.use(path, 'role', name if '.' in name else 'hyperion.kernel.' + name)

    def roles(self, path, roles):
        for entry in roles or []:
            self.role(path, entry.get('role', entry.get('name')) if isinstance(entry, dict) else entry)

    def playbook(self, path, plays):
        for play in plays or []:
            if not isinstance(play, dict):
                self.errors.append('%s: a play that is not a mapping' % os.path.relpath(path, ROOT))
                continue
            imported = [key for key in play if resolve('module', key) == 'ansible.builtin.import_playbook']
            if imported:
                target = play[imported[0]]
                if FQCN.match(target):
                    self.use(path, 'playbook', target)
                self.strings(path, play)
                continue
            unknown = set(play) - set(Play.fattributes)
            if unknown:
                self.errors.append('%s: play keys Ansible does not know: %s' % (os.path.relpath(path, ROOT), sorted(unknown)))
            for key in PLAY_TASK_LISTS:
                self.tasks(path, play.get(key))
            self.roles(path, play.get('roles'))
            self.keywords(path, {k: v for k, v in play.items() if k not in PLAY_TASK_LISTS + ('roles',)})

    def yaml_file(self, path, kind):
        with open(path) as stream:
            data = yaml.safe_load(stream)
        self.files += 1
        if kind == 'tasks':
            self.tasks(path, data)
        elif kind == 'playbook':
            self.playbook(path, data)
        elif kind == 'meta':
            self.roles(path, (data or {}).get('dependencies'))
        else:
            self.strings(path, data)

    # Python ----------------------------------------------------------------------------------
    def python_file(self, path):
        with open(path) as stream:
            tree = ast.parse(stream.read(), path)
        self.files += 1
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                parts = name.split('.')
                if parts[0] == 'ansible_collections' and len(parts) >= 3:
                    self.use(path, 'python import', '.'.join(parts[1:3]) + '.' + '.'.join(parts[3:] or ['*']))


def scan_content():
    """The shipped content: what `ansible-galaxy collection build` puts in the tarball for users."""
    scan = Scan()
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', '*', '**', '*.y*ml'), recursive=True)):
        part = os.path.relpath(path, ROOT).split(os.sep)[2]
        if part in ('tasks', 'handlers'):
            scan.yaml_file(path, 'tasks')
        elif part in ('defaults', 'vars'):
            scan.yaml_file(path, 'data')
        elif part == 'meta' and os.path.basename(path) in ('main.yml', 'main.yaml'):
            scan.yaml_file(path, 'meta')
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'templates', '**', '*'), recursive=True)):
        if os.path.isfile(path):
            with open(path) as stream:
                scan.template(path, stream.read())
            scan.files += 1
    # The repository's top-level playbooks (one import each) are read where they are: the tarball has none.
    for path in sorted(glob.glob(os.path.join(ROOT, 'playbooks', '*.y*ml'))) + [
            os.path.join(ROOT, name) for name in ('deploy.yml', 'check.yml', 'rollback.yml')
            if os.path.isfile(os.path.join(ROOT, name))]:
        scan.yaml_file(path, 'playbook')
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', '**', '*.py'), recursive=True)):
        scan.python_file(path)
    return scan


def scan_scenarios():
    """The molecule scenarios' playbooks and task files, run with only the installed collections."""
    scan = Scan()
    for path in sorted(glob.glob(os.path.join(ROOT, 'molecule', '*', '*.yml'))):
        if os.path.basename(path) == 'molecule.yml':
            with open(path) as stream:
                scan.strings(path, (yaml.safe_load(stream) or {}).get('provisioner', {}).get('inventory'))
            scan.files += 1
        else:
            scan.yaml_file(path, 'playbook')
    for path in sorted(glob.glob(os.path.join(ROOT, 'molecule', '*', 'tasks', '*.yml'))):
        scan.yaml_file(path, 'tasks')
    for path in sorted(glob.glob(os.path.join(ROOT, 'molecule', '*', 'vars', '*.yml'))):
        scan.yaml_file(path, 'data')
    return scan


def declared_dependencies():
    """galaxy.yml's dependencies in the repository; MANIFEST.json's, which the build copies them to, in the tarball."""
    if IN_REPOSITORY:
        with open(os.path.join(ROOT, 'galaxy.yml')) as stream:
            return yaml.safe_load(stream).get('dependencies') or {}
    with open(os.path.join(ROOT, 'MANIFEST.json')) as stream:
        return json.load(stream)['collection_info'].get('dependencies') or {}


def undeclared(scan):
    declared = declared_dependencies()
    return sorted('%s: %s %s (collection %s)' % (path, kind, name, collection_of(name))
                  for path, kind, name in scan.uses
                  if collection_of(name) not in OWN and collection_of(name) not in declared)


@pytest.fixture(scope='module')
def content():
    return scan_content()


def test_the_scan_reads_the_content(content):
    assert not content.errors, '\n'.join(content.errors)
    assert content.files > 50
    missing = KNOWN_USES - {(kind, name) for _path, kind, name in content.uses}
    assert not missing, 'the scan did not find uses the content has: %s' % sorted(missing)
    kinds = {kind for _path, kind, _name in content.uses}
    assert {'module', 'filter', 'test', 'lookup', 'role', 'python import'} | ({'playbook'} if IN_REPOSITORY else set()) <= kinds, kinds


def test_every_collection_the_content_uses_is_declared(content):
    problems = undeclared(content)
    assert not problems, ('galaxy.yml does not declare these collections in `dependencies`, so an '
                          'installed hyperion.kernel lacks them:\n' + '\n'.join(problems))


def test_every_declared_dependency_is_used_and_has_a_minimum(content):
    used = {collection_of(name) for _path, _kind, name in content.uses}
    for name, version in declared_dependencies().items():
        assert name in used, 'galaxy.yml declares %s, which no shipped content uses' % name
        assert re.fullmatch(r'>=\d+\.\d+\.\d+', str(version)), (
            'galaxy.yml: %s should have a minimum version (>=X.Y.Z), not %r' % (name, version))


@needs_repository
def test_the_scenarios_use_only_declared_collections():
    scan = scan_scenarios()
    assert not scan.errors, '\n'.join(scan.errors)
    assert ('molecule/rollout/converge.yml', 'playbook', 'hyperion.kernel.deploy') in scan.uses or any(
        kind == 'module' and name == 'hyperion.kernel.profile_check' for _path, kind, name in scan.uses), sorted(scan.uses)[:20]
    problems = undeclared(scan)
    assert not problems, ('the molecule scenarios run with only the installed collection and the dependencies '
                          'galaxy.yml declares; these are neither:\n' + '\n'.join(problems))


@pytest.mark.parametrize('text, condition, expected', [
    ("{{ x | ns.coll.f('a') | ansible.builtin.to_json }}", False, {('filter', 'ns.coll.f'), ('filter', 'ansible.builtin.to_json')}),
    ("x is ns.coll.t", True, {('test', 'ns.coll.t')}),
    ("{{ lookup('ns.coll.l', 'a') + query('ns.coll.q') + q('ipaddr_missing') }}", False,
     {('lookup', 'ns.coll.l'), ('lookup', 'ns.coll.q'), ('lookup', 'ansible.builtin.ipaddr_missing')}),
    # A short name goes where ansible-core's routing sends it.
    ("{%- if y | ipaddr('net') -%}a{% endif %}", False, {('filter', 'ansible.netcommon.ipaddr')}),
    ("plain text", False, set()),
])
def test_the_template_scan_sees_filters_tests_and_lookups(text, condition, expected):
    scan = Scan()
    scan.template(os.path.join(ROOT, 'x.yml'), text, condition=condition)
    assert not scan.errors
    assert {(kind, name) for _path, kind, name in scan.uses} == expected


def test_an_undeclared_use_fails_with_its_file_and_name():
    scan = Scan()
    scan.tasks(os.path.join(ROOT, 'roles', 'x', 'tasks', 'main.yml'), [
        {'name': 'a', 'sysctl': {'name': 'a'}},
        {'name': 'b', 'block': [{'name': 'c', 'ansible.builtin.debug': {'msg': '{{ 1 | ns.coll.f }}'},
                                 'with_ns.coll.items': [1]}]},
        {'name': 'd', 'ansible.builtin.include_role': {'name': 'other.coll.role'}},
    ])
    problems = undeclared(scan)
    # sysctl resolves through ansible-core's routing to ansible.posix, which the collection does not declare.
    assert 'roles/x/tasks/main.yml: module ansible.posix.sysctl (collection ansible.posix)' in problems
    assert 'roles/x/tasks/main.yml: filter ns.coll.f (collection ns.coll)' in problems
    assert 'roles/x/tasks/main.yml: lookup ns.coll.items (collection ns.coll)' in problems
    assert 'roles/x/tasks/main.yml: role other.coll.role (collection other.coll)' in problems
    assert ('roles/x/tasks/main.yml', 'module', 'ansible.posix.sysctl') in scan.uses

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter, test and lookup of the collection renders with ansible-doc, and its options are the real ones.

The plugins are listed from the code (the keys of each FilterModule().filters() and TestModule().tests(),
every lookup file), so a new plugin without documentation fails here. ansible-doc runs once per plugin
type with all names, as a user would run it against this copy of the collection.

For filters and tests the documented options must be ``_input`` (the value before the ``|`` or ``is``)
and then the Python function's other positional parameters, by name, in order in ``positional``, required
exactly when the parameter has no default, with the Python default documented. For lookups the documented
options (besides ``_terms``) must be the names the plugin reads with ``get_option``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import inspect
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT, ansible_command, ansible_env

COLLECTION = 'hyperion.kernel'
PLUGINS = os.path.join(ROOT, 'plugins')
JINJA_PLUGINS = {'filter': ('FilterModule', 'filters'), 'test': ('TestModule', 'tests')}


def _plugin_files(kind):
    directory = os.path.join(PLUGINS, kind)
    if not os.path.isdir(directory):
        return []
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith('.py') and name != '__init__.py')


def _real_function(function):
    """The function whose parameters a Jinja plugin takes, through a wrapper that passes *args on.

    A wrapper made with functools.wraps carries __wrapped__; one that only copies __name__ (as
    host_config's error guard does) is resolved to the module's function of that name.
    """
    function = inspect.unwrap(function)
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        named = getattr(sys.modules.get(function.__module__), function.__name__, None)
        if named is not None and named is not function:
            return inspect.unwrap(named)
    return function


def _jinja_plugins(kind):
    """{name: (file, function)} for every filter or test the collection's plugin files export."""
    class_name, method = JINJA_PLUGINS[kind]
    found = {}
    for stem in _plugin_files(kind):
        module = importlib.import_module('ansible_collections.hyperion.kernel.plugins.%s.%s' % (kind, stem))
        plugin_class = getattr(module, class_name, None)
        assert plugin_class is not None, 'plugins/%s/%s.py has no %s' % (kind, stem, class_name)
        for name, function in getattr(plugin_class(), method)().items():
            assert name not in found, '%s %s is exported by %s.py and %s.py' % (kind, name, found[name][0], stem)
            found[name] = (stem, _real_function(function))
    return found


FILTERS = _jinja_plugins('filter')
TESTS = _jinja_plugins('test')
LOOKUPS = _plugin_files('lookup')


def _run_ansible_doc(kind, names):
    command = [ansible_command('ansible-doc'), '--json', '-t', kind] + ['%s.%s' % (COLLECTION, n) for n in sorted(names)]
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          env=ansible_env(), cwd=ROOT, check=False)


def _ansible_doc(kind, names):
    """ansible-doc --json for NAMES of KIND: {short name: entry}, or {'error': message} for a name it refuses.

    One call for all names; ansible-doc stops at the first plugin it cannot document and prints no JSON, so
    only then is each name asked alone, to name every undocumented plugin at once.
    """
    proc = _run_ansible_doc(kind, names)
    if proc.returncode != 0:
        found = {}
        for name in names:
            alone = _run_ansible_doc(kind, [name])
            found.update(_ansible_doc(kind, [name]) if alone.returncode == 0
                         else {name: {'error': alone.stderr.strip() or 'ansible-doc exited with %d' % alone.returncode}})
        return found
    docs = json.loads(proc.stdout)
    prefix = COLLECTION + '.'
    return dict((full[len(prefix):], entry) for full, entry in docs.items() if full.startswith(prefix))


@pytest.fixture(scope='module')
def filter_docs():
    return _ansible_doc('filter', FILTERS)


@pytest.fixture(scope='module')
def jinja_test_docs():
    return _ansible_doc('test', TESTS)


@pytest.fixture(scope='module')
def lookup_docs():
    return _ansible_doc('lookup', LOOKUPS)


def _plain(value):
    """A Python default as ansible-doc shows it (JSON has lists, not tuples)."""
    return json.loads(json.dumps(value))


def _documented(kind, name, entry):
    """The problems of a plugin's documentation as a whole (none when it renders in full)."""
    if entry is None:
        return ['%s %s.%s: ansible-doc finds no such plugin' % (kind, COLLECTION, name)]
    if 'error' in entry:
        return ['%s %s.%s: ansible-doc finds no documentation: %s' % (kind, COLLECTION, name, entry['error'])]
    doc = entry.get('doc') or {}
    problems = []
    if doc.get('name') != name:
        problems.append('%s %s: DOCUMENTATION names it %r' % (kind, name, doc.get('name')))
    for key in ('short_description', 'description', 'author', 'version_added'):
        if not doc.get(key):
            problems.append('%s %s: no %s' % (kind, name, key))
    if not (entry.get('examples') or '').strip():
        problems.append('%s %s: no EXAMPLES' % (kind, name))
    if not entry.get('return'):
        problems.append('%s %s: no RETURN' % (kind, name))
    return problems


def _jinja_option_problems(kind, name, function, doc):
    """Where the documented options differ from FUNCTION's positional parameters."""
    parameters = [p for p in inspect.signature(function).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not parameters:
        return ['%s %s: the function takes no value to %s' % (kind, name, 'filter' if kind == 'filter' else 'test')]
    # The first parameter is the value before | (or is): Ansible documents it as _input.
    expected = ['_input'] + [p.name for p in parameters[1:]]
    options = doc.get('options') or {}
    problems = []
    if sorted(options) != sorted(expected):
        problems.append('%s %s: documented options %s, the function takes %s'
                        % (kind, name, ', '.join(sorted(options)) or '(none)', ', '.join(expected)))
    positional = [word.strip() for word in (doc.get('positional') or '').split(',') if word.strip()]
    if positional != expected:
        problems.append('%s %s: positional is %r, the function takes %s'
                        % (kind, name, doc.get('positional'), ', '.join(expected)))
    for option, parameter in zip(expected, parameters):
        if option not in options:
            continue
        spec = options[option] or {}
        required = parameter.default is inspect.Parameter.empty
        if bool(spec.get('required')) != required:
            problems.append('%s %s: option %s is documented %srequired, the parameter %s'
                            % (kind, name, option, '' if spec.get('required') else 'not ',
                               'has no default' if required else 'has the default %r' % (parameter.default,)))
        if not required and parameter.default is not None and spec.get('default') != _plain(parameter.default):
            problems.append('%s %s: option %s documents the default %r, the function has %r'
                            % (kind, name, option, spec.get('default'), parameter.default))
        if not spec.get('description'):
            problems.append('%s %s: option %s has no description' % (kind, name, option))
    return problems


def _lookup_option_names(stem):
    """The names a lookup plugin reads with get_option('...')."""
    with open(os.path.join(PLUGINS, 'lookup', stem + '.py')) as handle:
        tree = ast.parse(handle.read())
    names = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == 'get_option'
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def test_the_collection_has_plugins_of_each_type():
    """The listing reads the code: an empty list would make every other test pass on nothing."""
    assert 'default_route_qdisc' in FILTERS and 'deploy_fingerprint' in FILTERS and 'bore_sysctl_settings' in FILTERS
    assert 'valid' in TESTS and 'single_line' in TESTS
    assert 'profile_items' in LOOKUPS and 'test_kernel' in LOOKUPS


def test_every_filter_is_documented_with_its_parameters(filter_docs):
    problems = []
    for name, (_stem, function) in sorted(FILTERS.items()):
        entry = filter_docs.get(name)
        problems += _documented('filter', name, entry)
        if entry is not None and 'error' not in entry:
            problems += _jinja_option_problems('filter', name, function, entry.get('doc') or {})
    assert not problems, '\n'.join(problems)


def test_every_test_is_documented_with_its_parameters(jinja_test_docs):
    problems = []
    for name, (_stem, function) in sorted(TESTS.items()):
        entry = jinja_test_docs.get(name)
        problems += _documented('test', name, entry)
        if entry is not None and 'error' not in entry:
            problems += _jinja_option_problems('test', name, function, entry.get('doc') or {})
    assert not problems, '\n'.join(problems)


def test_every_lookup_is_documented_with_its_options(lookup_docs):
    problems = []
    for name in LOOKUPS:
        entry = lookup_docs.get(name)
        problems += _documented('lookup', name, entry)
        if entry is None or 'error' in entry:
            continue
        documented = set(((entry.get('doc') or {}).get('options') or {})) - set(['_terms'])
        read = _lookup_option_names(name)
        if documented != read:
            problems.append('lookup %s: documented options %s, the plugin reads %s'
                            % (name, ', '.join(sorted(documented)) or '(none)', ', '.join(sorted(read)) or '(none)'))
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('kind, exported', [('filter', FILTERS), ('test', TESTS)])
def test_every_sidecar_documents_an_exported_plugin(kind, exported):
    """A <name>.yml next to the plugin files documents a filter or test that exists (no stale docs)."""
    directory = os.path.join(PLUGINS, kind)
    sidecars = sorted(name[:-4] for name in os.listdir(directory) if name.endswith('.yml'))
    assert [name for name in sidecars if name not in exported] == []


def test_the_option_check_sees_a_mismatch():
    """The comparison itself: a renamed, a missing and a wrongly required option are all reported."""
    def sample(value, first, second='x'):
        return value

    doc = {'positional': '_input, first, second',
           'options': {'_input': {'description': 'v', 'required': True},
                       'first': {'description': 'f', 'required': True},
                       'second': {'description': 's', 'default': 'x'}}}
    assert _jinja_option_problems('filter', 'sample', sample, doc) == []
    renamed = dict(doc, options=dict(doc['options'], third=doc['options']['second']), positional='_input, first, third')
    del renamed['options']['second']
    assert len(_jinja_option_problems('filter', 'sample', sample, renamed)) == 2
    missing = dict(doc, positional='_input, first')
    assert _jinja_option_problems('filter', 'sample', sample, missing)
    wrongly = dict(doc, options=dict(doc['options'], second={'description': 's', 'required': True}))
    assert 'documented required' in _jinja_option_problems('filter', 'sample', sample, wrongly)[0]
    defaulted = dict(doc, options=dict(doc['options'], second={'description': 's', 'default': 'y'}))
    assert 'default' in _jinja_option_problems('filter', 'sample', sample, defaulted)[0]

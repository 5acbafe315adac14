# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the collection under test is, for the unit tests that run the real ansible commands.

The unit tests run in two places: in the repository (``make unit``: the collection is linked into
``.build/collections``) and in the copy ``ansible-galaxy collection install`` made from the tarball
(``make test-collection-tarball``: the collection is ``<path>/ansible_collections/hyperion/kernel``).
The tarball holds the collection only; a test that reads the workbench (the repository's
inventories, its ansible.cfg, the molecule scenarios) says so with ``needs_repository``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.machinery
import importlib.util
import os
import sys

import pytest
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# galaxy.yml is in the repository only: the tarball carries MANIFEST.json in its place.
IN_REPOSITORY = os.path.isfile(os.path.join(ROOT, 'galaxy.yml'))
needs_repository = pytest.mark.skipif(not IN_REPOSITORY, reason='reads the repository\'s workbench, which the '
                                      'collection tarball leaves out (run it with make unit in the repository)')


# ansible-core 2.19 brought the json stdout callback into ansible.builtin; before, ansible.posix had it
# (make test-oldest-core runs these tests on the oldest ansible-core meta/runtime.yml admits).
JSON_STDOUT_CALLBACK = ('ansible.builtin.json' if tuple(int(part) for part in ANSIBLE_CORE_VERSION.split('.')[:2]) >= (2, 19)
                        else 'ansible.posix.json')


def collections_path():
    """The directory Ansible must be given as ANSIBLE_COLLECTIONS_PATH to find this copy of the collection."""
    parts = ROOT.split(os.sep)
    if len(parts) > 3 and parts[-3:] == ['ansible_collections', 'hyperion', 'kernel']:
        return os.sep.join(parts[:-3])
    return os.path.join(ROOT, '.build', 'collections')


def ansible_command(name):
    """An ansible command of the Python that runs the tests (ansible-playbook, ansible, ansible-doc)."""
    return os.path.join(os.path.dirname(sys.executable), name)


def ansible_env(tmp_path=None, **extra):
    """The environment of an ansible command under test: this copy of the collection, the report callback
    enabled as the repository's ansible.cfg (or a user's, as the README says) enables it, reports in
    TMP_PATH (an ad-hoc command, which writes none, may leave it out)."""
    # HYPERION_TEST_DEPENDENCIES: where the declared dependencies are when no `ansible` package on the
    # Python path has them (make test-oldest-core gives the installed copy's collections path).
    paths = [collections_path()] + [path for path in [os.environ.get('HYPERION_TEST_DEPENDENCIES')] if path]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(paths), ANSIBLE_NOCOLOR='1')
    if tmp_path is not None:
        env['HYPERION_REPORT_DIR'] = str(tmp_path / 'reports')
    config = os.path.join(ROOT, 'ansible.cfg')
    if os.path.isfile(config):
        env['ANSIBLE_CONFIG'] = config
        env.pop('ANSIBLE_CALLBACKS_ENABLED', None)
    else:
        env.pop('ANSIBLE_CONFIG', None)
        env['ANSIBLE_CALLBACKS_ENABLED'] = 'hyperion.kernel.hyperion_report'
    env.update(extra)
    return env


def load_script(name, path):
    """The module of a Python script without a .py name (the workbench's tools), for its unit tests."""
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core in plugins/module_utils imports no part of Ansible: it is plain Python, the modules and
plugins are the layer that speaks to Ansible. `make test-oldest-core` relies on it and leaves the core's
tests out: their result cannot depend on the ansible-core version."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import glob
import os

import pytest

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT

CORE_FILES = sorted(glob.glob(os.path.join(ROOT, 'plugins', 'module_utils', '*.py')))


def ansible_imports(source, path):
    """(line, module) of each import of ansible or ansible.* in SOURCE, at any depth (a function's too)."""
    found = []
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.extend((node.lineno, name) for name in names if name.split('.')[0] == 'ansible')
    return found


def test_the_core_has_files():
    assert len(CORE_FILES) > 10, CORE_FILES


@pytest.mark.parametrize('path', CORE_FILES, ids=os.path.basename)
def test_a_core_file_imports_nothing_of_ansible(path):
    with open(path) as handle:
        assert ansible_imports(handle.read(), path) == []


@pytest.mark.parametrize('source, expected', [
    ('import ansible', [(1, 'ansible')]),
    ('from ansible.module_utils.basic import AnsibleModule', [(1, 'ansible.module_utils.basic')]),
    ('def f():\n    import ansible.errors', [(2, 'ansible.errors')]),
    ('from ansible_collections.hyperion.kernel.plugins.module_utils import host', []),
    ('import ansible_collections', []),
    ('from . import host', []),
])
def test_the_check_sees_every_form_of_import(source, expected):
    assert ansible_imports(source, '<test>') == expected

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' Jinja tests give the answers of the shared validation, through a real ansible run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.test import valid as valid_plugin
from ansible_collections.hyperion.kernel.tests.unit.collection_paths import JSON_STDOUT_CALLBACK, ansible_command, ansible_env


def test_the_plugin_exports_both_tests():
    tests = valid_plugin.TestModule().tests()
    assert tests['valid']('zram0', 'zram_device') is True
    assert tests['valid']('zram0\n', 'zram_device') is False
    assert tests['single_line']('trixie') is True
    assert tests['single_line']('trixie\nTrusted: yes') is False
    assert tests['single_line'](None) is False


def test_an_unknown_kind_is_an_ansible_error():
    with pytest.raises(AnsibleFilterError, match='did you mean'):
        valid_plugin.valid('x', 'grub_dropinn')


def test_a_role_assert_sees_the_same_answers(tmp_path):
    """ansible-playbook evaluates the tests as a role's assert does (newline included)."""
    playbook = str(tmp_path / 'playbook.yml')
    with open(playbook, 'w') as handle:
        handle.write('- hosts: localhost\n  gather_facts: false\n  tasks:\n'
                     '    - ansible.builtin.debug:\n'
                     '        msg: "{{ [\'90-x.cfg\', \'90-x.cfg\\n\', \'x.conf\'] '
                     '| map(\'regex_replace\', \'^\', \'\') | select(\'hyperion.kernel.valid\', \'grub_dropin\') | list }}"\n')
    env = ansible_env(tmp_path, ANSIBLE_STDOUT_CALLBACK=JSON_STDOUT_CALLBACK)
    result = subprocess.run([ansible_command('ansible-playbook'), '-i', 'localhost,', '-c', 'local', playbook],
                            env=env, capture_output=True, text=True, check=False, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    # The report callback's summary may follow the JSON document.
    output, _end = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index('{'):])
    task = output['plays'][0]['tasks'][0]['hosts']['localhost']
    assert task['msg'] == ['90-x.cfg']

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin and module together, through the real `ansible` command on localhost."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

import pytest

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import (
    JSON_STDOUT_CALLBACK, ROOT as REPO, ansible_command, ansible_env, collections_path)

TRIXIE = os.path.join(REPO, 'tests', 'unit', 'fixtures', 'kconfig', 'debian-trixie-6.12.117+deb13-amd64.config')
ANSIBLE = ansible_command('ansible')

pytestmark = pytest.mark.skipif(not os.path.isdir(collections_path()) or not os.path.exists(ANSIBLE),
                                reason='needs `make setup` (venv with ansible and the collection link)')


def _adhoc(args):
    env = ansible_env(ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK=JSON_STDOUT_CALLBACK,
                      ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    proc = subprocess.run([ANSIBLE, 'localhost', '-m', 'hyperion.kernel.profile_check', '-a', args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
                          cwd=REPO, check=False)
    assert 'Traceback' not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
    return proc.returncode, result


def test_config_file_through_the_action_plugin():
    code, result = _adhoc(json.dumps({'config_path': TRIXIE, 'overlays': ['gaming_cafe']}))
    assert code == 2  # the task failed: required drift
    assert result['profile'] == {'name': 'hyperion-2.2.4', 'overlays': ['gaming_cafe']}
    assert 'CONFIG_SCHED_BORE' in result['summary']['failed_required']


def test_bad_overlay_fails_on_the_controller():
    code, result = _adhoc(json.dumps({'overlays': ['cafe']}))
    assert code == 2
    assert result['msg'].startswith("profile error: unknown overlay 'cafe'; shipped: gaming_cafe, lab")
    assert 'items' not in result  # nothing ran on the host


def test_bad_override_and_unknown_argument():
    code, result = _adhoc(json.dumps({'overrides': {'zram:zram0:disksize_ratio': {'min': 2, 'max': 1}}}))
    assert code == 2 and 'impossible range' in result['msg']
    code, result = _adhoc(json.dumps({'profil': 'hyperion-2.2.4'}))
    assert code == 2 and 'Invalid options for hyperion.kernel.profile_check: profil' in result['msg']


def test_a_misspelt_override_fails_on_the_controller_with_the_close_id():
    code, result = _adhoc(json.dumps({'config_path': TRIXIE, 'overrides': {'CONFIG_SCHED_BOR': {'skip': 'vendor kernel'}}}))
    assert code == 2 and result['failed'] is True
    assert 'the profile has no item CONFIG_SCHED_BOR (did you mean "CONFIG_SCHED_BORE"' in result['msg']
    # Refused while resolving, before the module ran: no items were reported.
    assert 'items' not in result


def test_a_config_path_that_is_a_directory_fails_through_the_action_plugin(tmp_path):
    code, result = _adhoc(json.dumps({'config_path': str(tmp_path), 'fail_on': 'never'}))
    assert code == 2 and result['failed'] is True
    assert result['msg'].startswith('cannot check the kernel config %s: ' % tmp_path)


def _site_overlay(tmp_path):
    path = tmp_path / 'site.yml'
    path.write_text('schema_version: 1\nname: site\nitems:\n  sysctl:kernel.sysrq:\n    value: 176\n')
    return path


def test_overlays_as_a_comma_separated_string_on_the_command_line(tmp_path):
    """`-a overlays=a,b` is one string: split on commas as Ansible's list options do, in order."""
    site = _site_overlay(tmp_path)
    code, result = _adhoc('config_path=%s fail_on=never overlays=gaming_cafe,%s' % (TRIXIE, site))
    assert code == 0, result.get('msg')
    assert result['profile'] == {'name': 'hyperion-2.2.4', 'overlays': ['gaming_cafe', 'site']}
    # One name without a comma is a list of one (it was refused as "not a list" before).
    code, result = _adhoc('config_path=%s fail_on=never overlays=lab' % TRIXIE)
    assert code == 0 and result['profile']['overlays'] == ['lab']


def test_each_overlay_name_of_the_string_is_matched_whole():
    code, result = _adhoc(json.dumps({'overlays': 'gaming_cafe,lab x'}))
    assert code == 2 and 'items' not in result
    assert result['msg'] == ('profile error: overlay name must be a file name of letters, digits, "_", ".", "+" '
                             'and "-", got "lab x"')
    code, result = _adhoc(json.dumps({'overlays': 'gaming_cafe,,lab'}))
    assert code == 2 and result['msg'] == "profile error: overlay must be a name or a path, got ''"
    code, result = _adhoc(json.dumps({'overlays': {'lab': True}}))
    assert code == 2 and result['msg'].startswith('profile error: overlays must be a list of names or paths, or one')


def test_the_profile_items_lookup_splits_a_comma_separated_string(tmp_path):
    site = _site_overlay(tmp_path)
    env = ansible_env(ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK=JSON_STDOUT_CALLBACK,
                      ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    proc = subprocess.run([ANSIBLE, 'localhost', '-m', 'ansible.builtin.debug', '-a',
                           "msg={{ lookup('hyperion.kernel.profile_items', overlays='lab,%s')"
                           "['sysctl:kernel.sysrq'].value | to_json }}" % site],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
                          cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The site overlay comes after lab's full SysRq (1), so its mask wins.
    # to_json keeps the type on every ansible-core (before 2.19 a templated msg is text).
    assert json.loads(json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']['msg']) == 176

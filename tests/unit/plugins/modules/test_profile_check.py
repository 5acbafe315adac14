# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved
from ansible_collections.hyperion.kernel.plugins.modules import kernel_facts, profile_check
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module

KCONFIG = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'kconfig')
TRIXIE = os.path.join(KCONFIG, 'debian-trixie-6.12.117+deb13-amd64.config')


def test_config_file_drift_fails_with_items_and_diff(capsys):
    code, result = run_module(profile_check, {'resolved_profile': load_resolved('hyperion-2.2.4', ['lab']),
                                              'config_path': TRIXIE, '_ansible_diff': True}, capsys)
    assert code == 1
    assert result['failed'] is True and result['changed'] is False
    assert result['compliant'] is False
    assert result['profile'] == {'name': 'hyperion-2.2.4', 'overlays': ['lab']}
    assert result['config_source'] == TRIXIE
    ids = dict((item['id'], item) for item in result['items'])
    assert ids['CONFIG_NET_SCH_CAKE']['actual'] == 'm'
    assert 'CONFIG_SCHED_BORE: (not set)\n' in result['diff']['before']
    assert 'CONFIG_SCHED_BORE: y\n' in result['diff']['after']


def test_report_only_policy_exits_cleanly_in_check_mode(capsys):
    code, result = run_module(profile_check, {'resolved_profile': load_resolved('hyperion-2.2.4'), 'config_path': TRIXIE,
                                              'fail_on': 'never', '_ansible_check_mode': True}, capsys)
    assert code == 0
    assert result['compliant'] is True
    assert 'drift' not in result['msg']
    assert result['summary']['failed_required']


def test_without_the_action_plugin_the_error_says_so(capsys):
    code, result = run_module(profile_check, {'profile': 'hyperion-2.2.4'}, capsys)
    assert code == 1
    assert 'run this module through its action plugin' in result['msg']


def test_tampered_profile_is_rejected_on_the_host(capsys):
    bad = load_resolved('hyperion-2.2.4')
    bad['items'][0]['match'] = 'sometimes'
    code, result = run_module(profile_check, {'resolved_profile': bad}, capsys)
    assert code == 1
    assert "match 'sometimes' is not one of" in result['msg']


def test_kernel_facts_bad_arguments(capsys):
    code, result = run_module(kernel_facts, {'config_filter': ['CONFIG_(']}, capsys)
    assert code == 1 and 'not a valid regular expression' in result['msg']
    code, result = run_module(kernel_facts, {'modparams': ['zswap']}, capsys)
    assert code == 1 and 'must be module.parameter' in result['msg']
    code, result = run_module(kernel_facts, {'gather_subset': ['zram', 'gpu']}, capsys)
    assert code == 1 and 'gpu' in result['msg']


def test_kernel_facts_on_this_machine(capsys):
    # The running kernel of whatever machine runs the tests: a real read, checked for shape and consistency.
    code, result = run_module(kernel_facts, {'gather_subset': ['kernel', 'config', 'cmdline', 'zram'],
                                             'config_filter': ['^CONFIG_ZRAM']}, capsys)
    assert code == 0
    facts = result['ansible_facts']['hyperion_kernel']
    assert facts['kernel']['release'] == os.uname()[2]
    with open('/proc/cmdline') as handle:
        assert facts['cmdline']['raw'] == handle.read().strip('\n\x00 ')
    if facts['config']['options'] is not None:
        assert all(name.startswith('CONFIG_ZRAM') for name in facts['config']['options'])
        assert facts['config']['option_count'] >= len(facts['config']['options'])
    assert set(facts['zram']) == {'devices', 'swaps', 'zram_swap_active', 'mem_total_kib', 'mem_available_kib'}


def _garbage_config(tmp_path):
    path = tmp_path / 'garbage.config'
    path.write_text('this is not a kernel config\nat all\n')
    return str(path)


@pytest.mark.parametrize('kind, message', [
    ('missing', 'cannot read kernel config'),
    ('directory', 'cannot read kernel config'),
    ('garbage', 'not a kernel config line'),
])
@pytest.mark.parametrize('fail_on', ['required', 'never'])
def test_a_config_path_that_gives_no_config_fails(kind, message, fail_on, tmp_path, capsys):
    """Before, such a file left every item unknown and the host was reported compliant (exit 0)."""
    path = {'missing': str(tmp_path / 'nothing-here'), 'directory': str(tmp_path),
            'garbage': _garbage_config(tmp_path)}[kind]
    before = sorted(os.listdir(str(tmp_path)))
    code, result = run_module(profile_check, {'resolved_profile': load_resolved('hyperion-2.2.4'), 'config_path': path,
                                              'fail_on': fail_on}, capsys)
    assert code == 1 and result['failed'] is True
    assert result['msg'].startswith('cannot check the kernel config %s: ' % path)
    assert message in result['msg']
    assert 'compliant' not in result and result.get('changed', False) is False
    assert sorted(os.listdir(str(tmp_path))) == before


@pytest.mark.parametrize('module', [profile_check, kernel_facts], ids=['profile_check', 'kernel_facts'])
def test_the_module_docs_are_yaml(module):
    """ansible-doc and the sanity test read these; a colon in a plain scalar breaks the whole document."""
    import yaml
    documentation = yaml.safe_load(module.DOCUMENTATION)
    assert 'config_path' in documentation['options']
    assert yaml.safe_load(module.EXAMPLES) and yaml.safe_load(module.RETURN)

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The profile_items and test_kernel lookups (through the real ansible command) and the host_config filters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.filter.host_config import FilterModule
from ansible_collections.hyperion.kernel.tests.unit.collection_paths import (
    JSON_STDOUT_CALLBACK, ROOT as REPO, ansible_command, ansible_env)
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import make_test_kernel_build

FILTERS = FilterModule().filters()
ANSIBLE = ansible_command('ansible')


def _lookup(expression, **extra_env):
    """The value of a Jinja expression on localhost, through the real ansible command."""
    env = ansible_env(ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK=JSON_STDOUT_CALLBACK,
                      ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    env.update(extra_env)
    proc = subprocess.run([ANSIBLE, 'localhost', '-m', 'ansible.builtin.debug', '-a', 'msg={{ %s | to_json }}' % expression],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
                          cwd=REPO, check=False)
    assert 'Traceback' not in proc.stdout + proc.stderr
    result = json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
    return proc.returncode, result


def _items(overlays=(), overrides=None):
    code, result = _lookup("lookup('hyperion.kernel.profile_items', overlays=%s, overrides=%s)"
                           % (json.dumps(list(overlays)), json.dumps(overrides or {})))
    assert code == 0, result
    return json.loads(result['msg'])


def test_site_policies_reach_the_roles():
    lab, cafe, base = _items(['lab']), _items(['gaming_cafe']), _items()
    assert lab['cmdline:kgdboc']['value'] == 'ttyS0,115200' and lab['sysctl:kernel.sysrq']['value'] == 1
    assert cafe['cmdline:kgdboc']['match'] == 'not_set' and cafe['sysctl:kernel.sysrq']['value'] == 176
    assert base['zram:zram0:recomp_algorithm']['value'] == 'lz4hc'
    assert base['sysctl:net.core.default_qdisc']['value'] == 'cake'


def test_overrides_and_bad_overlays():
    assert _items(overrides={'sysctl:kernel.sysrq': 16})['sysctl:kernel.sysrq']['value'] == 16
    code, result = _lookup("lookup('hyperion.kernel.profile_items', overlays=['no-such-site'])")
    assert code == 2 and "profile error: unknown overlay 'no-such-site'" in result['msg']


def test_filters_refuse_with_a_filter_error():
    assert FILTERS['kgdboc_tty']('ttyS0,115200') == 'ttyS0'
    with pytest.raises(AnsibleFilterError, match='more than the host'):
        FILTERS['zram_size_mib']('ram * 2', '1024.5')
    assert FILTERS['zram_compression']('zstd', 'lz4hc', False)['setting'] == 'zstd'
    assert FILTERS['qdisc_batch']([{'kind': 'cake'}], 'eth0') == 'qdisc replace dev eth0 root cake\n'


def test_test_kernel_lookup_reads_the_build_the_environment_names(tmp_path):
    make_test_kernel_build(str(tmp_path))
    code, result = _lookup("lookup('hyperion.kernel.test_kernel')", HYPERION_KERNEL_PACKAGE_DIR=str(tmp_path))
    assert code == 0, result
    build = json.loads(result['msg'])
    assert build['release'] == '6.12.118-hyperion'
    assert build['image'] == str(tmp_path / 'linux-image-6.12.118-hyperion_6.12.118-1_amd64.deb')
    assert len(build['image_sha256']) == 64


def test_test_kernel_lookup_without_a_build_fails_with_the_way_out(tmp_path):
    code, result = _lookup("lookup('hyperion.kernel.test_kernel')", HYPERION_CACHE=str(tmp_path), HYPERION_KERNEL_PACKAGE_DIR='')
    assert code != 0
    assert 'run `make kernel-package`' in result['msg']
    # The demo inventory's form: a hint instead of a failure while nothing is built.
    code, result = _lookup("(lookup('hyperion.kernel.test_kernel', errors='ignore') or {}).release | default('none')",
                           HYPERION_CACHE=str(tmp_path), HYPERION_KERNEL_PACKAGE_DIR='')
    assert (code, json.loads(result['msg'])) == (0, 'none')


def test_deploy_fingerprint_covers_the_inputs_and_the_installed_code():
    from ansible_collections.hyperion.kernel.plugins.module_utils.convergence import fingerprint, tree_digest
    code, result = _lookup("{'zram_size': '4G', 'kernel_source': 'file'} | hyperion.kernel.deploy_fingerprint")
    assert code == 0, result
    code_digest = tree_digest(REPO, ['playbooks', 'plugins', 'profiles', 'roles'])
    assert json.loads(result['msg']) == fingerprint({'kernel_source': 'file', 'zram_size': '4G'}, code_digest)
    code, result = _lookup("'text' | hyperion.kernel.deploy_fingerprint")
    assert code == 2 and 'takes a mapping of variable names to values' in result['msg']

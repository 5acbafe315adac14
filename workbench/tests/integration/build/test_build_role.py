# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The build role's refusals, run with ansible-playbook on this machine against Debian's real
linux-source-6.12 (fetched once into ~/.cache/hyperion-kernel/kernel-source/). Only the config step runs
(build_configure_only): olddefconfig takes seconds, a kernel build would take many minutes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
BIN = os.path.dirname(sys.executable)

PLAYBOOK = """\
- name: Run the build role
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: hyperion.kernel.build
"""

# Context that is not in the kernel's top Makefile, so patch -p1 must refuse it.
STALE_PATCH = """\
--- a/Makefile
+++ b/Makefile
@@ -1,3 +1,3 @@
 # SPDX-License-Identifier: GPL-2.0
-VERSION = 5
+VERSION = 7
 PATCHLEVEL = 4
"""


@pytest.fixture(scope='session')
def linux_source():
    """(source id, tree) of Debian trixie's linux-source-6.12, fetched or from the cache."""
    out = subprocess.run([os.path.join(ROOT, 'workbench', 'packaging', 'fetch-linux-source.sh'), 'trixie', 'linux-source-6.12'],
                         check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    return out[0], out[1]


PATCH_DIR = os.environ.get('KERNEL_PATCH_DIR') or os.path.join(ROOT, '..', 'shared', 'patches')


def test_kernel_vars():
    with open(os.path.join(ROOT, 'playbooks', 'build_test_kernel.yml')) as handle:
        return yaml.safe_load(handle)[0]['vars']


@pytest.fixture(scope='session')
def test_kernel_accept_missing():
    """The test kernel's accepted losses without the patches, from its playbook (one list for both)."""
    variables = test_kernel_vars()
    return dict(variables['test_kernel_accept_missing'], **variables['test_kernel_unpatched_missing'])


@pytest.fixture(scope='session')
def kernel_patches():
    """The BORE and ADIOS patches make kernel-package applies (shared/patches/ or KERNEL_PATCH_DIR)."""
    patches = sorted(os.path.join(PATCH_DIR, name) for name in os.listdir(PATCH_DIR) if name.endswith('.patch')) \
        if os.path.isdir(PATCH_DIR) else []
    if not patches:
        pytest.skip('no kernel patches in %s (set KERNEL_PATCH_DIR)' % PATCH_DIR)
    return patches


def run_role(tmp_path, variables):
    playbook = tmp_path / 'build.yml'
    playbook.write_text(PLAYBOOK)
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               HYPERION_REPORT_DIR=str(tmp_path / 'reports'),
               PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), str(playbook), '-e', '@' + str(extra)],
                          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert 'Traceback' not in proc.stdout, proc.stdout
    return proc.returncode, proc.stdout


def base_vars(tmp_path, linux_source, accept_missing):
    source_id, tree = linux_source
    return {
        'build_source_type': 'directory',
        'build_source_path': tree,
        'build_source_id': source_id,
        'build_dir': str(tmp_path / 'build'),
        'build_config_targets': ['x86_64_defconfig', 'kvm_guest.config'],
        'build_config_fragments': ['qemu-guest-trim.config'],
        'build_accept_missing': accept_missing,
        'build_configure_only': True,
    }


def test_test_kernel_config_passes_the_check(tmp_path, linux_source, test_kernel_accept_missing):
    rc, out = run_role(tmp_path, base_vars(tmp_path, linux_source, test_kernel_accept_missing))
    assert rc == 0, out
    assert 'CONFIG_SCHED_BORE: fail - no BORE patch' in out


def test_test_kernel_config_with_bore_and_adios_has_them(tmp_path, linux_source, kernel_patches):
    # The test kernel as make kernel-package configures it: the patches applied, nothing about BORE or
    # ADIOS accepted as missing, so the check fails the build if Kconfig dropped either.
    variables = base_vars(tmp_path, linux_source, test_kernel_vars()['test_kernel_accept_missing'])
    variables['build_patches'] = kernel_patches
    rc, out = run_role(tmp_path, variables)
    assert rc == 0, out
    config = list((tmp_path / 'build').glob('*/obj/.config'))
    assert len(config) == 1, config
    lines = config[0].read_text().splitlines()
    for option in ('CONFIG_SCHED_BORE=y', 'CONFIG_MQ_IOSCHED_ADIOS=y', 'CONFIG_MQ_IOSCHED_DEFAULT_ADIOS=y', 'CONFIG_BLK_DEV_NVME=y'):
        assert option in lines, option


def test_patch_that_does_not_apply_fails_naming_it(tmp_path, linux_source, test_kernel_accept_missing):
    patch = tmp_path / 'stale-version.patch'
    patch.write_text(STALE_PATCH)
    makefile = os.path.join(linux_source[1], 'Makefile')
    before = open(makefile).read()
    variables = dict(base_vars(tmp_path, linux_source, test_kernel_accept_missing), build_patches=[str(patch)])
    rc, out = run_role(tmp_path, variables)
    assert rc != 0, out
    assert 'patch stale-version.patch does not apply' in out, out
    # The patch ran on a hard-linked copy: the shared source tree is untouched.
    assert open(makefile).read() == before


def test_dropped_required_option_fails_naming_it(tmp_path, linux_source, test_kernel_accept_missing):
    # KGDB depends on DEBUG_KERNEL: with it forced off, olddefconfig drops KGDB without a word.
    fragment = tmp_path / 'no-debug-kernel.config'
    # EXPERT selects DEBUG_KERNEL, so both go.
    fragment.write_text('# CONFIG_EXPERT is not set\n# CONFIG_DEBUG_KERNEL is not set\n')
    variables = base_vars(tmp_path, linux_source, test_kernel_accept_missing)
    variables['build_config_fragments'] = ['qemu-guest-trim.config', str(fragment)]
    # The profile asks for DEBUG_KERNEL itself: take that request out so only KGDB is asked for.
    variables['build_profile_overrides'] = {'CONFIG_DEBUG_KERNEL': {'skip': 'test: DEBUG_KERNEL forced off'}}
    rc, out = run_role(tmp_path, variables)
    assert rc != 0, out
    assert 'Kconfig dropped' in out, out
    assert 'CONFIG_KGDB (required: expected y' in out, out


@pytest.mark.skipif(shutil.which('bindgen') is not None, reason='bindgen is installed here')
def test_rust_without_bindgen_fails_before_building(tmp_path, linux_source, test_kernel_accept_missing):
    accept = {k: v for k, v in test_kernel_accept_missing.items() if k != 'CONFIG_RUST'}
    rc, out = run_role(tmp_path, base_vars(tmp_path, linux_source, accept))
    assert rc != 0, out
    assert 'CONFIG_RUST is requested' in out and 'bindgen not found' in out, out
    assert not (tmp_path / 'build').exists()


def test_accepted_item_without_reason_is_refused(tmp_path, linux_source):
    rc, out = run_role(tmp_path, base_vars(tmp_path, linux_source, {'CONFIG_SCHED_BORE': ''}))
    assert rc != 0, out
    assert 'CONFIG_SCHED_BORE needs a reason' in out, out
    assert not (tmp_path / 'build').exists()

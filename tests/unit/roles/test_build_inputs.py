# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel.build refuses bad string and number options in its first check, before any change.

Its strings reach make's command line (a target "--eval=..." runs make code), the .config fragment (a
line break or a quote in build_localversion adds CONFIG_ lines) and paths under build_dir. Each case
is a local host of one real ansible-playbook run and must fail at the check, naming the variable,
with nothing before it but the argument spec, the include and the fact gathering (read only).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT
from ansible_collections.hyperion.kernel.tests.unit.roles.role_runs import assert_refused_first, host_tasks, run_role

ROLE = 'hyperion.kernel.build'
CHECK = 'Check the variables'
BEFORE = ['Validate the inputs and work out the build key', 'Gather the facts the build needs (vCPUs, OS family)']
GOOD = {'build_source_type': 'directory', 'build_source_path': '/usr/src/linux-source-6.12',
        'build_source_id': 'linux-source-6.12_6.12.118-1', 'build_config_targets': ['x86_64_defconfig', 'kvm_guest.config'],
        'build_config_fragments': ['qemu-guest-trim.config'], 'build_localversion': '-hyperion'}

CASES = [
    ('target-make-eval', {'build_config_targets': ['x86_64_defconfig', '--eval=$(shell touch /tmp/owned)']},
     ['build_config_targets must be a list of make targets']),
    ('target-option', {'build_config_targets': ['-j999']}, ['build_config_targets must be']),
    ('target-variable', {'build_config_targets': ['O=/etc']}, ['build_config_targets must be']),
    ('localversion-config-line', {'build_localversion': '-hyperion"\nCONFIG_MODULE_SIG=n\n#'},
     ['build_localversion must be at most 48', r'got "-hyperion\"\nCONFIG_MODULE_SIG=n\n#"']),
    ('localversion-quote', {'build_localversion': '-x" # '}, ['build_localversion must be']),
    ('localversion-long', {'build_localversion': '-' + 'h' * 60}, ['build_localversion must be at most 48']),
    ('source-package-newline', {'build_source_type': 'package', 'build_source_package': 'linux-source-6.12\n'},
     ['build_source_package must be a package name']),
    ('source-package-option', {'build_source_type': 'package', 'build_source_package': '-oAPT::Get::AllowUnauthenticated=1'},
     ['build_source_package must be']),
    ('source-path-option', {'build_source_path': '-rf'}, ['build_source_path must be an absolute path']),
    ('source-path-newline', {'build_source_path': '/usr/src/linux\n'}, ['build_source_path must be']),
    ('source-path-empty', {'build_source_path': ''}, ['build_source_path must be']),
    ('source-id-newline', {'build_source_id': 'linux\nx'}, ['build_source_id must be one line']),
    ('patch-newline', {'build_patches': ['/srv/patches/bore.patch\n']}, ['build_patches must be a list of files']),
    ('patch-file-name', {'build_patches': ['/srv/patches/..']}, ['build_patches must be']),
    ('fragment-newline', {'build_config_fragments': ['qemu-guest-trim.config\n']}, ['build_config_fragments must be']),
    ('profile-newline', {'build_profile': 'hyperion-2.2.4\n'}, ['build_profile must be']),
    ('overlay-newline', {'build_profile_overlays': ['lab\n']}, ['build_profile_overlays must be']),
    ('base-config-newline', {'build_base_config_file': 'x.config\n'}, ['build_base_config_file must be']),
    ('kcflags-newline', {'build_kcflags': '-O2\n-fno-stack-protector'}, ['build_kcflags must be one line']),
    ('formats-not-a-list', {'build_package_formats': 'deb'}, ['build_package_formats must be a list']),
    ('dir-root', {'build_dir': '/'}, ['build_dir must be an absolute path']),
    ('dir-dot-dot', {'build_dir': '/root/.cache/../../etc'}, ['build_dir must be an absolute path']),
    ('dir-climbs', {'build_dir': '/var/cache/../../etc'}, ['build_dir must be']),
    ('dir-relative', {'build_dir': 'build'}, ['build_dir must be']),
    ('jobs-zero', {'build_jobs': 0}, ['build_jobs must be a whole number from 1 to 1024, got 0']),
    ('jobs-huge', {'build_jobs': 100000}, ['build_jobs must be']),
    ('jobs-negative', {'build_jobs': '-4'}, ['build_jobs must be', 'got "-4"']),
    ('timeout-zero', {'build_timeout': 0}, ['build_timeout must be a whole number of seconds from 60']),
    ('timeout-huge', {'build_timeout': 10 ** 9}, ['build_timeout must be']),
]


@pytest.fixture(scope='module')
def refused(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('build-inputs')
    hosts = dict((case, dict(GOOD, build_dir=str(tmp_path / 'build' / case), **bad) if 'build_dir' not in bad
                  else dict(GOOD, **bad)) for case, bad, _expected in CASES)
    returncode, document, stderr = run_role(tmp_path, ROLE, hosts)
    assert returncode != 0, stderr
    return document, tmp_path / 'build'


@pytest.mark.parametrize('case, bad, expected', CASES, ids=[case[0] for case in CASES])
def test_a_bad_value_is_refused_before_any_change(refused, case, bad, expected):
    document, build = refused
    message = assert_refused_first(document, case, CHECK, expected, before=BEFORE)
    assert 'nothing on %s was changed' % case in message
    named = set(word for word in message.split() if word.startswith('build_') and not word.startswith('build_source_type'))
    assert named == set(bad) - {'build_source_type'}, (case, named, message)
    assert not os.path.exists(str(build / case))


def test_the_test_kernel_values_pass_the_check(tmp_path):
    """The values playbooks/build_test_kernel.yml and make kernel-package give pass the check; the source tree is
    missing on purpose, so the run stops at the next refusal, which only reads the host."""
    with open(os.path.join(ROOT, 'playbooks', 'build_test_kernel.yml')) as handle:
        play_vars = yaml.safe_load(handle)[0]['vars']
    values = dict((name, value) for name, value in play_vars.items() if name.startswith('build_') and '{{' not in str(value))
    values.update(build_source_path=str(tmp_path / 'missing-source'), build_source_id='linux-source-6.12_6.12.118-1',
                  # make kernel-package builds under ~/.cache/hyperion-kernel: a hidden directory on the way.
                  build_dir=str(tmp_path / '.cache' / 'hyperion-kernel' / 'kernel-package'), build_patches=[],
                  build_accept_missing={},
                  build_jobs='4', build_timeout='14400', build_kcflags='-fivopts -fmodulo-sched -fno-semantic-interposition')
    _returncode, document, stderr = run_role(tmp_path, ROLE, {'localhost': values})
    results = dict(host_tasks(document, 'localhost'))
    assert CHECK in results and not results[CHECK].get('failed'), (results.get(CHECK), stderr)
    refusal = results['Check that the source directory is a kernel tree']
    assert refusal.get('failed') and 'is not a kernel source tree' in refusal['msg'], refusal
    assert not os.path.exists(str(tmp_path / 'build'))

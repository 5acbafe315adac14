# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""node1 runs the Hyperion test kernel from repo1's signed repository and its config passes the profile."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest
import yaml

# The collection's own reader of the test kernel build, as the scenario's playbooks use it through
# the hyperion.kernel.test_kernel lookup (molecule and make put the collection on this path).
sys.path[:0] = [path for path in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if path]
from ansible_collections.hyperion.kernel.plugins.module_utils.build_result import package_dir, read_build_result  # noqa: E402

ROOT = os.environ.get('MOLECULE_PROJECT_DIRECTORY', os.getcwd())
# The release the build role recorded for the packages the scenario installed.
RELEASE = read_build_result(package_dir(os.environ))['release']


def build_vars():
    """The build playbook's variables: one source for what was built and what this check accepts."""
    with open(os.path.join(ROOT, 'playbooks', 'build_test_kernel.yml')) as handle:
        return yaml.safe_load(handle)[0]['vars']


def accepted_missing():
    return build_vars()['build_accept_missing']


def only_on(host, name):
    """Each check belongs to one machine; on the other it is skipped, not counted as passed."""
    if host.backend.get_hostname() != name:
        pytest.skip('a check of %s' % name)


def test_node_runs_the_hyperion_kernel(host):
    only_on(host, 'node1')
    assert host.check_output('uname -r') == RELEASE


def test_node_uses_the_signed_repository(host):
    only_on(host, 'node1')
    sources = host.file('/etc/apt/sources.list.d/hyperion-kernel.sources').content_string
    assert 'Signed-By: /etc/apt/keyrings/hyperion-kernel.asc' in sources
    policy = host.check_output('apt-cache policy linux-image-%s' % RELEASE)
    assert 'http://10.77.0.' in policy and '***' in policy


def test_repo_serves_a_signed_index(host):
    only_on(host, 'repo1')
    assert host.service('nginx').is_running
    verify = host.run('GNUPGHOME=/var/lib/hyperion-kernel/gnupg gpg --batch --verify '
                      '/srv/hyperion-kernel/apt/dists/hyperion/InRelease')
    assert verify.rc == 0, verify.stderr


def test_profile_check_passes_every_supported_item(host):
    only_on(host, 'node1')
    overrides = dict((item, {'skip': reason}) for item, reason in accepted_missing().items())
    # The test kernel's own release string, as the build gave it.
    overrides['CONFIG_LOCALVERSION'] = build_vars()['build_localversion']
    result = host.ansible('hyperion.kernel.profile_check',
                          json.dumps({'profile': 'hyperion-2.2.4', 'config_path': '/boot/config-%s' % RELEASE,
                                      'overrides': overrides, 'fail_on': 'recommended', 'strict': True}),
                          check=False)
    assert not result.get('failed'), result.get('msg')
    assert result['compliant'] is True
    counts = result['summary']['counts']
    assert counts['fail'] == 0 and counts['unknown'] == 0, result['summary']
    assert counts['pass'] > 50, counts
    skipped = set(item['id'] for item in result['items'] if item['status'] == 'not_applicable')
    assert set(accepted_missing()) <= skipped

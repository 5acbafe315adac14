# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel.repo refuses bad input in its first check, before anything on the host changes.

Its strings reach nginx's configuration (a ";" or a line break adds directives), the index script and
the Release file (a line break adds a field) and paths under repo_root (a "/" or ".." leaves it). Each
case is a local host of one real ansible-playbook run and must fail at the input check, naming the
variable, with nothing before it but the argument spec and nothing after it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT
from ansible_collections.hyperion.kernel.tests.unit.roles.role_runs import (
    ARG_SPEC_TASK, assert_refused_first, host_tasks, run_role)

ROLE = 'hyperion.kernel.repo'
CHECK = "Check the role's input before anything changes"
with open(os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'keys', 'other-key.asc')) as _key:
    PUBLIC_KEY = _key.read()
# The check reads the armor's form only: a public key's body in a private key's armor stands in for one.
PRIVATE_KEY = PUBLIC_KEY.replace('PUBLIC KEY', 'PRIVATE KEY')
PACKAGE = '/srv/packages/linux-image-6.19.6-hyperion-2.2.4_amd64.deb'
GOOD = {'repo_packages': [PACKAGE]}
# Defaults made from another variable: a bad repo_address makes the default URL and server names bad too.
DERIVED = {'repo_address': {'repo_url', 'repo_server_names'}}

CASES = [
    ('packages-not-a-list', {'repo_packages': PACKAGE}, ['repo_packages must list .deb files']),
    ('packages-empty', {'repo_packages': []}, ['repo_packages must list']),
    ('packages-newline', {'repo_packages': [PACKAGE + '\n']}, ['repo_packages must list']),
    ('packages-not-deb', {'repo_packages': ['/srv/packages/kernel.rpm']}, ['repo_packages must list']),
    ('packages-file-name', {'repo_packages': ['/srv/packages/a;b.deb']}, ['repo_packages must list']),
    ('root-nginx-directive', {'repo_root': '/srv/apt;\n    location / { alias /; }'},
     ['repo_root must be an absolute path', r'got "/srv/apt;\n']),
    ('root-relative', {'repo_root': 'srv/apt'}, ['repo_root must be']),
    ('root-climbs', {'repo_root': '/srv/../etc'}, ['repo_root must be']),
    ('root-slash', {'repo_root': '/'}, ['repo_root must be']),
    ('suite-climbs', {'repo_suite': '../../etc'}, ['repo_suite must be a file name', 'got "../../etc"']),
    ('suite-release-field', {'repo_suite': 'hyperion\nValid-Until: Thu, 01 Jan 2099 00:00:00 UTC'}, ['repo_suite must be']),
    ('component-slash', {'repo_component': 'main/../../x'}, ['repo_component must be a file name']),
    ('component-dotdot', {'repo_component': '..'}, ['repo_component must be']),
    ('architecture-newline', {'repo_architectures': ['amd64\n']}, ['repo_architectures must list Debian architectures']),
    ('architectures-not-a-list', {'repo_architectures': 'amd64'}, ['repo_architectures must list']),
    ('origin-release-field', {'repo_origin': 'Hyperion\nNotAutomatic: yes'}, ['repo_origin must be one line', r'"Hyperion\nNotAutomatic: yes"']),
    ('label-newline', {'repo_label': 'Hyperion kernel\n'}, ['repo_label must be one line']),
    ('label-empty', {'repo_label': ''}, ['repo_label must be']),
    ('gnupg-home-relative', {'repo_gnupg_home': 'gnupg'}, ['repo_gnupg_home must be an absolute path']),
    ('key-uid-newline', {'repo_key_uid': 'Hyperion <repo@hyperion.invalid>\n%no-protection'}, ['repo_key_uid must be one line']),
    ('signing-key-public', {'repo_signing_key': PUBLIC_KEY}, ['repo_signing_key must be empty', 'characters of another form']),
    ('signing-key-two-blocks', {'repo_signing_key': PRIVATE_KEY + PRIVATE_KEY}, ['repo_signing_key must be']),
    ('signing-key-text', {'repo_signing_key': 'secret'}, ['repo_signing_key must be']),
    ('port-zero', {'repo_http_port': 0}, ['repo_http_port must be a whole number from 1 to 65535, got 0']),
    ('port-huge', {'repo_http_port': 70000}, ['repo_http_port must be']),
    ('port-negative', {'repo_http_port': -80}, ['repo_http_port must be']),
    ('address-directive', {'repo_address': 'lab1; root /'}, ['repo_address must be a host name']),
    ('address-newline', {'repo_address': 'repo1\n'}, ['repo_address must be']),
    ('url-newline', {'repo_url': 'http://repo1/\nTrusted: yes'}, ['repo_url must be an http:// or https:// URL']),
    ('server-names-directive', {'repo_server_names': ['repo1', 'x; root /;']}, ['repo_server_names must list host names']),
    ('server-names-empty', {'repo_server_names': []}, ['repo_server_names must list']),
    ('public-key-path-newline', {'repo_public_key_controller_path': 'files/repo.asc\n'},
     ['repo_public_key_controller_path must be one line']),
]
SPEC_CASES = [
    ('port-text', {'repo_http_port': '80; include /etc/passwd'}, ['repo_http_port']),
]


@pytest.fixture(scope='module')
def refused(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('repo-inputs')
    hosts = dict((case, dict(GOOD, **bad)) for case, bad, _expected in CASES + SPEC_CASES)
    returncode, document, stderr = run_role(tmp_path, ROLE, hosts)
    assert returncode != 0, stderr
    return document


@pytest.mark.parametrize('case, bad, expected', CASES, ids=[case[0] for case in CASES])
def test_a_bad_value_is_refused_before_any_change(refused, case, bad, expected):
    message = assert_refused_first(refused, case, CHECK, expected)
    assert 'nothing on %s was changed' % case in message
    # Only the bad variable is named (the defaults pass, except those made from it), and the signing key's
    # body never shows.
    named = set(word for word in message.split() if word.startswith('repo_'))
    assert named == set(bad).union(*(DERIVED.get(name, set()) for name in bad)), (case, named, message)
    assert PUBLIC_KEY.splitlines()[2] not in message


@pytest.mark.parametrize('case, bad, expected', SPEC_CASES, ids=[case[0] for case in SPEC_CASES])
def test_the_argument_spec_refuses_its_own_cases_first(refused, case, bad, expected):
    assert_refused_first(refused, case, ARG_SPEC_TASK, expected)


def test_good_values_pass_the_check(tmp_path):
    """The defaults, a given signing key, another port and an IPv6 address pass the input check; the
    packages are missing on purpose, so the run stops at the next refusal, still before any change."""
    missing = str(tmp_path / 'missing' / os.path.basename(PACKAGE))
    backports = str(tmp_path / 'missing' / 'linux-image-6.12.48+bpo-amd64_6.12.48-1~bpo12+1_amd64.deb')
    hosts = {'defaults': {'repo_packages': [missing]},
             'given-key': {'repo_packages': [missing, backports], 'repo_signing_key': PRIVATE_KEY, 'repo_http_port': '8080',
                           'repo_address': '[fd00::10]', 'repo_architectures': ['amd64', 'arm64'],
                           'repo_server_names': ['[fd00::10]', 'repo.lab.example.invalid', '10.77.0.10']}}
    _returncode, document, stderr = run_role(tmp_path, ROLE, hosts)
    for host in hosts:
        tasks = host_tasks(document, host)
        results = dict(tasks)
        assert CHECK in results and not results[CHECK].get('failed'), (host, results.get(CHECK), stderr)
        refusal = results['Refuse missing packages before anything changes']
        assert refusal.get('failed') and missing in refusal['msg'], (host, refusal)
        assert not any(result.get('changed') for _name, result in tasks), (host, tasks)

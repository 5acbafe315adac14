# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel.kernel refuses bad input in its first check, before anything on the host changes.

A newline in the repository's URL, suite or component would be a line of its own in the apt source
("Trusted: yes", an unsigned deb line) and get past the signature refusal; a "/" or ".." in the
repository's name would put the keyring outside /etc/apt/keyrings. Every case runs the real role
with ansible-playbook on this machine (each case a local host of one run, so the cases cost one
start of Ansible) and must fail at the input check with a message that names the variable, having
run nothing before it but the argument spec and nothing after it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

import pytest
import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT, needs_repository
from ansible_collections.hyperion.kernel.tests.unit.roles.role_runs import ARG_SPEC_TASK, assert_refused_first, host_tasks, run_role

ROLE = 'hyperion.kernel.kernel'
CHECK = "Check the role's input before anything changes"
# A real armored public key as gpg --armor --export writes it (the rollout scenario's "other" key).
with open(os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'keys', 'other-key.asc')) as _key:
    KEY = _key.read()
# The role's options, to tell which of them a message names.
with open(os.path.join(ROOT, 'roles', 'kernel', 'meta', 'argument_specs.yml')) as _spec:
    OPTIONS = set(yaml.safe_load(_spec)['argument_specs']['main']['options'])
PRIVATE_KEY = KEY.replace('PUBLIC KEY', 'PRIVATE KEY')
PACKAGE = 'linux-image-6.19.6-hyperion-2.2.4_amd64.deb'
# The good values of each source, as the site inventories and the rollout scenario give them.
REPO = {'kernel_source': 'repo', 'kernel_package_name': 'linux-image-6.19.6-hyperion-2.2.4',
        'kernel_repo_url': 'http://repo.lab.example.invalid/hyperion/', 'kernel_repo_key': KEY}
URL = {'kernel_source': 'url', 'kernel_url': 'https://mirror.cafe.example.invalid/hyperion/' + PACKAGE,
       'kernel_url_checksum': 'sha256:' + '0' * 64}
FILE = {'kernel_source': 'file', 'kernel_file_sha256': 'a' * 64}  # kernel_file is made per run
UNSIGNED_LINE = 'deb [trusted=yes] http://evil.example.invalid/ hyperion main'

# (case, good values it starts from, bad values, what the message must say)
CASES = [
    ('url-newline-trusted', REPO, {'kernel_repo_url': 'http://repo.lab.example.invalid/hyperion/\nTrusted: yes'},
     ['kernel_repo_url must be an http:// or https:// URL', r'got "http://repo.lab.example.invalid/hyperion/\nTrusted: yes"']),
    ('url-unsigned-deb-line', dict(REPO, kernel_repo_format='one_line'),
     {'kernel_repo_url': 'http://repo.lab.example.invalid/hyperion/ hyperion main\n' + UNSIGNED_LINE},
     ['kernel_repo_url must be']),
    ('url-space-option', REPO, {'kernel_repo_url': 'http://repo.lab.example.invalid/hyperion/ [trusted=yes]'},
     ['kernel_repo_url must be']),
    ('url-not-http', REPO, {'kernel_repo_url': 'file:///srv/hyperion'}, ['kernel_repo_url must be']),
    ('suite-newline-trusted', REPO, {'kernel_repo_suite': 'hyperion\nTrusted: yes'},
     ['kernel_repo_suite must be one word', r'got "hyperion\nTrusted: yes"']),
    ('suite-carriage-return', REPO, {'kernel_repo_suite': 'hyperion\rTrusted: yes'}, ['kernel_repo_suite must be']),
    ('suite-trailing-newline', REPO, {'kernel_repo_suite': 'hyperion\n'}, ['kernel_repo_suite must be']),
    ('component-newline-trusted', REPO, {'kernel_repo_component': 'main\nTrusted: yes'},
     ['kernel_repo_component must be one word', r'got "main\nTrusted: yes"']),
    ('component-unsigned-deb-line', dict(REPO, kernel_repo_format='one_line'),
     {'kernel_repo_component': 'main\n' + UNSIGNED_LINE}, ['kernel_repo_component must be']),
    ('component-two-fields', REPO, {'kernel_repo_component': 'main [trusted=yes]'}, ['kernel_repo_component must be']),
    ('repo-name-dotdot', REPO, {'kernel_repo_name': '..'}, ['kernel_repo_name must be a file name', 'got ".."']),
    ('repo-name-climbs', REPO, {'kernel_repo_name': '../../usr/share/keyrings/debian-archive-keyring'},
     ['kernel_repo_name must be a file name']),
    ('repo-name-slash', REPO, {'kernel_repo_name': 'trusted.gpg.d/hyperion'}, ['kernel_repo_name must be a file name']),
    # apt would ignore a source file with "+" in its name, after the keyring was installed.
    ('repo-name-plus', REPO, {'kernel_repo_name': 'hyperion+kernel'}, ['kernel_repo_name must be a file name']),
    ('repo-name-newline', REPO, {'kernel_repo_name': 'hyperion\n'}, ['kernel_repo_name must be a file name']),
    ('package-option', REPO, {'kernel_package_name': '--allow-unauthenticated'}, ['kernel_package_name must be a Debian package name']),
    ('package-newline', REPO, {'kernel_package_name': 'linux-image-6.19.6-hyperion-2.2.4\n'}, ['kernel_package_name must be']),
    ('package-empty', REPO, {'kernel_package_name': ''}, ['kernel_package_name must be']),
    ('key-empty', REPO, {'kernel_repo_key': ''}, ['kernel_repo_key must be one armored PGP public key block']),
    ('key-two-blocks', REPO, {'kernel_repo_key': KEY + KEY}, ['kernel_repo_key must be one armored PGP public key block']),
    ('key-private', REPO, {'kernel_repo_key': PRIVATE_KEY}, ['kernel_repo_key must be']),
    ('key-text-before', REPO, {'kernel_repo_key': 'Trusted: yes\n' + KEY}, ['kernel_repo_key must be']),
    ('key-text-after', REPO, {'kernel_repo_key': KEY + '\nTrusted: yes\n'}, ['kernel_repo_key must be']),
    ('extra-package-newline', REPO, {'kernel_extra_packages': ['linux-headers-6.19.6-hyperion-2.2.4', 'x\nTrusted: yes']},
     ['kernel_extra_packages must be a list of package names']),
    ('extra-packages-not-a-list', REPO, {'kernel_extra_packages': 'linux-headers-6.19.6-hyperion-2.2.4'},
     ['kernel_extra_packages must be a list']),
    ('file-checksum-short', FILE, {'kernel_file_sha256': 'abc123'}, ['kernel_file_sha256 must be 64 hex digits', 'got "abc123"']),
    ('file-checksum-newline', FILE, {'kernel_file_sha256': 'a' * 64 + '\n'}, ['kernel_file_sha256 must be 64 hex digits']),
    ('file-path-newline', FILE, {'kernel_file': '/tmp/' + PACKAGE + '\n'}, ['kernel_file must be the path of a package file']),
    ('file-name-dotdot', FILE, {'kernel_file': '/tmp/..'}, ['kernel_file must be']),
    ('url-checksum-md5', URL, {'kernel_url_checksum': 'md5:' + '0' * 32}, ['kernel_url_checksum must be sha256:']),
    ('url-checksum-short', URL, {'kernel_url_checksum': 'sha256:' + '0' * 63}, ['kernel_url_checksum must be']),
    ('url-checksum-newline', URL, {'kernel_url_checksum': 'sha256:' + '0' * 64 + '\n'}, ['kernel_url_checksum must be']),
    ('package-url-newline', URL, {'kernel_url': URL['kernel_url'] + '\n'}, ['kernel_url must be']),
    ('package-url-no-file-name', URL, {'kernel_url': 'https://mirror.cafe.example.invalid/hyperion/'}, ['kernel_url must be']),
    ('package-url-dotdot', URL, {'kernel_url': 'https://mirror.cafe.example.invalid/hyperion/..'}, ['kernel_url must be']),
    ('keep-previous-negative', REPO, {'kernel_keep_previous': -1},
     ['kernel_keep_previous must be a whole number from 0 to 32, got -1']),
    ('keep-previous-huge', REPO, {'kernel_keep_previous': 10 ** 12}, ['kernel_keep_previous must be a whole number from 0 to 32']),
    ('keep-previous-bool', REPO, {'kernel_keep_previous': True}, ['kernel_keep_previous must be']),
    ('retries-huge', REPO, {'kernel_repo_retries': 1000}, ['kernel_repo_retries must be a whole number from 0 to 20']),
    ('retry-delay-negative', REPO, {'kernel_repo_retry_delay': -5}, ['kernel_repo_retry_delay must be']),
    ('reboot-timeout-zero', REPO, {'kernel_reboot_timeout': 0}, ['kernel_reboot_timeout must be a whole number of seconds from 1']),
    ('boot-margin-huge', REPO, {'kernel_boot_margin_mib': 10 ** 6}, ['kernel_boot_margin_mib must be']),
    ('protected-release-newline', REPO, {'kernel_protected_releases': ['6.12.48+deb13-amd64\n']},
     ['kernel_protected_releases must be a list of kernel releases']),
    ('work-dir-root', REPO, {'kernel_work_dir': '/'}, ['kernel_work_dir must be an absolute path']),
    ('work-dir-relative', REPO, {'kernel_work_dir': 'var/cache/hyperion-kernel'}, ['kernel_work_dir must be']),
    ('work-dir-climbs', REPO, {'kernel_work_dir': '/var/cache/../../etc'}, ['kernel_work_dir must be']),
]
# Values the argument spec refuses itself (a choice, a type): that is the role's first task too.
SPEC_CASES = [
    ('source-unknown', REPO, {'kernel_source': 'ftp'}, ['kernel_source must be one of: repo, file, url']),
    ('format-unknown', REPO, {'kernel_repo_format': 'deb822\nTrusted: yes'}, ['kernel_repo_format must be one of']),
    ('keep-previous-text', REPO, {'kernel_keep_previous': 'all'}, ['kernel_keep_previous']),
]


def _package_file(tmp_path):
    """A stand-in package on the controller and its sha256 (the check reads names and digests, not contents)."""
    path = tmp_path / PACKAGE
    path.write_bytes(b'not a real package\n')
    return str(path), hashlib.sha256(path.read_bytes()).hexdigest()


def _host_vars(tmp_path, case, good, bad):
    values = dict(good, kernel_work_dir=str(tmp_path / 'work' / case))
    if good.get('kernel_source') == 'file':
        values['kernel_file'], _digest = _package_file(tmp_path)
    values.update(bad)
    return values


@pytest.fixture(scope='module')
def refused(tmp_path_factory):
    """One run of the role with every case as a host of its own: (document, work directory root)."""
    tmp_path = tmp_path_factory.mktemp('kernel-inputs')
    hosts = dict((case, _host_vars(tmp_path, case, good, bad)) for case, good, bad, _expected in CASES + SPEC_CASES)
    returncode, document, stderr = run_role(tmp_path, ROLE, hosts)
    assert returncode != 0, stderr
    return document, tmp_path / 'work'


@pytest.mark.parametrize('case, good, bad, expected', CASES, ids=[case[0] for case in CASES])
def test_a_bad_value_is_refused_before_any_change(refused, case, good, bad, expected):
    document, work = refused
    message = assert_refused_first(document, case, CHECK, expected)
    assert 'nothing on %s was changed' % case in message
    # Only the bad value is named: the good values of the same source pass.
    named = set(word for word in message.replace(',', ' ').split() if word.startswith('kernel_') and word in OPTIONS)
    assert named <= set(bad) | {'kernel_file'}, (case, named, message)
    assert not os.path.exists(str(work / case))


@pytest.mark.parametrize('case, good, bad, expected', SPEC_CASES, ids=[case[0] for case in SPEC_CASES])
def test_the_argument_spec_refuses_its_own_cases_first(refused, case, good, bad, expected):
    document, work = refused
    assert_refused_first(document, case, ARG_SPEC_TASK, expected)
    assert not os.path.exists(str(work / case))


def test_values_from_the_command_line_are_checked_too(tmp_path):
    """-e key=value gives strings ("-1"), -e JSON gives a newline: both are refused at the same check."""
    returncode, document, stderr = run_role(
        tmp_path, ROLE, {'localhost': _host_vars(tmp_path, 'localhost', REPO, {})},
        ['-e', 'kernel_keep_previous=-1', '-e', 'kernel_repo_retries=21', '-e', 'kernel_repo_name=../etc',
         '-e', json.dumps({'kernel_repo_suite': 'hyperion\nTrusted: yes', 'kernel_repo_component': 'main\n' + UNSIGNED_LINE})])
    assert returncode != 0, stderr
    message = assert_refused_first(document, 'localhost', CHECK, [
        'kernel_keep_previous must be a whole number from 0 to 32, got "-1"',
        'kernel_repo_retries must be a whole number from 0 to 20, got "21"',
        'kernel_repo_name must be a file name', r'got "hyperion\nTrusted: yes"', 'kernel_repo_component must be'])
    assert not os.path.exists(str(tmp_path / 'work'))
    assert message.count(' must be ') == 5, message


def _site_values(inventory, names):
    with open(os.path.join(ROOT, 'inventories', inventory, 'group_vars', 'hyperion_fleet', 'main.yml')) as handle:
        values = yaml.safe_load(handle)
    return dict((name, values[name]) for name in names)


@needs_repository
def test_the_shipped_values_pass_the_checks(tmp_path):
    """The site inventories' sources (the lab's key is a file each site adds: a real key stands in),
    a file as the demo inventory gives it and the rollout's protected release go through the checks
    to the next task."""
    package, digest = _package_file(tmp_path)
    lab = dict(_site_values('lab', ['kernel_source', 'kernel_package_name', 'kernel_repo_url']), kernel_repo_key=KEY,
               kernel_protected_releases=['6.12.48+deb13-amd64'], kernel_extra_packages=['linux-headers-6.19.6-hyperion-2.2.4'])
    cafe = _site_values('gaming-cafe', ['kernel_source', 'kernel_url', 'kernel_url_checksum'])
    # A Debian version with "~" and "+" in the package's file name.
    backports = dict(cafe, kernel_url='https://mirror.example.invalid/debian/linux-image-6.12.48+bpo-amd64_6.12.48-1~bpo12+1_amd64.deb')
    demo = {'kernel_source': 'file', 'kernel_file': package, 'kernel_file_sha256': digest}
    hosts = {'lab': lab, 'cafe': cafe, 'demo': demo, 'backports': backports,
             'one-line': dict(lab, kernel_repo_format='one_line', kernel_repo_name='hyperion-kernel-unsigned',
                              kernel_repo_key=KEY + '\n', kernel_keep_previous='0', kernel_repo_retries=1)}
    for name, values in hosts.items():
        values['kernel_work_dir'] = str(tmp_path / 'work' / name)
    _returncode, document, stderr = run_role(tmp_path, ROLE, hosts)
    for host in hosts:
        names = [name for name, _result in host_tasks(document, host)]
        assert CHECK in names, (host, names, stderr)
        check = dict(host_tasks(document, host))[CHECK]
        assert not check.get('failed'), (host, check.get('msg'))
        # The role went on past its input check (the package manager check follows it).
        assert names.index(CHECK) + 1 < len(names), (host, names)

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apt_repo_fetch against this machine's real apt and gpg: a file:// repository built and signed here.

The private state lives in the test's temporary directory; the machine's own apt configuration and lists
are only read (apt reads dpkg's status), never written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import hashlib
import os
import shutil
import socket
import subprocess

import pytest

from ansible_collections.hyperion.kernel.plugins.modules import apt_repo_fetch
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module

TOOLS = ('apt-get', 'apt-cache', 'gpg', 'dpkg-deb', 'dpkg-scanpackages')
pytestmark = pytest.mark.skipif(not all(shutil.which(tool) for tool in TOOLS),
                                reason='needs %s' % ', '.join(TOOLS))

PACKAGE = 'hyperion-fetch-test'
# An epoch: apt-get download writes it as "%3a" in the file name.
VERSION = '1:6.19.2-1'


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs).stdout


def make_key(home, uid):
    os.makedirs(home, 0o700)
    run(['gpg', '--homedir', home, '--batch', '--passphrase', '', '--quick-generate-key', uid, 'ed25519', 'sign', 'never'])
    return run(['gpg', '--homedir', home, '--batch', '--armor', '--export', uid])


def build_repository(root, home, sign=True):
    """A one-package apt repository (suite hyperion, component main) as a site would publish it."""
    package_dir = os.path.join(str(root), 'build', PACKAGE)
    os.makedirs(os.path.join(package_dir, 'DEBIAN'))
    with open(os.path.join(package_dir, 'DEBIAN', 'control'), 'w') as control:
        control.write('Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Hyperion <hyperion@example.org>\n'
                      'Description: test package for apt_repo_fetch\n' % (PACKAGE, VERSION))
    repo = os.path.join(str(root), 'repo')
    os.makedirs(os.path.join(repo, 'pool', 'main'))
    run(['dpkg-deb', '--root-owner-group', '-Zgzip', '--build', package_dir, os.path.join(repo, 'pool', 'main', PACKAGE + '.deb')])
    index_dir = os.path.join(repo, 'dists', 'hyperion', 'main', 'binary-amd64')
    os.makedirs(index_dir)
    packages = run(['dpkg-scanpackages', '--multiversion', 'pool', '/dev/null'], cwd=repo)
    with open(os.path.join(index_dir, 'Packages'), 'w') as handle:
        handle.write(packages)
    digest = hashlib.sha256(packages.encode()).hexdigest()
    release = ('Origin: hyperion-test\nSuite: hyperion\nCodename: hyperion\nArchitectures: amd64 all\nComponents: main\n'
               'Date: %s\nSHA256:\n %s %d main/binary-amd64/Packages\n'
               % (email.utils.formatdate(usegmt=True), digest, len(packages.encode())))
    release_path = os.path.join(repo, 'dists', 'hyperion', 'Release')
    with open(release_path, 'w') as handle:
        handle.write(release)
    if sign:
        run(['gpg', '--homedir', home, '--batch', '--clearsign', '-o', os.path.join(repo, 'dists', 'hyperion', 'InRelease'), release_path])
    return 'file://' + repo


@pytest.fixture(scope='module')
def repositories(tmp_path_factory):
    root = tmp_path_factory.mktemp('apt-repo')
    key = make_key(str(root / 'gnupg'), 'Hyperion test repository')
    other_key = make_key(str(root / 'gnupg-other'), 'Another repository')
    signed = build_repository(root / 'signed', str(root / 'gnupg'))
    unsigned = build_repository(root / 'unsigned', str(root / 'gnupg'), sign=False)
    return {'key': key, 'other_key': other_key, 'signed': signed, 'unsigned': unsigned}


def args(repositories, work_dir, **overrides):
    base = {'url': repositories['signed'], 'suite': 'hyperion', 'component': 'main', 'key': repositories['key'],
            'package': PACKAGE, 'work_dir': str(work_dir), 'retries': 0, 'retry_delay': 0}
    base.update(overrides)
    return base


def test_fetches_the_package_once(repositories, tmp_path, capsys):
    code, result = run_module(apt_repo_fetch, dict(args(repositories, tmp_path / 'work'), _ansible_diff=True), capsys)
    assert code == 0, result
    expected = str(tmp_path / 'work' / 'packages' / ('%s_1%%3a6.19.2-1_all.deb' % PACKAGE))
    assert result['package_path'] == expected and os.path.isfile(expected)
    with open(expected, 'rb') as handle:
        sha256 = hashlib.sha256(handle.read()).hexdigest()
    assert result['package'] == {'name': PACKAGE, 'version': VERSION, 'architecture': 'all', 'sha256': sha256}
    assert result['changed'] and result['attempts'] == 1
    assert result['diff']['before'] == 'absent\n' and result['diff']['after'] == 'sha256 %s\n' % sha256
    assert run(['dpkg-deb', '--field', expected, 'Version']).strip() == VERSION
    # Again: the same file, nothing changed.
    code, again = run_module(apt_repo_fetch, args(repositories, tmp_path / 'work'), capsys)
    assert code == 0 and not again['changed'] and again['package_path'] == expected


def test_check_mode_writes_nothing_and_predicts(repositories, tmp_path, capsys):
    work = tmp_path / 'work'
    code, result = run_module(apt_repo_fetch, dict(args(repositories, work), _ansible_check_mode=True), capsys)
    assert code == 0 and result['changed'] and not work.exists()
    run_module(apt_repo_fetch, args(repositories, work), capsys)
    code, result = run_module(apt_repo_fetch, dict(args(repositories, work), _ansible_check_mode=True), capsys)
    # The index's sha256 matches the fetched file: nothing to fetch.
    assert code == 0 and not result['changed']


def test_refuses_another_key(repositories, tmp_path, capsys):
    code, result = run_module(apt_repo_fetch, args(repositories, tmp_path / 'work', key=repositories['other_key']), capsys)
    assert code == 1 and result['attempts'] == 1
    assert result['msg'].startswith('The repository %s (hyperion) cannot be trusted with the key in kernel_repo_key, '
                                    'refused before any change: ' % repositories['signed'])
    assert not os.listdir(str(tmp_path / 'work' / 'packages'))


def test_refuses_an_unsigned_repository(repositories, tmp_path, capsys):
    code, result = run_module(apt_repo_fetch, args(repositories, tmp_path / 'work', url=repositories['unsigned']), capsys)
    assert code == 1 and 'cannot be trusted with the key in kernel_repo_key' in result['msg']
    assert 'not signed' in result['msg']


def test_refuses_a_missing_package_and_names_the_ones_there(repositories, tmp_path, capsys):
    code, result = run_module(apt_repo_fetch, args(repositories, tmp_path / 'work', package='linux-image-9.9.9-nope'), capsys)
    assert code == 1
    assert result['msg'] == ('The repository %s (hyperion/main) has no package linux-image-9.9.9-nope, refused before any '
                             'change; it has: %s' % (repositories['signed'], PACKAGE))


def test_asks_an_unreachable_repository_again_then_refuses(repositories, tmp_path, capsys):
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))  # bound, never listening: the connection is refused
    port = closed.getsockname()[1]
    try:
        code, result = run_module(apt_repo_fetch, args(repositories, tmp_path / 'work', url='http://127.0.0.1:%d/' % port,
                                                       retries=2), capsys)
    finally:
        closed.close()
    assert code == 1 and result['attempts'] == 3
    assert result['msg'].startswith('The repository http://127.0.0.1:%d/ (hyperion) cannot be reached (asked 3 times), '
                                    'refused before any change: ' % port)
    assert '127.0.0.1' in result['msg'].split('refused before any change: ')[1]


@pytest.mark.parametrize('overrides, problem', [
    ({'url': 'ftp://mirror/x'}, 'url must be an http://, https:// or file:// URL'),
    ({'url': 'http://a b/'}, 'url must be'),
    ({'suite': '../x y'}, 'suite must be'),
    ({'component': 'main x'}, 'component must be'),
    ({'package': 'Linux_Image'}, 'package must be a Debian package name'),
    ({'retries': 21}, 'retries must be from 0 to 20'),
    ({'retry_delay': -1}, 'retry_delay must be from 0 to 600'),
    ({'key': 'not a key'}, 'key must be an ASCII-armored OpenPGP public key block'),
])
def test_bad_input_is_refused_before_anything(repositories, tmp_path, capsys, overrides, problem):
    code, result = run_module(apt_repo_fetch, args(repositories, tmp_path / 'work', **overrides), capsys)
    assert code == 1 and problem in result['msg'] and not (tmp_path / 'work').exists()

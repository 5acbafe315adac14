# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tarball holds the collection and nothing of the workbench that proves it.

Reads the tarball `make collection-install` built (.build/collection/) and checks its file list both
ways: every file is inside the collection's allow-list, and every file git tracks inside that list
is in the tarball (a build_ignore pattern that drops a module or a role file fails here).
`make test-collection-tarball` then runs the unit tests the tarball ships, in the installed copy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import subprocess
import tarfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
# What a user installs: the collection's metadata, content and documentation, and its own tests.
ALLOWED_FILES = ('MANIFEST.json', 'FILES.json', 'README.md', 'LICENSE', 'tools/hyperion-check')
ALLOWED_TREES = ('meta/', 'plugins/', 'roles/', 'playbooks/', 'profiles/', 'docs/', 'changelogs/',
                 'tests/unit/', 'tests/sanity/')
# Inside the allowed trees, still the workbench's: the sanity bootstrap for this offline machine.
WORKBENCH_IN_TREES = ('tests/sanity/offline_get_pip.py',)
NEVER = ('__pycache__', '.pyc', '.hypothesis', '.pytest_cache')


def allowed(path):
    if any(part in path for part in NEVER):
        return False
    if path.startswith(WORKBENCH_IN_TREES):
        return False
    return path in ALLOWED_FILES or path.startswith(ALLOWED_TREES)


@pytest.fixture(scope='module')
def tarball_files():
    found = glob.glob(os.path.join(REPO, '.build', 'collection', 'hyperion-kernel-*.tar.gz'))
    assert len(found) == 1, 'run make collection-install first (found %s)' % found
    with tarfile.open(found[0]) as archive:
        return sorted(member.name for member in archive.getmembers() if member.isfile())


def test_every_file_of_the_tarball_is_in_the_allow_list(tarball_files):
    outside = [path for path in tarball_files if not allowed(path)]
    assert not outside, 'the tarball ships files outside the collection:\n' + '\n'.join(outside)
    # The workbench in particular (a build_ignore entry that stops matching lets it in again).
    for workbench in ('workbench/', 'molecule/', 'inventories/'):
        assert not any(path.startswith(workbench) for path in tarball_files), workbench


def test_every_collection_file_git_tracks_is_in_the_tarball(tarball_files):
    tracked = subprocess.run(['git', 'ls-files'], cwd=REPO, stdout=subprocess.PIPE, universal_newlines=True,
                             check=True).stdout.split('\n')
    wanted = [path for path in tracked if path and allowed(path) and path not in ('MANIFEST.json', 'FILES.json')]
    missing = sorted(set(wanted) - set(tarball_files))
    assert not missing, 'build_ignore drops files of the collection:\n' + '\n'.join(missing)
    assert len(wanted) > 300


def test_the_allow_list_reads_paths_as_meant():
    assert allowed('plugins/modules/tc_qdisc.py')
    assert allowed('tools/hyperion-check')
    assert not allowed('workbench/capture/capture-host.sh')
    assert not allowed('plugins/module_utils/__pycache__/tc.cpython-311.pyc')
    assert not allowed('workbench/tests/unit/fixtures/bench/sample.json')
    assert not allowed('molecule/rollout/converge.yml')
    assert not allowed('deploy.yml')

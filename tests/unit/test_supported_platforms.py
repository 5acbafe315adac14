# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platforms the collection claims are stated once (the README) and match what the lab proves.

Each role's meta/main.yml lists its platforms for Galaxy; those lists must say what the README's
"Supported platforms" table says, and the managed hosts' platforms must be the Debian suites the
molecule scenarios boot, no more and no fewer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT, needs_repository

DEBIAN_RELEASES = {'bookworm': '12', 'trixie': '13'}
# The role that runs on the build machine rather than on a managed host.
BUILD_MACHINE_ROLES = ('build',)


def _role_platforms():
    platforms = {}
    for meta in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'main.yml'))):
        role = meta.split(os.sep)[-3]
        with open(meta) as handle:
            platforms[role] = yaml.safe_load(handle)['galaxy_info']['platforms']
    return platforms


def _lab_suites():
    """The Debian suites the molecule scenarios boot their machines on."""
    suites = set()
    for scenario in glob.glob(os.path.join(ROOT, 'molecule', '*', 'molecule.yml')):
        with open(scenario) as handle:
            suites.update(platform['suite'] for platform in yaml.safe_load(handle)['platforms'])
    return suites


def _readme_rows():
    with open(os.path.join(ROOT, 'README.md')) as handle:
        text = handle.read()
    section = re.search(r'^## Supported platforms\n(.*?)^## ', text, re.M | re.S)
    assert section, 'the README has no "Supported platforms" section'
    rows = {}
    for line in section.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if len(cells) == 3 and cells[0] not in ('Machine', '---'):
            rows[cells[0].split(' (')[0]] = cells[1]
    return rows


def _debian_suites(cell):
    return {suite for suite, release in DEBIAN_RELEASES.items() if re.search(r'Debian %s \(%s\)' % (release, suite), cell)}


@needs_repository
def test_the_managed_hosts_roles_claim_exactly_the_suites_the_lab_boots():
    lab = _lab_suites()
    assert lab and lab <= set(DEBIAN_RELEASES), lab
    for role, platforms in _role_platforms().items():
        if role in BUILD_MACHINE_ROLES:
            continue
        assert platforms == [{'name': 'Debian', 'versions': sorted(lab)}], (role, platforms)


@needs_repository
def test_the_readme_states_what_the_roles_claim():
    rows = _readme_rows()
    assert _debian_suites(rows['managed hosts']) == _lab_suites()
    for role, platforms in _role_platforms().items():
        row = rows['build machine' if role in BUILD_MACHINE_ROLES else 'managed hosts']
        assert [platform['name'] for platform in platforms] == ['Debian'], (role, platforms)
        assert set(platforms[0]['versions']) == _debian_suites(row), (role, platforms, row)


@needs_repository
def test_every_role_needs_the_ansible_core_the_collection_requires():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as handle:
        required = re.fullmatch(r'>=(\d+\.\d+)\.\d+', yaml.safe_load(handle)['requires_ansible']).group(1)
    for meta in glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'main.yml')):
        with open(meta) as handle:
            assert yaml.safe_load(handle)['galaxy_info']['min_ansible_version'] == required, meta


def test_the_suite_pattern_reads_the_table_as_meant():
    assert _debian_suites('Debian 13 (trixie), amd64, GRUB on BIOS') == {'trixie'}
    assert _debian_suites('Debian 12 (bookworm), amd64') == {'bookworm'}
    assert _debian_suites('Fedora 41') == set()

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection in an execution environment (AWX, Ansible Automation Platform): `make test-ee`, seconds.

`ansible-builder create` writes the build context of execution-environment.yml (beside this file)
into .build/ee without a container engine. The image build would install the collection's tarball,
then run the context's introspection script over the installed collections to collect their Python
and system requirements; the same script runs here over the copy `make collection-install` installs
from the same tarball, so what an image would get is what is checked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import filecmp
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
BIN = os.path.dirname(sys.executable)
DEFINITION = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'execution-environment.yml')
CONTEXT = os.path.join(ROOT, '.build', 'ee')
OWN = 'hyperion.kernel'


def _yaml(*path):
    with open(os.path.join(ROOT, *path)) as stream:
        return yaml.safe_load(stream)


def _requirement_lines(path):
    with open(os.path.join(ROOT, path)) as stream:
        return [line.strip() for line in stream if line.strip() and not line.lstrip().startswith('#')]


@pytest.fixture(scope='module')
def installed():
    """The collections path of `make collection-install`; its tarball is the one the context copies."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'workbench', 'tools', 'install-collection')],
                            stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return result.stdout.strip()


@pytest.fixture(scope='module')
def context(installed):
    # A fresh context: ansible-builder leaves files of an earlier definition in place.
    shutil.rmtree(CONTEXT, ignore_errors=True)
    result = subprocess.run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', DEFINITION, '-c', CONTEXT,
                             '--output-filename', 'Containerfile'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert result.returncode == 0, result.stdout
    with open(os.path.join(CONTEXT, 'Containerfile')) as stream:
        return stream.read()


def test_the_context_installs_this_collection_from_its_tarball(context):
    tarball = 'hyperion-kernel-%s.tar.gz' % _yaml('galaxy.yml')['version']
    requirements = _yaml('.build', 'ee', '_build', 'requirements.yml')
    assert requirements['collections'] == [{'name': 'collections/' + tarball, 'type': 'file'}], \
        'workbench/tests/integration/ee/execution-environment.yml must name %s (galaxy.yml version)' % tarball
    assert filecmp.cmp(os.path.join(CONTEXT, '_build', 'collections', tarball),
                       os.path.join(ROOT, '.build', 'collection', tarball), shallow=False)
    assert 'COPY _build /build' in context
    assert re.search(r'^RUN .*ansible-galaxy collection install .*-r requirements\.yml', context, re.M)


def test_the_image_gets_an_ansible_core_the_collection_supports(context):
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', context, re.M).group(1).split()
    core = [SpecifierSet(ref[len('ansible-core'):]) for ref in refs if ref.startswith('ansible-core')]
    assert len(core) == 1, refs
    oldest = Version(_yaml('meta', 'runtime.yml')['requires_ansible'].lstrip('>='))
    older = Version('%d.%d.99' % (oldest.major, oldest.minor - 1) if oldest.minor else '%d.99' % (oldest.major - 1))
    # The oldest release the collection claims is allowed, nothing older is.
    assert oldest in core[0] and older not in core[0]
    assert 'ansible-runner' in refs


def test_the_image_introspection_finds_the_collection_requirements(context, installed):
    """The builder stage's own script, over the installed tarball, lists meta/ee-requirements.txt."""
    assert '/output/scripts/introspect.py introspect' in context
    assert _yaml('meta', 'execution-environment.yml')['dependencies']['python'] == 'meta/ee-requirements.txt'
    result = subprocess.run([sys.executable, os.path.join(CONTEXT, '_build', 'scripts', 'introspect.py'), 'introspect',
                             '--sanitize', installed, '--user-bindep', os.path.join(CONTEXT, '_build', 'bindep.txt')],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert result.returncode == 0, result.stdout
    found = yaml.safe_load(result.stdout)
    wanted = _requirement_lines('meta/ee-requirements.txt')
    assert wanted and _by(found['python'], OWN) == wanted
    # The system packages come from the definition (SSH to the fleet) and the dependencies; the
    # collection's controller-side plugins need none (meta/execution-environment.yml names no file).
    assert _by(found['system'], 'user') == ['openssh-clients [platform:rpm]']
    assert _by(found['system'], OWN) == []


def _by(entries, collection):
    """The requirements the introspection attributes to COLLECTION ('<req>  # from collection a,b')."""
    picked = []
    for entry in entries:
        requirement, _sep, sources = entry.partition('  # from collection ')
        if collection in sources.split(','):
            picked.append(requirement)
    return picked

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The oldest ansible-core the unit tests run on is the one meta/runtime.yml claims."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT, needs_repository


@needs_repository
def test_make_test_oldest_core_pins_the_minor_version_requires_ansible_names():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as handle:
        claimed = re.fullmatch(r'>=(\d+)\.(\d+)\.(\d+)', yaml.safe_load(handle)['requires_ansible']).groups()
    with open(os.path.join(ROOT, 'workbench', 'tests', 'oldest-core', 'requirements.txt')) as handle:
        pins = dict(line.strip().split('==') for line in handle if '==' in line and not line.startswith('#'))
    pinned = pins['ansible-core'].split('.')
    assert pinned[:2] == list(claimed[:2]), (pins['ansible-core'], claimed)
    assert int(pinned[2]) >= int(claimed[2])

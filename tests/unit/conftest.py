# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers: where the real captured fixtures live."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
KCONFIG = os.path.join(FIXTURES, 'kconfig')


def fixture_path(*parts):
    return os.path.join(FIXTURES, *parts)


def capture_dirs(prefix=''):
    """Capture trees (host-*, vm/*) that exist in the fixtures."""
    found = []
    for base in (FIXTURES, os.path.join(FIXTURES, 'vm')):
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            path = os.path.join(base, name)
            if os.path.isdir(os.path.join(path, 'proc')) and name.startswith(prefix):
                found.append(path)
    return found


@pytest.fixture
def host_capture():
    dirs = capture_dirs('host-')
    assert dirs, 'the host capture fixture is missing'
    return dirs[0]

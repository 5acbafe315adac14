# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel source tree the build role fetches, for tests that compare with the kernel's own C code.

HYPERION_KERNEL_SOURCE names a tree; else the newest unpacked tree of the cache that
workbench/packaging/fetch-linux-source.sh fills (HYPERION_CACHE, else XDG_CACHE_HOME or ~/.cache, then
hyperion-kernel/kernel-source/<package>_<version>/tree). With HYPERION_REQUIRE_KERNEL_SOURCE=1
(make unit-kernel-source, which runs after make test's kernel-package) a missing tree fails the
test instead of skipping it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest


def _cache_dir():
    base = os.environ.get('HYPERION_CACHE')
    if base:
        return os.path.join(base, 'kernel-source')
    xdg = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(xdg, 'hyperion-kernel', 'kernel-source')


def _version_key(path):
    # linux-source-6.12_6.12.118-1 sorts after linux-source-6.12_6.12.9-1, as sort -V does.
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', os.path.basename(os.path.dirname(path)))]


def find_tree():
    """The kernel source tree, or None."""
    given = os.environ.get('HYPERION_KERNEL_SOURCE')
    if given:
        return given if os.path.isfile(os.path.join(given, 'lib', 'cmdline.c')) else None
    trees = [os.path.join(os.path.dirname(marker), 'tree')
             for marker in glob.glob(os.path.join(_cache_dir(), '*', '.unpacked'))]
    trees = [tree for tree in trees if os.path.isfile(os.path.join(tree, 'lib', 'cmdline.c'))]
    return sorted(trees, key=_version_key)[-1] if trees else None


def require_tree():
    """The tree, or a skip (a failure under HYPERION_REQUIRE_KERNEL_SOURCE=1) saying what was looked for."""
    tree = find_tree()
    if tree is None:
        where = os.environ.get('HYPERION_KERNEL_SOURCE') or os.path.join(_cache_dir(), '*', 'tree')
        reason = ('no kernel source tree with lib/cmdline.c at %s (make kernel-package or '
                  'workbench/packaging/fetch-linux-source.sh fetches it; make unit-kernel-source runs this test after it)' % where)
        if os.environ.get('HYPERION_REQUIRE_KERNEL_SOURCE') == '1':
            pytest.fail(reason)
        pytest.skip(reason)
    return tree


def extract_function(path, signature):
    """The text of the C function whose definition starts with ``signature``, up to its closing brace."""
    with open(path) as handle:
        text = handle.read()
    start = text.find('\n' + signature)
    if start < 0:
        raise AssertionError('%s has no function %s' % (path, signature))
    end = text.find('\n}\n', start)
    return text[start + 1:end + 3]


def extract_block(path, first, last):
    """The lines of ``path`` from the first one starting with ``first`` to the next one containing ``last``."""
    with open(path) as handle:
        lines = handle.read().splitlines(True)
    for index, line in enumerate(lines):
        if line.startswith(first):
            for stop in range(index, len(lines)):
                if last in lines[stop]:
                    return ''.join(lines[index:stop + 1])
    raise AssertionError('%s has no block starting with %s' % (path, first))

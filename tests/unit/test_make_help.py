# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make help` lists every make target the documentation tells a reader to run.

Each user-facing rule says what it does after "## " on its own line; `make help` collects them from
every make fragment. A target named in the README, docs/, the role and bench READMEs as `make X` (in
a code span or a shell block) and missing from `make help` fails here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import subprocess

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT, needs_repository

pytestmark = needs_repository
# `make X` at the start of a code span or of a shell line: a command the reader runs.
_COMMAND_RE = re.compile(r'(?:`|^\s*(?:\$ )?)make ([a-z][a-z0-9-]*)', re.M)
# The kernel's own make targets, which the build role runs in the source tree.
KERNEL_TARGETS = {'olddefconfig'}


def documented_targets():
    found = {}
    paths = [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md'))) + sorted(
        glob.glob(os.path.join(ROOT, 'roles', '*', 'README.md'))) + sorted(glob.glob(os.path.join(ROOT, 'bench', '*.md')))
    for path in paths:
        with open(path) as handle:
            for target in _COMMAND_RE.findall(handle.read()):
                if target not in KERNEL_TARGETS:
                    found.setdefault(target, os.path.relpath(path, ROOT))
    return found


def help_targets():
    result = subprocess.run(['make', '--no-print-directory', '-s', 'help'], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, check=True)
    return dict(re.fullmatch(r'make (\S+)\s+(.+)', line).groups() for line in result.stdout.splitlines())


def test_every_documented_target_is_in_make_help():
    listed = help_targets()
    documented = documented_targets()
    assert {'test', 'deploy', 'lab-up', 'kernel-package'} <= set(documented), documented
    missing = sorted('%s (named in %s)' % (target, where) for target, where in documented.items() if target not in listed)
    assert not missing, 'make help does not list: ' + ', '.join(missing)


def test_every_help_line_says_something():
    for target, text in help_targets().items():
        assert len(text) > 10, (target, text)

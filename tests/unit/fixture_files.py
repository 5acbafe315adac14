# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copies of the captured fixture trees for tests that write into them, and replays of their command outputs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import os
import shutil

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')


def copy_fixture_tree(relpath, dest, ignore=None):
    """Copy fixtures/<relpath> to ``dest`` and unpack its .gz files in place.

    Some captured files are stored gzip-compressed (Debian's grub-mkconfig starts
    with a shebang ansible-test's sanity check refuses); tests need them as shipped.
    """
    shutil.copytree(os.path.join(FIXTURES, relpath), dest, ignore=ignore)
    for base, _dirs, files in os.walk(dest):
        for name in files:
            if name.endswith('.gz'):
                path = os.path.join(base, name)
                with gzip.open(path, 'rb') as packed:
                    with open(path[:-3], 'wb') as unpacked:
                        unpacked.write(packed.read())
                os.unlink(path)
    return dest


def replay_capture(capture):
    """A command runner that answers from a capture's cmd/ outputs, as the real tools did."""
    def run(argv):
        if argv == ['tc', '-j', 'qdisc', 'show']:
            with open(os.path.join(capture, 'cmd', 'tc-j-qdisc-show.json')) as handle:
                return 0, handle.read(), ''
        return 127, '', '%s was not captured' % argv[0]
    return run

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copies of the captured fixture trees for tests that write into them, and replays of their command outputs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
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


TEST_KERNEL_RECORD = os.path.join(FIXTURES, 'build', 'result-6.12.118.json')


def make_test_kernel_build(directory, drop=None):
    """A build directory as the build role leaves it: the captured result.json and a stand-in for each
    package it lists (each file holds b'package <name>'), but ``drop``. Returns the record."""
    with open(TEST_KERNEL_RECORD) as handle:
        recorded = json.load(handle)
    for path in recorded['packages']:
        name = os.path.basename(path)
        if name != drop:
            with open(os.path.join(directory, name), 'wb') as handle:
                handle.write(b'package ' + name.encode())
    shutil.copy(TEST_KERNEL_RECORD, os.path.join(directory, 'result.json'))
    return recorded


def sys_class_tty_tree(capture, root):
    """A /sys/class/tty under ROOT as a captured listing (fixtures/tty/*.txt: 'name type' or 'name -') has it:
    a directory per tty, with its type file where the capture read one. Returns the captured {name: type or None}."""
    captured = {}
    with open(os.path.join(FIXTURES, 'tty', capture)) as handle:
        for line in handle:
            if line.startswith('#') or not line.strip():
                continue
            name, uart_type = line.split()
            captured[name] = None if uart_type == '-' else int(uart_type)
            directory = os.path.join(root, 'sys', 'class', 'tty', name)
            os.makedirs(directory)
            if uart_type != '-':
                with open(os.path.join(directory, 'type'), 'w') as out:
                    out.write(uart_type + '\n')
    return captured

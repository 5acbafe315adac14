# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The table of taprio full-offload drivers against the kernel source it was derived from.

A driver offloads taprio when its ndo_setup_tc (or a DSA switch's port_setup_tc) handles
TC_SETUP_QDISC_TAPRIO; a `case TC_SETUP_QDISC_TAPRIO:` in a *query_caps function only answers the
capability query (igb). The driver names are the ones the device's driver link in sysfs shows: the
driver declared in the file, else in the files of its module, else (a library such as stmmac) every
driver of its directory. A tree of another kernel than the table's names what changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.hyperion.kernel.plugins.module_utils.taprio_offload import OFFLOAD_KERNEL, OFFLOAD_SOURCES
from ansible_collections.hyperion.kernel.tests.unit.kernel_source import require_tree

_CASE_RE = re.compile(r'^\s*case TC_SETUP_QDISC_TAPRIO\s*:', re.M)
# A function definition's first line: a type at column 0, then the name and its opening parenthesis.
_FUNCTION_RE = re.compile(r'^[A-Za-z_][^\n;]*?\b([A-Za-z_]\w*)\s*\([^;{]*$', re.M)
_DRIVER_RE = re.compile(r'^(?:static\s+)?(?:const\s+)?struct\s+(?:platform|pci|spi|i2c|mdio|device)_driver\s+\w+\s*'
                        r'(?:__\w+\s*)?=\s*\{(.*?)^\};', re.M | re.S)
_NAME_RE = re.compile(r'\.name\s*=\s*([^,\n]+?)\s*,')


def _read(path):
    with open(path, errors='replace') as handle:
        return handle.read()


def dispatch_files(tree):
    """drivers/net files with a `case TC_SETUP_QDISC_TAPRIO:` outside a capability query."""
    found = set()
    for root, _dirs, files in os.walk(os.path.join(tree, 'drivers', 'net')):
        for name in files:
            if not name.endswith('.c'):
                continue
            path = os.path.join(root, name)
            text = _read(path)
            for case in _CASE_RE.finditer(text):
                functions = list(_FUNCTION_RE.finditer(text, 0, case.start()))
                if functions and 'caps' not in functions[-1].group(1):
                    found.add(os.path.relpath(path, tree))
    return found


def _makefile(directory):
    path = os.path.join(directory, 'Makefile')
    return _read(path).replace('\\\n', ' ') if os.path.exists(path) else ''


def _module_of(directory, file_name):
    """(module name, its .c files) of FILE_NAME from the directory's Makefile (``mod-y := a.o b.o``)."""
    makefile = _makefile(directory)
    obj = file_name[:-2] + '.o'
    lines = re.findall(r'^([\w-]+)-(?:y|objs|\$\(\w+\))\s*[+:]?=\s*(.*)$', makefile, re.M)
    for module, objects in lines:
        if obj in objects.split():
            files = set()
            for other, more in lines:
                if other == module:
                    files.update(word[:-2] + '.c' for word in more.split() if word.endswith('.o'))
            return module, files
    return file_name[:-2], set([file_name])


def declared_drivers(directory):
    """{file name: [driver names]} of the struct *_driver initializers in DIRECTORY's .c files."""
    texts = dict((name, _read(os.path.join(directory, name)))
                 for name in sorted(os.listdir(directory)) if name.endswith(('.c', '.h')))

    def resolve(expression, file_name):
        literal = re.fullmatch(r'"([^"]+)"', expression)
        if literal:
            return literal.group(1)
        if expression == 'KBUILD_MODNAME':
            # kbuild names a module after its object, with "-" as "_".
            return _module_of(directory, file_name)[0].replace('-', '_')
        for text in texts.values():
            found = (re.search(r'#define\s+%s\s+"([^"]+)"' % re.escape(expression), text)
                     or re.search(r'\b%s\s*\[\]\s*=\s*"([^"]+)"' % re.escape(expression), text))
            if found:
                return found.group(1)
        raise AssertionError('%s: cannot resolve the driver name %s' % (file_name, expression))

    drivers = {}
    for name, text in texts.items():
        for block in _DRIVER_RE.finditer(text):
            found = _NAME_RE.search(block.group(1))
            if found:
                drivers.setdefault(name, []).append(resolve(found.group(1), name))
    return drivers


def derive(tree):
    """{dispatch file: sorted driver names}, as taprio_offload.OFFLOAD_SOURCES keeps it."""
    table = {}
    for path in sorted(dispatch_files(tree)):
        directory, name = os.path.split(os.path.join(tree, path))
        drivers = declared_drivers(directory)
        names = drivers.get(name) or [driver for module_file in sorted(_module_of(directory, name)[1])
                                      for driver in drivers.get(module_file, [])]
        if not names:
            names = [driver for found in drivers.values() for driver in found]
        table[path] = tuple(sorted(set(names)))
    return table


def _kernel_version(tree):
    makefile = _read(os.path.join(tree, 'Makefile'))
    parts = [re.search(r'^%s = (\S*)' % key, makefile, re.M).group(1) for key in ('VERSION', 'PATCHLEVEL', 'SUBLEVEL')]
    return '.'.join(parts)


def test_the_table_is_what_the_kernel_source_says():
    tree = require_tree()
    derived = derive(tree)
    version = _kernel_version(tree)
    table = dict((path, tuple(sorted(names))) for path, names in OFFLOAD_SOURCES.items())
    # On a tree of another kernel the message says what to change in the table (and OFFLOAD_KERNEL with it).
    assert derived == table, 'Linux %s, the table is of %s: new %s, gone %s' % (
        version, OFFLOAD_KERNEL, sorted(set(derived.items()) - set(table.items())),
        sorted(set(table.items()) - set(derived.items())))


def test_igb_only_answers_the_capability_query():
    tree = require_tree()
    path = os.path.join(tree, 'drivers', 'net', 'ethernet', 'intel', 'igb', 'igb_main.c')
    text = _read(path)
    assert _CASE_RE.search(text), 'igb_main.c no longer names TC_SETUP_QDISC_TAPRIO'
    assert 'drivers/net/ethernet/intel/igb/igb_main.c' not in dispatch_files(tree)

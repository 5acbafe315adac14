# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_params.kgdboc_prefixes against the kernel's own reading of a kgdboc value.

The harness is kgdboc_register_kbd() and the first steps of configure_kgdboc() (the kms and keyboard
prefixes, up to the call of tty_find_polling_driver()), cut out of drivers/tty/serial/kgdboc.c of the
kernel source the build role fetches, as a kernel with CONFIG_KDB_KEYBOARD builds them; a stub of
tty_find_polling_driver() prints what it is handed. Hypothesis feeds both the same values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import os
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils.kernel_params import kgdboc_prefixes
from ansible_collections.hyperion.kernel.tests.unit.kernel_source import extract_block, extract_function, require_tree

PRELUDE = r'''
#include <stdio.h>
#include <string.h>

#define KDB_POLL_FUNC_MAX 5
typedef int (*get_char_func)(void);
static get_char_func kdb_poll_funcs[KDB_POLL_FUNC_MAX];
static int kdb_poll_idx;
static int kdb_get_kbd_char(void) { return -1; }
static int kgdboc_use_kms;
static char *handed;

static void *tty_find_polling_driver(char *name, int *line)
{
    (void)line;
    handed = name;
    return NULL;
}
'''

MAIN = r'''
static void show(const char *s)
{
    if (!s) { printf("-\n"); return; }
    for (; *s; s++)
        printf("%02x", (unsigned char)*s);
    printf(".\n");
}

int main(void)
{
    static char line[4096];

    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        kdb_poll_idx = 0;
        handed = NULL;
        parse(line);
        printf("%d %d ", kgdboc_use_kms, kdb_poll_idx);
        show(handed);
    }
    return 0;
}
'''


@pytest.fixture(scope='module')
def kernel_kgdboc(tmp_path_factory):
    tree = require_tree()
    if shutil.which('gcc') is None:
        reason = 'no gcc to build the kernel\'s kgdboc parsing (apt-get install gcc)'
        if os.environ.get('HYPERION_REQUIRE_KERNEL_SOURCE') == '1':
            pytest.fail(reason)
        pytest.skip(reason)
    source = os.path.join(tree, 'drivers', 'tty', 'serial', 'kgdboc.c')
    body = extract_block(source, '\tkgdboc_use_kms = 0;', 'tty_find_polling_driver(cptr, &tty_line);')
    harness = '\n'.join([
        '/* Cut out of %s. */' % source,
        PRELUDE,
        extract_function(source, 'static int kgdboc_register_kbd(char **cptr)'),
        'static void parse(char *config)\n{\n\tchar *cptr = config;\n\tint tty_line = 0;\n\tvoid *p;\n',
        body,
        '\t(void)p;\n\treturn;\ndo_register:\n\treturn;\n}\n',
        MAIN,
    ])
    work = tmp_path_factory.mktemp('kgdboc')
    (work / 'harness.c').write_text(harness)
    binary = str(work / 'harness')
    subprocess.run(['gcc', '-O1', '-funsigned-char', '-Wall', '-Werror', '-o', binary, str(work / 'harness.c')], check=True)
    return binary


def _kernel(binary, values):
    data = ''.join(value + '\n' for value in values).encode('ascii')
    out = subprocess.run([binary], input=data, stdout=subprocess.PIPE, check=True).stdout.decode('ascii')
    readings = []
    for line in out.splitlines():
        kms, kbd, handed = line.split(' ')
        rest = None if handed == '-' else binascii.unhexlify(handed[:-1]).decode('ascii')
        readings.append((kms == '1', kbd == '1', rest))
    return readings


def test_the_documented_forms(kernel_kgdboc):
    values = ['ttyS0,115200', 'ttyS0', 'kbd', 'kms,kbd', 'kbd,ttyS0,115200', 'kms,kbd,ttyS0,115200', 'kdb', 'kbdx', 'kms']
    assert _kernel(kernel_kgdboc, values) == [kgdboc_prefixes(value) for value in values]


# The words and separators that steer the kernel's reading, drawn often; other printable characters now and then.
PIECES = st.sampled_from(['kms', 'kbd', 'kdb', ',', 'ttyS', '0', '115200', 'k', 'b', 'd', 'm', 's'])
VALUES = st.lists(st.one_of(PIECES, st.characters(min_codepoint=0x21, max_codepoint=0x7e)), max_size=8).map(''.join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(VALUES, min_size=1, max_size=20))
def test_any_value_is_read_as_the_kernel_reads_it(kernel_kgdboc, values):
    assert _kernel(kernel_kgdboc, values) == [kgdboc_prefixes(value) for value in values]

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cmdline.py against the kernel's own next_arg(), compiled from the kernel source the build role fetches,
and the bootloader module's limits (COMMAND_LINE_SIZE, the panic timeout) against the same source.

The harness is lib/cmdline.c's next_arg(), lib/string_helpers.c's skip_spaces() and lib/ctype.c's
table with include/linux/ctype.h's macros, cut out of the real files, plus a main() that runs the
loop of kernel/params.c parse_args() twice as init/main.c does (kernel parameters, then init's
arguments after a lone "--"). Hypothesis feeds both the same bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import os
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import bootloader
from ansible_collections.hyperion.kernel.plugins.module_utils.cmdline import parse_cmdline, split_args
from ansible_collections.hyperion.kernel.tests.unit.kernel_source import (
    extract_block, extract_function, require_tree)

MAIN = r'''
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void put(const char *tag, const char *s)
{
    printf("%s ", tag);
    if (!s) { printf("-\n"); return; }
    for (; *s; s++)
        printf("%02x", (unsigned char)*s);
    printf(".\n");
}

/* The loop of parse_args(): every (param, val) up to a lone "--"; returns the rest or NULL. */
static char *parse(const char *phase, char *args)
{
    char *param, *val;

    args = skip_spaces(args);
    while (*args) {
        args = next_arg(args, &param, &val);
        if (!val && strcmp(param, "--") == 0)
            return args;
        printf("%s\n", phase);
        put("P", param);
        put("V", val);
    }
    return NULL;
}

int main(void)
{
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
    char *rest;

    buf[n] = '\0';
    rest = parse("K", buf);
    if (rest) {
        printf("D\n");
        parse("I", rest);
    }
    return 0;
}
'''


@pytest.fixture(scope='module')
def kernel_next_arg(tmp_path_factory):
    """Path of the compiled harness."""
    tree = require_tree()
    if shutil.which('gcc') is None:
        # workbench/lab/debian-packages.txt has gcc in the build group, which .ci/run and make kernel-package install.
        reason = 'no gcc to build the kernel\'s next_arg() (apt-get install gcc)'
        if os.environ.get('HYPERION_REQUIRE_KERNEL_SOURCE') == '1':
            pytest.fail(reason)
        pytest.skip(reason)
    source = '\n'.join([
        '/* Cut out of %s; the shim is stddef.h (NULL) and the prototype of skip_spaces(). */' % tree,
        '#include <stddef.h>',
        'char *skip_spaces(const char *str);',
        extract_block(os.path.join(tree, 'include', 'linux', 'ctype.h'), '#define _U', '#define isxdigit'),
        extract_block(os.path.join(tree, 'lib', 'ctype.c'), 'const unsigned char _ctype[]', '};'),
        extract_function(os.path.join(tree, 'lib', 'string_helpers.c'), 'char *skip_spaces(const char *str)'),
        extract_function(os.path.join(tree, 'lib', 'cmdline.c'), 'char *next_arg(char *args, char **param, char **val)'),
        MAIN,
    ])
    work = tmp_path_factory.mktemp('next_arg')
    (work / 'harness.c').write_text(source)
    binary = str(work / 'harness')
    # -funsigned-char: the kernel builds with it on every architecture since 6.2.
    subprocess.run(['gcc', '-O1', '-funsigned-char', '-Wall', '-Werror', '-o', binary, str(work / 'harness.c')],
                   check=True)
    return binary


def _kernel(binary, data):
    """What the kernel makes of DATA: (kernel pairs, whether "--" was seen, init pairs), strings as bytes."""
    out = subprocess.run([binary], input=data, stdout=subprocess.PIPE, check=True).stdout.decode('ascii')
    lines = out.splitlines()
    kernel, init, dashes = [], [], False
    index = 0
    while index < len(lines):
        if lines[index] == 'D':
            dashes = True
            index += 1
            continue
        phase, param, value = lines[index], lines[index + 1], lines[index + 2]
        index += 3
        decoded = tuple(None if field[2:] == '-' else binascii.unhexlify(field[2:-1]) for field in (param, value))
        (kernel if phase == 'K' else init).append(decoded)
    return kernel, dashes, init


def _ours(data):
    text = data.decode('latin-1').split('\x00', 1)[0]
    pairs, rest = split_args(text)
    init = split_args(text, rest)[0] if rest is not None else []

    def encode(value):
        return None if value is None else value.encode('latin-1')

    return ([(encode(p), encode(v)) for p, v in pairs], rest is not None,
            [(encode(p), encode(v)) for p, v in init])


# Characters that steer next_arg() (quotes, '=', the kernel's white space and its 0xA0) are drawn
# often; every other byte value (but NUL, which ends the C string anyway) now and then.
STEERING = ['"', '=', ' ', '\t', '\n', '\xa0', '-', 'a', 'b']
BYTES = st.lists(st.one_of(st.sampled_from(STEERING), st.sampled_from(STEERING), st.characters(min_codepoint=0, max_codepoint=255)),
                 max_size=40).map(lambda chars: ''.join(chars).encode('latin-1'))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(BYTES)
@example(b'"a=b c" d="e f" "" " "-- init="x y" -- lost')
@example(b'=x a==b "="q" x="')
@example(b'a\x1cb\x85c\xa0d')
@example(b'a\x00b c')
def test_parser_agrees_with_the_kernels_next_arg(kernel_next_arg, data):
    assert _ours(data) == _kernel(kernel_next_arg, data)


def test_parse_cmdline_is_what_the_kernel_hands_on(kernel_next_arg):
    data = b'BOOT_IMAGE=/vmlinuz "dyndbg=module zram +p" nmi-watchdog=0 -- single x="a b" -- dropped'
    kernel, dashes, init = _kernel(kernel_next_arg, data)
    parsed = parse_cmdline(data)
    assert dashes
    assert parsed.params == [(p.decode().replace('-', '_'), v.decode() if v is not None else None) for p, v in kernel]
    # init/main.c rejoins param=value for init's argv.
    assert parsed.init_args == [p.decode() + ('=' + v.decode() if v is not None else '') for p, v in init]
    assert parsed.init_args == ['single', 'x=a b']


# uname -m of each table entry -> the file that defines its COMMAND_LINE_SIZE in the kernel source.
SETUP_H = {'x86_64': 'arch/x86/include/asm/setup.h', 'aarch64': 'arch/arm64/include/uapi/asm/setup.h',
           'armv7l': 'arch/arm/include/uapi/asm/setup.h', 'riscv64': 'arch/riscv/include/uapi/asm/setup.h',
           'ppc64le': 'arch/powerpc/include/uapi/asm/setup.h', 'mips64': 'arch/mips/include/uapi/asm/setup.h',
           'parisc64': 'arch/parisc/include/uapi/asm/setup.h'}


@pytest.mark.parametrize('machine', sorted(SETUP_H))
def test_command_line_sizes_are_the_kernels(machine):
    tree = require_tree()
    with open(os.path.join(tree, SETUP_H[machine])) as handle:
        sizes = re.findall(r'#\s*define\s+COMMAND_LINE_SIZE\s+(\d+)', handle.read())
    assert [int(size) for size in sizes] == [bootloader.COMMAND_LINE_SIZES[machine]]
    with open(os.path.join(tree, 'include', 'uapi', 'asm-generic', 'setup.h')) as handle:
        assert re.search(r'#define\s+COMMAND_LINE_SIZE\s+%d\b' % bootloader.GENERIC_COMMAND_LINE_SIZE, handle.read())


def test_panic_bound_is_the_int_the_kernel_multiplies():
    tree = require_tree()
    with open(os.path.join(tree, 'kernel', 'panic.c')) as handle:
        panic_c = handle.read()
    # An int, multiplied by 1000 in the wait loop, parsed as an int: INT_MAX // 1000 is the largest safe value.
    assert re.search(r'^int panic_timeout = CONFIG_PANIC_TIMEOUT;', panic_c, re.M)
    assert 'i < panic_timeout * 1000;' in panic_c
    assert 'core_param(panic, panic_timeout, int, 0644);' in panic_c
    assert bootloader.PANIC_MAX == (2 ** 31 - 1) // 1000 and bootloader.PANIC_MIN == -2 ** 31

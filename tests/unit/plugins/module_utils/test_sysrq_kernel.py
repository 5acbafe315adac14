# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysrq.always_enabled_by against the kernel's own matching of a __setup() parameter.

init/main.c's obsolete_checksetup() hands a command line parameter ("name=value", as parse_args() repaired it)
to a __setup() handler when parameqn(line, str, strlen(str)) holds; drivers/tty/sysrq.c registers
"sysrq_always_enabled" and ignores the rest. The harness is parameqn() and dash2underscore() cut out of
kernel/params.c of the kernel source the build role fetches, called as obsolete_checksetup() calls it.
Hypothesis feeds both the same parameters.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils.sysrq import ALWAYS_ENABLED, always_enabled_by
from ansible_collections.hyperion.kernel.tests.unit.kernel_source import extract_function, require_tree

MAIN = r'''
int main(void)
{
    static char line[4096];

    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        printf("%d\n", parameqn(line, SETUP_STR, strlen(SETUP_STR)) ? 1 : 0);
    }
    return 0;
}
'''


@pytest.fixture(scope='module')
def kernel_source():
    return require_tree()


@pytest.fixture(scope='module')
def kernel_setup_match(kernel_source, tmp_path_factory):
    if shutil.which('gcc') is None:
        reason = 'no gcc to build the kernel\'s parameter matching (apt-get install gcc)'
        if os.environ.get('HYPERION_REQUIRE_KERNEL_SOURCE') == '1':
            pytest.fail(reason)
        pytest.skip(reason)
    params = os.path.join(kernel_source, 'kernel', 'params.c')
    harness = '\n'.join([
        '/* Cut out of %s. */' % params,
        '#include <stdbool.h>\n#include <stdio.h>\n#include <string.h>',
        '#define SETUP_STR "%s"' % ALWAYS_ENABLED,
        extract_function(params, 'static char dash2underscore(char c)'),
        extract_function(params, 'bool parameqn(const char *a, const char *b, size_t n)'),
        MAIN,
    ])
    work = tmp_path_factory.mktemp('setup-match')
    (work / 'harness.c').write_text(harness)
    binary = str(work / 'harness')
    subprocess.run(['gcc', '-O1', '-Wall', '-Werror', '-o', binary, str(work / 'harness.c')], check=True)
    return binary


def test_the_kernel_registers_the_name_and_matches_its_prefix(kernel_source):
    with open(os.path.join(kernel_source, 'drivers', 'tty', 'sysrq.c')) as handle:
        assert re.search(r'__setup\("%s", \w+\);' % ALWAYS_ENABLED, handle.read())
    # The rule the harness reproduces: the setup string's length only, so whatever follows it matches too.
    checksetup = extract_function(os.path.join(kernel_source, 'init', 'main.c'), 'static bool __init obsolete_checksetup(char *line)')
    assert 'int n = strlen(p->str);' in checksetup
    assert 'parameqn(line, p->str, n)' in checksetup


def _kernel(binary, lines):
    data = ''.join(line + '\n' for line in lines).encode('ascii')
    out = subprocess.run([binary], input=data, stdout=subprocess.PIPE, check=True).stdout.decode('ascii')
    return [answer == '1' for answer in out.split()]


def _ours(line):
    # What the facts give the check: the parameter's name, the text before its first '='.
    return always_enabled_by([line.partition('=')[0]]) is not None


def test_the_forms_that_turn_it_on_and_the_ones_that_do_not(kernel_setup_match):
    lines = ['sysrq_always_enabled', 'sysrq_always_enabled=0', 'sysrq-always-enabled', 'sysrq_always-enabled=no',
             'sysrq_always_enabledx', 'sysrq_always_enable', 'sysrq_always_enable=d', 'sysrq=1', 'xsysrq_always_enabled',
             'SYSRQ_ALWAYS_ENABLED']
    kernel = _kernel(kernel_setup_match, lines)
    assert kernel == [True, True, True, True, True, False, False, False, False, False]
    assert kernel == [_ours(line) for line in lines]


PIECES = st.sampled_from(['sysrq', '_', '-', 'always', 'enabled', 'enable', 'd', '=', '0', '1', 's'])
LINES = st.lists(st.one_of(PIECES, st.characters(min_codepoint=0x21, max_codepoint=0x7e)), max_size=9).map(''.join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LINES, min_size=1, max_size=20))
def test_any_parameter_is_matched_as_the_kernel_matches_it(kernel_setup_match, lines):
    assert _kernel(kernel_setup_match, lines) == [_ours(line) for line in lines]

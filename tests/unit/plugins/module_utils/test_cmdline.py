# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest
from hypothesis import example, given, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils.cmdline import format_param, normalize_name, parse_cmdline
from ansible_collections.hyperion.kernel.plugins.module_utils.validation import KINDS

VM_CMDLINES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'vm', '*', 'proc', 'cmdline')))


def test_quoted_value_keeps_spaces_and_loses_quotes():
    parsed = parse_cmdline('root=/dev/vda1 "dyndbg=module zram +p" opt="a b" kgdboc=ttyS0,115200\n')
    assert parsed.get('dyndbg') == 'module zram +p'
    assert parsed.get('opt') == 'a b'
    assert parsed.get('kgdboc') == 'ttyS0,115200'


def test_dash_and_underscore_are_the_same_name():
    parsed = parse_cmdline('nmi-watchdog=0 zram.num_devices=2')
    assert parsed.get('nmi_watchdog') == '0'
    assert parsed.get('nmi-watchdog') == '0'
    assert parsed.has('zram.num-devices')


def test_double_dash_ends_kernel_parameters():
    parsed = parse_cmdline('quiet -- kgdbwait single')
    assert not parsed.has('kgdbwait')
    assert parsed.init_args == ['kgdbwait', 'single']


def test_bare_flags_and_repeats():
    parsed = parse_cmdline('kgdbwait console=tty0 console=ttyS0,115200')
    assert parsed.has('kgdbwait') and parsed.get('kgdbwait') is None
    assert parsed.values('console') == ['tty0', 'ttyS0,115200']
    assert parsed.get('console') == 'ttyS0,115200'
    assert parsed.to_dict()['kgdbwait'] == ''


def test_equals_only_counts_after_the_first_character():
    # lib/cmdline.c looks for '=' from the second character on.
    parsed = parse_cmdline('=x a==b')
    assert parsed.params == [('=x', None), ('a', '=b')]


@pytest.mark.parametrize('name,value', [('kgdboc', 'ttyS0,115200'), ('dyndbg', 'module zram +p'), ('quiet', None), ('x', '')])
def test_format_param_round_trips(name, value):
    assert parse_cmdline(format_param(name, value)).values(name) == [value]


NAMES = st.from_regex(KINDS['param_name'][0], fullmatch=True)
# Any byte value but the two the kernel cannot carry in a value: NUL ends the line, '"' has no escape.
VALUES = st.one_of(st.none(), st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255, blacklist_characters='"'),
                                      max_size=20))


@given(st.lists(st.tuples(NAMES, VALUES), min_size=1, max_size=6))
@example([('a', ' '), ('b', '=x'), ('c', ''), ('d', '\xa0'), ('x--y', None)])
def test_formatted_params_parse_back_to_themselves(pairs):
    line = ' '.join(format_param(name, value) for name, value in pairs)
    assert parse_cmdline(line).params == [(normalize_name(name), value) for name, value in pairs]


@pytest.mark.parametrize('name, value, message', [
    ('--', None, 'must be a kernel parameter name'),
    ('a=b', 'c', 'must be a kernel parameter name'),
    ('x', 'say "hi"', 'cannot be written'),
    ('x', 'a\x00b', 'cannot be written'),
])
def test_format_param_refuses_what_the_kernel_cannot_read_back(name, value, message):
    with pytest.raises(ValueError, match=message):
        format_param(name, value)


@pytest.mark.skipif(not VM_CMDLINES, reason='no VM captures yet')
@pytest.mark.parametrize('path', VM_CMDLINES)
def test_real_cmdlines_from_booted_kernels(path):
    with open(path) as handle:
        raw = handle.read()
    parsed = parse_cmdline(raw)
    assert parsed.params, raw
    # Whatever the capture booted with: every param is normalised and init args are separate.
    assert all('-' not in name.split('.')[-1] for name, _value in parsed.params)
    if ' -- ' in raw:
        assert parsed.init_args

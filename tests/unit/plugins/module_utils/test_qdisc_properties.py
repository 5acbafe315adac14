# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of the qdisc planner over generated plans (hypothesis).

- a plan that validates becomes tc words that, read back the way tc reads them, give the planned values;
- validation refuses anything else with a HyperionError, never a Python exception;
- tc's number grammar: a unit follows its number without a space, fractions truncate as in tc.

That the real tc accepts what validates is workbench/tests/lab/test_lab_vm.py (same strategies, a fixed sample).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import qdisc_boot
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import (
    OPTIONS, PRIORITY_COUNT, TAPRIO_FLAGS, U32_MAX, apply_plan, normalize_plan, plan_steps, validate_for_device)
from ansible_collections.hyperion.kernel.plugins.module_utils.tc import parse_rate, parse_size, parse_time
from ansible_collections.hyperion.kernel.tests.unit.plugins.module_utils.qdisc_strategies import (
    JUNK_VALUES, fixed_sample, junk_plan, plans)

_PARSE = {'rate': parse_rate, 'rate_or_unlimited': parse_rate, 'time': parse_time, 'size': parse_size}
_QUEUE_WORD = re.compile(r'[0-9]+@[0-9]+')


def read_tc_words(kind, words):
    """The option values tc takes from the words after the kind (the inverse of the planner's words)."""
    keyed, flags = {}, {}
    for key, spec in OPTIONS[kind]:
        if spec['word']:
            keyed[spec['word']] = (key, spec)
        if spec['type'] == 'bool':
            for value, word in ((True, spec['true']), (False, spec['false'])):
                if word:
                    flags[word] = (key, value)
        if spec['type'] == 'choice':
            for value, choice_words in spec['choices'].items():
                flags[choice_words[0]] = (key, value)
        if spec['type'] == 'rate_or_unlimited':
            flags['unlimited'] = (key, 0)
    values, index = {}, 0
    while index < len(words):
        word = words[index]
        if word in flags:
            key, value = flags[word]
            index += 1
        else:
            key, spec = keyed[word]
            type_ = spec['type']
            if type_ == 'map':
                value = [int(w) for w in words[index + 1:index + 1 + PRIORITY_COUNT]]
                index += 1 + PRIORITY_COUNT
            elif type_ == 'queues':
                end = index + 1
                while end < len(words) and _QUEUE_WORD.fullmatch(words[end]):
                    end += 1
                value = [tuple(int(n) for n in w.split('@')) for w in words[index + 1:end]]
                index = end
            elif type_ == 'sched_entries':
                # tc reads the gate mask as hexadecimal and the interval with strtoul(base 0).
                entry = (words[index + 1], int(words[index + 2], 16), int(words[index + 3], 0))
                value = values.get(key, []) + [entry]
                index += 4
            elif type_ in _PARSE:
                value = _PARSE[type_](words[index + 1])
                index += 2
            elif type_ == 'taprio_mode':
                # tc reads flags with get_u32(base 0); no flags word is 0.
                given = int(words[index + 1], 0)
                value = [mode for mode, bits in TAPRIO_FLAGS.items() if bits == given][0]
                index += 2
            else:
                value = words[index + 1] if type_ == 'clockid' else int(words[index + 1])
                index += 2
        values[key] = value
    return values


def _argv_options(argv):
    """(parent, handle, kind, option words) of a tc qdisc replace argv."""
    rest = argv[5:]
    parent = 'root' if rest[0] == 'root' else rest[1]
    rest = rest[1:] if rest[0] == 'root' else rest[2:]
    handle = None
    if rest[0] == 'handle':
        handle, rest = rest[1], rest[2:]
    return parent, handle, rest[0], rest[1:]


@settings(max_examples=300, deadline=None)
@given(plans())
def test_validated_plans_become_tc_words_that_read_back_as_planned(qdiscs):
    try:
        plan = normalize_plan(qdiscs)
        validate_for_device(plan, 'hyp0', 8)
    except HyperionError:
        return
    steps = plan_steps('hyp0', plan, [])
    assert len(steps) == len(plan)
    for (argv, _reason), entry in zip(steps, plan):
        parent, handle, kind, words = _argv_options(argv)
        assert (parent, handle, kind) == (entry['parent'], entry['handle'], entry['kind'])
        read = read_tc_words(kind, words)
        # A flag without an "off" word (etf's) is off when tc does not see the word.
        silent_off = [key for key, spec in OPTIONS[kind] if spec['type'] == 'bool' and not spec['false']]
        for key in silent_off:
            if key in entry['values'] and key not in read:
                read[key] = False
        if kind == 'taprio':
            read.setdefault('mode', 'software')
        assert read == entry['values'], argv
        # Every value is within what tc and the kernel take, and no word has white space for tc -batch.
        assert all(re.fullmatch(r'\S+', word) for word in argv)
        for key, spec in OPTIONS[kind]:
            value = entry['values'].get(key)
            if isinstance(value, int) and not isinstance(value, bool) and spec['hi'] is not None:
                assert value <= spec['hi']
    # The boot batch has the same commands, one per line.
    assert qdisc_boot.batch_text('hyp0', qdiscs).splitlines() == [' '.join(argv[1:]) for argv, _r in steps]


def test_the_sample_holds_both_accepted_and_refused_plans():
    # The lab's sample: the first 60 draws of a fixed seed came out differently with other tests before them
    # in the process (once without any refusal); the 200 draws the lab takes did not.
    accepted = refused = 0
    for qdiscs in fixed_sample(plans(), 200):
        try:
            validate_for_device(normalize_plan(qdiscs), 'hyp0', 8)
            accepted += 1
        except HyperionError:
            refused += 1
    assert accepted >= 60 and refused >= 15, (accepted, refused)


@settings(max_examples=500, deadline=None)
@given(junk_plan())
def test_validation_raises_nothing_but_hyperion_errors(qdiscs):
    for state in ('present', 'absent'):
        try:
            plan = normalize_plan(qdiscs, state)
            validate_for_device(plan, 'hyp0', 8)
            plan_steps('hyp0', plan, [], state)
        except HyperionError:
            pass
    try:
        qdisc_boot.batch_text('hyp0', qdiscs)
    except HyperionError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.one_of(JUNK_VALUES, st.text(max_size=20)))
def test_apply_plan_refuses_junk_devices_before_running_anything(device):
    calls = []

    def run(argv):
        calls.append(argv)
        return 1, '', 'Device does not exist.'
    try:
        apply_plan(run, device, [{'kind': 'cake'}])
    except HyperionError:
        pass
    if calls:
        # Only a valid interface name is ever handed to ip or tc.
        assert re.fullmatch(r'[A-Za-z0-9_.@+-]{1,15}', device) and device not in ('.', '..')


@settings(max_examples=300, deadline=None)
@given(JUNK_VALUES)
def test_the_unit_grammar_raises_nothing_but_hyperion_errors(value):
    for parse in (parse_rate, parse_size, parse_time):
        try:
            result = parse(value)
        except HyperionError:
            continue
        assert isinstance(result, int) and result >= 0


@given(st.integers(0, 10 ** 6), st.sampled_from(['bit', 'kbit', 'mbit', 'Mbit', 'bps', 'KBps']), st.sampled_from([' ', '  ', '\t']))
def test_a_unit_after_a_space_is_refused_like_tc_does(number, unit, space):
    text = '%d%s%s' % (number, space, unit)
    try:
        parse_rate(text)
    except HyperionError as exc:
        assert 'without a space' in str(exc)
    else:
        raise AssertionError('%r parsed' % text)


@given(st.integers(0, 10 ** 6), st.integers(0, 999))
def test_fractions_truncate_as_tc_does(whole, thousandths):
    # tc: strtod() times the unit, divided by 8 for rates, then stored in an integer (truncation).
    text = '%d.%03d' % (whole, thousandths)
    assert parse_rate(text + 'kbit') == int(float(text) * 1000 / 8)
    assert parse_time(text + 'ms') == int(float(text) * 1000)
    assert parse_size(text + 'kb') == int(float(text) * 1024)


def test_cake_rate_limits_are_tc_s_64_bit_bytes_per_second():
    # 2^64 bytes/s no longer fits tc's __u64: the largest accepted rate is just below.
    assert normalize_plan([{'kind': 'cake', 'options': {'bandwidth': '147573952589676396544bit'}}])[0]['values'][
        'bandwidth'] == 2 ** 64 - 2 ** 11
    for bad in ('147573952589676412928bit', '0bit', '7bit', '0'):
        try:
            normalize_plan([{'kind': 'cake', 'options': {'bandwidth': bad}}])
        except HyperionError as exc:
            assert 'option bandwidth' in str(exc) and 'cake at root' in str(exc)
        else:
            raise AssertionError(bad)
    assert U32_MAX == 4294967295

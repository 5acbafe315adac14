# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler's runtime files (preemption mode, features, sched_ext), read as captured from lab kernels and as
the kernel's own print functions write them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest
from hypothesis import given, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils.check import Checker
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import SourceError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts
from ansible_collections.hyperion.kernel.plugins.module_utils.profile import validate_item
from ansible_collections.hyperion.kernel.plugins.module_utils.sched import (
    PREEMPT_MODES, feature_word, parse_features, parse_preempt, parse_sched_ext_state)

CAPTURES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'sched', '*')))


def _read(path):
    with open(path) as handle:
        return handle.read()


def sched_dynamic_show(modes, current):
    """kernel/sched/debug.c sched_dynamic_show(): each offered mode, the current one in parentheses, a space after
    each, then a newline."""
    return ''.join(('(%s)' % mode if index == current else mode) + ' ' for index, mode in enumerate(modes)) + '\n'


def sched_feat_show(features):
    """kernel/sched/debug.c sched_feat_show(): "NO_" before a feature that is off, its name and a space; a newline."""
    return ''.join(('' if on else 'NO_') + name + ' ' for name, on in features) + '\n'


def test_there_are_captures():
    assert CAPTURES, 'tests/unit/fixtures/sched/ holds no capture'


@pytest.mark.parametrize('capture', CAPTURES, ids=os.path.basename)
def test_every_captured_preempt_mode_reads_back(capture):
    files = sorted(glob.glob(os.path.join(capture, 'preempt-*.txt')))
    assert files, 'no preempt-MODE.txt in %s' % capture
    offered = parse_preempt(_read(files[0]))['modes']
    for path in files:
        mode = os.path.basename(path)[len('preempt-'):-len('.txt')]
        assert parse_preempt(_read(path)) == {'mode': mode, 'modes': offered}
    assert set(offered) <= set(PREEMPT_MODES)
    assert len(files) == len(offered)


@pytest.mark.parametrize('capture', CAPTURES, ids=os.path.basename)
def test_hrtick_on_and_off_read_back_and_nothing_else_moves(capture):
    on = parse_features(_read(os.path.join(capture, 'features-HRTICK.txt')))
    off = parse_features(_read(os.path.join(capture, 'features-NO_HRTICK.txt')))
    assert on['HRTICK'] is True and off['HRTICK'] is False
    assert dict(on, HRTICK=None) == dict(off, HRTICK=None)
    assert feature_word('HRTICK', True) == 'HRTICK' and feature_word('HRTICK', False) == 'NO_HRTICK'


@pytest.mark.parametrize('capture', CAPTURES, ids=os.path.basename)
def test_the_captured_tree_gives_facts_and_item_results(capture):
    facts = gather_facts(capture, subsets=['sched', 'sysctl', 'modparams'], sysctls=['kernel.sched_schedstats'],
                         modparams=['damon_reclaim.enabled', 'usbcore.autosuspend'])
    sched = facts['sched']
    assert facts['errors'] == []
    assert sched['preempt']['mode'] in sched['preempt']['modes']
    # Neither kernel has SCHED_CLASS_EXT (Debian's 6.12 leaves it out; the test kernel has no BTF): no state.
    assert sched['sched_ext'] is None
    checker = Checker(facts)
    hrtick = checker.check_item(validate_item({'id': 'sched_feature:HRTICK', 'value': 'on'}, 'test'))
    assert hrtick['status'] == ('pass' if sched['features']['HRTICK'] else 'fail')
    preempt = checker.check_item(validate_item({'id': 'sched:preempt', 'value': sched['preempt']['mode']}, 'test'))
    assert preempt['status'] == 'pass' and preempt['detail'] == 'offered: ' + ' '.join(sched['preempt']['modes'])
    state = checker.check_item(validate_item({'id': 'sched_ext:state', 'match': 'one_of', 'values': ['disabled', 'enabled']}, 'test'))
    assert state['status'] == 'fail' and state['detail'] == 'no /sys/kernel/sched_ext: the kernel has no SCHED_CLASS_EXT'
    # No USB in these machines: usbcore's parameter has no running value, and that is not drift.
    usb = checker.check_item(validate_item({'id': 'modparam:usbcore.autosuspend', 'value': -1}, 'test'))
    assert usb['status'] == 'not_applicable' and 'usbcore is not loaded' in usb['detail']
    unknown = checker.check_item(validate_item({'id': 'sched_feature:NO_SUCH_FEATURE', 'value': 'on'}, 'test'))
    assert unknown['status'] == 'fail' and unknown['detail'] == 'the kernel has no scheduler feature NO_SUCH_FEATURE'


def test_without_debugfs_the_sched_items_are_unknown(tmp_path):
    facts = gather_facts(str(tmp_path), subsets=['sched'])
    assert facts['sched'] == {'preempt': None, 'features': None, 'sched_ext': None}
    assert facts['errors'] and 'debugfs' in facts['errors'][0]
    checker = Checker(facts)
    for item_id in ('sched:preempt', 'sched_feature:HRTICK'):
        result = checker.check_item(validate_item({'id': item_id, 'value': 'on'}, 'test'))
        assert result['status'] == 'unknown', result


@given(st.lists(st.sampled_from(PREEMPT_MODES), min_size=1, max_size=4, unique=True), st.data())
def test_preempt_reads_what_the_kernel_prints(modes, data):
    current = data.draw(st.integers(min_value=0, max_value=len(modes) - 1))
    assert parse_preempt(sched_dynamic_show(modes, current)) == {'mode': modes[current], 'modes': modes}


@given(st.lists(st.tuples(st.from_regex(r'[A-Z][A-Z0-9]{0,8}(_[A-Z0-9]{1,8}){0,3}', fullmatch=True), st.booleans()), min_size=1,
                max_size=40, unique_by=lambda pair: pair[0]))
def test_features_read_what_the_kernel_prints(features):
    # A feature named NO_X would print as NO_X and read as X: the kernel has none such (features.h).
    features = [(name, on) for name, on in features if not name.startswith('NO_')]
    if features:
        assert parse_features(sched_feat_show(features)) == dict(features)


@pytest.mark.parametrize('text', ['none (voluntary full\n', 'none voluntary full\n', '(none) (full)\n', 'none (Full)\n', ''])
def test_a_preempt_file_of_another_form_is_an_error(text):
    with pytest.raises(SourceError):
        parse_preempt(text)


@pytest.mark.parametrize('text', ['PLACE_LAG no_HRTICK\n', '\n', 'NO_\n'])
def test_a_features_file_of_another_form_is_an_error(text):
    with pytest.raises(SourceError):
        parse_features(text)


def test_sched_ext_states():
    assert parse_sched_ext_state('enabled\n') == 'enabled'
    with pytest.raises(SourceError, match='not a sched_ext state'):
        parse_sched_ext_state('on\n')

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trial core: the release record a rollback reads, and the arm file (the guard reading it is proved in
tests/unit/plugins/modules/test_trial_boot.py and tests/unit/roles/test_trial_guard.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.trial import (
    TrialError, armed_release, arm_text, plan_arm, plan_promotion, promoted_record, read_release_record)

OLD, NEW, NEWER = '6.12.48+deb13-amd64', '6.12.118-hyperion', '6.12.119-hyperion'


@pytest.mark.parametrize('recorded, release, previous, expected', [
    # The first promotion: a rollback goes back to the release that ran before.
    ({}, NEW, OLD, {'current_release': NEW, 'previous_release': OLD}),
    # The next release over the promoted one.
    ({'current_release': NEW, 'previous_release': OLD}, NEWER, NEW, {'current_release': NEWER, 'previous_release': NEW}),
    # A re-run on a host that already runs the release keeps the release to go back to ...
    ({'current_release': NEW, 'previous_release': OLD}, NEW, NEW, {'current_release': NEW, 'previous_release': OLD}),
    # ... and after a rollback (rolled_back_from is the rollback's own note) a new promotion starts afresh.
    ({'current_release': OLD, 'previous_release': OLD, 'rolled_back_from': NEW}, NEW, OLD,
     {'current_release': NEW, 'previous_release': OLD}),
    # Without any record, a host already on the release goes back to itself: there is nothing older known.
    ({}, NEW, NEW, {'current_release': NEW, 'previous_release': NEW}),
])
def test_promoted_record(recorded, release, previous, expected):
    assert promoted_record(recorded, release, previous) == expected


def test_an_unusable_record_is_written_anew_with_a_reason(tmp_path):
    path = tmp_path / 'hyperion_rollout.fact'
    path.write_text('{"current_release": ')
    change, record, problem = plan_promotion(str(path), NEW, OLD)
    assert 'is not JSON' in problem and json.loads(change.after) == record
    path.write_text('["a list"]')
    assert read_release_record(str(path)) == ({}, '%s is not a JSON object: it is written anew' % path)


def test_a_record_that_is_already_right_plans_nothing(tmp_path):
    path = tmp_path / 'hyperion_rollout.fact'
    change, record, _problem = plan_promotion(str(path), NEW, OLD)
    path.write_text(change.after)
    assert plan_promotion(str(path), NEW, NEW) == (None, record, None)


def test_arm_file_round_trip_and_refusals(tmp_path):
    changes = plan_arm(str(tmp_path), NEW, 600)
    assert [change.action()['action'] for change in changes] == ['write']
    assert armed_release(changes[0].after) == NEW and changes[0].after == arm_text(NEW, 600)
    assert plan_arm(str(tmp_path), NEW, None) == []
    for release, deadline in ((NEW + '\n', 600), ('a b', 600), (NEW, True), (NEW, 86401), (NEW, '600; reboot')):
        with pytest.raises(TrialError):
            plan_arm(str(tmp_path), release, deadline)

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A check that could read nothing fails, through the core (check.py) and the hyperion-check command."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.check import evaluate, require_config, verdict
from ansible_collections.hyperion.kernel.plugins.module_utils.cli import main
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts
from ansible_collections.hyperion.kernel.plugins.module_utils.profile import resolve_profile

# Items whose sources an empty root cannot give: the kernel config and tracefs.
UNREADABLE = {'schema_version': 1, 'name': 'unreadable', 'items': [
    {'id': 'CONFIG_SCHED_BORE', 'value': 'y', 'severity': 'required', 'reason': 'r'},
    {'id': 'tracer:timerlat', 'match': 'present', 'severity': 'required', 'reason': 'r'},
]}


def _summary(passed=0, failed=0, not_applicable=0, unknown=0):
    counts = {'pass': passed, 'fail': failed, 'not_applicable': not_applicable, 'unknown': unknown}
    return {'counts': counts, 'total': sum(counts.values()), 'failed_required': [], 'failed_recommended': [],
            'unknown_required': [], 'nothing_read': passed + failed == 0 and unknown > 0}


@pytest.mark.parametrize('fail_on', ['required', 'recommended', 'never'])
def test_all_unknown_fails_under_every_policy(fail_on):
    compliant, message = verdict(_summary(not_applicable=3, unknown=5), fail_on)
    assert compliant is False
    assert 'nothing could be read' in message


def test_one_judged_item_is_a_report_and_nothing_unknown_is_no_failure():
    assert verdict(_summary(passed=1, unknown=5))[0] is True
    # Every item not applicable: nothing failed to be read, nothing to fail on.
    assert verdict(_summary(not_applicable=4))[0] is True


def test_an_empty_root_reads_nothing(tmp_path):
    facts = gather_facts(str(tmp_path), None, subsets=['config', 'tracing'])
    results, summary = evaluate(resolve_profile(UNREADABLE), facts)
    assert [r['status'] for r in results] == ['unknown', 'unknown']
    assert summary['nothing_read'] is True
    assert verdict(summary, 'never')[0] is False


@pytest.mark.parametrize('content', [None, 'garbage\n', ''])
def test_require_config_names_the_file_and_the_reason(tmp_path, content):
    path = tmp_path / 'config'
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    facts = gather_facts('/', None, subsets=['config'], config_path=str(path))
    with pytest.raises(HyperionError, match='cannot check the kernel config %s: ' % path):
        require_config(facts, str(path))


def test_hyperion_check_on_an_empty_root_fails_even_when_told_never(tmp_path):
    profile = tmp_path / 'unreadable.json'
    profile.write_text(json.dumps(UNREADABLE))
    root = tmp_path / 'root'
    root.mkdir()
    out = io.StringIO()
    # No tool runs: the command runner says every tool is missing, as on a bare root.
    code = main(['--profile', str(profile), '--root', str(root), '--fail-on', 'never', '--format', 'json'],
                stdout=out, run=lambda argv: (127, '', '%s: not found' % argv[0]))
    report = json.loads(out.getvalue())
    assert code == 1 and report['compliant'] is False
    assert 'nothing could be read' in report['message']


@pytest.mark.parametrize('kind', ['directory', 'garbage'])
def test_hyperion_check_refuses_a_config_that_is_not_one(tmp_path, capsys, kind):
    path = tmp_path / 'config'
    if kind == 'directory':
        path.mkdir()
    else:
        path.write_text('not a config\n')
    assert main(['--config', str(path), '--fail-on', 'never']) == 2
    err = capsys.readouterr().err
    assert err.startswith('hyperion-check: error: ') and str(path) in err

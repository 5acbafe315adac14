# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.plugin_utils import fleet_report as fr
from ansible_collections.hyperion.kernel.plugins.module_utils.check import evaluate, verdict
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts
from ansible_collections.hyperion.kernel.plugins.module_utils.profile import wanted_sources
from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import replay_capture

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
TRIXIE_VM = os.path.join(FIXTURES, 'vm', 'trixie-6.12.117+deb13-amd64')


def _check_result(overlays):
    """What hyperion.kernel.profile_check returns for Debian trixie's stock kernel under qemu."""
    profile = load_resolved(overlays=overlays)
    sysctls, modparams = wanted_sources(profile)
    facts = gather_facts(TRIXIE_VM, replay_capture(TRIXIE_VM), sysctls=sysctls, modparams=modparams)
    results, summary = evaluate(profile, facts)
    compliant, msg = verdict(summary)
    return dict(changed=False, compliant=compliant, msg=msg, items=results, summary=summary,
                kernel_release=facts['kernel']['release'], failed=not compliant,
                profile=dict(name=profile['name'], overlays=profile.get('overlays', [])))


@pytest.fixture(scope='module')
def stock_kernel_check():
    return _check_result(['gaming_cafe'])


def test_check_run_drift_on_stock_kernel(stock_kernel_check):
    rec = fr.new_host('cafe1')
    fr.record_result(rec, 'failed', 'Compare the running kernel', 'hyperion.kernel.profile_check', stock_kernel_check)
    assert fr.host_outcome(rec) == 'drift'
    ids = [i['id'] for i in rec['failing_items']]
    # Debian's stock kernel is not Hyperion: the real checker's failures are the report's items.
    expected = [r['id'] for r in stock_kernel_check['items'] if r['status'] == 'fail']
    assert expected and set(expected) <= set(ids)
    assert rec['kernel_release'] == '6.12.117+deb13-amd64'
    report = fr.build_report('check', {'cafe1': rec}, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:05+00:00')
    row = report['hosts'][0]
    assert row['verdict'] == 'fail'
    assert row['reason'].startswith('required items drift: ')
    assert stock_kernel_check['summary']['failed_required'][0] in row['reason']
    # A check failure is a drift, not a task failure line.
    assert not [line for line in fr.host_details(row) if line.startswith('task ')]


def test_outcome_precedence_and_not_reached(stock_kernel_check):
    hosts = {name: fr.new_host(name) for name in ('lab1', 'cafe1', 'cafe2', 'cafe3')}
    fr.record_report(hosts['lab1'], {'outcome': 'fell_back', 'reason': 'came back on 6.12.117+deb13-amd64',
                                     'release': '6.12.117-hyperion-noroot'})
    fr.record_result(hosts['cafe1'], 'unreachable', 'Gathering', 'ansible.builtin.setup',
                     {'msg': 'Failed to connect to the host via ssh: Connection refused', 'unreachable': True})
    fr.record_result(hosts['cafe2'], 'unreachable', 'Reboot', 'ansible.builtin.reboot', {'msg': 'drop'})
    fr.record_result(hosts['cafe2'], 'ok', 'Check', 'hyperion.kernel.profile_check', _check_result(['lab']))
    report = fr.build_report('deploy', hosts, 'a', 'b', aborted=True)
    by_host = {r['host']: r for r in report['hosts']}
    assert by_host['lab1']['outcome'] == 'fell_back'
    assert by_host['lab1']['reason'] == 'came back on 6.12.117+deb13-amd64'
    assert by_host['lab1']['target_release'] == '6.12.117-hyperion-noroot'
    assert by_host['cafe1']['outcome'] == 'unreachable'
    assert 'Connection refused' in by_host['cafe1']['reason']
    # An answer after a drop: the host is back; the stock kernel drifts under the lab overlay too.
    assert by_host['cafe2']['outcome'] == 'drift'
    assert by_host['cafe3']['outcome'] == 'not_reached'
    assert by_host['cafe3']['verdict'] == 'skip'
    assert report['hosts'][0]['host'] == 'lab1'  # worst first
    assert report['ok'] is False
    assert report['totals'] == {'hosts': 4, 'pass': 0, 'fail': 3, 'skip': 1}
    lines = fr.summary_lines(report)
    assert 'RUN STOPPED EARLY' in lines[0]
    assert len(lines) == 5


def test_compliant_host_after_overrides():
    result = _check_result(['gaming_cafe'])
    # Skip every failing item through the same overrides mechanism inventories use.
    overrides = dict((r['id'], {'skip': 'test'}) for r in result['items'] if r['status'] in ('fail', 'unknown'))
    profile = load_resolved(overlays=['gaming_cafe'], overrides=overrides)
    sysctls, modparams = wanted_sources(profile)
    facts = gather_facts(TRIXIE_VM, replay_capture(TRIXIE_VM), sysctls=sysctls, modparams=modparams)
    results, summary = evaluate(profile, facts)
    compliant, _msg = verdict(summary)
    rec = fr.new_host('cafe1')
    fr.record_result(rec, 'ok', 'Compare', 'hyperion.kernel.profile_check',
                     dict(compliant=compliant, items=results, summary=summary, kernel_release='x'))
    assert fr.host_outcome(rec) == 'compliant'
    report = fr.build_report('check', {'cafe1': rec}, 'a', 'b')
    assert report['ok'] is True
    assert fr.summary_lines(report) == ['check: 1 host - 1 compliant']


def test_failed_task_and_skipped_only_host():
    hosts = {'a': fr.new_host('a'), 'b': fr.new_host('b')}
    fr.record_result(hosts['a'], 'failed', 'Install the kernel package', 'ansible.builtin.apt',
                     {'msg': 'No space left\n on device ' + 'x' * 1000})
    fr.record_result(hosts['b'], 'skipped', 'Only on canaries', 'ansible.builtin.debug', {})
    report = fr.build_report('deploy', hosts, 'a', 'b')
    by_host = {r['host']: r for r in report['hosts']}
    assert by_host['a']['outcome'] == 'failed'
    assert by_host['a']['reason'].startswith('Install the kernel package: No space left on device x')
    assert len(by_host['a']['failures'][0]['msg']) == 600
    assert by_host['b']['outcome'] == 'ok'


def test_renderers_are_well_formed(stock_kernel_check):
    hosts = {'cafe1': fr.new_host('cafe1'), 'x<&>"|': fr.new_host('x<&>"|')}
    fr.record_result(hosts['cafe1'], 'failed', 'Check', 'hyperion.kernel.profile_check', stock_kernel_check)
    fr.record_report(hosts['x<&>"|'], {'outcome': 'deferred', 'reason': 'active session: seat0 user "gamer" <tty1>'})
    report = fr.build_report('check', hosts, 's', 'f')
    data = json.loads(fr.to_json(report))
    assert data['schema_version'] == 1
    assert data['hosts'][0]['failing_items']
    root = ET.fromstring(fr.to_junit(report))
    suite = root.find('testsuite')
    assert suite.get('tests') == '2' and suite.get('failures') == '1' and suite.get('skipped') == '1'
    cases = {c.get('name'): c for c in suite.findall('testcase')}
    failure = cases['cafe1'].find('failure')
    assert failure.get('type') == 'drift'
    assert stock_kernel_check['summary']['failed_required'][0] in failure.text
    assert 'gamer' in cases['x<&>"|'].find('skipped').get('message')
    md = fr.to_markdown(report)
    table = [line for line in md.splitlines() if line.startswith('| ')]
    assert len(table) == 3  # header + 2 hosts
    assert 'x<&>"\\|' in md
    html = fr.to_html(report)
    # ElementTree's HTML writer escapes &, < and > in text; a quote there needs none.
    assert '<td>x&lt;&amp;&gt;"|</td>' in html
    assert html.count('<tr class=') == 2


def test_report_only_check_judged_by_assert(stock_kernel_check):
    """check.yml runs the module with fail_on: never and judges with an assertion."""
    never = dict(stock_kernel_check, compliant=True, failed=False)
    rec = fr.new_host('lab1')
    fr.record_result(rec, 'ok', 'Compare', 'hyperion.kernel.profile_check', never)
    fr.record_result(rec, 'failed', 'Judge the host', 'ansible.builtin.assert',
                     {'msg': 'drifts', 'evaluated_to': False})
    assert fr.host_outcome(rec) == 'drift'
    row = fr.build_report('check', {'lab1': rec}, 'a', 'b')['hosts'][0]
    assert row['compliant'] is False
    assert row['reason'].startswith('required items drift:')


def test_stopped_run_hosts_past_the_first_checks_only_are_not_reached():
    hosts = {'c1': fr.new_host('c1'), 'c2': fr.new_host('c2')}
    for rec in hosts.values():
        fr.record_result(rec, 'ok', 'Check the rollout variables', 'ansible.builtin.assert', {'changed': False})
    fr.record_result(hosts['c1'], 'failed', 'Stop at a failed preflight', 'ansible.builtin.fail', {'msg': 'no GRUB'})
    # What the host published before it failed, read from the run's stats when the run ends.
    fr.record_report(hosts['c1'], {'outcome': 'preflight_failed', 'reason': 'no GRUB'})
    report = fr.build_report('deploy', hosts, 'a', 'b', aborted=True)
    by_host = {r['host']: r for r in report['hosts']}
    assert by_host['c1']['outcome'] == 'preflight_failed'
    assert fr.host_details(by_host['c1']) == ['no GRUB']
    assert by_host['c2']['outcome'] == 'not_reached'
    # The same host in a run that went to the end is simply ok.
    assert fr.build_report('deploy', hosts, 'a', 'b')['hosts'][1]['outcome'] == 'ok'


def test_published_report_fields():
    rec = fr.new_host('ro-a')
    fr.record_result(rec, 'ok', 'Check', 'hyperion.kernel.profile_check', _check_result(['gaming_cafe']))
    fr.record_report(rec, {'outcome': 'updated', 'reason': 'runs 6.19.6-hyperion\n (was 6.12)',
                           'release': '6.19.6-hyperion', 'kernel_release': '6.19.6-hyperion', 'extra': 'left out'})
    row = fr.build_report('deploy', {'ro-a': rec}, 'a', 'b')['hosts'][0]
    assert (row['outcome'], row['verdict'], row['reason']) == ('updated', 'pass', 'runs 6.19.6-hyperion (was 6.12)')
    assert row['target_release'] == row['kernel_release'] == '6.19.6-hyperion'
    assert 'extra' not in row
    # An outcome without a reason has none (not the reason derived from the results).
    fr.record_report(rec, {'outcome': 'deferred'})
    assert fr.build_report('deploy', {'ro-a': rec}, 'a', 'b')['hosts'][0]['reason'] == ''
    # Anything but a mapping is no report; keys without a value change nothing.
    for value in (None, 'updated', ['updated'], {'outcome': '', 'release': None}):
        fr.record_report(rec, value)
    assert (rec['outcome'], rec['target_release']) == ('deferred', '6.19.6-hyperion')


def test_facts_do_not_speak_to_the_report():
    """The one contract is the published stat: no fact of a playbook or a role (the names of earlier
    versions among them) sets an outcome."""
    rec = fr.new_host('c1')
    fr.record_result(rec, 'ok', 'Report', 'ansible.builtin.set_fact', {'ansible_facts': {
        'hyperion_report_outcome': 'updated', 'rollout_report_outcome': 'updated', 'hyperion_report': {'outcome': 'updated'},
        'rollout_report_release': 'x', 'hyperion_report_kernel_release': 'y'}})
    assert (rec['outcome'], rec['target_release'], rec['kernel_release']) == (None, None, None)
    assert fr.host_outcome(rec) == 'ok'
    assert not [name for name in dir(fr) if 'FACT' in name]


def test_changed_tasks_are_named_once_each():
    """A re-run that should change nothing says which tasks did: the report names them."""
    rec = fr.new_host('ro-a')
    fr.record_result(rec, 'ok', 'Read the running release', 'ansible.builtin.command', {'changed': False})
    # A loop's items are folded one by one (two sysctls set by one task).
    for name in ('net.ipv4.tcp_congestion_control', 'net.core.default_qdisc'):
        fr.record_result(rec, 'changed', 'Set congestion control and default qdisc in sysctl.d and live',
                         'ansible.posix.sysctl', {'changed': True, 'item': {'key': name}})
    fr.record_result(rec, 'changed', 'Run the recompression timer', 'ansible.builtin.systemd_service',
                     {'changed': True, 'state': 'started'})
    fr.record_result(rec, 'skipped', 'Reboot', 'ansible.builtin.reboot', {'changed': False})
    row = fr.build_report('deploy', {'ro-a': rec}, 'a', 'b')['hosts'][0]
    assert row['changed'] == 3
    assert row['changed_tasks'] == ['Set congestion control and default qdisc in sysctl.d and live',
                                    'Run the recompression timer']
    assert '| 3: Set congestion control and default qdisc in sysctl.d and live; Run the recompression timer |' \
        in fr.to_markdown(fr.build_report('deploy', {'ro-a': rec}, 'a', 'b'))
    html = fr.to_html(fr.build_report('deploy', {'ro-a': rec}, 'a', 'b'))
    assert '<summary>3</summary><ul><li>Set congestion control' in html
    # A host without changes shows 0 and lists nothing.
    quiet = fr.new_host('ro-b')
    fr.record_result(quiet, 'ok', 'Read the running release', 'ansible.builtin.command', {'changed': False})
    quiet_row = fr.build_report('deploy', {'ro-b': quiet}, 'a', 'b')['hosts'][0]
    assert quiet_row['changed'] == 0 and quiet_row['changed_tasks'] == []


# Arbitrary text, with what breaks reports drawn often: terminal colour codes, the characters XML 1.0
# cannot hold, markup, and CR LF.
_AWKWARD = st.sampled_from(['\x1b[31m', '\x1b[1;32m', '\x1b[0m', '\x1b]0;title\x07', '\x1b', '\x9b2K',
                            '\x00', '\x08', '\x0b', '\x0c', '\x1f', '\x7f', '\x85', '\ufffe', '\uffff',
                            '\ud800', '\udfff', '<script>alert(1)</script>', '</td>', ']]>', '&amp;',
                            '"', "'", '\r\n', '\r', '\t', '\xa0'])
_TEXT = st.lists(st.one_of(st.text(st.characters(exclude_categories=()), max_size=6), _AWKWARD),
                 max_size=6).map(''.join)


def _read(value):
    """What a reader of the XML or HTML report sees of a value (line ends as an XML parser reads them)."""
    return fr.clean_text(value).replace('\r\n', '\n').replace('\r', '\n')


@st.composite
def _reports(draw):
    names = draw(st.lists(_TEXT, min_size=1, max_size=4, unique=True))
    hosts = {}
    for name in names:
        rec = hosts[name] = fr.new_host(name)
        kind = draw(st.sampled_from(['drift', 'failed', 'deferred', 'changed']))
        if kind == 'drift':
            items = [{'id': draw(_TEXT), 'status': 'fail', 'severity': 'required', 'expected': draw(_TEXT),
                      'actual': draw(_TEXT), 'detail': draw(_TEXT)} for _index in range(draw(st.integers(1, 3)))]
            fr.record_result(rec, 'failed', draw(_TEXT), 'hyperion.kernel.profile_check',
                             {'items': items, 'compliant': False, 'summary': {}, 'kernel_release': draw(_TEXT)})
        elif kind == 'failed':
            fr.record_result(rec, 'failed', draw(_TEXT), 'ansible.builtin.apt', {'msg': draw(_TEXT)})
        elif kind == 'deferred':
            fr.record_report(rec, {'outcome': 'deferred', 'reason': draw(_TEXT)})
        else:
            fr.record_result(rec, 'changed', draw(_TEXT), 'ansible.builtin.copy', {'changed': True})
    return fr.build_report(draw(_TEXT), hosts, draw(_TEXT), draw(_TEXT))


def _printable(text):
    return [c for c in text if c.isprintable()]


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_clean_text_keeps_the_printable_text(text):
    cleaned = fr.clean_text(text)
    assert not set(cleaned) & set('\x1b\x00\x7f\x85\ufffe\uffff\ud800\udfff')
    if '\x1b' not in text and '\x9b' not in text:
        # Without escape sequences nothing printable goes (only what XML cannot hold, and controls).
        assert _printable(cleaned) == _printable(text)


def test_colour_codes_leave_their_text():
    assert fr.clean_text('\x1b[31mE: Unable to locate package\x1b[0m \x1b]0;apt\x07done') == \
        'E: Unable to locate package done'


@settings(max_examples=150, deadline=None)
@given(_reports())
def test_junit_of_any_text_parses_and_keeps_it(report):
    root = ET.fromstring(fr.to_junit(report).encode('utf-8'))
    # Attributes keep CR, tab and LF as character references; element text reads as its lines.
    suite = root.find('testsuite')
    assert suite.get('name') == fr.clean_text('hyperion.%s' % (report['playbook'] or 'run'))
    assert suite.get('timestamp') == fr.clean_text(report['started'])
    cases = suite.findall('testcase')
    assert [case.get('name') for case in cases] == [fr.clean_text(row['host']) for row in report['hosts']]
    for case, row in zip(cases, report['hosts']):
        if row['verdict'] == 'fail':
            failure = case.find('failure')
            assert failure.get('type') == fr.clean_text(row['outcome'])
            assert failure.get('message') == fr.clean_text(row['reason'] or row['outcome'])
            assert (failure.text or '') == _read('\n'.join(fr.host_details(row)))
        elif row['verdict'] == 'skip':
            assert case.find('skipped').get('message') == fr.clean_text('%s: %s' % (row['outcome'], row['reason']))
        else:
            assert case.find('failure') is None and case.find('skipped') is None


class _Cells(HTMLParser):
    """The tags of a page, checked for nesting, and the text of each table cell."""
    VOID = ('meta', 'br')

    def __init__(self):
        HTMLParser.__init__(self)
        self.tags, self.open, self.rows = set(), [], []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in self.VOID:
            self.open.append(tag)
        if tag == 'tr':
            self.rows.append([])
        elif tag in ('td', 'th'):
            self.cell = ''

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, 'stray </%s>' % tag
        if tag in ('td', 'th'):
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


_PAGE_TAGS = {'html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'p', 'br', 'table', 'thead', 'tbody',
              'tr', 'th', 'td', 'ul', 'li', 'details', 'summary', 'h2', 'section', 'div', 'script',
              # the timeline and the drift grid
              'svg', 'g', 'rect', 'line', 'text'}


@settings(max_examples=150, deadline=None)
@given(_reports())
def test_html_of_any_text_has_no_stray_tags_and_keeps_the_text(report):
    page = _Cells()
    page.feed(fr.to_html(report))
    page.close()
    assert page.tags <= _PAGE_TAGS and not page.open
    header, rows = page.rows[0], page.rows[1:]
    assert header[0] == 'Host' and len(rows) == len(report['hosts'])
    for cells, row in zip(rows, report['hosts']):
        assert cells[0] == _read(row['host'])
        assert cells[2] == _read(row['kernel_release'])
        assert cells[6] == ''.join(_read(line) for line in fr.host_details(row))


def test_injected_markup_is_text():
    rec = fr.new_host('cafe1')
    fr.record_result(rec, 'failed', 'Install', 'ansible.builtin.apt',
                     {'msg': '\x1b[31m<script>alert(1)</script>\x1b[0m'})
    report = fr.build_report('deploy', {'cafe1': rec}, 'a', 'b')
    page = _Cells()
    html = fr.to_html(report)
    page.feed(html)
    # The one script is the page's own (hover), which the page's policy names by its hash.
    assert html.count('<script>') == 1 and html.count('</script>') == 1
    assert page.rows[1][6] == 'Install: <script>alert(1)</script>'
    failure = ET.fromstring(fr.to_junit(report)).find('testsuite/testcase/failure')
    assert failure.get('message') == 'Install: <script>alert(1)</script>'


def test_a_host_that_failed_staging_counts_as_a_failure_and_sorts_with_the_failures():
    hosts = {'c1': fr.new_host('c1'), 'c2': fr.new_host('c2')}
    fr.record_report(hosts['c1'], {'outcome': 'staging_failed', 'reason': 'the package did not install'})
    fr.record_report(hosts['c2'], {'outcome': 'deferred', 'reason': 'in use'})
    report = fr.build_report('deploy', hosts, 'a', 'b')
    assert [(r['host'], r['outcome'], r['verdict']) for r in report['hosts']] == [
        ('c1', 'staging_failed', 'fail'), ('c2', 'deferred', 'skip')]


def test_published_gate_checks_reach_the_row_and_the_failing_ones_its_details():
    record = fr.new_host('ro-canary')
    fr.record_report(record, {
        'outcome': 'gate_failed', 'reason': '6.12.118-hyperion booted but fails the gate: site checks fail: license server',
        'gate_checks': [
            {'name': 'display manager', 'kind': 'unit_active', 'status': 'pass', 'detail': 'active'},
            {'name': 'license server', 'kind': 'tcp', 'status': 'fail',
             'detail': 'license.lab.example port 27000: Connection refused'},
            {'name': 'seat check', 'kind': 'command', 'status': 'unknown', 'detail': None},
            'not a mapping',
        ]})
    report = fr.build_report('deploy.yml', {'ro-canary': record}, '2026-12-07T02:00:00Z', '2026-12-07T02:10:00Z')
    [row] = report['hosts']
    assert [check['name'] for check in row['gate_checks']] == ['display manager', 'license server', 'seat check']
    details = fr.host_details(row)
    assert 'site check "license server" [tcp, fail]: license.lab.example port 27000: Connection refused' in details
    assert 'site check "seat check" [command, unknown]: no detail' in details
    assert not any('display manager' in line for line in details)
    assert 'site check "license server"' in fr.to_markdown(report)

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's timeline (the phases hosts publish, the wait for a batch, the first and last task) and
its drift grid (hosts by drifting items), as data and as the SVG of report.html. The page in a real
browser: workbench/tests/report (make test-report-browser)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import json
import re
from html.parser import HTMLParser

from hypothesis import given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.plugin_utils import fleet_report as fr

UTC = datetime.timezone.utc


def _at(minute, second=0):
    return '2026-12-06T23:%02d:%02dZ' % (minute, second)


def _when(minute, second=0):
    return datetime.datetime(2026, 12, 6, 23, minute, second, tzinfo=UTC)


def _item(item_id, status, severity='recommended', expected='y', actual='y'):
    return {'id': item_id, 'status': status, 'severity': severity, 'expected': expected, 'actual': actual,
            'reason': 'why %s' % item_id}


def _host(name, phases=None, items=None, times=None, outcome=None):
    record = fr.new_host(name)
    for when in times or []:
        fr.record_time(record, when)
    if items is not None:
        fr.record_result(record, 'ok', 'Check', 'hyperion.kernel.profile_check',
                         {'items': items, 'compliant': True, 'summary': {}})
    report = {}
    if phases is not None:
        report['phases'] = phases
    if outcome:
        report['outcome'] = outcome
    fr.record_report(record, report)
    return record


EVENING = {
    'fallback': {'start': _at(16), 'end': _at(19), 'result': 'ok'},
    'trial_boot': {'start': _at(12), 'end': _at(16), 'result': 'failed'},
    'staging': {'start': _at(0), 'end': _at(5), 'result': 'ok'},
}


# Times --------------------------------------------------------------------------------------------


def test_times_in_utc_as_the_contract_gives_them_and_other_iso_forms():
    assert fr.parse_time('2026-12-06T23:10:04Z') == datetime.datetime(2026, 12, 6, 23, 10, 4, tzinfo=UTC)
    # Another offset is read as that; no offset is UTC; fractions and a space as the separator are read.
    assert fr.parse_time('2026-12-07T00:10:04+01:00') == fr.parse_time('2026-12-06T23:10:04Z')
    assert fr.parse_time('2026-12-06T20:40:04-0230') == fr.parse_time('2026-12-06T23:10:04Z')
    assert fr.parse_time('2026-12-06 23:10:04.250000') == datetime.datetime(2026, 12, 6, 23, 10, 4, 250000, tzinfo=UTC)
    assert fr.parse_time('2026-12-06T23:10') == datetime.datetime(2026, 12, 6, 23, 10, tzinfo=UTC)
    for bad in (None, '', 'yesterday', '2026-13-06T23:10:04Z', '2026-12-06T25:00:00Z', '23:10:04', 1765062604,
                '2026-12-06T23:10:04Z; rm -rf /'):
        assert fr.parse_time(bad) is None, bad


def test_first_and_last_task_times():
    record = fr.new_host('cafe1')
    fr.record_time(record, _when(10))
    fr.record_time(record, _when(3))
    fr.record_time(record, datetime.datetime(2026, 12, 7, 0, 20, tzinfo=datetime.timezone(datetime.timedelta(hours=1))))
    assert (record['first_task'], record['last_task']) == (_at(3), _at(20))


def test_durations_and_axis_ticks():
    assert [fr.duration_text(s) for s in (0, 12, 60, 266, 3720, -5)] == ['0 s', '12 s', '1 min 00 s', '4 min 26 s',
                                                                         '1 h 02 min', '0 s']
    ticks, step = fr.time_ticks(_when(0, 7), _when(24))
    assert step == 300 and ticks == [_when(5), _when(10), _when(15), _when(20)]
    ticks, step = fr.time_ticks(_when(9, 36), _when(9, 59))
    assert step == 5 and ticks[0] == _when(9, 40) and len(ticks) <= 8
    # No span at all still has an axis.
    assert fr.time_ticks(_when(1), _when(1))[1] == 1


# Phases -------------------------------------------------------------------------------------------


def test_phases_in_time_order_with_the_wait_for_the_batch():
    segments, untimed = fr.host_segments(EVENING)
    assert untimed == []
    assert [(s['name'], s['kind'], s['start'], s['end'], s['seconds'], s['result']) for s in segments] == [
        ('staging', 'phase', _at(0), _at(5), 300, 'ok'),
        ('waiting', 'wait', _at(5), _at(12), 420, None),
        ('trial_boot', 'phase', _at(12), _at(16), 240, 'failed'),
        ('fallback', 'phase', _at(16), _at(19), 180, 'ok')]
    assert not [s for s in segments if s['open']]


def test_no_wait_when_the_trial_boot_follows_staging_or_either_is_missing():
    back_to_back = {'staging': {'start': _at(0), 'end': _at(5)}, 'trial_boot': {'start': _at(5), 'end': _at(8)}}
    assert [s['name'] for s in fr.host_segments(back_to_back)[0]] == ['staging', 'trial_boot']
    assert [s['name'] for s in fr.host_segments({'staging': EVENING['staging']})[0]] == ['staging']
    assert [s['name'] for s in fr.host_segments({'trial_boot': EVENING['trial_boot']})[0]] == ['trial_boot']
    # Staging without an end: no wait can be measured.
    open_staging = {'staging': {'start': _at(0)}, 'trial_boot': EVENING['trial_boot']}
    assert [s['name'] for s in fr.host_segments(open_staging, _at(20))[0]] == ['staging', 'trial_boot']


def test_any_other_phase_is_shown_in_time_order_and_ties_keep_the_rollout_order():
    phases = {'zz_inventory': {'start': _at(1), 'end': _at(2)}, 'promotion': {'start': _at(9), 'end': _at(10)},
              'gate': {'start': _at(9), 'end': _at(9)}, 'aa_late': {'start': _at(11), 'end': _at(12)}}
    assert [s['name'] for s in fr.host_segments(phases)[0]] == ['zz_inventory', 'gate', 'promotion', 'aa_late']


def test_a_phase_without_an_end_runs_to_the_last_task_and_one_without_times_is_named():
    phases = {'trial_boot': {'start': _at(12)}, 'gate': {'end': _at(14), 'result': 'failed'},
              'promotion': {'result': 'skipped'}, 'fallback': {'start': 'soon', 'end': 'later'},
              'reversed': {'start': _at(9), 'end': _at(8)}}
    segments, untimed = fr.host_segments(phases, last_task=_at(15))
    by_name = dict((s['name'], s) for s in segments)
    assert (by_name['trial_boot']['end'], by_name['trial_boot']['open']) == (_at(15), True)
    # Only an end: a moment. An end before the start: the end.
    assert (by_name['gate']['start'], by_name['gate']['end'], by_name['gate']['seconds']) == (_at(14), _at(14), 0)
    assert (by_name['reversed']['start'], by_name['reversed']['end']) == (_at(8), _at(8))
    assert untimed == ['promotion', 'fallback']
    # Without a last task, an open phase is a moment at its start.
    assert fr.host_segments({'trial_boot': {'start': _at(12)}})[0][0]['end'] == _at(12)


def test_published_phases_merge_by_name_and_keep_only_what_the_contract_has():
    record = fr.new_host('cafe1')
    fr.record_report(record, {'phases': {'staging': {'start': _at(0), 'end': _at(5), 'result': 'ok', 'extra': 'x'}}})
    fr.record_report(record, {'phases': {'trial_boot': {'start': _at(12)}}})
    fr.record_report(record, {'phases': {'trial_boot': {'start': _at(12), 'end': _at(16), 'result': 'failed'},
                                         '': {'start': _at(1)}, 'bad': 'not a mapping', '  two\nlines ': {'end': _at(3)}}})
    fr.record_report(record, {'phases': ['not', 'a', 'mapping']})
    assert record['phases'] == {
        'staging': {'start': _at(0), 'end': _at(5), 'result': 'ok'},
        'trial_boot': {'start': _at(12), 'end': _at(16), 'result': 'failed'},
        'two lines': {'start': None, 'end': _at(3), 'result': None}}
    # An outcome published later leaves the phases alone.
    fr.record_report(record, {'outcome': 'fell_back'})
    assert set(record['phases']) == {'staging', 'trial_boot', 'two lines'}


# The timeline of a run ----------------------------------------------------------------------------


def test_a_host_without_phases_gets_its_row_from_its_tasks_and_the_span_covers_the_run():
    hosts = {'cafe1': _host('cafe1', EVENING, times=[_when(0), _when(19)], outcome='fell_back'),
             'counter': _host('counter', times=[_when(0), _when(2)]),
             'gone': fr.new_host('gone')}
    report = fr.build_report('deploy', hosts, '2026-12-06T22:59:50+00:00', '2026-12-06T23:24:00+00:00')
    timeline = report['timeline']
    assert (timeline['start'], timeline['end']) == ('2026-12-06T22:59:50Z', _at(24))
    rows = dict((row['host'], row) for row in timeline['rows'])
    assert rows['counter']['segments'] == [] and (rows['counter']['first_task'], rows['counter']['last_task']) == (_at(0), _at(2))
    assert [s['name'] for s in rows['cafe1']['segments']] == ['staging', 'waiting', 'trial_boot', 'fallback']
    assert rows['gone']['segments'] == [] and rows['gone']['first_task'] is None and rows['gone']['outcome'] == 'not_reached'
    # Started together: in the order they ended; a host without any time last.
    assert [row['host'] for row in timeline['rows']] == ['counter', 'cafe1', 'gone']
    # report.json: the phases as published in each host row, the timeline at the top.
    data = json.loads(fr.to_json(report))
    host_rows = dict((row['host'], row) for row in data['hosts'])
    assert host_rows['cafe1']['phases'] == EVENING and host_rows['counter']['phases'] == {}
    assert data['timeline'] == timeline


def test_hosts_of_one_first_task_started_together_across_a_second():
    # As in a real run: the first task of each host starts a few milliseconds apart, here across a second, so
    # the whole seconds the report keeps differ; a published phase starts on the whole second after them too.
    # They started together: rows in the order they ended, not the counter PC before the last batch.
    tick = datetime.timedelta(milliseconds=1)
    first = _when(0) - 2 * tick
    staging = {'staging': {'start': _at(0), 'end': _at(5)}}
    hosts = {'lab1': _host('lab1', staging, times=[first, _when(9)]),
             'cafe1': _host('cafe1', staging, times=[first + tick, _when(14)]),
             'counter': _host('counter', times=[first + tick, _when(21)]),
             'cafe2': _host('cafe2', staging, times=[first + 4 * tick, _when(20)]),
             # Later, by more than the tolerance: after those, whatever its end.
             'late': _host('late', times=[_when(0, 3), _when(1)])}
    rows = fr.build_report('deploy', hosts, None, None)['timeline']['rows']
    assert [row['host'] for row in rows] == ['lab1', 'cafe1', 'cafe2', 'counter', 'late']


def test_a_run_without_any_time_has_an_empty_timeline():
    report = fr.build_report('check', {'a': fr.new_host('a')}, 'not a time', None)
    assert report['timeline'] == {'start': None, 'end': None, 'rows': [
        {'host': 'a', 'outcome': 'not_reached', 'verdict': 'skip', 'first_task': None, 'last_task': None,
         'segments': [], 'untimed': []}]}
    assert 'No task ran: no times to show.' in fr.to_html(report)


# The drift grid -----------------------------------------------------------------------------------


def _grid_hosts():
    return {
        'lab1': _host('lab1', items=[_item('uname:release', 'fail', 'required', '6.19.6', '6.12'),
                                     _item('CONFIG_HZ_1000', 'pass'), _item('tracer:function', 'pass'),
                                     _item('CONFIG_SCHED_BORE', 'pass', 'required')]),
        'cafe1': _host('cafe1', items=[_item('uname:release', 'pass', 'required'), _item('CONFIG_HZ_1000', 'fail', actual=None),
                                       _item('tracer:function', 'unknown'), _item('CONFIG_SCHED_BORE', 'not_applicable', 'required'),
                                       _item('qdisc:eth1:root', 'fail')]),
        'cafe2': _host('cafe2', items=[_item('uname:release', 'fail', 'required'), _item('CONFIG_HZ_1000', 'pass'),
                                       _item('tracer:function', 'pass'), _item('CONFIG_SCHED_BORE', 'pass', 'required')]),
        'counter': _host('counter', times=[_when(1)]),
    }


def test_the_grid_is_every_checked_host_by_every_item_failing_or_unknown_on_any():
    report = fr.build_report('check', _grid_hosts(), 'a', 'b')
    drift = report['drift']
    # Required first, then the items most hosts miss, then by id; an item that passes everywhere is no column.
    assert [item['id'] for item in drift['items']] == ['uname:release', 'CONFIG_HZ_1000', 'qdisc:eth1:root', 'tracer:function']
    assert [(i['severity'], i['fail'], i['unknown']) for i in drift['items']] == [
        ('required', 2, 0), ('recommended', 1, 0), ('recommended', 1, 0), ('recommended', 0, 1)]
    assert drift['items'][0]['reason'] == 'why uname:release'
    cells = dict((row['host'], row['cells']) for row in drift['rows'])
    assert set(cells) == {'lab1', 'cafe1', 'cafe2'} and drift['unchecked'] == ['counter']
    assert dict((item, cell['status']) for item, cell in cells['cafe1'].items()) == {
        'uname:release': 'pass', 'CONFIG_HZ_1000': 'fail', 'qdisc:eth1:root': 'fail', 'tracer:function': 'unknown'}
    # An item the host's check did not have (another overlay) is not checked there.
    assert cells['lab1']['qdisc:eth1:root'] == {'status': 'none', 'expected': None, 'actual': None, 'detail': None}
    assert cells['lab1']['uname:release'] == {'status': 'fail', 'expected': '6.19.6', 'actual': '6.12', 'detail': None}
    counts = dict((row['host'], row['counts']) for row in drift['rows'])
    assert counts['lab1'] == {'fail': 1, 'unknown': 0, 'not_applicable': 0, 'pass': 2, 'none': 1}
    # The check's items are the grid's: no host row of report.json carries them.
    assert not [row for row in report['hosts'] if 'check_items' in row]


def test_an_unknown_status_and_the_last_check_of_a_host():
    record = _host('a', items=[_item('x', 'weird'), {'status': 'fail'}])
    assert record['check_items'] == {'x': {'status': 'unknown', 'severity': 'recommended', 'expected': 'y', 'actual': 'y',
                                           'detail': None, 'reason': 'why x'}}
    fr.record_result(record, 'ok', 'Check again', 'hyperion.kernel.profile_check',
                     {'items': [_item('x', 'pass')], 'compliant': True, 'summary': {}})
    assert fr.build_report('check', {'a': record}, 'a', 'b')['drift']['items'] == []


# The page -----------------------------------------------------------------------------------------


class _Svg(HTMLParser):
    """The charts of a page: the attributes of every element by tag, and the text of the titles."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.elements, self.titles, self.open = [], [], []
        self.scripts = []
        self._title = None
        self._script = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in ('meta', 'br'):
            self.open.append(tag)
        if tag == 'title':
            self._title = ''
        elif tag == 'script':
            self._script = ''

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, 'stray </%s>' % tag
        if tag == 'title':
            self.titles.append(self._title)
            self._title = None
        elif tag == 'script':
            self.scripts.append(self._script)
            self._script = None

    def handle_data(self, data):
        if self._title is not None:
            self._title += data
        if self._script is not None:
            self._script += data

    def having(self, tag, css_class):
        return [attrs for name, attrs in self.elements if name == tag and css_class in (attrs.get('class') or '').split()]


def _page(report):
    page = _Svg()
    page.feed(fr.to_html(report))
    page.close()
    assert not page.open
    return page


def test_the_page_draws_a_row_per_host_and_a_cell_per_host_and_item():
    hosts = _grid_hosts()
    hosts['cafe1'] = _host('cafe1', EVENING, items=[_item('uname:release', 'pass', 'required'), _item('CONFIG_HZ_1000', 'fail')],
                           times=[_when(0), _when(19)], outcome='fell_back')
    report = fr.build_report('deploy', hosts, '2026-12-06T22:59:50+00:00', '2026-12-06T23:24:00+00:00')
    page = _page(report)
    rows = page.having('g', 'tl-row')
    assert sorted(row['data-host'] for row in rows) == sorted(hosts)
    segments = [s for s in page.having('rect', 'seg') if 'data-phase' in s]
    assert [(s['data-phase'], s['data-result']) for s in segments] == [
        ('staging', 'ok'), ('waiting', ''), ('trial_boot', 'failed'), ('fallback', 'ok')]
    assert 'res-failed' in segments[2]['class'] and 'ph-waiting' in segments[1]['class']
    assert all(float(s['width']) >= 3 for s in segments)
    assert len(page.having('rect', 'activity')) == 2 + 1  # counter and cafe1, and the legend's sample
    grid_rows = page.having('g', 'grid-row')
    cells = page.having('rect', 'cell')
    items = page.having('g', 'grid-col')
    assert len(grid_rows) == 3 and len(items) == len(report['drift']['items'])
    # The legend has one sample of each status besides the hosts' cells.
    assert len(cells) == len(grid_rows) * len(items) + len(fr.ITEM_STATUSES)
    statuses = [(c['data-item'], c['data-status']) for c in cells if 'data-item' in c]
    assert ('CONFIG_HZ_1000', 'fail') in statuses and ('uname:release', 'pass') in statuses
    assert 'cafe1, CONFIG_HZ_1000: fail\nexpected y, got y\nwhy: why CONFIG_HZ_1000' in page.titles
    assert 'cafe1: trial boot, 23:12:00 to 23:16:00 UTC (4 min 00 s), failed' in page.titles
    assert 'cafe1: waiting for its batch, 23:05:00 to 23:12:00 UTC (7 min 00 s)' in page.titles
    # A host the run did not check is named under the grid; its table row, timeline row and grid row share data-host.
    assert 'Not checked in this run: counter.' in fr.to_html(report)
    assert [attrs['data-host'] for tag, attrs in page.elements if tag == 'tr' and 'data-host' in attrs] == \
        [row['host'] for row in report['hosts']]


def test_no_drift_and_no_check_say_so():
    clean = fr.build_report('check', {'a': _host('a', items=[_item('x', 'pass'), _item('y', 'not_applicable')])}, 'a', 'b')
    assert 'No drift: every item passes or does not apply on the 1 hosts checked.' in fr.to_html(clean)
    assert 'drift-grid' not in fr.to_html(clean)
    assert 'No profile check ran in this run.' in fr.to_html(fr.build_report('deploy', {'a': fr.new_host('a')}, 'a', 'b'))


def test_the_page_allows_only_its_own_style_and_script():
    report = fr.build_report('deploy', _grid_hosts(), 'a', 'b')
    page = _page(report)
    policy = [attrs['content'] for tag, attrs in page.elements if tag == 'meta' and attrs.get('http-equiv')]
    assert len(policy) == 1 and policy[0].startswith("default-src 'none'; ")
    hashes = re.findall(r"'sha256-([^']+)'", policy[0])
    assert len(page.scripts) == 1
    styles = re.findall(r'<style>(.*?)</style>', fr.to_html(report), re.S)
    assert len(styles) == 1
    assert sorted(hashes) == sorted(base64.b64encode(hashlib.sha256(text.encode('utf-8')).digest()).decode('ascii')
                                    for text in (styles[0], page.scripts[0]))
    # Nothing is loaded: no src, href or url( anywhere.
    page_text = fr.to_html(report)
    assert not re.search(r'\b(src|href)=|url\(', page_text)


def test_markup_in_hosts_phases_and_items_is_text():
    evil = '<script>alert(1)</script>"\'&'
    hosts = {evil: _host(evil, {evil: {'start': _at(1), 'end': _at(2), 'result': evil}},
                         items=[_item(evil, 'fail', expected=evil, actual=evil)], times=[_when(0), _when(3)])}
    report = fr.build_report('deploy', hosts, 'a', 'b')
    page = _page(report)
    # A parser of the page sees one script, the page's own; the host's markup is text and attribute values.
    assert len(page.scripts) == 1 and 'alert' not in page.scripts[0]
    assert [tag for tag, _attrs in page.elements].count('script') == 1
    assert [row['data-host'] for row in page.having('g', 'tl-row')] == [evil]
    segment = [s for s in page.having('rect', 'seg') if 'data-phase' in s][0]
    assert (segment['data-phase'], segment['data-result']) == (evil, evil)
    # Another phase's class is the generic one: no text from a host goes into a class name.
    assert segment['class'] == 'seg ph-other'
    assert page.having('rect', 'cell')[0]['data-item'] == evil
    assert '%s, %s: fail' % (evil, evil) in [title.split('\n')[0] for title in page.titles]


_NAME = st.text(st.characters(exclude_categories=()), min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_NAME, st.dictionaries(_NAME, st.sampled_from(['pass', 'fail', 'unknown', 'not_applicable']),
                                              max_size=4), min_size=1, max_size=4),
       st.lists(_NAME, max_size=3))
def test_any_names_draw_a_well_formed_page(checks, phase_names):
    hosts = {}
    for index, (name, items) in enumerate(checks.items()):
        phases = dict((phase, {'start': _at(index), 'end': _at(index + 1), 'result': 'ok'}) for phase in phase_names)
        hosts[name] = _host(name, phases, items=[_item(item, status) for item, status in items.items()],
                            times=[_when(0), _when(9)])
    report = fr.build_report('deploy', hosts, 'a', 'b')
    page = _page(report)
    assert sorted(row['data-host'] for row in page.having('g', 'tl-row')) == sorted(fr.clean_text(name) for name in hosts)
    drift = report['drift']
    assert len(page.having('g', 'grid-row')) == (len(drift['rows']) if drift['items'] else 0)
    if drift['items']:
        assert len([c for c in page.having('rect', 'cell') if 'data-item' in c]) == len(drift['rows']) * len(drift['items'])

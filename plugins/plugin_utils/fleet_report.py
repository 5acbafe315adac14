# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet reports: one record per host from a playbook's task results, rendered as JSON,
JUnit XML, Markdown and HTML, plus the short summary printed at the end of a run.

Pure functions on plain data so the callback plugin stays thin and the logic is unit-tested.

How a playbook or a role talks to the report (no other coupling; no variable of theirs is read):
  - every result of ``hyperion.kernel.profile_check`` is kept (the last one per host wins);
  - ``ansible.builtin.set_stats`` with ``per_host: true`` and the key ``hyperion_report`` (REPORT_STATS_KEY),
    a mapping of any of REPORT_FIELDS, sets the host's outcome explicitly (deploy: updated, deferred, ...);
    the callback reads it from the run's stats at the end (``record_report``);
  - failed and unreachable results are listed with their task name and message;
  - a host of the run that produced no result at all was never reached (a stopped rollout).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import xml.etree.ElementTree as ET

REPORT_SCHEMA_VERSION = 1

# The custom stat (set_stats, per host) a playbook or a role gives the report, and its keys: outcome (one of
# OUTCOMES), reason (one line), release (the release the run brings), kernel_release (the one that runs).
REPORT_STATS_KEY = 'hyperion_report'
REPORT_FIELDS = ('outcome', 'reason', 'release', 'kernel_release')

PROFILE_CHECK_ACTIONS = frozenset(('hyperion.kernel.profile_check', 'profile_check'))
# A failed assertion on the check's verdict is the drift itself, not another failure.
ASSERT_ACTIONS = frozenset(('ansible.builtin.assert', 'assert'))

# Outcomes, and how each one counts. A playbook may set any of the explicit ones.
OUTCOMES = {
    # check.yml
    'compliant': 'pass',
    'drift': 'fail',
    # deploy.yml / rollback.yml
    'updated': 'pass',
    'unchanged': 'pass',
    'rolled_back': 'pass',
    'deferred': 'skip',
    'fell_back': 'fail',
    'gate_failed': 'fail',
    'preflight_failed': 'fail',
    # derived from raw results
    'ok': 'pass',
    'failed': 'fail',
    'unreachable': 'fail',
    'not_reached': 'skip',
}

_OUTCOME_ORDER = ['fell_back', 'gate_failed', 'preflight_failed', 'failed', 'unreachable', 'drift',
                  'deferred', 'not_reached', 'updated', 'rolled_back', 'unchanged', 'compliant', 'ok']

_MAX_MESSAGE = 600


def _text(value):
    if value is None:
        return ''
    if isinstance(value, (list, tuple)):
        return '; '.join(_text(v) for v in value)
    return '%s' % (value,)


def _short(message):
    message = re.sub(r'\s+', ' ', _text(message)).strip()
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE - 3] + '...'
    return message


def new_host(name):
    """An empty host record."""
    return {
        'host': name,
        'outcome': None,
        'reason': None,
        'kernel_release': None,
        'target_release': None,
        'compliant': None,
        'profile': None,
        'counts': None,
        'failing_items': [],
        'failures': [],
        'unreachable': False,
        'seen': False,
        'results': 0,
        'changed': 0,
        # The names of the tasks that changed the host, once each: a converged re-run lists none.
        'changed_tasks': [],
    }


def failing_items(items):
    """Items that count against the host: every failed item and every unknown required one."""
    found = []
    for item in items or []:
        status = item.get('status')
        if status == 'fail' or (status == 'unknown' and item.get('severity') == 'required'):
            found.append({
                'id': item.get('id'),
                'status': status,
                'severity': item.get('severity'),
                'expected': item.get('expected'),
                'actual': item.get('actual'),
                'detail': item.get('detail'),
            })
    return found


def _failure_message(result):
    for key in ('msg', 'stderr', 'module_stderr', 'reason'):
        if result.get(key):
            return _short(result[key])
    return 'failed'


def record_result(record, status, task_name, action, result):
    """Fold one task result into a host record.

    status: ok, changed, failed, unreachable or skipped; action: the task's module or action name;
    result: the result dictionary the module returned. Returns the record.
    """
    result = result or {}
    record['seen'] = True
    if status == 'skipped':
        return record
    record['results'] += 1
    if status == 'changed' or result.get('changed'):
        record['changed'] += 1
        if task_name not in record['changed_tasks']:
            record['changed_tasks'].append(task_name)
    if status == 'unreachable':
        record['unreachable'] = True
        record['failures'].append({'task': task_name, 'msg': _failure_message(result), 'unreachable': True})
        return record
    # Any answer after an unreachable one (an SSH drop that was survived) means it is back.
    record['unreachable'] = False

    if action in PROFILE_CHECK_ACTIONS and 'items' in result:
        summary = result.get('summary') or {}
        # A report-only check (fail_on: never) still says compliant; the report judges required drift.
        record['compliant'] = bool(result.get('compliant')) and not summary.get('failed_required')
        record['kernel_release'] = result.get('kernel_release') or record['kernel_release']
        record['profile'] = result.get('profile')
        record['counts'] = summary.get('counts')
        record['failing_items'] = failing_items(result.get('items'))
        record['check_task'] = task_name

    if status == 'failed':
        is_check = (action in PROFILE_CHECK_ACTIONS and 'items' in result) or (
            action in ASSERT_ACTIONS and record['compliant'] is False)
        record['failures'].append({'task': task_name, 'msg': _failure_message(result), 'check': is_check})
    return record


def record_report(record, report):
    """Fold what a host published under REPORT_STATS_KEY (a mapping of REPORT_FIELDS) into its record.

    An outcome comes with its reason (none given: none); a release or kernel release given replaces the
    one the results showed. Anything but a mapping, and keys outside REPORT_FIELDS, are left out.
    Returns the record."""
    if not isinstance(report, dict):
        return record
    if report.get('outcome'):
        record['outcome'] = _text(report['outcome'])
        record['reason'] = _short(report.get('reason')) or None
    if report.get('release'):
        record['target_release'] = _text(report['release'])
    if report.get('kernel_release'):
        record['kernel_release'] = _text(report['kernel_release'])
    return record


def host_outcome(record):
    """The outcome of one host: explicit from the playbook, else derived from its results."""
    if record.get('outcome'):
        return record['outcome']
    if not record['seen']:
        return 'not_reached'
    if record['unreachable']:
        return 'unreachable'
    # A dropped connection that came back is listed, but it is not the host's failure.
    failures = [f for f in record['failures'] if not f.get('unreachable')]
    if failures and not failures[-1].get('check'):
        return 'failed'
    if record['compliant'] is False:
        return 'drift'
    if record['compliant'] is True:
        return 'compliant'
    return 'ok'


def host_reason(record, outcome):
    """One line that says why, for the hosts that did not pass."""
    if record.get('reason'):
        return record['reason']
    if outcome == 'not_reached':
        return 'not reached: the run stopped before this host (earlier failures or max_fail_percentage)'
    if outcome == 'drift':
        ids = [i['id'] for i in record['failing_items'] if i['severity'] == 'required']
        return 'required items drift: %s' % ', '.join(ids) if ids else 'recommended items drift'
    if outcome in ('failed', 'unreachable') and record['failures']:
        last = record['failures'][-1]
        return '%s: %s' % (last['task'], last['msg'])
    return ''


def build_report(playbook, hosts, started, finished, aborted=False):
    """The whole report. hosts: mapping name -> record (from new_host/record_result);
    started/finished: ISO 8601 strings; aborted: the run ended early (e.g. max_fail_percentage)."""
    rows = []
    for name in sorted(hosts):
        record = hosts[name]
        outcome = host_outcome(record)
        # A stopped run: a host with nothing to show beyond the checks every host gets first
        # (no outcome of its own, no failure, no profile check) was never rolled out to.
        if aborted and outcome == 'ok' and not record.get('outcome'):
            outcome = 'not_reached'
        row = dict(record)
        row['outcome'] = outcome
        row['verdict'] = OUTCOMES.get(outcome, 'fail')
        row['reason'] = host_reason(record, outcome)
        row.pop('results', None)
        row.pop('seen', None)
        row.pop('unreachable', None)
        row.pop('check_task', None)
        rows.append(row)
    rows.sort(key=lambda r: (_OUTCOME_ORDER.index(r['outcome']) if r['outcome'] in _OUTCOME_ORDER
                             else -1, r['host']))
    totals = {'hosts': len(rows), 'pass': 0, 'fail': 0, 'skip': 0}
    outcomes = {}
    for row in rows:
        totals[row['verdict']] += 1
        outcomes[row['outcome']] = outcomes.get(row['outcome'], 0) + 1
    return {
        'schema_version': REPORT_SCHEMA_VERSION,
        'playbook': playbook,
        'started': started,
        'finished': finished,
        'aborted': bool(aborted),
        'ok': totals['fail'] == 0 and not aborted,
        'totals': totals,
        'outcomes': outcomes,
        'hosts': rows,
    }


def to_json(report):
    return json.dumps(report, indent=2, sort_keys=True) + '\n'


def _item_line(item):
    actual = item['actual'] if item['actual'] is not None else '(not set)'
    line = '%s [%s, %s]: expected %s, got %s' % (item['id'], item['severity'], item['status'],
                                                 item['expected'], actual)
    if item.get('detail'):
        line += ' (%s)' % item['detail']
    return line


def host_details(row):
    """Plain text lines: why the host is where it is, its failing items and failed tasks."""
    lines = []
    if row['reason']:
        lines.append(row['reason'])
    for item in row['failing_items']:
        lines.append(_item_line(item))
    for failure in row['failures']:
        if failure.get('check') or row['reason'] in (failure['msg'], '%s: %s' % (failure['task'], failure['msg'])):
            continue
        lines.append('task "%s": %s' % (failure['task'], failure['msg']))
    return lines


# Terminal escape sequences (ECMA-48) in task output: CSI (colours, ESC [ 31 m, or its 8-bit form), the
# string commands (OSC window titles, DCS ...) up to their terminator, and the two-character escapes.
# Their text stays, the codes go: a coloured failure message reads as its words in a report.
_ANSI_ESCAPE = re.compile(
    r'(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]'
    r'|\x1b[\]PX^_].*?(?:\x07|\x1b\\)'
    r'|\x1b[ -/]*[0-~]', re.DOTALL)
# What XML 1.0 cannot hold (control characters but tab, LF and CR; lone surrogates; U+FFFE and
# U+FFFF), and DEL and the C1 controls, which it may hold but no reader of a report wants.
_NOT_PRINTABLE = re.compile(r'[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')


def clean_text(value):
    """The text of a value as the XML and HTML reports write it: escape sequences stripped to their
    text, then every character XML 1.0 cannot hold dropped (an ElementTree document that holds one
    serializes without complaint into a file no parser reads)."""
    return _NOT_PRINTABLE.sub('', _ANSI_ESCAPE.sub('', _text(value)))


def _element_text(value):
    # An XML or HTML reader sees CR LF and a lone CR in element text as LF: write what it will read.
    return clean_text(value).replace('\r\n', '\n').replace('\r', '\n')


def _attrs(attrs):
    return {key: clean_text(value) for key, value in attrs.items()}


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, _attrs(attrs))
    if text is not None:
        element.text = _element_text(text)
    return element


def to_junit(report):
    """JUnit XML: one test case per host; failing hosts fail, deferred and unreached are skipped."""
    totals = report['totals']
    name = 'hyperion.%s' % (report['playbook'] or 'run')
    root = ET.Element('testsuites', _attrs(dict(name=name, tests=totals['hosts'], failures=totals['fail'],
                                                skipped=totals['skip'])))
    suite = _sub(root, 'testsuite', name=name, tests=totals['hosts'], failures=totals['fail'], errors=0,
                 skipped=totals['skip'], timestamp=report['started'] or '')
    for row in report['hosts']:
        case = _sub(suite, 'testcase', classname=name, name=row['host'])
        if row['verdict'] == 'fail':
            _sub(case, 'failure', '\n'.join(host_details(row)), type=row['outcome'],
                 message=row['reason'] or row['outcome'])
        elif row['verdict'] == 'skip':
            _sub(case, 'skipped', message='%s: %s' % (row['outcome'], row['reason']))
        _sub(case, 'system-out', 'outcome: %s\nkernel: %s\n' % (row['outcome'], row['kernel_release'] or 'unknown'))
    ET.indent(root, space='  ')
    return '<?xml version="1.0" encoding="UTF-8"?>\n%s\n' % ET.tostring(root, encoding='unicode')


def _md_cell(value):
    return _text(value).replace('|', '\\|').replace('\n', '<br>')


def _counts_text(counts):
    if not counts:
        return ''
    return '%d pass, %d fail, %d n/a, %d unknown' % (counts.get('pass', 0), counts.get('fail', 0),
                                                     counts.get('not_applicable', 0), counts.get('unknown', 0))


def headline(report):
    """One line: what ran and how it ended."""
    totals = report['totals']
    parts = ['%s: %d host%s' % (report['playbook'], totals['hosts'], '' if totals['hosts'] == 1 else 's')]
    parts.append(', '.join('%d %s' % (count, outcome) for outcome, count in
                           sorted(report['outcomes'].items(), key=lambda kv: _order(kv[0]))))
    if report['aborted']:
        parts.append('RUN STOPPED EARLY')
    return ' - '.join(parts)


def _order(outcome):
    return _OUTCOME_ORDER.index(outcome) if outcome in _OUTCOME_ORDER else -1


def _changed_text(row, limit=5):
    """The number of changes and the first tasks that made them."""
    tasks = row.get('changed_tasks') or []
    if not tasks:
        return str(row.get('changed', 0))
    shown = tasks[:limit] + (['and %d more' % (len(tasks) - limit)] if len(tasks) > limit else [])
    return '%d: %s' % (row.get('changed', 0), '; '.join(shown))


def to_markdown(report):
    lines = ['# Hyperion fleet report: %s' % report['playbook'], '',
             '%s  ' % headline(report),
             'Started %s, finished %s.' % (report['started'], report['finished']), '',
             '| Host | Outcome | Kernel | Target | Profile check | Changed | Why / failing items |',
             '|---|---|---|---|---|---|---|']
    for row in report['hosts']:
        lines.append('| %s | %s | %s | %s | %s | %s | %s |' % (
            _md_cell(row['host']), _md_cell(row['outcome']), _md_cell(row['kernel_release']),
            _md_cell(row['target_release']), _md_cell(_counts_text(row['counts'])),
            _md_cell(_changed_text(row)), _md_cell('\n'.join(host_details(row)))))
    return '\n'.join(lines) + '\n'


_HTML_STYLE = ('body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}'
               'td,th{border:1px solid #999;padding:4px 8px;vertical-align:top;text-align:left}'
               '.pass{background:#dfd}.fail{background:#fdd}.skip{background:#ffd}'
               'ul{margin:0;padding-left:1.2em}')

_HTML_COLUMNS = ('Host', 'Outcome', 'Kernel', 'Target', 'Profile check', 'Changed', 'Why / failing items')


def _html_list(parent, lines):
    if lines:
        items = _sub(parent, 'ul')
        for line in lines:
            _sub(items, 'li', line)


def to_html(report):
    """The report as one HTML page, built as an ElementTree and serialized by its HTML writer: every
    text from the run is escaped, so a message that holds markup shows as that text."""
    html = ET.Element('html', lang='en')
    head = _sub(html, 'head')
    _sub(head, 'meta', charset='utf-8')
    _sub(head, 'title', 'Hyperion fleet report: %s' % _text(report['playbook']))
    # A constant: the HTML writer leaves the text of <style> as it is.
    ET.SubElement(head, 'style').text = _HTML_STYLE
    body = _sub(html, 'body')
    _sub(body, 'h1', 'Hyperion fleet report: %s' % _text(report['playbook']))
    intro = _sub(body, 'p', headline(report))
    _sub(intro, 'br').tail = _element_text('Started %s, finished %s.' % (report['started'], report['finished']))
    table = _sub(body, 'table')
    header = _sub(_sub(table, 'thead'), 'tr')
    for column in _HTML_COLUMNS:
        _sub(header, 'th', column)
    rows = _sub(table, 'tbody')
    for row in report['hosts']:
        line = _sub(rows, 'tr', **{'class': row['verdict']})
        for value in (row['host'], row['outcome'], row['kernel_release'], row['target_release'],
                      _counts_text(row['counts'])):
            _sub(line, 'td', value)
        if row.get('changed_tasks'):
            details = _sub(_sub(line, 'td'), 'details')
            _sub(details, 'summary', row.get('changed', 0))
            _html_list(details, row['changed_tasks'])
        else:
            _sub(line, 'td', row.get('changed', 0))
        _html_list(_sub(line, 'td'), host_details(row))
    return '<!DOCTYPE html>\n%s\n' % ET.tostring(html, encoding='unicode', method='html')


def summary_lines(report, limit=20):
    """The short summary printed at the end of the play output: the headline, then every host
    that did not pass with its reason (at most ``limit``)."""
    lines = [headline(report)]
    shown = 0
    for row in report['hosts']:
        if row['verdict'] == 'pass':
            continue
        if shown == limit:
            lines.append('  ... and more, see the report')
            break
        lines.append('  %-16s %-12s %s' % (row['host'], row['outcome'], row['reason']))
        shown += 1
    return lines


RENDERERS = (
    ('report.json', to_json),
    ('junit.xml', to_junit),
    ('report.md', to_markdown),
    ('report.html', to_html),
)

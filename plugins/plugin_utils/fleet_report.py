# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet reports: one record per host from a playbook's task results, rendered as JSON,
JUnit XML, Markdown and HTML, plus the short summary printed at the end of a run.

Pure functions on plain data so the callback plugin stays thin and the logic is unit-tested.

How a playbook or a role talks to the report (no other coupling; no variable of theirs is read):
  - every result of ``hyperion.kernel.profile_check`` is kept (the last one per host wins);
  - ``ansible.builtin.set_stats`` with ``per_host: true`` and the key ``hyperion_report`` (REPORT_STATS_KEY),
    a mapping of any of REPORT_FIELDS, sets the host's outcome explicitly (deploy: updated, deferred, ...)
    and the phases of its rollout (``phases``: name -> start, end, result), which the timeline draws;
    the callback reads it from the run's stats at the end (``record_report``);
  - the callback gives the time of each task's start and result (``record_time``): a host without
    phases still gets a row on the timeline, from its first to its last task;
  - failed and unreachable results are listed with their task name and message;
  - a host of the run that produced no result at all was never reached (a stopped rollout).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import json
import re
import xml.etree.ElementTree as ET

REPORT_SCHEMA_VERSION = 1

# The custom stat (set_stats, per host) a playbook or a role gives the report, and its keys: outcome (one of
# OUTCOMES), reason (one line), release (the release the run brings), kernel_release (the one that runs),
# phases (name -> {start, end, result}: the steps of the host's rollout, drawn on the timeline), gate_checks
# (the site's own checks of the trial boot: [{name, kind, status, detail}], hyperion.kernel.gate_checks' results).
REPORT_STATS_KEY = 'hyperion_report'
REPORT_FIELDS = ('outcome', 'reason', 'release', 'kernel_release', 'phases', 'gate_checks')
GATE_CHECK_KEYS = ('name', 'kind', 'status', 'detail')

# The phases of a rollout, in the order they happen on a host; a phase of another name is shown too.
# The wait between the end of staging and the start of the trial boot is the report's own (WAITING).
PHASES = ('staging', 'trial_boot', 'gate', 'promotion', 'fallback')
PHASE_RESULTS = ('ok', 'failed', 'skipped')
WAITING = 'waiting'
_PHASE_ORDER = PHASES[:1] + (WAITING,) + PHASES[1:]
_MAX_PHASE_TEXT = 80
# The statuses of a profile item (hyperion.kernel.profile_check), and 'none': the host's check had no such item.
ITEM_STATUSES = ('fail', 'unknown', 'not_applicable', 'pass', 'none')

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
    'staging_failed': 'fail',
    # derived from raw results
    'ok': 'pass',
    'failed': 'fail',
    'unreachable': 'fail',
    'not_reached': 'skip',
}

_OUTCOME_ORDER = ['fell_back', 'gate_failed', 'staging_failed', 'preflight_failed', 'failed', 'unreachable', 'drift',
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
        # What the host published of its rollout's phases (record_report), and when its first task
        # started and its last one ended (record_time): UTC, ISO 8601.
        'phases': {},
        # The site's checks of the trial boot as the host published them (record_report).
        'gate_checks': [],
        'first_task': None,
        'last_task': None,
        # Every item of the last profile check (id -> status, expected, ...): the drift grid's cells.
        'check_items': None,
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


def check_items(items):
    """Every item of a profile check, by id: its status and what the drift grid's cells say of it."""
    found = {}
    for item in items or []:
        if not isinstance(item, dict) or item.get('id') is None:
            continue
        status = _text(item.get('status'))
        found[_text(item['id'])] = {
            'status': status if status in ITEM_STATUSES else 'unknown',
            'severity': _text(item.get('severity')) or None,
            'expected': None if item.get('expected') is None else _text(item['expected']),
            'actual': None if item.get('actual') is None else _text(item['actual']),
            'detail': _short(item.get('detail')) or None,
            'reason': _short(item.get('reason')) or None,
        }
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
        record['check_items'] = check_items(result.get('items'))
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
    if isinstance(report.get('phases'), dict):
        for name, phase in report['phases'].items():
            name = _short(name)[:_MAX_PHASE_TEXT]
            if name and isinstance(phase, dict):
                record['phases'][name] = dict((key, _short(phase.get(key))[:_MAX_PHASE_TEXT] or None)
                                              for key in ('start', 'end', 'result'))
    if isinstance(report.get('gate_checks'), list):
        record['gate_checks'] = [dict((key, _short(check.get(key)) or None) for key in GATE_CHECK_KEYS)
                                 for check in report['gate_checks'] if isinstance(check, dict)]
    return record


def _iso(when):
    return when.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def record_time(record, when):
    """A task of the host started or ended at WHEN (an aware datetime): its first and last task times."""
    stamp = _iso(when)
    if record['first_task'] is None or stamp < record['first_task']:
        record['first_task'] = stamp
    if record['last_task'] is None or stamp > record['last_task']:
        record['last_task'] = stamp
    return record


_TIME_RE = re.compile(r'(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?'
                      r' *(Z|[+-]\d{2}(?::?\d{2})?)?', re.I)


def parse_time(value):
    """An aware UTC datetime from an ISO 8601 time (2026-12-06T23:10:04Z; an offset such as +01:00 and
    fractions of a second are read, a time without an offset is UTC); None for anything else."""
    if value is None:
        return None
    try:
        match = _TIME_RE.fullmatch(_text(value).strip())
        if not match:
            return None
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        when = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                                 int((fraction or '0')[:6].ljust(6, '0')), datetime.timezone.utc)
        if offset and offset.upper() != 'Z':
            digits = offset[1:].replace(':', '')
            delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            when = when - delta if offset[0] == '+' else when + delta
        return when
    except (ValueError, OverflowError):
        return None


def _phase_rank(name):
    return _PHASE_ORDER.index(name) if name in _PHASE_ORDER else len(_PHASE_ORDER)


def host_segments(phases, last_task=None):
    """The timeline of one host from its published phases: segments in time order, each a mapping of
    name, kind (phase, or wait: the report's own WAITING between the end of staging and the start of the
    trial boot), start and end (UTC, ISO 8601), seconds, result and open (no end published: the segment
    runs to the host's last task). Phases without a time that can be read come back as the second value."""
    timed, untimed = [], []
    last = parse_time(last_task)
    for name, phase in (phases or {}).items():
        phase = phase if isinstance(phase, dict) else {}
        start, end = parse_time(phase.get('start')), parse_time(phase.get('end'))
        if start is None and end is None:
            untimed.append(name)
            continue
        is_open = end is None
        if end is None:
            end = max(start, last) if last else start
        if start is None or start > end:
            start = end
        result = _text(phase.get('result')) or None
        timed.append({'name': name, 'kind': 'phase', 'start': start, 'end': end, 'result': result, 'open': is_open})
    by_name = dict((segment['name'], segment) for segment in timed)
    staging, trial = by_name.get('staging'), by_name.get('trial_boot')
    if staging and trial and not staging['open'] and trial['start'] > staging['end']:
        timed.append({'name': WAITING, 'kind': 'wait', 'start': staging['end'], 'end': trial['start'],
                      'result': None, 'open': False})
    timed.sort(key=lambda s: (s['start'], _phase_rank(s['name']), s['name']))
    for segment in timed:
        segment['seconds'] = int(round((segment['end'] - segment['start']).total_seconds()))
        segment['start'], segment['end'] = _iso(segment['start']), _iso(segment['end'])
    return timed, sorted(untimed, key=lambda n: (_phase_rank(n), n))


# Hosts whose first times are this close started together: the hosts of one task start within milliseconds
# of each other, and a phase's published start is the whole second before its task's own time.
TOGETHER = datetime.timedelta(seconds=2)


def _started_together_by_end(lines):
    """LINES (each with '_order': (first time, last time) or None) in the order they started; those that started
    together (within TOGETHER of the first of them) in the order they ended, then by name; lines without a time
    last, by name."""
    timed = sorted((line for line in lines if line['_order']), key=lambda line: (line['_order'][0], line['host']))
    ordered, group = [], []
    for line in timed:
        if group and line['_order'][0] - group[0]['_order'][0] > TOGETHER:
            ordered += sorted(group, key=lambda member: (member['_order'][1], member['host']))
            group = []
        group.append(line)
    ordered += sorted(group, key=lambda member: (member['_order'][1], member['host']))
    return ordered + sorted((line for line in lines if not line['_order']), key=lambda line: line['host'])


def build_timeline(rows, started=None, finished=None):
    """The run as a timeline: one row per host (its segments, its first and last task) and the span of
    all of them with the run's own start and end. Rows in the order the hosts started, those that started
    together in the order they ended (batch by batch)."""
    lines, times = [], [t for t in (parse_time(started), parse_time(finished)) if t]
    for row in rows:
        segments, untimed = host_segments(row.get('phases'), row.get('last_task'))
        own = [t for t in [parse_time(row.get('first_task')), parse_time(row.get('last_task'))]
               + [parse_time(s[key]) for s in segments for key in ('start', 'end')] if t]
        times += own
        lines.append({'host': row['host'], 'outcome': row.get('outcome'), 'verdict': row.get('verdict'),
                      'first_task': row.get('first_task'), 'last_task': row.get('last_task'),
                      'segments': segments, 'untimed': untimed, '_order': (min(own), max(own)) if own else None})
    lines = _started_together_by_end(lines)
    for line in lines:
        line.pop('_order')
    return {'start': _iso(min(times)) if times else None, 'end': _iso(max(times)) if times else None, 'rows': lines}


def build_drift(rows):
    """The fleet's drift as a grid: every host whose profile check the run saw, by every item that failed
    or was unknown on any of them (required first, then the items most hosts miss). A cell holds the
    item's status on that host (ITEM_STATUSES: 'none' when the host's check had no such item) with its
    expected and actual value and detail; hosts without a check are listed apart."""
    checked = [row for row in rows if row.get('check_items') is not None]
    columns = {}
    for row in checked:
        for item_id, item in row['check_items'].items():
            if item['status'] in ('fail', 'unknown'):
                column = columns.setdefault(item_id, {'id': item_id, 'severity': item['severity'], 'reason': item['reason'],
                                                      'fail': 0, 'unknown': 0})
                column[item['status']] += 1
                if item['severity'] == 'required':
                    column['severity'] = 'required'
    items = sorted(columns.values(), key=lambda c: (c['severity'] != 'required', -(c['fail'] + c['unknown']), c['id']))
    grid_rows = []
    for row in checked:
        cells, counts = {}, dict((status, 0) for status in ITEM_STATUSES)
        for column in items:
            item = row['check_items'].get(column['id'])
            cell = {'status': 'none', 'expected': None, 'actual': None, 'detail': None}
            if item:
                cell = dict((key, item[key]) for key in ('status', 'expected', 'actual', 'detail'))
            cells[column['id']] = cell
            counts[cell['status']] += 1
        grid_rows.append({'host': row['host'], 'outcome': row.get('outcome'), 'verdict': row.get('verdict'),
                          'cells': cells, 'counts': counts})
    return {'items': items, 'rows': grid_rows, 'unchecked': [row['host'] for row in rows if row.get('check_items') is None]}


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
        row['phases'] = dict(record.get('phases') or {})
        rows.append(row)
    rows.sort(key=lambda r: (_OUTCOME_ORDER.index(r['outcome']) if r['outcome'] in _OUTCOME_ORDER
                             else -1, r['host']))
    timeline = build_timeline(rows, started, finished)
    drift = build_drift(rows)
    for row in rows:
        row.pop('check_items', None)
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
        'timeline': timeline,
        'drift': drift,
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
    for check in row.get('gate_checks') or []:
        if check.get('status') != 'pass':
            lines.append('site check "%s" [%s, %s]: %s' % (check.get('name'), check.get('kind'), check.get('status'),
                                                           check.get('detail') or 'no detail'))
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


_HTML_STYLE = ('body{font-family:sans-serif;margin:2em 2em 4em}table{border-collapse:collapse}'
               'td,th{border:1px solid #999;padding:4px 8px;vertical-align:top;text-align:left}'
               '.pass{background:#dfd}.fail{background:#fdd}.skip{background:#ffd}'
               'ul{margin:0;padding-left:1.2em}h2{margin-top:1.5em}.chart{overflow-x:auto;max-width:100%}'
               'svg{display:block}svg text{font-family:sans-serif;font-size:11px;fill:#222}'
               '.axis line{stroke:#ddd}.axis text,.note{fill:#666}.band{fill:transparent}'
               'g[data-host]:hover>.band,.hl>.band{fill:#fff3b0}tr.hl td{background:#fff3b0}'
               '.v-pass{fill:#1a6b1a}.v-fail{fill:#b00020}.v-skip{fill:#8a6d00}'
               '.activity{fill:#c8c8c8}.seg{stroke:#333;stroke-width:.5}.seg-label{fill:#fff;pointer-events:none}'
               '.ph-staging{fill:#3f6fc4}.ph-trial_boot{fill:#7d4fb8}.ph-gate{fill:#23867a}'
               '.ph-promotion{fill:#2f8a2f}.ph-fallback{fill:#d0661a}.ph-other{fill:#6b6b6b}'
               '.ph-waiting{fill:#f1f1f1;stroke:#888;stroke-dasharray:3 2}.ph-waiting+.seg-label{fill:#555}'
               '.res-failed{stroke:#b00020;stroke-width:2.5}.res-skipped{fill-opacity:.35}.open{stroke-dasharray:5 2}'
               '.cell{stroke:#fff;stroke-width:1}.st-pass{fill:#bfe3bf}.st-fail{fill:#d94848}.st-unknown{fill:#f0c04a}'
               '.st-not_applicable{fill:#dedede}.st-none{fill:#fff;stroke:#ccc}'
               '.glyph{text-anchor:middle;pointer-events:none}.req{font-weight:bold}'
               '#hover-detail{position:fixed;left:0;right:0;bottom:0;margin:0;padding:.5em 2em;'
               'background:#222;color:#fff;white-space:pre-line}#hover-detail:empty{display:none}')

# The page's one script (hover): the host under the pointer is marked in the timeline, the drift grid and
# the table, and what the pointer is on (its SVG title) is written out at the foot of the window. The page
# reads the same without it: every bar and cell has its title, which the browser shows as a tooltip.
_HTML_SCRIPT = """
(function () {
  var detail = document.getElementById('hover-detail');
  var marked = [];
  function attr(el, name) {
    for (; el && el.nodeType === 1; el = el.parentNode) {
      if (el.hasAttribute(name)) { return el.getAttribute(name); }
    }
    return null;
  }
  function tip(el) {
    for (; el && el.nodeType === 1; el = el.parentNode) {
      for (var c = el.firstElementChild; c; c = c.nextElementSibling) {
        if (c.tagName.toLowerCase() === 'title') { return c.textContent; }
      }
      if (el.tagName.toLowerCase() === 'svg') { break; }
    }
    return '';
  }
  function mark(host) {
    marked.forEach(function (el) { el.classList.remove('hl'); });
    marked = [];
    if (host === null) { return; }
    document.querySelectorAll('[data-host]').forEach(function (el) {
      if (el.getAttribute('data-host') === host) { el.classList.add('hl'); marked.push(el); }
    });
  }
  document.addEventListener('mouseover', function (event) {
    mark(attr(event.target, 'data-host'));
    detail.textContent = tip(event.target);
  });
})();
"""


def _csp_source(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode('utf-8')).digest()).decode('ascii')


# Nothing but the page's own style and script: no request leaves the page, and markup that came in
# through a host's text could not run even if it were not escaped.
HTML_CSP = ("default-src 'none'; style-src %s; script-src %s; base-uri 'none'; form-action 'none'"
            % (_csp_source(_HTML_STYLE), _csp_source(_HTML_SCRIPT)))

_HTML_COLUMNS = ('Host', 'Outcome', 'Kernel', 'Target', 'Profile check', 'Changed', 'Why / failing items')

# Geometry of the charts (SVG user units = CSS pixels).
_CHAR = 6.3          # average width of a character of the 11px font
_LABEL = 180         # the host names' column
_TL_PLOT = 660       # the timeline's time axis
_TL_RIGHT = 110      # the outcome after each timeline row
_TL_AXIS = 30
_TL_ROW = 26
_TL_BAR = 16
_CELL = 16
_GRID_GROUP_GAP = 8
_GRID_RIGHT = 170
_LEGEND = 26
_TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_PHASE_LABELS = {'staging': 'staging', WAITING: 'waiting for its batch', 'trial_boot': 'trial boot',
                 'gate': 'gate', 'promotion': 'promotion', 'fallback': 'fallback'}
_STATUS_GLYPHS = {'fail': 'x', 'unknown': '?', 'not_applicable': '-', 'pass': '', 'none': ''}
_STATUS_WORDS = {'fail': 'fail', 'unknown': 'unknown', 'not_applicable': 'not applicable', 'pass': 'pass',
                 'none': 'not checked'}


def _html_list(parent, lines):
    if lines:
        items = _sub(parent, 'ul')
        for line in lines:
            _sub(items, 'li', line)


def _fit(text, width):
    """TEXT cut to what WIDTH units hold, with an ellipsis when cut."""
    text = clean_text(text)
    room = max(int(width / _CHAR), 1)
    return text if len(text) <= room else text[:max(room - 1, 0)] + '\u2026'


def _num(value):
    return ('%.1f' % value).rstrip('0').rstrip('.')


def duration_text(seconds):
    """12 s, 4 min 26 s, 1 h 02 min."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return '%d s' % seconds
    if seconds < 3600:
        return '%d min %02d s' % (seconds // 60, seconds % 60)
    return '%d h %02d min' % (seconds // 3600, seconds % 3600 // 60)


def _clock(stamp):
    when = parse_time(stamp)
    return _text(stamp) if when is None else when.strftime('%H:%M:%S')


def time_ticks(start, end, most=8):
    """Round times between START and END (aware datetimes) for the axis, at most MOST of them, and their step
    in seconds."""
    span = max((end - start).total_seconds(), 1)
    step = next((s for s in _TICK_STEPS if span / s <= most), _TICK_STEPS[-1] * (int(span / _TICK_STEPS[-1] / most) + 1))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    at = -(-int((start - epoch).total_seconds()) // step) * step
    ticks = []
    while at <= (end - epoch).total_seconds():
        ticks.append(epoch + datetime.timedelta(seconds=at))
        at += step
    return ticks, step


def _segment_title(host, segment):
    text = '%s: %s, %s to %s UTC (%s)' % (host, _PHASE_LABELS.get(segment['name'], segment['name']), _clock(segment['start']),
                                          _clock(segment['end']), duration_text(segment['seconds']))
    if segment['result']:
        text += ', %s' % segment['result']
    if segment['open']:
        text += '; no end published (drawn to the last task of the host)'
    return text


def _class(**attrs):
    """Attributes whose names are no Python keywords: class_ is class, data_host is data-host."""
    return dict((key.rstrip('_').replace('_', '-'), value) for key, value in attrs.items())


def _timeline_svg(parent, report):
    timeline = report['timeline']
    rows = timeline['rows']
    start, end = parse_time(timeline['start']), parse_time(timeline['end'])
    width = _LABEL + _TL_PLOT + _TL_RIGHT
    bottom = _TL_AXIS + _TL_ROW * len(rows)
    height = bottom + _LEGEND + 8
    svg = _sub(parent, 'svg', width=width, height=height, viewBox='0 0 %d %d' % (width, height),
               **_class(id='timeline', role='img', aria_label='Timeline of the run, one row per host', data_rows=len(rows)))
    if start is None:
        _sub(svg, 'text', 'No task ran: no times to show.', x=8, y=20, **_class(class_='note'))
        return svg
    span = max((end - start).total_seconds(), 1)

    def x_of(stamp):
        return _LABEL + _TL_PLOT * (parse_time(stamp) - start).total_seconds() / span

    _sub(svg, 'title', 'The run from %s to %s UTC, one row per host' % (_clock(timeline['start']), _clock(timeline['end'])))
    axis = _sub(svg, 'g', **_class(class_='axis'))
    ticks, step = time_ticks(start, end)
    _sub(axis, 'text', 'UTC, %s' % start.strftime('%Y-%m-%d'), x=4, y=14)
    for tick in ticks:
        x = _num(x_of(_iso(tick)))
        _sub(axis, 'line', x1=x, x2=x, y1=_TL_AXIS - 6, y2=bottom)
        _sub(axis, 'text', tick.strftime('%H:%M:%S' if step < 60 else '%H:%M'), x=x, y=14, **_class(text_anchor='middle'))
    for index, line in enumerate(rows):
        top = _TL_AXIS + _TL_ROW * index
        middle = top + _TL_ROW / 2
        verdict = line['verdict'] or 'skip'
        group = _sub(svg, 'g', **_class(class_='tl-row', data_host=line['host'], data_outcome=line['outcome'] or ''))
        summary = '%s: %s' % (line['host'], line['outcome'])
        if line['first_task']:
            summary += '; tasks from %s to %s UTC' % (_clock(line['first_task']), _clock(line['last_task']))
        if line['untimed']:
            summary += '; phases without a time: %s' % ', '.join(line['untimed'])
        _sub(group, 'title', summary)
        _sub(group, 'rect', x=0, y=top, width=width, height=_TL_ROW, **_class(class_='band'))
        _sub(group, 'text', _fit(line['host'], _LABEL - 12), x=_LABEL - 8, y=_num(middle + 4),
             **_class(class_='tl-host v-%s' % verdict, text_anchor='end'))
        _sub(group, 'text', _fit(line['outcome'], _TL_RIGHT - 8), x=_LABEL + _TL_PLOT + 8, y=_num(middle + 4),
             **_class(class_='tl-outcome v-%s' % verdict))
        if line['first_task']:
            left = x_of(line['first_task'])
            activity = _sub(group, 'rect', x=_num(left), y=_num(middle - 2), height=4,
                            width=_num(max(x_of(line['last_task']) - left, 2)), **_class(class_='activity'))
            _sub(activity, 'title', '%s: tasks from %s to %s UTC'
                 % (line['host'], _clock(line['first_task']), _clock(line['last_task'])))
        elif not line['segments']:
            _sub(group, 'text', 'no task ran', x=_LABEL + 4, y=_num(middle + 4), **_class(class_='note'))
        for segment in line['segments']:
            left = x_of(segment['start'])
            length = max(x_of(segment['end']) - left, 3)
            classes = ['seg', 'ph-%s' % (segment['name'] if segment['name'] in _PHASE_LABELS else 'other')]
            if segment['result'] in PHASE_RESULTS:
                classes.append('res-%s' % segment['result'])
            if segment['open']:
                classes.append('open')
            rect = _sub(group, 'rect', x=_num(left), y=_num(middle - _TL_BAR / 2), width=_num(length), height=_TL_BAR,
                        **_class(class_=' '.join(classes), data_phase=segment['name'], data_kind=segment['kind'],
                                 data_result=segment['result'] or '', data_start=segment['start'], data_end=segment['end']))
            _sub(rect, 'title', _segment_title(line['host'], segment))
            label = _PHASE_LABELS.get(segment['name'], segment['name'])
            if len(label) * _CHAR + 6 <= length:
                _sub(group, 'text', label, x=_num(left + 3), y=_num(middle + 4), **_class(class_='seg-label'))
    legend = _sub(svg, 'g', **_class(class_='legend'))
    x = _LABEL
    for name in _PHASE_ORDER + ('other', 'activity'):
        label = {'other': 'other phase', 'activity': 'first to last task'}.get(name) or _PHASE_LABELS[name]
        _sub(legend, 'rect', x=_num(x), y=bottom + 10, width=12, height=10 if name != 'activity' else 4,
             **_class(class_='activity' if name == 'activity' else 'seg ph-%s' % name))
        _sub(legend, 'text', label, x=_num(x + 16), y=bottom + 19)
        x += 16 + len(label) * _CHAR + 14
    return svg


def _cell_title(host, column, cell):
    lines = ['%s, %s: %s' % (host, column['id'], _STATUS_WORDS[cell['status']])]
    if cell['status'] != 'none':
        lines.append('expected %s, got %s' % (cell['expected'], '(not set)' if cell['actual'] is None else cell['actual']))
    if cell['detail']:
        lines.append(cell['detail'])
    if column['reason']:
        lines.append('why: %s' % column['reason'])
    return '\n'.join(lines)


def _count_text(counts):
    parts = ['%d %s' % (counts[status], _STATUS_WORDS[status]) for status in ('fail', 'unknown', 'none') if counts.get(status)]
    return ', '.join(parts) or 'no drift'


def _drift_svg(parent, report):
    items, rows = report['drift']['items'], report['drift']['rows']
    heading = min(max(len(clean_text(item['id'])) for item in items), 40) * _CHAR + 12
    xs, x = [], _LABEL
    for index, item in enumerate(items):
        if index and item['severity'] != 'required' and items[index - 1]['severity'] == 'required':
            x += _GRID_GROUP_GAP
        xs.append(x)
        x += _CELL
    legend_width = sum(30 + len(_STATUS_WORDS[status]) * _CHAR for status in _STATUS_WORDS) + 22 * _CHAR
    width = max(x + _GRID_RIGHT, _LABEL + legend_width)
    height = heading + _CELL * len(rows) + _LEGEND + 8
    svg = _sub(parent, 'svg', width=_num(width), height=_num(height), viewBox='0 0 %s %s' % (_num(width), _num(height)),
               **_class(id='drift-grid', role='img', aria_label='Drift by host and profile item', data_rows=len(rows),
                        data_items=len(items)))
    _sub(svg, 'title', 'Drift: %d hosts by the %d items that fail or are unknown on any of them' % (len(rows), len(items)))
    head = _sub(svg, 'g', **_class(class_='grid-head'))
    for item, left in zip(items, xs):
        column = _sub(head, 'g', **_class(class_='grid-col', data_item=item['id']))
        _sub(column, 'title', '%s (%s): fails on %d, unknown on %d of %d hosts%s' % (
            item['id'], item['severity'], item['fail'], item['unknown'], len(rows),
            '; why: %s' % item['reason'] if item['reason'] else ''))
        cx, foot = left + _CELL / 2 + 4, heading - 4
        _sub(column, 'text', _fit(item['id'], heading - 8), x=_num(cx), y=_num(foot),
             transform='rotate(-90 %s %s)' % (_num(cx), _num(foot)),
             **_class(class_='req' if item['severity'] == 'required' else 'rec'))
    for index, row in enumerate(rows):
        top = heading + _CELL * index
        group = _sub(svg, 'g', **_class(class_='grid-row', data_host=row['host'], data_outcome=row['outcome'] or ''))
        _sub(group, 'title', '%s: %s; %s' % (row['host'], row['outcome'], _count_text(row['counts'])))
        _sub(group, 'rect', x=0, y=_num(top), width=_num(width), height=_CELL, **_class(class_='band'))
        _sub(group, 'text', _fit(row['host'], _LABEL - 12), x=_LABEL - 8, y=_num(top + 12),
             **_class(class_='grid-host v-%s' % (row['verdict'] or 'skip'), text_anchor='end'))
        for item, left in zip(items, xs):
            cell = row['cells'][item['id']]
            rect = _sub(group, 'rect', x=_num(left), y=_num(top), width=_CELL, height=_CELL,
                        **_class(class_='cell st-%s' % cell['status'], data_item=item['id'], data_status=cell['status']))
            _sub(rect, 'title', _cell_title(row['host'], item, cell))
            if _STATUS_GLYPHS[cell['status']]:
                _sub(group, 'text', _STATUS_GLYPHS[cell['status']], x=_num(left + _CELL / 2), y=_num(top + 12),
                     **_class(class_='glyph'))
        _sub(group, 'text', _count_text(row['counts']), x=_num(x + 8), y=_num(top + 12), **_class(class_='grid-count'))
    legend = _sub(svg, 'g', **_class(class_='legend'))
    lx, ly = _LABEL, heading + _CELL * len(rows) + 10
    for status in ('fail', 'unknown', 'not_applicable', 'pass', 'none'):
        _sub(legend, 'rect', x=_num(lx), y=_num(ly), width=12, height=12, **_class(class_='cell st-%s' % status))
        _sub(legend, 'text', _STATUS_WORDS[status], x=_num(lx + 16), y=_num(ly + 10))
        lx += 16 + len(_STATUS_WORDS[status]) * _CHAR + 14
    _sub(legend, 'text', 'bold: a required item', x=_num(lx), y=_num(ly + 10), **_class(class_='req'))
    return svg


def _timeline_section(body, report):
    section = _sub(body, 'section', id='run-timeline')
    _sub(section, 'h2', 'Timeline')
    _sub(section, 'p', 'Where the run went, one row per host: the phases each host published (a failed one has a red '
         'outline), the wait for its batch between staging and the trial boot, and the span from its first to its last task.')
    _timeline_svg(_sub(section, 'div', **_class(class_='chart')), report)


def _drift_section(body, report):
    drift = report['drift']
    section = _sub(body, 'section', id='fleet-drift')
    _sub(section, 'h2', 'Drift')
    if not drift['rows']:
        _sub(section, 'p', 'No profile check ran in this run.')
    elif not drift['items']:
        _sub(section, 'p', 'No drift: every item passes or does not apply on the %d hosts checked.' % len(drift['rows']))
    else:
        _sub(section, 'p', 'The hosts the run checked by every profile item that fails or is unknown on any of them; '
             'a cell says what the profile expects and what the host has.')
        _drift_svg(_sub(section, 'div', **_class(class_='chart')), report)
    if drift['rows'] and drift['unchecked']:
        _sub(section, 'p', 'Not checked in this run: %s.' % ', '.join(drift['unchecked']))


def to_html(report):
    """The report as one HTML page, built as an ElementTree and serialized by its HTML writer: every
    text from the run is escaped, so a message that holds markup shows as that text. The timeline and
    the drift grid are inline SVG drawn here; the page loads nothing and reads the same without script."""
    html = ET.Element('html', lang='en')
    head = _sub(html, 'head')
    _sub(head, 'meta', charset='utf-8')
    _sub(head, 'meta', **_class(http_equiv='Content-Security-Policy', content=HTML_CSP))
    _sub(head, 'title', 'Hyperion fleet report: %s' % _text(report['playbook']))
    # Constants: the HTML writer leaves the text of <style> and <script> as it is.
    ET.SubElement(head, 'style').text = _HTML_STYLE
    body = _sub(html, 'body')
    _sub(body, 'h1', 'Hyperion fleet report: %s' % _text(report['playbook']))
    intro = _sub(body, 'p', headline(report))
    _sub(intro, 'br').tail = _element_text('Started %s, finished %s.' % (report['started'], report['finished']))
    if 'timeline' in report:
        _timeline_section(body, report)
    if 'drift' in report:
        _drift_section(body, report)
    _sub(body, 'h2', 'Hosts')
    table = _sub(body, 'table')
    header = _sub(_sub(table, 'thead'), 'tr')
    for column in _HTML_COLUMNS:
        _sub(header, 'th', column)
    rows = _sub(table, 'tbody')
    for row in report['hosts']:
        line = _sub(rows, 'tr', **_class(class_=row['verdict'], data_host=row['host']))
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
    _sub(body, 'p', **_class(id='hover-detail', aria_live='polite'))
    ET.SubElement(body, 'script').text = _HTML_SCRIPT
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

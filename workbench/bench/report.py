# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ratios, goals and the printed table of a benchmark run (pure functions on the results)."""

from __future__ import absolute_import, division, print_function

import json

__metaclass__ = type

# check.yml's wall time as a share of each baseline's, at most: a fifth of the testinfra suite's, a tenth
# of the one-task-per-item playbook's, and twice a bare ping over the same hosts (the floor of any run).
AUDIT_GOALS = {'testinfra': 1 / 5.0, 'commands': 1 / 10.0, 'ping': 2.0}
AUDIT_METRICS = (('wall_s', 'wall s'), ('ssh_connections', 'SSH conn'), ('ssh_sessions', 'SSH sess'),
                 ('controller_cpu_s', 'ctl CPU s'), ('hosts_cpu_s', 'host CPU s'), ('bytes_to_hosts', 'bytes out'))


def ratio(value, baseline):
    if value is None or not baseline:
        return None
    return round(float(value) / baseline, 3)


def audit_verdicts(audit):
    """Per baseline: check's figure / the baseline's for each metric, and whether the goal is met."""
    variants = audit.get('variants', {})
    check = variants.get('check')
    verdicts = {}
    if not check:
        return verdicts
    for name, goal in sorted(AUDIT_GOALS.items()):
        base = variants.get(name)
        if not base:
            continue
        ratios = dict((key, ratio(check.get(key), base.get(key))) for key, _label in AUDIT_METRICS)
        wall_ratio = ratios['wall_s']
        # A ratio counts only when both ran to the end and reached every host.
        trustworthy = (not (check.get('timed_out') or base.get('timed_out'))
                       and check.get('hosts_with_results') == audit.get('hosts')
                       and base.get('hosts_with_results') == audit.get('hosts'))
        verdicts[name] = {
            'ratios_check_to_baseline': ratios,
            'goal_wall_ratio_at_most': round(goal, 3),
            'goal_met': bool(trustworthy and wall_ratio is not None and wall_ratio <= goal),
            'speedup': round(1 / wall_ratio, 1) if wall_ratio else None,
        }
    return verdicts


def _cell(value):
    if value is None:
        return '-'
    if isinstance(value, float):
        return '%.2f' % value
    return str(value)


def _ratio_text(value):
    """0.022 (1/46): a small ratio stays readable."""
    if not value:
        return None
    if value >= 1:
        return '%.3f' % value
    return '%.3f (1/%.0f)' % (value, 1 / value)


def json_callback_document(text):
    """The json callback's document in a command's output; other callbacks (check.yml's report
    summary) may print after it. ValueError when there is none."""
    data, _end = json.JSONDecoder().raw_decode(text[text.index('{'):])
    return data


def format_table(rows, headers):
    widths = [len(h) for h in headers]
    text_rows = [[_cell(v) for v in row] for row in rows]
    for row in text_rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    line = '  '.join('%%-%ds' % w for w in widths)
    out = [line % tuple(headers), line % tuple('-' * w for w in widths)]
    out += [line % tuple(row) for row in text_rows]
    return '\n'.join(out)


def audit_table(audit):
    """The audit figures, one row per variant, check first, with check's ratio to each baseline."""
    variants = audit.get('variants', {})
    verdicts = audit_verdicts(audit)
    headers = ['variant'] + [label for _key, label in AUDIT_METRICS] + ['check/this (wall)', 'goal', 'met']
    rows = []
    for name in ('check', 'ping', 'testinfra', 'commands'):
        measured = variants.get(name)
        if not measured:
            continue
        verdict = verdicts.get(name, {})
        goal = verdict.get('goal_wall_ratio_at_most')
        label = name + (' (timed out)' if measured.get('timed_out') else '')
        if measured.get('scaled_from_items'):
            label += ' *'
        rows.append([label]
                    + [measured.get(key) for key, _label in AUDIT_METRICS]
                    + [_ratio_text(verdict.get('ratios_check_to_baseline', {}).get('wall_s')),
                       '<= %.2f' % goal if goal else None,
                       ('yes' if verdict['goal_met'] else 'no') if verdict else None])
    title = 'Fleet audit: %s hosts x %s items, forks %s' % (audit.get('hosts'), audit.get('items'), audit.get('forks'))
    notes = []
    scaled = [m['scaled_from_items'] for m in variants.values() if m.get('scaled_from_items')]
    if scaled:
        notes.append('* run on %d of the %s items, figures scaled to all items (one remote command per item and host)'
                     % (scaled[0], audit.get('items')))
    for name, measured in sorted(variants.items()):
        agreement = measured.get('agreement_with_check')
        if agreement:
            notes.append('%s agrees with check on %d of %d host-items' % (name, agreement['agree'], agreement['checked']))
    return '\n'.join([title, format_table(rows, headers)] + notes)


def pair_table(section, title, keys):
    """A measured-vs-baseline section (converge, rollout, distribution) as rows of key, value, baseline, ratio."""
    rows = []
    for key, label in keys:
        entry = section.get(key)
        if isinstance(entry, dict):
            rows.append([label, entry.get('value'), entry.get('baseline'), entry.get('ratio'), entry.get('goal'),
                         None if entry.get('met') is None else ('yes' if entry['met'] else 'no')])
    if not rows:
        return '%s: %s' % (title, section.get('status', 'not run'))
    return '\n'.join([title, format_table(rows, ['figure', 'value', 'baseline', 'ratio', 'goal', 'met'])])


def rollout_table(section):
    """The rollout's batches (lab_bench.batch_figures) and the evening: staging plus batches."""
    rows = [[' '.join(batch['hosts']), batch['wall_s'], batch['reboot_s'], batch['gate_s'], batch['ratio']]
            for batch in section.get('batches', [])]
    evening = section.get('evening_s') or {}
    lines = ['Rollout batches', format_table(rows, ['batch', 'wall s', 'reboot s', 'gate s', 'batch / (reboot + gate)'])]
    if evening:
        lines.append('evening: staging %s s + batches %s s = %s s (deploy.yml ran %s s)'
                     % (evening.get('staging'), evening.get('batches'), evening.get('total'), evening.get('run')))
    for batch in section.get('batches', []):
        time = batch.get('time')
        if time:
            # Task names have commas of their own: "name: seconds" entries apart with " | ".
            lines.append('%s: %s | shorter tasks: %s' % (' '.join(batch['hosts']), ' | '.join(
                '%s: %s' % (entry['task'], entry['s']) for entry in time['tasks']), time['other_s']))
    return '\n'.join(lines)


def time_table(breakdown, title):
    """A run's time per role and its slowest tasks (lab_bench.time_by_role)."""
    rows = [[owner, seconds] for owner, seconds in breakdown.get('by_role_s', {}).items()]
    slowest = [[entry['s'], entry['role'], entry['task']] for entry in breakdown.get('slowest_tasks', [])]
    return '\n'.join([title, format_table(rows, ['role or playbook', 'task time s']), '',
                      format_table(slowest, ['s', 'role', 'slowest tasks'])])

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Human-readable renderings of check results (text now; fleet reports build on it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .check import describe_expected

_MARKS = {'pass': 'ok  ', 'fail': 'FAIL', 'not_applicable': 'n/a ', 'unknown': '??  '}


def drift_lines(results):
    """(before, after) text for diff mode: what the host has vs what the profile wants, failures only."""
    before, after = [], []
    for result in results:
        if result['status'] != 'fail':
            continue
        actual = result['actual'] if result['actual'] is not None else '(not set)'
        before.append('%s: %s\n' % (result['id'], actual))
        after.append('%s: %s\n' % (result['id'], result['expected']))
    return ''.join(before), ''.join(after)


def format_text(results, summary, title, show=('fail', 'unknown')):
    """A report: one line per shown item, then the counts."""
    lines = [title]
    width = max([len(r['id']) for r in results] + [10])
    for result in results:
        if result['status'] not in show:
            continue
        actual = result['actual'] if result['actual'] is not None else '(not set)'
        line = '  %s %-*s %-11s expected %s, got %s' % (_MARKS[result['status']], width, result['id'],
                                                        result['severity'], result['expected'], actual)
        if result.get('detail'):
            line += ' (%s)' % result['detail']
        lines.append(line)
    counts = summary['counts']
    lines.append('%d items: %d pass, %d fail (%d required), %d not applicable, %d unknown' % (
        summary['total'], counts['pass'], counts['fail'], len(summary['failed_required']),
        counts['not_applicable'], counts['unknown']))
    return '\n'.join(lines) + '\n'


def render_seed_mapping(profile):
    """Markdown tables: release-notes names that are not real interfaces, and what is checked instead."""
    lines = ['# Release notes to real kernel interfaces',
             '',
             'Generated from `profiles/%s.yml` by `make docs`; do not edit by hand.' % profile['name'],
             '',
             'The release notes name some options and files that no kernel has. The profile keeps their intent '
             'and checks the real interface; the notes\' name stays on the item as `seed_name`.',
             '',
             '| Release notes say | Checked as | Expected | Why |',
             '|---|---|---|---|']
    for item in profile['items']:
        if item.get('seed_name'):
            row = (item['seed_name'], item['id'], describe_expected(item), item.get('reason', ''))
            lines.append('| `%s` | `%s` | %s | %s |' % row)
    lines += ['', '## Names with no checkable counterpart', '', '| Release notes say | Why there is no check |', '|---|---|']
    for entry in profile.get('unmapped', []):
        lines.append('| `%s` | %s |' % (entry['seed_name'], entry['reason']))
    return '\n'.join(lines) + '\n'

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Human-readable renderings of check results (text now; fleet reports build on it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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

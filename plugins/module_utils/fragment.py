# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kconfig fragment from a profile's CONFIG_ items.

The fragment is what a kernel build merges (scripts/kconfig/merge_config.sh)
before ``make olddefconfig``. Kconfig drops whatever the source cannot satisfy
without a word, so a build checks the resulting .config with the profile
again; the fragment only says what was asked for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .profile import item_source

_BARE_VALUE_RE = re.compile(r'(y|m|-?\d+|0x[0-9a-fA-F]+)')


def _render(name, value):
    text = str(value)
    if _BARE_VALUE_RE.fullmatch(text):
        return '%s=%s' % (name, text)
    return '%s="%s"' % (name, text.replace('\\', '\\\\').replace('"', '\\"'))


def fragment_lines(profile):
    """(lines, left_out): fragment lines, and the ids no single value can express."""
    lines = []
    left_out = []
    for item in profile['items']:
        # fragment: false marks symbols Kconfig derives (from the compiler, the
        # architecture or the drivers that select them): a fragment cannot set them.
        if item_source(item['id']) != 'config' or item.get('skip') or item.get('fragment') is False:
            continue
        match = item['match']
        name = item['id']
        if match == 'exact':
            lines.append(_render(name, item['value']))
        elif match == 'enabled':
            lines.append('%s=y' % name)
        elif match == 'not_set':
            lines.append('# %s is not set' % name)
        elif match == 'one_of':
            lines.append(_render(name, item['values'][0]))
        else:
            left_out.append(name)
    return lines, left_out


def render_fragment(profile):
    """The fragment as text, with a header naming the profile."""
    lines, left_out = fragment_lines(profile)
    header = ['# Kconfig fragment generated from profile %s%s' % (
        profile['name'], ''.join(' + ' + o for o in profile.get('overlays', []))),
        '# Merge it, run olddefconfig, then check the .config with the same profile:',
        '# Kconfig silently drops options whose dependencies are unmet.']
    if left_out:
        header.append('# Not expressible as one value (range/pattern/present): %s' % ', '.join(left_out))
    return '\n'.join(header + lines) + '\n'

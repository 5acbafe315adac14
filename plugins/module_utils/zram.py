# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zram sysfs and /proc/swaps readers (Documentation/admin-guide/blockdev/zram.rst).

The release notes promise a "secondary compression stream" set through
``comp_algorithm2`` / ``CONFIG_ZRAM_DEF_COMP2``. Neither exists: the real
interface is zram's recompression, ``recomp_algorithm`` (one line per
priority, ``#1: lzo lz4 [lz4hc] zstd``) under CONFIG_ZRAM_MULTI_COMP.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from .errors import SourceError

# mm_stat columns, oldest kernels first: 4.x had 7, 5.x added huge_pages,
# 5.15 added huge_pages_since. Later columns are kept unnamed rather than lost.
MM_STAT_COLUMNS = ('orig_data_size', 'compr_data_size', 'mem_used_total', 'mem_limit',
                   'mem_used_max', 'same_pages', 'pages_compacted', 'huge_pages', 'huge_pages_since')

_RECOMP_LINE_RE = re.compile(r'#(\d+):\s*(.*)')


def parse_bracketed_choice(text, source='<sysfs>'):
    """``lzo lz4 [zstd]`` -> ('zstd', ['lzo', 'lz4', 'zstd']).

    Used for comp_algorithm, queue/scheduler, THP's enabled/defrag. A file that
    lists a single word without brackets (a queue with no elevator shows
    ``none``) selects that word.
    """
    words = text.split()
    if not words:
        raise SourceError('%s: empty, expected a list of choices' % source)
    available = []
    selected = None
    for word in words:
        if word.startswith('[') and word.endswith(']'):
            word = word[1:-1]
            if selected is not None:
                raise SourceError('%s: more than one selected choice in %r' % (source, text.strip()))
            selected = word
        available.append(word)
    if selected is None:
        if len(available) == 1:
            selected = available[0]
        else:
            raise SourceError('%s: no [selected] choice in %r' % (source, text.strip()))
    return selected, available


def parse_recomp_algorithm(text, source='<recomp_algorithm>'):
    """{priority: (selected or None, available)} from recomp_algorithm.

    A priority with no algorithm configured lists the choices with none
    bracketed; it is reported with selected None.
    """
    result = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _RECOMP_LINE_RE.fullmatch(line)
        if not match:
            raise SourceError('%s: unexpected line %r (expected "#<priority>: algorithms")' % (source, line))
        words = match.group(2).split()
        selected = None
        available = []
        for word in words:
            if word.startswith('[') and word.endswith(']'):
                word = word[1:-1]
                selected = word
            available.append(word)
        result[int(match.group(1))] = (selected, available)
    return result


def parse_mm_stat(text, source='<mm_stat>'):
    """mm_stat as a dict of ints; unknown trailing columns are named column_N."""
    fields = text.split()
    if len(fields) < 7:
        raise SourceError('%s: expected at least 7 numbers, got %r' % (source, text.strip()))
    stats = {}
    for index, field in enumerate(fields):
        try:
            number = int(field)
        except ValueError:
            raise SourceError('%s: column %d is not a number: %r' % (source, index + 1, field))
        name = MM_STAT_COLUMNS[index] if index < len(MM_STAT_COLUMNS) else 'column_%d' % (index + 1)
        stats[name] = number
    return stats


def parse_proc_swaps(text, source='/proc/swaps'):
    """Rows of /proc/swaps as dicts (sizes in KiB)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith('Filename'):
        raise SourceError('%s: missing the "Filename Type Size Used Priority" header' % source)
    rows = []
    for lineno, line in enumerate(lines[1:], 2):
        fields = line.split()
        if len(fields) != 5:
            raise SourceError('%s:%d: expected 5 fields, got %r' % (source, lineno, line))
        try:
            size, used, priority = int(fields[2]), int(fields[3]), int(fields[4])
        except ValueError:
            raise SourceError('%s:%d: size, used and priority must be numbers: %r' % (source, lineno, line))
        # Paths with spaces are written with \040 by the kernel.
        rows.append({'filename': fields[0].replace('\\040', ' '), 'type': fields[1],
                     'size_kib': size, 'used_kib': used, 'priority': priority})
    return rows


def _read(path):
    with open(path) as handle:
        return handle.read()


def read_zram_device(sys_block_dir):
    """One zram device's state from /sys/block/zramN; missing files are simply omitted."""
    name = os.path.basename(sys_block_dir.rstrip('/'))
    device = {'name': name}
    readers = (
        ('comp_algorithm', parse_bracketed_choice),
        ('recomp_algorithm', parse_recomp_algorithm),
        ('mm_stat', parse_mm_stat),
    )
    for attr, parser in readers:
        path = os.path.join(sys_block_dir, attr)
        if not os.path.exists(path):
            continue
        try:
            text = _read(path)
        except (IOError, OSError) as exc:
            device.setdefault('errors', []).append('%s: %s' % (path, exc.strerror or exc))
            continue
        if attr == 'comp_algorithm':
            selected, available = parser(text, path)
            device['comp_algorithm'] = selected
            device['comp_algorithms_available'] = available
        elif attr == 'recomp_algorithm':
            device['recomp_algorithms'] = dict(
                (str(prio), {'selected': sel, 'available': avail}) for prio, (sel, avail) in parser(text, path).items())
        else:
            device['mm_stat'] = parser(text, path)
    for attr in ('disksize', 'max_comp_streams'):
        path = os.path.join(sys_block_dir, attr)
        if os.path.exists(path):
            try:
                device[attr] = int(_read(path).strip())
            except (IOError, OSError, ValueError) as exc:
                device.setdefault('errors', []).append('%s: %s' % (path, exc))
    return device


def read_zram_devices(root='/'):
    """Every /sys/block/zram* device."""
    sys_block = os.path.join(root, 'sys/block')
    try:
        names = sorted(n for n in os.listdir(sys_block) if re.fullmatch(r'zram\d+', n))
    except (IOError, OSError):
        return {}
    return dict((name, read_zram_device(os.path.join(sys_block, name))) for name in names)


def primary_recomp_algorithm(device):
    """The recompression algorithm of the lowest configured priority, or None."""
    streams = device.get('recomp_algorithms') or {}
    for prio in sorted(streams, key=int):
        if streams[prio]['selected']:
            return streams[prio]['selected']
    return None

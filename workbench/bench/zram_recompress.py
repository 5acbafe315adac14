# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zram recompression on a lab guest: `make bench BENCH=zram-recompress`.

One lab machine boots the test kernel (installed by the collection's kernel role from the package of
`make kernel-package`), then for each algorithm order (primary:recompression) and repetition
zram_recompress_guest.py runs the same memory-pressure workload into a fresh zram swap and measures
two recompression passes. The guest only records raw kernel output; everything is parsed here, by
pure functions that workbench/tests/unit/test_zram_recompress.py runs on output captured in the lab.

What the kernel counts (drivers/block/zram/zram_drv.c, 6.12): mm_stat's compr_data_size and
huge_pages follow a recompressed page (the old object is freed, the new one added), but no counter
says how many pages were recompressed, and block_state (debugfs) needs CONFIG_ZRAM_MEMORY_TRACKING,
which the test kernel lacks. So the guest counts the writing process's calls with kprobes: each
zcomp_compress is a page tried with the recompression algorithm, each zs_malloc a page kept in its
new, smaller size class (zram keeps a recompressed page only then), each zcomp_decompress a page read
back first (huge pages are copied, not decompressed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import statistics
import subprocess
import sys
import time

from report import format_table

GUEST_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'zram_recompress_guest.py')
KERNEL_PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'zram_recompress_kernel.yml')
GUEST_PATH = '/usr/local/lib/hyperion-bench/zram_recompress_guest.py'
SLOT = '/tmp/vm-slot'
PAGE = 4096

# mm_stat's columns on 6.12 (Documentation/admin-guide/blockdev/zram.rst), oldest kernels have 7.
MM_STAT_COLUMNS = ('orig_data_size', 'compr_data_size', 'mem_used_total', 'mem_limit', 'mem_used_max',
                   'same_pages', 'pages_compacted', 'huge_pages', 'huge_pages_since')
IO_STAT_COLUMNS = ('failed_reads', 'failed_writes', 'invalid_io', 'notify_free')
PROC_STAT_CPU_COLUMNS = ('user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guest_nice')


def _numbers(text, source, minimum):
    fields = text.split()
    if len(fields) < minimum:
        raise ValueError('%s: expected at least %d numbers, got %r' % (source, minimum, text))
    try:
        return [int(field) for field in fields]
    except ValueError:
        raise ValueError('%s: not all numbers: %r' % (source, text))


def parse_mm_stat(text):
    """mm_stat as {column: int}; columns a newer kernel adds are named column_N."""
    numbers = _numbers(text, 'mm_stat', 7)
    return dict((MM_STAT_COLUMNS[i] if i < len(MM_STAT_COLUMNS) else 'column_%d' % (i + 1), n) for i, n in enumerate(numbers))


def parse_io_stat(text):
    """io_stat as {column: int} (invalid_io is always 0 since 6.x, kept for the column's place)."""
    return dict(zip(IO_STAT_COLUMNS, _numbers(text, 'io_stat', 4)))


def parse_debug_stat(text):
    """debug_stat: {'version': N, 'writestall': int, 'miss_free': int} (version 1 layout)."""
    lines = [line for line in text.splitlines() if line.strip()]
    match = re.match(r'version:\s*(\d+)$', lines[0].strip()) if lines else None
    if not match:
        raise ValueError('debug_stat: no "version: N" line in %r' % text)
    result = {'version': int(match.group(1))}
    numbers = _numbers(' '.join(lines[1:]), 'debug_stat', 2)
    result.update({'writestall': numbers[0], 'miss_free': numbers[1]})
    return result


def parse_proc_stat_cpu(line):
    """The first line of /proc/stat ("cpu  user nice system idle ...") as {column: ticks}."""
    fields = line.split()
    if not fields or fields[0] != 'cpu':
        raise ValueError('/proc/stat: not the "cpu" line: %r' % line)
    return dict(zip(PROC_STAT_CPU_COLUMNS, _numbers(' '.join(fields[1:]), '/proc/stat cpu', 8)))


def busy_ticks(cpu):
    """Ticks not idle (guest time is already in user)."""
    return sum(cpu.get(name, 0) for name in ('user', 'nice', 'system', 'irq', 'softirq', 'steal'))


def parse_trace_stats(text):
    """A tracefs per_cpu/cpuN/stats file as {field: number} (the counters and the timestamps)."""
    stats = {}
    for line in text.splitlines():
        name, sep, value = line.partition(':')
        if not sep:
            continue
        value = value.strip()
        try:
            stats[name.strip()] = float(value) if '.' in value else int(value)
        except ValueError:
            continue
    if 'entries' not in stats or 'overrun' not in stats:
        raise ValueError('trace stats without entries and overrun: %r' % text)
    return stats


def probe_count(per_cpu):
    """Events a probe recorded since its buffer was cleared, over every CPU: those still in the
    buffer plus those overwritten (nobody reads the buffer, so none was consumed)."""
    total = 0
    for text in per_cpu.values():
        stats = parse_trace_stats(text)
        total += stats['entries'] + stats['overrun']
    return total


def parse_bracketed(text):
    """comp_algorithm / one recomp_algorithm line: ('zstd', ['lz4hc', 'zstd'])."""
    words = text.split()
    selected = next((w[1:-1] for w in words if w.startswith('[') and w.endswith(']')), None)
    return selected, [w.strip('[]') for w in words]


def parse_recomp_algorithm(text):
    """{priority: (selected or None, [available])} of recomp_algorithm ("#1: lz4hc [zstd]")."""
    result = {}
    for line in text.splitlines():
        match = re.match(r'#(\d+):\s*(.*)$', line.strip())
        if match:
            result[int(match.group(1))] = parse_bracketed(match.group(2))
    return result


def kconfig_zram(text):
    """{option: value} of the CONFIG_ZRAM* and CONFIG_ZSMALLOC* lines of a kernel config ("n" for "is not set")."""
    options = {}
    for line in text.splitlines():
        match = re.match(r'(CONFIG_(?:ZRAM|ZSMALLOC)\w*)=(.*)$', line) or re.match(r'# (CONFIG_(?:ZRAM|ZSMALLOC)\w*) is not set$', line)
        if match:
            options[match.group(1)] = match.group(2).strip('"') if match.lastindex == 2 else 'n'
    return options


def _cpu_sum(cpu):
    return round(cpu['user'] + cpu['system'], 3) if cpu else None


def _busy_between(raw, clk_tck):
    """The guest's busy CPU seconds between raw's proc_stat_before and proc_stat_after lines, None without them."""
    if not raw.get('proc_stat_before') or not raw.get('proc_stat_after'):
        return None
    ticks = busy_ticks(parse_proc_stat_cpu(raw['proc_stat_after'])) - busy_ticks(parse_proc_stat_cpu(raw['proc_stat_before']))
    return round(ticks / float(clk_tck), 2)


def _pass_figures(raw, clk_tck):
    mm_after = parse_mm_stat(raw['after']['mm_stat'])
    mm_compacted = parse_mm_stat(raw['after_compact']['mm_stat'])
    cpu = raw['writer_cpu_s']
    return {
        'error': raw.get('error'),
        'wall_s': raw['wall_s'],
        'idle_mark_s': raw['idle_mark_s'],
        'writer_cpu_s': _cpu_sum(cpu),
        'system_busy_cpu_s': _busy_between(raw, clk_tck),
        'pages_tried': probe_count(raw['probes']['compress']),
        'pages_read': probe_count(raw['probes']['decompress']),
        'pages_recompressed': probe_count(raw['probes']['alloc']),
        'mm_after': mm_after,
        'mm_after_compact': mm_compacted,
    }


def run_figures(raw):
    """The figures of one guest measurement (zram_recompress_guest.py's JSON)."""
    clk_tck = raw.get('clk_tck') or 100
    before = parse_mm_stat(raw['before']['mm_stat'])
    passes = [_pass_figures(p, clk_tck) for p in raw.get('passes', [])]
    figures = {
        'order': '%s:%s' % (raw['order']['comp'], raw['order']['recomp']),
        'kernel': raw['kernel'],
        'comp_algorithm': parse_bracketed(raw['comp_algorithm'])[0],
        'recomp_algorithm': parse_recomp_algorithm(raw['recomp_algorithm']).get(1, (None, []))[0],
        'workload_sha256': raw['workload'].get('sha256'),
        'workload_bytes': raw['workload'].get('bytes'),
        'workload_wall_s': raw['workload'].get('wall_s'),
        'workload_cpu_s': _cpu_sum(raw['workload'].get('fill_cpu_s')),
        'workload_system_cpu_s': _busy_between(raw['workload'], clk_tck),
        'settled': raw['workload'].get('settled'),
        'before': before,
        'stored_pages': before['orig_data_size'] // PAGE,
        'passes': passes,
    }
    if passes:
        first = passes[0]
        after = first['mm_after_compact']
        saved = before['compr_data_size'] - after['compr_data_size']
        figures.update({
            'compr_before': before['compr_data_size'],
            'compr_after': after['compr_data_size'],
            'mem_used_before': before['mem_used_total'],
            'mem_used_after': first['mm_after']['mem_used_total'],
            'mem_used_after_compact': after['mem_used_total'],
            'huge_before': before['huge_pages'],
            'huge_after': after['huge_pages'],
            'compr_saved_bytes': saved,
            'ratio_before': round(before['orig_data_size'] / float(before['mem_used_total']), 3) if before['mem_used_total'] else None,
            'ratio_after': round(after['orig_data_size'] / float(after['mem_used_total']), 3) if after['mem_used_total'] else None,
            'mem_saved_bytes': before['mem_used_total'] - after['mem_used_total'],
            'pages_tried': first['pages_tried'],
            'pages_read': first['pages_read'],
            'pages_recompressed': first['pages_recompressed'],
            'recompressed_share': round(first['pages_recompressed'] / float(first['pages_tried']), 4) if first['pages_tried'] else None,
            'pass_wall_s': first['wall_s'],
            'pass_writer_cpu_s': first['writer_cpu_s'],
            'pass_system_cpu_s': first['system_busy_cpu_s'],
            'saved_mib_per_cpu_s': round(saved / 1048576.0 / first['writer_cpu_s'], 2) if first['writer_cpu_s'] else None,
        })
    if len(passes) > 1:
        second = passes[1]
        figures.update({
            'pass2_pages_tried': second['pages_tried'],
            'pass2_pages_read': second['pages_read'],
            'pass2_pages_recompressed': second['pages_recompressed'],
            'pass2_writer_cpu_s': second['writer_cpu_s'],
            'pass2_wall_s': second['wall_s'],
        })
    return figures


# The figures the summary gives a median and a spread of, with the table's labels.
SUMMARY_FIGURES = (
    ('stored_pages', 'pages stored'),
    ('workload_wall_s', 'workload: wall s'),
    ('workload_cpu_s', 'workload: CPU s of its process (file reads + primary compression)'),
    ('workload_system_cpu_s', 'workload: CPU s (system)'),
    ('huge_before', 'huge pages before'),
    ('huge_after', 'huge pages after'),
    ('compr_before', 'compr_data_size before'),
    ('compr_after', 'compr_data_size after'),
    ('mem_used_before', 'mem_used_total before'),
    ('mem_used_after', 'mem_used_total after the pass'),
    ('mem_used_after_compact', 'mem_used_total after compaction'),
    ('mem_saved_bytes', 'memory saved'),
    ('ratio_before', 'stored / mem_used_total before'),
    ('ratio_after', 'stored / mem_used_total after'),
    ('pages_tried', 'pages tried'),
    ('pages_read', 'pages read back (huge ones are copied)'),
    ('pages_recompressed', 'pages recompressed'),
    ('recompressed_share', 'recompressed / tried'),
    ('pass_wall_s', 'pass wall s'),
    ('pass_writer_cpu_s', 'pass CPU s (writer)'),
    ('pass_system_cpu_s', 'pass CPU s (system)'),
    ('saved_mib_per_cpu_s', 'MiB saved per CPU s'),
    ('pass2_pages_tried', 'pass 2: pages tried'),
    ('pass2_pages_read', 'pass 2: pages read back'),
    ('pass2_pages_recompressed', 'pass 2: pages recompressed'),
    ('pass2_writer_cpu_s', 'pass 2: CPU s (writer)'),
)


def summarize(runs):
    """{order: {figure: {'median', 'min', 'max', 'n'}}} over the runs of each order."""
    orders = {}
    for run in runs:
        orders.setdefault(run['order'], []).append(run)
    summary = {}
    for order, order_runs in orders.items():
        figures = {}
        for key, _label in SUMMARY_FIGURES:
            values = [r[key] for r in order_runs if r.get(key) is not None]
            if values:
                median = statistics.median(values)
                figures[key] = {'median': round(median, 4) if isinstance(median, float) else median,
                                'min': min(values), 'max': max(values), 'n': len(values)}
        figures['workloads_identical'] = len(set(r.get('workload_sha256') for r in order_runs)) == 1
        summary[order] = figures
    return summary


def _cell(figure):
    if not figure:
        return '-'
    if figure['min'] == figure['max']:
        return _fmt(figure['median'])
    return '%s [%s-%s]' % (_fmt(figure['median']), _fmt(figure['min']), _fmt(figure['max']))


def _fmt(value):
    if isinstance(value, float):
        return '%.2f' % value if abs(value) < 100 else '%.0f' % value
    return str(value)


def table(section):
    """The printed table: one column per order, median [min-max] of its runs."""
    summary = section.get('summary') or {}
    orders = list(summary)
    lines = ['zram recompression: %s' % section.get('status', '')]
    skipped = section.get('skipped_orders') or {}
    for order, reason in sorted(skipped.items()):
        lines.append('  %s: %s' % (order, reason))
    if not orders:
        return '\n'.join(lines)
    rows = [[label] + [_cell(summary[o].get(key)) for o in orders] for key, label in SUMMARY_FIGURES]
    lines.append(format_table(rows, ['figure (median [min-max])'] + orders))
    return '\n'.join(lines)


# --- the lab run ---------------------------------------------------------------------------------

def _slot(argv):
    return [SLOT] + argv if os.path.exists(SLOT) else argv


def parse_orders(text):
    """"zstd:lz4hc,lz4:zstd" -> [('zstd', 'lz4hc'), ('lz4', 'zstd')]."""
    orders = []
    for word in text.split(','):
        word = word.strip()
        if not word:
            continue
        comp, sep, recomp = word.partition(':')
        if not sep or not re.match(r'^[a-z0-9_-]+$', comp) or not re.match(r'^[a-z0-9_-]+$', recomp) or comp == recomp:
            raise ValueError('an order is PRIMARY:RECOMPRESSION with two different algorithm names, not %r' % word)
        orders.append((comp, recomp))
    if not orders:
        raise ValueError('no algorithm order given')
    return orders


def _ssh(lab_dir, host, argv, timeout, stdin=None):
    proc = subprocess.run(['ssh', '-F', os.path.join(lab_dir, 'ssh_config'), host] + argv, input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, argv, proc.stdout, proc.stderr)
    return proc.stdout.decode('utf-8', 'replace')


def _install_test_kernel(repo, lab_dir, out_dir, timeout):
    env = dict(os.environ)
    env.update({'ANSIBLE_CONFIG': os.path.join(repo, 'ansible.cfg'),
                'ANSIBLE_COLLECTIONS_PATH': os.path.join(repo, '.build', 'collections'),
                'HYPERION_REPORT_DIR': os.path.join(out_dir, 'reports')})
    log_path = os.path.join(out_dir, 'kernel-install.log')
    with open(log_path, 'w') as out:
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i',
                               os.path.join(lab_dir, 'hosts.yml'), KERNEL_PLAYBOOK], env=env, stdout=out,
                              stderr=subprocess.STDOUT, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise ValueError('the test kernel could not be installed and booted (see %s)' % log_path)


def run(args, repo, out_dir, log=print):
    """The zram-recompress section; its status says why when it could not run."""
    lab = args.zram_lab
    lab_dir = os.path.join(repo, 'workbench', 'lab', 'run', lab)
    hyperion_lab = os.path.join(repo, 'workbench', 'lab', 'bin', 'hyperion-lab')
    os.makedirs(out_dir, exist_ok=True)
    section = {'status': 'not run', 'runs': [], 'skipped_orders': {}}
    started = time.monotonic()
    try:
        orders = parse_orders(args.zram_orders)
        sys.path.insert(0, os.path.join(repo, '.build', 'collections'))
        from ansible_collections.hyperion.kernel.plugins.plugin_utils.build_result import package_dir, read_build_result
        build = read_build_result(package_dir(os.environ))
        section['inputs'] = {
            'test_kernel': build['release'], 'vm_memory_mib': args.zram_vm_memory, 'vm_cpus': 2,
            'workload_mib': args.zram_workload_mib, 'memory_max_mib': args.zram_memory_max_mib,
            'disksize_mib': args.zram_disksize_mib, 'repetitions': args.zram_reps,
            'orders': ['%s:%s' % order for order in orders], 'recompress': 'type=idle', 'passes': 2,
        }
        if args.zram_reuse_lab and os.path.exists(os.path.join(lab_dir, 'machines.json')):
            log('zram-recompress: using the running lab %s as it is' % lab)
        else:
            log('zram-recompress: starting lab %s (one machine, %d MiB)' % (lab, args.zram_vm_memory))
            subprocess.run(_slot([hyperion_lab, 'up', '--lab', lab, '--names', 'z1', '--memory', str(args.zram_vm_memory)]),
                           check=True, timeout=1800)
        with open(os.path.join(lab_dir, 'machines.json')) as handle:
            host = sorted(json.load(handle))[0]
        log('zram-recompress: installing and booting the test kernel %s with hyperion.kernel.kernel' % build['release'])
        install_started = time.monotonic()
        _install_test_kernel(repo, lab_dir, out_dir, args.lab_timeout)
        section['kernel_install_s'] = round(time.monotonic() - install_started, 1)
        with open(GUEST_SCRIPT, 'rb') as handle:
            _ssh(lab_dir, host, ['sudo', 'install', '-D', '-m', '0755', '/dev/stdin', GUEST_PATH], 120, stdin=handle.read())
        release = _ssh(lab_dir, host, ['uname', '-r'], 60).strip()
        config = _ssh(lab_dir, host, ['zcat', '/proc/config.gz'], 120)
        offered = parse_bracketed(_ssh(lab_dir, host, ['cat', '/sys/block/zram0/comp_algorithm'], 60))[1]
        section['guest'] = {'release': release, 'kconfig_zram': kconfig_zram(config), 'algorithms_offered': offered}
        if release != build['release']:
            raise ValueError('the guest runs %s, not the test kernel %s' % (release, build['release']))
        runnable = []
        for comp, recomp in orders:
            missing = [name for name in (comp, recomp) if name not in offered]
            if missing:
                section['skipped_orders']['%s:%s' % (comp, recomp)] = (
                    'not run: the kernel offers %s, not %s' % (' '.join(offered), ' '.join(missing)))
            else:
                runnable.append((comp, recomp))
        for repetition in range(args.zram_reps):
            for comp, recomp in runnable:
                name = '%s-%s-%d' % (comp, recomp, repetition + 1)
                log('zram-recompress: %s' % name)
                text = _ssh(lab_dir, host, ['sudo', 'python3', GUEST_PATH, 'measure', '--comp', comp, '--recomp', recomp,
                                            '--workload-mib', str(args.zram_workload_mib),
                                            '--memory-max-mib', str(args.zram_memory_max_mib),
                                            '--disksize-mib', str(args.zram_disksize_mib)], args.lab_timeout)
                with open(os.path.join(out_dir, name + '.json'), 'w') as handle:
                    handle.write(text)
                figures = run_figures(json.loads(text))
                figures['repetition'] = repetition + 1
                section['runs'].append(figures)
        section['summary'] = summarize(section['runs'])
        section['status'] = 'run'
    except (subprocess.SubprocessError, OSError, ValueError, KeyError) as exc:
        detail = getattr(exc, 'stderr', None) or exc
        if isinstance(detail, bytes):
            detail = detail.decode('utf-8', 'replace').strip()[-2000:]
        section['status'] = 'failed: %s' % detail
        if section['runs']:
            section['summary'] = summarize(section['runs'])
    finally:
        if not args.zram_reuse_lab:
            clean(repo, lab, log=log)
        section['bench_s'] = round(time.monotonic() - started, 1)
    return section


def clean(repo, lab, log=print):
    if os.path.isdir(os.path.join(repo, 'workbench', 'lab', 'run', lab)):
        subprocess.run([os.path.join(repo, 'workbench', 'lab', 'bin', 'hyperion-lab'), 'down', '--lab', lab], check=False)
        log('lab %s taken down' % lab)

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs inside a lab guest, as root: one zram recompression measurement for one algorithm order.

    zram_recompress_guest.py measure --comp zstd --recomp lz4hc [--workload-mib 512 ...]   prints one JSON document
    zram_recompress_guest.py fill SIZE_BYTES CHUNK_BYTES READY_FILE                         the workload (started by measure)

It only does and records: every sysfs and procfs file is kept as the raw text the kernel wrote, and
workbench/bench/zram_recompress.py parses them on the controller (unit-tested on captured output).
Standard library only: the lab guest has python3 and nothing else of ours.

The steps (the zram role's sysfs interface, without the role):
1. zram0 reset; zswap off (it would catch the pages before zram does); comp_algorithm, then
   recomp_algorithm "algo=X priority=1", disksize, mkswap, swapon -p 100;
2. the workload in a systemd scope with MemoryMax below its size: it fills anonymous memory with
   64 KiB pieces of real files of the guest, spread evenly over /usr/lib (binaries) and /usr/share
   (text), alternately; the pieces, and so the data, are the same for every order on the same guest;
3. once its swap stopped growing: compact (so mem_used_total counts no holes), mm_stat;
4. two passes, each: `all` to idle, then `type=idle` to recompress, with the writer's own CPU time
   (getrusage: the kernel recompresses in the writing process), the system's /proc/stat around it,
   and kprobe counts of the writer's zcomp_compress (pages tried), zcomp_decompress (pages read back)
   and zs_malloc (pages stored anew: recompressed) calls; mm_stat after, then compact and mm_stat again.
   The second pass is what the hourly timer spends on the same pages an hour later.
"""

from __future__ import absolute_import, division, print_function

import bisect
import hashlib
import json
import mmap
import os
import resource
import signal
import subprocess
import sys
import time

ZRAM = '/sys/block/zram0'
TRACING = '/sys/kernel/tracing'
# One tracefs instance per probe: a ring buffer's stats count all of its events together.
PROBES = (('compress', 'zcomp_compress'), ('decompress', 'zcomp_decompress'), ('alloc', 'zs_malloc'))
PROBE_GROUP = 'hyperion_zrec'
SOURCES = ('/usr/lib', '/usr/share')


def read(path):
    with open(path) as handle:
        return handle.read()


def write(path, text):
    with open(path, 'w') as handle:
        handle.write(text)


def run(argv, check=True):
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True).stdout


# --- the workload --------------------------------------------------------------------------------

def source_files(root):
    """(path, size) of the regular files under root, in a fixed order (sorted walk, no symlinks)."""
    files = []
    for directory, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(directory, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if (info.st_mode & 0o170000) == 0o100000 and info.st_size > 0:
                files.append((path, info.st_size))
    return files


class Stream(object):
    """The concatenation of files, read at any offset (wrapping at its end)."""

    def __init__(self, files):
        self.files = files
        self.starts = []
        total = 0
        for _path, size in files:
            self.starts.append(total)
            total += size
        self.total = total

    def read(self, offset, length):
        out = bytearray()
        pos = offset % self.total
        index = bisect.bisect_right(self.starts, pos) - 1
        while len(out) < length:
            if index >= len(self.files):
                index, pos = 0, 0
            path, size = self.files[index]
            skip = pos - self.starts[index]
            want = min(size - skip, length - len(out))
            try:
                with open(path, 'rb') as handle:
                    handle.seek(skip)
                    data = handle.read(want)
            except OSError:
                data = b''
            # A file that shrank or vanished keeps its place: the pieces after it stay where they were.
            out += data + bytes(want - len(data))
            pos += want
            index += 1
        return bytes(out)


def fill(size, chunk, ready_file):
    """Fill size bytes of anonymous memory, then hold it until killed."""
    streams = [Stream(source_files(root)) for root in SOURCES]
    totals = [stream.total for stream in streams]
    chunks = size // chunk
    per_stream = [(chunks + 1 - i) // 2 for i in range(len(streams))]
    started = time.monotonic()
    buf = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    # Transparent huge pages would vary with the guest's THP setting; swap splits them anyway.
    if hasattr(mmap, 'MADV_NOHUGEPAGE'):
        buf.madvise(mmap.MADV_NOHUGEPAGE)
    digest = hashlib.sha256()
    taken = [0, 0]
    for index in range(chunks):
        which = index % len(streams)
        nth = taken[which]
        taken[which] += 1
        # Evenly spaced over the stream, so the data is a sample of all its files, not of the first ones.
        offset = nth * totals[which] // max(per_stream[which], 1)
        data = streams[which].read(offset, chunk)
        digest.update(data)
        buf[index * chunk:(index + 1) * chunk] = data
    # Under MemoryMax the kernel reclaims in the process that charges the memory: its system time holds the
    # primary compression of every page it pushed to zram (and the reading of the files, the same in every run).
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {'bytes': chunks * chunk, 'chunk_bytes': chunk, 'sha256': digest.hexdigest(),
              'fill_s': round(time.monotonic() - started, 2),
              'fill_cpu_s': {'user': round(usage.ru_utime, 3), 'system': round(usage.ru_stime, 3)},
              'sources': [{'root': root, 'files': len(stream.files), 'bytes': stream.total, 'chunks': count}
                          for root, stream, count in zip(SOURCES, streams, taken)]}
    write(ready_file + '.tmp', json.dumps(report))
    os.rename(ready_file + '.tmp', ready_file)
    while True:
        signal.pause()


# --- the measurement -----------------------------------------------------------------------------

def zram_reset():
    if '/dev/zram0' in read('/proc/swaps'):
        run(['swapoff', '/dev/zram0'])
    write(ZRAM + '/reset', '1')


def zram_setup(comp, recomp, disksize_mib):
    zram_reset()
    if os.path.exists('/sys/module/zswap/parameters/enabled'):
        write('/sys/module/zswap/parameters/enabled', 'N')
    write(ZRAM + '/comp_algorithm', comp)
    if recomp:
        write(ZRAM + '/recomp_algorithm', 'algo=%s priority=1' % recomp)
    write(ZRAM + '/disksize', '%dM' % disksize_mib)
    run(['mkswap', '/dev/zram0'])
    run(['swapon', '-p', '100', '/dev/zram0'])


def zram_files():
    """The raw text of zram0's statistics files (those this kernel has)."""
    texts = {}
    for name in ('mm_stat', 'io_stat', 'debug_stat', 'bd_stat'):
        if os.path.exists(os.path.join(ZRAM, name)):
            texts[name] = read(os.path.join(ZRAM, name))
    return texts


def append(path, text):
    """One write with O_APPEND: kprobe_events opened for writing without it drops every probe."""
    handle = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(handle, text.encode())
    finally:
        os.close(handle)


def probes_setup(pid):
    if not os.path.exists(os.path.join(TRACING, 'kprobe_events')):
        run(['mount', '-t', 'tracefs', 'nodev', TRACING])
    probes_remove()  # what a stopped run left
    for name, symbol in PROBES:
        append(os.path.join(TRACING, 'kprobe_events'), 'p:%s/%s %s\n' % (PROBE_GROUP, name, symbol))
        instance = os.path.join(TRACING, 'instances', 'hyperion_zrec_' + name)
        os.mkdir(instance)
        write(os.path.join(instance, 'buffer_size_kb'), '256')
        event = os.path.join(instance, 'events', PROBE_GROUP, name)
        write(os.path.join(event, 'filter'), 'common_pid == %d' % pid)
        write(os.path.join(event, 'enable'), '1')


def probes_clear():
    for name, _symbol in PROBES:
        write(os.path.join(TRACING, 'instances', 'hyperion_zrec_' + name, 'trace'), '')


def probes_stats():
    """{probe: {cpu: raw text of per_cpu/cpuN/stats}}: entries + overrun is the count since the clear."""
    stats = {}
    for name, _symbol in PROBES:
        per_cpu = os.path.join(TRACING, 'instances', 'hyperion_zrec_' + name, 'per_cpu')
        stats[name] = dict((cpu, read(os.path.join(per_cpu, cpu, 'stats'))) for cpu in sorted(os.listdir(per_cpu)))
    return stats


def probes_remove():
    for name, _symbol in PROBES:
        instance = os.path.join(TRACING, 'instances', 'hyperion_zrec_' + name)
        if os.path.isdir(instance):
            os.rmdir(instance)  # its events go with it
        try:
            append(os.path.join(TRACING, 'kprobe_events'), '-:%s/%s\n' % (PROBE_GROUP, name))
        except OSError:
            pass  # not there


def proc_stat_cpu():
    return read('/proc/stat').splitlines()[0]


def recompress_pass(params):
    """One `all` > idle and one recompress write, measured."""
    result = {'params': params}
    started = time.monotonic()
    write(ZRAM + '/idle', 'all')
    result['idle_mark_s'] = round(time.monotonic() - started, 3)
    probes_clear()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result['proc_stat_before'] = proc_stat_cpu()
    started = time.monotonic()
    try:
        write(ZRAM + '/recompress', params)
        result['error'] = None
    except OSError as exc:
        result['error'] = '%s (errno %d)' % (exc.strerror, exc.errno)
    result['wall_s'] = round(time.monotonic() - started, 3)
    result['proc_stat_after'] = proc_stat_cpu()
    after = resource.getrusage(resource.RUSAGE_SELF)
    result['writer_cpu_s'] = {'user': round(after.ru_utime - usage.ru_utime, 3), 'system': round(after.ru_stime - usage.ru_stime, 3)}
    result['probes'] = probes_stats()
    result['after'] = zram_files()
    write(ZRAM + '/compact', '1')
    result['after_compact'] = zram_files()
    return result


def settle(timeout_s, interval_s=3.0):
    """Wait until zram0's stored data stops growing (reclaim has caught up with the workload)."""
    last = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = read(ZRAM + '/mm_stat').split()[0]
        if now == last:
            return True
        last = now
        time.sleep(interval_s)
    return False


def measure(args):
    out = {'order': {'comp': args.comp, 'recomp': args.recomp},
           'kernel': os.uname().release, 'meminfo_total': read('/proc/meminfo').splitlines()[0],
           'clk_tck': os.sysconf('SC_CLK_TCK'), 'cpus': os.cpu_count(),
           'workload': {'mib': args.workload_mib, 'memory_max_mib': args.memory_max_mib, 'disksize_mib': args.disksize_mib}}
    zram_setup(args.comp, args.recomp, args.disksize_mib)
    out['comp_algorithm'] = read(ZRAM + '/comp_algorithm')
    out['recomp_algorithm'] = read(ZRAM + '/recomp_algorithm')
    run(['sync'])
    write('/proc/sys/vm/drop_caches', '3')
    ready = '/run/hyperion-zrec-ready'
    if os.path.exists(ready):
        os.unlink(ready)
    unit = 'hyperion-zrec-fill-%d' % os.getpid()
    out['workload']['proc_stat_before'] = proc_stat_cpu()
    started = time.monotonic()
    workload = subprocess.Popen(['systemd-run', '--scope', '--quiet', '--unit', unit,
                                 '-p', 'MemoryMax=%dM' % args.memory_max_mib, '-p', 'MemorySwapMax=infinity',
                                 sys.executable, os.path.abspath(__file__), 'fill', str(args.workload_mib << 20),
                                 str(args.chunk_kib << 10), ready])
    try:
        while not os.path.exists(ready):
            if workload.poll() is not None:
                raise SystemExit('the workload ended before it filled its memory (exit %s)' % workload.returncode)
            if time.monotonic() - started > args.timeout:
                raise SystemExit('the workload did not fill its memory in %d s' % args.timeout)
            time.sleep(1)
        out['workload'].update(json.loads(read(ready)))
        out['workload']['settled'] = settle(args.timeout)
        out['workload']['wall_s'] = round(time.monotonic() - started, 1)
        out['workload']['proc_stat_after'] = proc_stat_cpu()
        out['swaps'] = read('/proc/swaps')
        out['filled'] = zram_files()
        write(ZRAM + '/compact', '1')
        out['before'] = zram_files()
        probes_setup(os.getpid())
        try:
            out['passes'] = [recompress_pass('type=idle') for _pass in range(args.passes)]
        finally:
            probes_remove()
    finally:
        workload.send_signal(signal.SIGTERM)
        workload.wait()
        zram_reset()
    return out


def main(argv):
    import argparse
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='command')
    fill_parser = sub.add_parser('fill')
    fill_parser.add_argument('size', type=int)
    fill_parser.add_argument('chunk', type=int)
    fill_parser.add_argument('ready')
    measure_parser = sub.add_parser('measure')
    measure_parser.add_argument('--comp', required=True)
    measure_parser.add_argument('--recomp', required=True)
    measure_parser.add_argument('--workload-mib', type=int, default=512)
    measure_parser.add_argument('--memory-max-mib', type=int, default=128)
    measure_parser.add_argument('--disksize-mib', type=int, default=1024)
    measure_parser.add_argument('--chunk-kib', type=int, default=64)
    measure_parser.add_argument('--passes', type=int, default=2)
    measure_parser.add_argument('--timeout', type=int, default=1800)
    args = parser.parse_args(argv)
    if args.command == 'fill':
        fill(args.size, args.chunk, args.ready)
        return 0
    if args.command == 'measure':
        print(json.dumps(measure(args), indent=1, sort_keys=True))
        return 0
    parser.error('fill or measure')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

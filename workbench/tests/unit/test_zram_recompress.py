# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of the zram recompression benchmark (workbench/bench/zram_recompress.py), on what
zram_recompress_guest.py recorded in a lab guest running the test kernel (fixtures/bench/zram-recompress-*)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'bench')
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'bench')
sys.path.insert(0, BENCH)

import zram_recompress as zr  # noqa: E402  pylint: disable=wrong-import-position,import-error

ORDERS = ('zstd-lz4hc', 'lz4hc-zstd')


def _raw(order):
    with open(os.path.join(FIXTURES, 'zram-recompress-%s.json' % order)) as handle:
        return json.load(handle)


@pytest.mark.parametrize('order', ORDERS)
def test_mm_stat_of_the_guest_has_the_columns_of_6_12(order):
    raw = _raw(order)
    for point in ('filled', 'before'):
        stats = zr.parse_mm_stat(raw[point]['mm_stat'])
        assert list(stats) == list(zr.MM_STAT_COLUMNS)
        # Whole pages were stored, compressed into less, and zsmalloc holds them in whole pages.
        assert stats['orig_data_size'] % zr.PAGE == 0 and stats['mem_used_total'] % zr.PAGE == 0
        assert 0 < stats['compr_data_size'] < stats['orig_data_size']
        assert stats['mem_limit'] == 0 and stats['huge_pages'] <= stats['huge_pages_since']


@pytest.mark.parametrize('order', ORDERS)
def test_io_and_debug_stat_of_the_guest(order):
    raw = _raw(order)
    io_stat = zr.parse_io_stat(raw['before']['io_stat'])
    assert io_stat['failed_reads'] == io_stat['failed_writes'] == io_stat['invalid_io'] == 0
    debug = zr.parse_debug_stat(raw['before']['debug_stat'])
    assert debug['version'] == 1 and set(debug) == {'version', 'writestall', 'miss_free'}
    # The test kernel has no CONFIG_ZRAM_WRITEBACK: no bd_stat was there to record.
    assert 'bd_stat' not in raw['before']


@pytest.mark.parametrize('order', ORDERS)
def test_the_pass_is_counted_by_the_probes_of_the_writer(order):
    first = _raw(order)['passes'][0]
    for probe in ('compress', 'decompress', 'alloc'):
        for text in first['probes'][probe].values():
            stats = zr.parse_trace_stats(text)
            assert stats['entries'] >= 0 and stats['overrun'] >= 0 and 'bytes' in stats
    tried, stored = zr.probe_count(first['probes']['compress']), zr.probe_count(first['probes']['alloc'])
    # zram keeps a recompressed page only when it lands in a smaller size class: never more than it tried.
    assert 0 < tried and 0 <= stored <= tried


@pytest.mark.parametrize('order', ORDERS)
def test_cpu_lines_of_proc_stat_around_the_pass(order):
    first = _raw(order)['passes'][0]
    before, after = zr.parse_proc_stat_cpu(first['proc_stat_before']), zr.parse_proc_stat_cpu(first['proc_stat_after'])
    assert list(before) == list(zr.PROC_STAT_CPU_COLUMNS)
    assert zr.busy_ticks(after) > zr.busy_ticks(before)
    with pytest.raises(ValueError, match='not the "cpu" line'):
        zr.parse_proc_stat_cpu('cpu0 1 2 3 4 5 6 7 8 9 10')


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match='mm_stat: expected at least 7'):
        zr.parse_mm_stat('1 2 3')
    with pytest.raises(ValueError, match='debug_stat: no "version: N"'):
        zr.parse_debug_stat('0 0\n')
    with pytest.raises(ValueError, match='without entries and overrun'):
        zr.parse_trace_stats('bytes: 0\n')


def test_orders_are_two_different_names():
    assert zr.parse_orders('zstd:lz4hc, lz4:zstd') == [('zstd', 'lz4hc'), ('lz4', 'zstd')]
    for bad in ('zstd', 'zstd:zstd', 'zstd:LZ4', ''):
        with pytest.raises(ValueError):
            zr.parse_orders(bad)


def test_the_zram_options_of_the_test_kernel():
    with open(os.path.join(FIXTURES, 'zram-recompress-kconfig.txt')) as handle:
        options = zr.kconfig_zram(handle.read())
    assert options['CONFIG_ZRAM_MULTI_COMP'] == 'y' and options['CONFIG_ZRAM_DEF_COMP'] == 'zstd'
    assert options['CONFIG_ZRAM_MEMORY_TRACKING'] == 'n' and options['CONFIG_ZRAM_WRITEBACK'] == 'n'
    assert sorted(name for name, value in options.items() if name.startswith('CONFIG_ZRAM_BACKEND_') and value == 'y') == [
        'CONFIG_ZRAM_BACKEND_LZ4HC', 'CONFIG_ZRAM_BACKEND_ZSTD']


@pytest.mark.parametrize('order', ORDERS)
def test_figures_of_a_run_follow_what_the_kernel_does(order):
    figures = zr.run_figures(_raw(order))
    assert figures['order'] == order.replace('-', ':')
    assert (figures['comp_algorithm'], figures['recomp_algorithm']) == tuple(order.split('-'))
    first, second = figures['passes']
    assert first['error'] is None and second['error'] is None
    # Pass 1: every stored page is idle and at priority 0, so each is tried once; huge pages are copied
    # out of zsmalloc, the others decompressed: the probes' counts are exact, not sampled.
    assert figures['pages_tried'] == figures['stored_pages'] - figures['before']['same_pages']
    assert figures['pages_read'] == figures['pages_tried'] - figures['huge_before']
    # A recompressed huge page is no longer huge: huge_pages falls by at most the pages recompressed.
    assert 0 <= figures['huge_before'] - figures['huge_after'] <= figures['pages_recompressed']
    assert figures['compr_after'] <= figures['compr_before']
    # Pass 2, on the same pages: the ones that failed are marked incompressible and skipped, the ones
    # recompressed (huge ones too: they are huge no more) are decompressed and left, since no algorithm
    # ranks above priority 1: an hourly pass pays that for every page it ever recompressed.
    assert figures['pass2_pages_tried'] == figures['pass2_pages_recompressed'] == 0
    assert figures['pass2_pages_read'] == figures['pages_recompressed']
    assert figures['pass_writer_cpu_s'] > 0 and figures['pass_system_cpu_s'] > 0


def test_the_orders_differ_as_the_size_classes_say():
    zstd_first, lz4hc_first = zr.run_figures(_raw('zstd-lz4hc')), zr.run_figures(_raw('lz4hc-zstd'))
    # The same pieces of the guest's files in both runs.
    assert zstd_first['workload_sha256'] == lz4hc_first['workload_sha256']
    assert zstd_first['recompressed_share'] < 0.01 < 0.5 < lz4hc_first['recompressed_share']
    assert lz4hc_first['mem_saved_bytes'] > 0


def test_summary_and_table_of_two_runs_of_each_order():
    runs = [zr.run_figures(_raw(order)) for order in ORDERS for _run in range(2)]
    summary = zr.summarize(runs)
    assert set(summary) == {'zstd:lz4hc', 'lz4hc:zstd'}
    tried = summary['zstd:lz4hc']['pages_tried']
    assert tried['median'] == tried['min'] == tried['max'] and tried['n'] == 2
    assert summary['zstd:lz4hc']['workloads_identical']
    text = zr.table({'status': 'run', 'summary': summary, 'skipped_orders': {'lz4:zstd': 'not run: no lz4'}})
    assert 'lz4:zstd: not run: no lz4' in text and 'pages recompressed' in text and 'zstd:lz4hc' in text

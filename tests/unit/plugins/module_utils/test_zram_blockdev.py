# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.blockdev import read_block_devices
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import SourceError
from ansible_collections.hyperion.kernel.plugins.module_utils.zram import (
    parse_bracketed_choice, parse_mm_stat, parse_proc_swaps, parse_recomp_algorithm, primary_recomp_algorithm,
    read_zram_devices)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
RECOMP_FILES = sorted(glob.glob(os.path.join(FIXTURES, 'vm', '*', 'sys', 'block', 'zram*', 'recomp_algorithm')))


def test_host_zram_devices(host_capture):
    devices = read_zram_devices(host_capture)
    assert sorted(devices) == ['zram0', 'zram1', 'zram2']
    zram2 = devices['zram2']
    assert zram2['comp_algorithm'] == 'lz4'
    assert zram2['comp_algorithms_available'] == ['lzo-rle', 'lzo', 'lz4']
    assert zram2['disksize'] == 64 * 1024 * 1024
    # 6.18 prints nine columns; the capture wrote 13 MiB of data into zram2.
    assert zram2['mm_stat']['orig_data_size'] == 13631488
    assert zram2['mm_stat']['huge_pages_since'] == 256
    assert 'recomp_algorithms' not in zram2  # this kernel has no CONFIG_ZRAM_MULTI_COMP


def test_host_swaps(host_capture):
    with open(os.path.join(host_capture, 'proc', 'swaps')) as handle:
        rows = parse_proc_swaps(handle.read())
    assert rows == [{'filename': '/dev/zram1', 'type': 'partition', 'size_kib': 262140, 'used_kib': 0, 'priority': 100}]


def test_host_block_devices_skip_zram_and_loop(host_capture):
    devices = read_block_devices(host_capture)
    assert sorted(devices) == ['vda']
    assert devices['vda'] == {'class': 'rotational', 'rotational': True, 'scheduler': 'mq-deadline',
                              'schedulers_available': ['none', 'mq-deadline', 'kyber', 'bfq']}


def test_bracketed_choice_forms():
    assert parse_bracketed_choice('always defer defer+madvise [madvise] never\n') == (
        'madvise', ['always', 'defer', 'defer+madvise', 'madvise', 'never'])
    assert parse_bracketed_choice('none\n') == ('none', ['none'])
    with pytest.raises(SourceError, match='no \\[selected\\]'):
        parse_bracketed_choice('lzo lz4')
    with pytest.raises(SourceError, match='empty'):
        parse_bracketed_choice('\n')


def test_recomp_algorithm_lines():
    # The format zram's recomp_algorithm_show() prints: "#<prio>: " then the algorithm list.
    streams = parse_recomp_algorithm('#1: lzo lzo-rle lz4 [lz4hc] zstd\n#2: lzo lzo-rle lz4 lz4hc [zstd]\n')
    assert streams[1] == ('lz4hc', ['lzo', 'lzo-rle', 'lz4', 'lz4hc', 'zstd'])
    assert primary_recomp_algorithm({'recomp_algorithms': {'2': {'selected': 'zstd'}, '1': {'selected': 'lz4hc'}}}) == 'lz4hc'
    with pytest.raises(SourceError, match='unexpected line'):
        parse_recomp_algorithm('lz4hc\n')


@pytest.mark.skipif(not RECOMP_FILES, reason='no capture from a kernel with CONFIG_ZRAM_MULTI_COMP yet')
@pytest.mark.parametrize('path', RECOMP_FILES)
def test_real_recomp_algorithm(path):
    with open(path) as handle:
        streams = parse_recomp_algorithm(handle.read(), path)
    assert streams
    assert all(isinstance(prio, int) and available for prio, (_sel, available) in streams.items())


def test_mm_stat_old_and_bad():
    old = parse_mm_stat('4096 74 12288 0 12288 0 0')  # 4.x kernels: seven columns
    assert old['pages_compacted'] == 0 and 'huge_pages' not in old
    future = parse_mm_stat('1 2 3 4 5 6 7 8 9 10')
    assert future['column_10'] == 10
    with pytest.raises(SourceError, match='at least 7'):
        parse_mm_stat('1 2 3')
    with pytest.raises(SourceError, match='column 2 is not a number'):
        parse_mm_stat('1 x 3 4 5 6 7')


def test_proc_swaps_errors():
    with pytest.raises(SourceError, match='header'):
        parse_proc_swaps('/dev/zram0 partition 1 0 100\n')
    with pytest.raises(SourceError, match=':2: size, used and priority must be numbers'):
        parse_proc_swaps('Filename Type Size Used Priority\n/dev/zram0 partition big 0 100\n')

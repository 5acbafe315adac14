# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError, SourceError
from ansible_collections.hyperion.kernel.plugins.module_utils.tc import (
    normalize_qdiscs, parse_qdisc_json, parse_rate, parse_size, parse_time, root_summary)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
TC_SHOWS = sorted(glob.glob(os.path.join(FIXTURES, '*', 'cmd', 'tc-j-qdisc-show.json'))
                  + glob.glob(os.path.join(FIXTURES, 'vm', '*', 'cmd', 'tc-j-qdisc-show.json')))


def _load(capture, name='tc-j-qdisc-show.json'):
    with open(os.path.join(capture, 'cmd', name)) as handle:
        return parse_qdisc_json(handle.read())


def test_host_capture_roots(host_capture):
    by_dev = normalize_qdiscs(_load(host_capture))
    assert root_summary(by_dev['eth0']) == 'pfifo_fast'
    assert root_summary(by_dev['lo']) == 'noqueue'
    # mq with eight pfifo_fast children, one per tx queue of the veth.
    assert root_summary(by_dev['hyp-mq0']) == 'mq/pfifo_fast'
    children = [q for q in by_dev['hyp-mq0'] if q['parent'] != 'root']
    assert sorted(q['parent'] for q in children) == ['1:%d' % n for n in range(1, 9)]


def test_tbf_rate_is_bytes_per_second(host_capture):
    # The capture ran "tc qdisc replace dev hyp-tbf0 root tbf rate 100mbit ..." (setup.txt).
    tbf = normalize_qdiscs(_load(host_capture))['hyp-tbf0'][0]
    assert tbf['kind'] == 'tbf'
    assert tbf['options']['rate'] == parse_rate('100mbit') == 12500000


@pytest.mark.parametrize('path', TC_SHOWS)
def test_every_capture_normalises(path):
    with open(path) as handle:
        data = parse_qdisc_json(handle.read())
    by_dev = normalize_qdiscs(data)
    assert sum(len(v) for v in by_dev.values()) == len(data)
    for dev, qdiscs in by_dev.items():
        assert dev
        assert all(q['kind'] for q in qdiscs)


@pytest.mark.parametrize('text,expected', [
    ('100Mbit', 12500000), ('100mbit', 12500000), ('1gbit', 125000000), ('800', 100), ('8bit', 1),
    ('1kibit', 128), ('10kbps', 10000), ('1mibps', 1048576), ('2.5mbit', 312500), (8000, 1000)])
def test_parse_rate(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize('text,expected', [('5ms', 5000), ('100us', 100), ('1s', 1000000), ('250', 250), ('1.5ms', 1500)])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize('text,expected', [('1514', 1514), ('64kb', 65536), ('1m', 1048576), ('8kbit', 1024)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize('func,text', [(parse_rate, '100Mbytes'), (parse_rate, 'fast'), (parse_time, '5min'),
                                       (parse_size, '-1'), (parse_rate, True)])
def test_bad_units_are_clear_errors(func, text):
    with pytest.raises(HyperionError):
        func(text)


def test_bad_json():
    assert parse_qdisc_json('') == []
    with pytest.raises(SourceError, match='not JSON'):
        parse_qdisc_json('qdisc noqueue 0: dev lo root refcnt 2')
    with pytest.raises(SourceError, match='expected a JSON array'):
        parse_qdisc_json('{"kind": "cake"}')
    with pytest.raises(SourceError, match='without a kind'):
        normalize_qdiscs([{'dev': 'eth0'}])


def test_kernel_default_mq_reads_as_mq_with_its_children():
    # The kernel's own mq (net.core.default_qdisc on a multi-queue device) has handle 0: and tc prints its
    # children's parents as ":1", ":2"; the check must read it as the profile writes it (mq/cake).
    data = parse_qdisc_json(json.dumps([
        {'kind': 'mq', 'handle': '0:', 'dev': 'enp1s0', 'root': True, 'options': {}},
        {'kind': 'cake', 'handle': '0:', 'dev': 'enp1s0', 'parent': ':1', 'options': {}},
        {'kind': 'cake', 'handle': '0:', 'dev': 'enp1s0', 'parent': ':2', 'options': {}},
    ]))
    assert root_summary(normalize_qdiscs(data)['enp1s0']) == 'mq/cake'

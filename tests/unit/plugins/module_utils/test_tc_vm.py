# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tc -j output of real kernels with cake, taprio, etf, fq and fq_codel (Debian 6.1 and 6.12 under qemu).

The plans compared here are the exact tc commands the capture ran (each capture's setup.txt).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.tc import (
    normalize_options, normalize_qdiscs, option_differences, parse_qdisc_json, parse_rate, root_summary)

VM_CAPTURES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'vm', '*')))


def _qdiscs(capture):
    with open(os.path.join(capture, 'cmd', 'tc-j-qdisc-show.json')) as handle:
        return normalize_qdiscs(parse_qdisc_json(handle.read()))


def _one(qdiscs, kind):
    found = [q for q in qdiscs if q['kind'] == kind]
    assert len(found) == 1, qdiscs
    return found[0]


@pytest.fixture(params=VM_CAPTURES, ids=[os.path.basename(p) for p in VM_CAPTURES])
def vm(request):
    return _qdiscs(request.param)


def test_vm_captures_exist():
    assert len(VM_CAPTURES) >= 2


def test_cake_with_bandwidth(vm):
    # tc qdisc replace dev hyp-cake0 root handle 1: cake bandwidth 100Mbit diffserv4 nat
    cake = _one(vm['hyp-cake0'], 'cake')
    assert cake['parent'] == 'root' and cake['handle'] == '1:'
    assert cake['options']['bandwidth'] == parse_rate('100Mbit')
    assert option_differences('cake', {'bandwidth': '100Mbit', 'diffserv': 'diffserv4', 'nat': True}, cake['options']) == {}
    assert option_differences('cake', {'bandwidth': '50Mbit'}, cake['options']) == {'bandwidth': ('50Mbit', 12500000)}
    assert option_differences('cake', {'nat': False}, cake['options']) == {'nat': (False, True)}


def test_cake_unlimited(vm):
    # tc qdisc replace dev hyp-cake1 root handle 1: cake unlimited besteffort
    cake = _one(vm['hyp-cake1'], 'cake')
    assert cake['options']['bandwidth'] == 'unlimited'
    assert normalize_options('cake', cake['options'])['bandwidth'] == 0
    assert option_differences('cake', {'bandwidth': 'unlimited', 'diffserv': 'besteffort'}, cake['options']) == {}


def test_taprio_with_etf_children(vm):
    qdiscs = vm['hyp-taprio0']
    assert root_summary(qdiscs) == 'taprio'
    taprio = _one(qdiscs, 'taprio')
    assert taprio['handle'] == '100:'
    assert taprio['options']['tc'] == 3
    assert taprio['options']['clockid'] == 'TAI'
    assert [e['interval'] for e in taprio['options']['schedule']] == [300000, 300000, 400000]
    etfs = sorted((q for q in qdiscs if q['kind'] == 'etf'), key=lambda q: q['parent'])
    assert [q['parent'] for q in etfs] == ['100:1', '100:2']
    # tc qdisc replace dev hyp-taprio0 parent 100:2 etf clockid CLOCK_TAI delta 200000 deadline_mode skip_sock_check
    assert option_differences('etf', {'delta': 200000, 'deadline_mode': True, 'skip_sock_check': True},
                              etfs[1]['options']) == {}
    assert option_differences('etf', {'deadline_mode': True}, etfs[0]['options']) == {'deadline_mode': (True, 'off')}


def test_mq_with_mixed_children(vm):
    assert root_summary(vm['hyp-mq0']) == 'mq/mixed'
    kinds = sorted(q['kind'] for q in vm['hyp-mq0'] if q['parent'] != 'root')
    assert kinds == ['fq'] * 4 + ['fq_codel'] * 4


def test_fq_maxrate_and_key_cleanup(vm):
    # tc qdisc replace dev hyp-fq0 root fq maxrate 50mbit
    fq = _one(vm['hyp-fq0'], 'fq')
    assert option_differences('fq', {'maxrate': '50mbit'}, fq['options']) == {}
    cleaned = normalize_options('fq', fq['options'])
    assert all(key == key.strip() for key in cleaned)


def test_fq_codel_times_read_back_one_microsecond_short(vm):
    # tc qdisc replace dev hyp-fqcodel0 root fq_codel target 3ms interval 60ms ecn
    codel = _one(vm['hyp-fqcodel0'], 'fq_codel')
    assert codel['options']['target'] in (2999, 3000)
    assert option_differences('fq_codel', {'target': '3ms', 'interval': '60ms', 'ecn': True}, codel['options']) == {}
    assert 'target' in option_differences('fq_codel', {'target': '5ms'}, codel['options'])


def test_tbf_rate(vm):
    tbf = _one(vm['hyp-tbf0'], 'tbf')
    assert option_differences('tbf', {'rate': '100mbit', 'lat': '400ms'}, tbf['options']) == {}

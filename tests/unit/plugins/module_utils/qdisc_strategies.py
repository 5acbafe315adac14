# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis strategies for tc_qdisc plans, as a user writes them (tc's words and units).

The numbers cluster around the limits the planner enforces (and a little beyond them), so the
samples hold plans that validate and plans that are refused. The unit property tests and the lab VM
test (workbench/tests/lab/test_lab_vm.py, which applies a fixed-seed sample with the real tc) share them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

RATE_UNITS = ('bit', 'kbit', 'mbit', 'gbit', 'kibit', 'mibit', 'bps', 'kbps', 'mbps', 'Mbit', 'KBps', '')
TIME_UNITS = ('us', 'ms', 's', 'usec', 'msec', '')
SIZE_UNITS = ('', 'b', 'kb', 'k', 'mb', 'kbit')


def _number(low, high):
    return st.one_of(st.integers(low, high), st.sampled_from([low, high]))


def rate(low_bits=8, high_bits=10 ** 10):
    """A tc rate: a number directly followed by a unit, now and then with a fraction."""
    whole = st.builds(lambda n, unit: '%d%s' % (n, unit), _number(low_bits, high_bits), st.sampled_from(RATE_UNITS))
    fraction = st.builds(lambda n, unit: '%d.5%s' % (n, unit), st.integers(1, 1000), st.sampled_from(('mbit', 'kbit')))
    return st.one_of(whole, fraction)


def time(low_us=1, high_us=10 ** 6):
    return st.one_of(st.builds(lambda n: '%dus' % n, _number(low_us, high_us)),
                     st.builds(lambda n: '%dms' % n, st.integers(max(1, low_us // 1000), max(1, high_us // 1000))),
                     st.builds(lambda n, unit: '%d%s' % (n, unit), st.integers(low_us, min(high_us, 10 ** 5)),
                               st.sampled_from(('', 'usec'))))


def size(low=256, high=2 ** 20):
    return st.one_of(st.builds(lambda n, unit: '%d%s' % (n, unit), _number(low, high), st.sampled_from(('', 'b'))),
                     st.builds(lambda n: '%dkb' % n, st.integers(max(1, low // 1024), max(1, high // 1024))))


def _options(**strategies):
    """A dict with any subset of the given options."""
    return st.fixed_dictionaries({}, optional=strategies)


def cake_options():
    return _options(
        bandwidth=st.one_of(st.just('unlimited'), rate()),
        rtt=time(1, 10 ** 6),
        diffserv=st.sampled_from(('besteffort', 'diffserv3', 'diffserv4', 'diffserv8', 'precedence')),
        flowmode=st.sampled_from(('flowblind', 'srchost', 'dsthost', 'hosts', 'flows', 'dual-srchost',
                                  'dual-dsthost', 'triple-isolate')),
        nat=st.booleans(), wash=st.booleans(), split_gso=st.booleans(),
        ack_filter=st.sampled_from(('disabled', 'enabled', 'aggressive')),
        overhead=st.integers(-64, 256))


def fq_codel_options():
    return _options(
        limit=st.integers(1, 100000), flows=st.integers(1, 65536), quantum=_number(256, 2 ** 20),
        target=time(1, 10 ** 6), interval=time(1, 10 ** 7), ecn=st.booleans(), ce_threshold=time(1, 10 ** 6),
        memory_limit=size(1, 2 ** 25), drop_batch=st.integers(1, 1000))


def fq_options():
    return _options(
        limit=st.integers(0, 100000), flow_limit=st.integers(0, 10000),
        buckets=st.sampled_from([2 ** n for n in range(1, 19)]), quantum=_number(256, 2 ** 20),
        initial_quantum=_number(0, 2 ** 20), maxrate=rate(8, 10 ** 10),
        low_rate_threshold=rate(8, 10 ** 9), refill_delay=time(1, 10 ** 6), horizon=time(1, 10 ** 7),
        orphan_mask=st.integers(0, 2 ** 16))


LEAF_OPTIONS = {'cake': cake_options, 'fq_codel': fq_codel_options, 'fq': fq_options}


DUMMY_MODES = ('software', 'txtime-assist')
TAPRIO_MODES = ('software', 'txtime-assist', 'full-offload')


@st.composite
def taprio_plan(draw, tx_queues=8, modes=DUMMY_MODES):
    """taprio on the root (handle 100:) with a schedule, and etf on some of its classes.

    MODES are the taprio modes to draw; a dummy device takes software and txtime-assist (full offload
    needs a driver that runs it). A txtime-assist plan has the etf children it needs, now and then
    with their traffic classes sharing one tx queue as in tc-taprio(8)'s example.
    """
    mode = draw(st.sampled_from(modes))
    num_tc = draw(st.integers(1, 4))
    # One queue per traffic class at offsets 0 .. num_tc-1, or two for the last one.
    queues = ['1@%d' % i for i in range(num_tc)]
    if draw(st.booleans()) and num_tc < tx_queues:
        queues[-1] = '2@%d' % (num_tc - 1)
    if mode == 'txtime-assist' and draw(st.booleans()):
        queues = ['1@0'] * num_tc
    entries = draw(st.lists(st.fixed_dictionaries({
        'command': st.just('S'),
        'gatemask': st.integers(0, (1 << num_tc) - 1).map(lambda m: '0x%x' % m),
        # 48000 ns is one 60-byte frame at 10 Mbit/s (taprio's speed for a link of unknown speed, as dummy)
        'interval': st.one_of(st.integers(48000, 10 ** 6), st.sampled_from([48000, 300000]))}), min_size=1, max_size=5))
    options = {
        'num_tc': num_tc,
        'map': draw(st.lists(st.integers(0, num_tc - 1), min_size=1, max_size=16)),
        'queues': queues,
        'sched_entries': entries,
    }
    if mode != 'full-offload':
        options['clockid'] = 'CLOCK_TAI'
    if mode != 'software' or draw(st.booleans()):
        options['mode'] = mode
    if mode == 'txtime-assist':
        # 0 (which tc would not send) and 2^32 are past the limits.
        options['txtime_delay'] = draw(st.one_of(st.integers(1, 10 ** 6), st.sampled_from([0, 1, 200000, 2 ** 32 - 1, 2 ** 32])))
    total = sum(entry['interval'] for entry in entries)
    if draw(st.booleans()):
        options['cycle_time'] = draw(st.integers(total, total + 10 ** 6))
        if draw(st.booleans()):
            options['cycle_time_extension'] = draw(st.integers(0, 10 ** 5))
    if draw(st.booleans()):
        options['base_time'] = draw(st.integers(0, 10 ** 12))
    plan = [{'parent': 'root', 'handle': '100:', 'kind': 'taprio', 'options': options}]
    classes = draw(st.sets(st.integers(1, tx_queues), max_size=3))
    if mode == 'txtime-assist':
        classes |= set(queue + 1 for queue in scheduled_queues(queues, entries))
    for minor in sorted(classes):
        etf = draw(_options(delta=st.integers(0, 10 ** 6), deadline_mode=st.booleans(), skip_sock_check=st.booleans()))
        if mode == 'txtime-assist':
            etf['skip_sock_check'] = True
        plan.append({'parent': '100:%x' % minor, 'kind': 'etf', 'options': etf})
    return plan


def scheduled_queues(queues, entries):
    """The tx queues of the traffic classes whose gate opens in some entry (queues as COUNT@OFFSET words)."""
    opened = 0
    for entry in entries:
        opened |= int(str(entry['gatemask']), 16)
    found = set()
    for tc_index, word in enumerate(queues):
        count, offset = (int(n) for n in word.split('@'))
        if opened >> tc_index & 1:
            found.update(range(offset, offset + count))
    return found


@st.composite
def mq_plan(draw, tx_queues=8):
    plan = [{'parent': 'root', 'handle': '1:', 'kind': 'mq'}]
    for minor in sorted(draw(st.sets(st.integers(1, tx_queues), min_size=1, max_size=4))):
        kind = draw(st.sampled_from(sorted(LEAF_OPTIONS)))
        plan.append({'parent': '1:%x' % minor, 'kind': kind, 'options': draw(LEAF_OPTIONS[kind]())})
    return plan


@st.composite
def leaf_plan(draw):
    kind = draw(st.sampled_from(sorted(LEAF_OPTIONS)))
    entry = {'parent': 'root', 'kind': kind, 'options': draw(LEAF_OPTIONS[kind]())}
    if draw(st.booleans()):
        entry['handle'] = draw(st.sampled_from(('1:', '10:', 'abc:')))
    return [entry]


def plans(tx_queues=8):
    """A plan for a device with TX_QUEUES tx queues: cake, fq_codel or fq alone, mq with children, taprio with etf."""
    return st.one_of(leaf_plan(), mq_plan(tx_queues), taprio_plan(tx_queues))


# Values that are no quantity, or beyond what tc and the kernel take.
JUNK_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.sampled_from(['100 mbit', '0', '0bit', '7bit', '1e30bit', 'inf', 'nan', '-5mbit',
                                           '0x10', '\n', '1mbit\n', 'unlimited ', '4294967296', '18446744073709551616Bps']),
    st.lists(st.integers(-3, 20), max_size=20), st.dictionaries(st.text(max_size=8), st.integers(), max_size=3))


@st.composite
def junk_plan(draw):
    """A plan-shaped value whose parts may be anything: what validation must refuse without a Python error."""
    kind = draw(st.one_of(st.sampled_from(('cake', 'fq', 'fq_codel', 'taprio', 'mq', 'etf')), JUNK_VALUES))
    option_names = st.sampled_from(['bandwidth', 'rtt', 'overhead', 'limit', 'flows', 'quantum', 'buckets', 'maxrate',
                                    'num_tc', 'map', 'queues', 'sched_entries', 'cycle_time', 'base_time', 'clockid',
                                    'delta', 'target', 'interval', 'ecn', 'memory_limit', 'cycle-time-extension',
                                    'mode', 'txtime_delay', 'txtime-delay', 'flags', 'skip_sock_check'])
    entries = st.lists(st.fixed_dictionaries({'gatemask': JUNK_VALUES, 'interval': JUNK_VALUES},
                                             optional={'command': JUNK_VALUES}), max_size=3)
    options = draw(st.one_of(JUNK_VALUES, st.dictionaries(option_names, st.one_of(JUNK_VALUES, entries), max_size=5)))
    entry = {'kind': kind, 'options': options}
    for key in ('parent', 'handle'):
        if draw(st.booleans()):
            entry[key] = draw(st.one_of(JUNK_VALUES, st.sampled_from(['root', '1:', '100:1', '0:', 'ffff:ffff', '1:0'])))
    return draw(st.one_of(st.just([entry]), st.lists(st.just(entry), max_size=3), JUNK_VALUES))


def fixed_sample(strategy, count, fixed_seed=22):
    """COUNT values drawn from STRATEGY with a fixed seed: the same list on every run."""
    drawn = []

    @seed(fixed_seed)
    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        drawn.append(value)
    collect()
    return drawn[:count]

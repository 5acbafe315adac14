# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of a full deploy pass: snapshots, fingerprints and the comparison."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import hashlib
import json
import os

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import convergence as conv

FINGERPRINT = 'a' * 64
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_snapshot_hashes_what_the_globs_match_and_nothing_else(tmp_path):
    sysctl = _write(tmp_path / 'etc/sysctl.d/90-hyperion-tuning.conf', 'vm.swappiness = 180\n')
    _write(tmp_path / 'etc/sysctl.d/10-console.conf', 'kernel.printk = 3 4 1 3\n')
    (tmp_path / 'etc/sysctl.d/hyperion-dir.conf').mkdir()
    files = conv.snapshot([str(tmp_path / 'etc/sysctl.d/*hyperion*.conf'), str(tmp_path / 'etc/missing')])
    assert files == {sysctl: hashlib.sha256(b'vm.swappiness = 180\n').hexdigest()}


def test_snapshot_under_a_root_names_paths_as_the_host_sees_them(tmp_path):
    _write(tmp_path / 'etc/default/grub.d/90-hyperion-boot-params.cfg', 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX sysrq_always_enabled"\n')
    files = conv.snapshot(['/etc/default/grub.d/*.cfg'], root=str(tmp_path))
    assert list(files) == ['/etc/default/grub.d/90-hyperion-boot-params.cfg']


def test_watch_patterns_must_be_absolute():
    with pytest.raises(conv.ConvergenceError, match='must be an absolute path'):
        conv.validate_watch(['etc/sysctl.d/*.conf'])
    assert conv.validate_watch(['/a', '/b', '/a']) == ['/a', '/b']


def test_fingerprint_changes_with_any_input_or_the_code_and_not_with_key_order():
    base = conv.fingerprint({'zram_size': None, 'kernel_source': 'file'}, 'code1')
    assert base == conv.fingerprint({'kernel_source': 'file', 'zram_size': None}, 'code1')
    assert base != conv.fingerprint({'kernel_source': 'file', 'zram_size': '4G'}, 'code1')
    assert base != conv.fingerprint({'kernel_source': 'file', 'zram_size': None}, 'code2')
    assert len(base) == 64 and conv.validate_fingerprint(base) == base


@pytest.mark.parametrize('bad', ['', 'A' * 64, 'a' * 63, 'g' * 64, None])
def test_malformed_fingerprints_are_refused(bad):
    with pytest.raises(conv.ConvergenceError, match='64 lower-case hex digits'):
        conv.validate_fingerprint(bad)


def test_tree_digest_follows_content_and_names_and_skips_bytecode(tmp_path):
    _write(tmp_path / 'roles/zram/tasks/main.yml', '---\n')
    first = conv.tree_digest(str(tmp_path), ['roles'])
    _write(tmp_path / 'roles/zram/tasks/__pycache__/x.cpython-313.pyc', 'bytes')
    _write(tmp_path / 'roles/zram/tasks/y.pyc', 'bytes')
    assert conv.tree_digest(str(tmp_path), ['roles']) == first
    _write(tmp_path / 'roles/zram/tasks/main.yml', '---\n# changed\n')
    assert conv.tree_digest(str(tmp_path), ['roles']) != first


def test_the_collections_own_code_digest_is_stable():
    assert conv.tree_digest(REPO, ['roles', 'profiles']) == conv.tree_digest(REPO, ['roles', 'profiles'])


def test_plans_from_the_network_role_become_one_entry_per_device():
    resolved = [{'devices': ['ens3', 'ens4'], 'selector': '10.0.0.0/24', 'state': 'present',
                 'qdiscs': [{'kind': 'cake', 'parent': 'root'}]},
                {'device': 'ens5', 'qdiscs': []}]
    plans = conv.normalize_plans(resolved)
    assert sorted(plans) == ['ens3', 'ens4', 'ens5']
    assert plans['ens5'] == {'state': 'present', 'qdiscs': []}
    with pytest.raises(conv.ConvergenceError, match='device ens3 twice'):
        conv.normalize_plans(resolved + [{'device': 'ens3'}])


def _record(tmp_path, files=None):
    return conv.make_record(FINGERPRINT, '6.12.118-hyperion', [str(tmp_path / '*.conf')], files or {}, [],
                            '2026-12-03T12:00:00Z')


def test_records_are_the_same_whatever_their_time(tmp_path):
    old = _record(tmp_path)
    new = dict(old, recorded_at='2026-12-04T08:00:00Z')
    assert conv.same_record(old, new)
    assert not conv.same_record(old, dict(new, release='6.12.119-hyperion'))
    assert not conv.same_record(None, new)


def test_read_record_tells_missing_from_broken(tmp_path):
    assert conv.read_record(str(tmp_path / 'none.json')) == (None, None)
    broken = _write(tmp_path / 'broken.json', '{"schema": 1,')
    record, problem = conv.read_record(broken)
    assert record is None and 'is not JSON' in problem
    foreign = _write(tmp_path / 'foreign.json', json.dumps({'schema': 7}))
    assert 'not a schema 1 record' in conv.read_record(foreign)[1]
    good = _write(tmp_path / 'good.json', conv.record_text(_record(tmp_path)))
    assert conv.read_record(good) == (_record(tmp_path), None)


def test_compare_names_every_difference(tmp_path):
    record = _record(tmp_path, {'/etc/a.conf': '1', '/etc/b.conf': '2'})
    same = conv.compare(record, FINGERPRINT, '6.12.118-hyperion', '6.12.118-hyperion', '6.12.118-hyperion',
                        {'/etc/a.conf': '1', '/etc/b.conf': '2'})
    assert same == []
    reasons = conv.compare(record, 'b' * 64, '6.12.48+deb13-amd64', '6.12.48+deb13-amd64', '6.12.118-hyperion',
                           {'/etc/a.conf': '9', '/etc/c.conf': '3'})
    assert reasons == [
        'the inputs or the collection changed since the full pass of 2026-12-03T12:00:00Z',
        'runs 6.12.48+deb13-amd64, the full pass left 6.12.118-hyperion',
        'the default boot entry is 6.12.48+deb13-amd64, the full pass left 6.12.118-hyperion',
        'the next boot is armed for 6.12.118-hyperion',
        '/etc/a.conf changed', '/etc/b.conf was removed', '/etc/c.conf is new']


NOON = calendar.timegm((2026, 12, 3, 12, 0, 0))


def test_the_time_stamp_is_utc_and_reads_back():
    assert conv.timestamp(NOON) == '2026-12-03T12:00:00Z'
    assert conv.stale_reason({'recorded_at': conv.timestamp(NOON)}, 1, NOON + 86400) is None


@pytest.mark.parametrize('recorded_at, days, reason', [
    ('2026-12-03T12:00:00Z', 0, None),
    ('2020-01-01T00:00:00Z', 0, None),
    ('2026-11-26T12:00:00Z', 7, None),
    ('2026-11-26T11:59:59Z', 7, 'the full pass of 2026-11-26T11:59:59Z is older than 7 days'),
    ('2026-12-02T11:00:00Z', 1, 'the full pass of 2026-12-02T11:00:00Z is older than 1 day'),
    ('2026-12-04T12:00:00Z', 1, None),
    ('yesterday', 7, "the time of the full pass ('yesterday') cannot be read"),
    (None, 7, 'the time of the full pass (None) cannot be read'),
])
def test_a_record_stands_for_its_maximum_age(recorded_at, days, reason):
    assert conv.stale_reason({'recorded_at': recorded_at}, days, NOON) == reason


@pytest.mark.parametrize('bad', [-1, 1.5, '7', True, None, 36501, 10 ** 30])
def test_a_maximum_age_is_whole_days(bad):
    with pytest.raises(conv.ConvergenceError, match='whole number of days'):
        conv.validate_max_age(bad)


def test_compare_puts_an_outlived_record_first(tmp_path):
    record = _record(tmp_path)
    args = (record, FINGERPRINT, '6.12.118-hyperion', '6.12.118-hyperion', '6.12.118-hyperion', {})
    assert conv.compare(*args, max_age_days=7, now=NOON + 7 * 86400) == []
    assert conv.compare(*args, max_age_days=7, now=NOON + 7 * 86400 + 1) == [
        'the full pass of 2026-12-03T12:00:00Z is older than 7 days']
    assert conv.compare(*args, now=NOON + 700 * 86400) == []


@pytest.mark.parametrize('release', ['6.19.2-hyperion\n', '6.19 2', '../6.19', '', None, '6.19.2\x00'])
def test_a_record_refuses_a_release_that_is_no_uname_r(tmp_path, release):
    with pytest.raises(conv.ConvergenceError, match='kernel release as uname -r prints it'):
        conv.make_record('a' * 64, release, [], {}, [], '2026-12-06T00:00:00Z')


def _staged(tmp_path):
    return conv.make_record(FINGERPRINT, '6.12.118-hyperion', [str(tmp_path / '*.conf')], {'/etc/a.conf': '1'},
                            [{'devices': ['ens4'], 'qdiscs': [{'kind': 'cake', 'parent': 'root'}]}],
                            '2026-12-03T12:00:00Z', staged_on='6.12.48+deb13-amd64')


def test_a_staging_record_expects_the_old_kernel_running_and_the_default(tmp_path):
    record = _staged(tmp_path)
    assert record['staged_on'] == '6.12.48+deb13-amd64' and record['release'] == '6.12.118-hyperion'
    old = '6.12.48+deb13-amd64'
    assert conv.compare(record, FINGERPRINT, old, old, old, {'/etc/a.conf': '1'}) == []
    # The staged kernel booted (and became the default): the staging no longer stands for the host.
    new = '6.12.118-hyperion'
    assert conv.compare(record, FINGERPRINT, new, new, new, {'/etc/a.conf': '1'}) == [
        'runs 6.12.118-hyperion, the staging left 6.12.48+deb13-amd64',
        'the default boot entry is 6.12.118-hyperion, the staging left 6.12.48+deb13-amd64']
    # Armed for a trial boot, with a changed input and a changed file.
    assert conv.compare(record, 'b' * 64, old, old, new, {'/etc/a.conf': '2'}, max_age_days=1, now=NOON + 2 * 86400) == [
        'the staging of 2026-12-03T12:00:00Z is older than 1 day',
        'the inputs or the collection changed since the staging of 2026-12-03T12:00:00Z',
        'the next boot is armed for 6.12.118-hyperion', '/etc/a.conf changed']
    # A full pass's record of the same figures is another record.
    assert not conv.same_record(record, dict(record, staged_on=None))


def test_a_staging_record_needs_another_release_that_is_a_uname_r(tmp_path):
    with pytest.raises(conv.ConvergenceError, match='does not run yet'):
        conv.make_record(FINGERPRINT, '6.12.118-hyperion', [], {}, [], '2026-12-03T12:00:00Z', staged_on='6.12.118-hyperion')
    with pytest.raises(conv.ConvergenceError, match='runs while staged must be a kernel release'):
        conv.make_record(FINGERPRINT, '6.12.118-hyperion', [], {}, [], '2026-12-03T12:00:00Z', staged_on='6.12 48')


def test_the_plans_of_a_record_give_the_same_record_again(tmp_path):
    record = _staged(tmp_path)
    plans = conv.plans_of_record(record)
    assert plans == [{'device': 'ens4', 'state': 'present', 'qdiscs': [{'kind': 'cake', 'parent': 'root'}]}]
    assert conv.normalize_plans(plans) == record['qdisc_plans']
    assert conv.plans_of_record({}) == []

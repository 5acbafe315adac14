# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tuning role's hyperion-iosched helper, run by the real /bin/sh against a sysfs tree laid out as the
kernel's (HYPERION_IOSCHED_SYSFS): the scheduler's choice and ADIOS's settings, in a dry run and for real."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT

HELPER = os.path.join(ROOT, 'roles', 'tuning', 'files', 'hyperion-iosched')


@pytest.fixture
def sysfs(tmp_path):
    """nvme0n1 running [adios] with ADIOS's defaults of 3.3.0 (read_priority 0, bq_refill_below_ratio 20)."""
    queue = tmp_path / 'block' / 'nvme0n1' / 'queue'
    (queue / 'iosched').mkdir(parents=True)
    (queue / 'scheduler').write_text('none mq-deadline [adios]\n')
    (queue / 'iosched' / 'read_priority').write_text('0\n')
    (queue / 'iosched' / 'bq_refill_below_ratio').write_text('20\n')
    return tmp_path


def run(sysfs, *args):
    env = dict(os.environ, HYPERION_IOSCHED_SYSFS=str(sysfs))
    result = subprocess.run(['/bin/sh', HELPER] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, check=False)
    return result.returncode, result.stdout.strip(), result.stderr.strip()


def knob(sysfs, name):
    return (sysfs / 'block' / 'nvme0n1' / 'queue' / 'iosched' / name).read_text().strip()


def test_settings_are_written_once_then_found(sysfs):
    assert run(sysfs, '--adios', 'bq_refill_below_ratio=15,read_priority=-5', 'nvme0n1', 'adios', 'none') == (
        0, 'changed nvme0n1 adios', '')
    assert (knob(sysfs, 'read_priority'), knob(sysfs, 'bq_refill_below_ratio')) == ('-5', '15')
    assert run(sysfs, '--adios', 'bq_refill_below_ratio=15,read_priority=-5', 'nvme0n1', 'adios', 'none') == (
        0, 'unchanged nvme0n1 adios', '')


def test_a_dry_run_says_changed_and_writes_nothing(sysfs):
    assert run(sysfs, '--dry-run', '--adios', 'read_priority=-5', 'nvme0n1', 'adios') == (0, 'changed nvme0n1 adios', '')
    assert knob(sysfs, 'read_priority') == '0'
    assert run(sysfs, '--dry-run', '--adios', 'read_priority=0', 'nvme0n1', 'adios') == (0, 'unchanged nvme0n1 adios', '')


def test_without_settings_adios_is_left_as_it_is(sysfs):
    assert run(sysfs, 'nvme0n1', 'adios') == (0, 'unchanged nvme0n1 adios', '')
    assert knob(sysfs, 'read_priority') == '0'


def test_a_disk_that_gets_adios_gets_its_settings(sysfs):
    (sysfs / 'block' / 'nvme0n1' / 'queue' / 'scheduler').write_text('[none] mq-deadline adios\n')
    assert run(sysfs, '--adios', 'read_priority=3', 'nvme0n1', 'adios', 'none') == (0, 'changed nvme0n1 adios', '')
    assert (sysfs / 'block' / 'nvme0n1' / 'queue' / 'scheduler').read_text() == 'adios\n'
    assert knob(sysfs, 'read_priority') == '3'


def test_another_scheduler_takes_no_adios_setting(sysfs):
    (sysfs / 'block' / 'nvme0n1' / 'queue' / 'scheduler').write_text('[none] mq-deadline\n')
    assert run(sysfs, '--adios', 'read_priority=3', 'nvme0n1', 'mq-deadline') == (0, 'changed nvme0n1 mq-deadline', '')
    assert knob(sysfs, 'read_priority') == '0'


def test_a_setting_the_kernel_refuses_fails_with_its_name(sysfs):
    # A knob that cannot be written (a directory here; the kernel's EINVAL in life).
    (sysfs / 'block' / 'nvme0n1' / 'queue' / 'iosched' / 'shrink_resist').mkdir()
    code, out, err = run(sysfs, '--adios', 'shrink_resist=3', 'nvme0n1', 'adios')
    assert (code, out) == (1, '')
    assert err == 'nvme0n1: ADIOS refused shrink_resist=3 (%s/block/nvme0n1/queue/iosched/shrink_resist)' % sysfs


@pytest.mark.parametrize('setting', ['read_priority', '=3', 'Read=3', 'read_priority=3,,x'])
def test_a_malformed_setting_is_refused_before_anything(sysfs, setting):
    code, out, err = run(sysfs, '--adios', setting, 'nvme0n1', 'adios')
    assert (code, out) == (2, '')
    assert err.startswith('--adios takes ATTR=VALUE[,ATTR=VALUE]..., got ')
    assert knob(sysfs, 'read_priority') == '0'

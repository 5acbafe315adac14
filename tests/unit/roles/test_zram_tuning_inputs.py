# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel.zram and hyperion.kernel.tuning refuse bad input before anything on the host changes.

Each role runs once with the real ansible-playbook on this machine, every case a local host of its own
(role_runs.py: check mode, so a check that stopped refusing shows as tasks that would change instead of
changing this machine). A case must fail at its check task, with only reading tasks before it, nothing
after it, and no task reporting a change. Before these checks, a newline in a timer value or in the
recompression parameters was written into a unit or zram-generator.conf, a misspelt override id
became an item of its own, and an algorithm the kernel lacks was found out only after the old swap
had stopped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import platform

import pytest

from ansible_collections.hyperion.kernel.tests.unit.roles.role_runs import (
    ARG_SPEC_TASK, assert_refused_first, host_tasks, run_role)

ZRAM_CHECK = "Check the role's values before anything is read or changed"
ZRAM_PROFILE = 'Resolve the profile items this role applies'
ZRAM_SIZE = 'Check the size against the RAM and plan the compression setting'
ZRAM_OFFERED = 'Refuse algorithms the kernel does not offer, before any swap stops'
ZRAM_ALGORITHMS = "Choose the algorithms (the role's variables where the profile items agree, else the items)"
# The tasks a zram run may pass before a later check: they read, decide or (check mode) would load zram.
ZRAM_READING = {ZRAM_CHECK, ZRAM_PROFILE, "Read the zram state, the memory size and the target kernel's zram options",
                'Decide the device\'s size and priority (role variables first, else the profile)', ZRAM_ALGORITHMS,
                ZRAM_SIZE,
                'Find the compression algorithms the target kernel offers'}

# (case, values, the task that refuses, what its message says)
ZRAM_CASES = [
    ('device-newline', {'zram_device': 'zram0\n'}, ZRAM_CHECK, [r'zram_device must be a zram device', r'"zram0\n"']),
    ('device-not-zram', {'zram_device': 'sda'}, ZRAM_CHECK, ['zram_device must be a zram device']),
    ('priority-above', {'zram_swap_priority': 32768}, ZRAM_CHECK, ['zram_swap_priority must be from -1 to 32767, got 32768']),
    ('priority-below', {'zram_swap_priority': -2}, ZRAM_CHECK, ['zram_swap_priority must be from -1 to 32767, got -2']),
    ('reserve-negative', {'zram_live_reserve_kib': -1}, ZRAM_CHECK, ['zram_live_reserve_kib must be from 0 to 67108864']),
    ('params-unknown-type', {'zram_recompression_params': 'type=idl'}, ZRAM_CHECK,
     ['type must be idle, huge, huge_idle', 'did you mean "idle"']),
    ('params-unknown-key', {'zram_recompression_params': 'type=idle treshold=2000'}, ZRAM_CHECK,
     ["recompress has no key 'treshold'", 'did you mean "threshold"']),
    ('params-newline', {'zram_recompression_params': 'type=idle\n[zram1]'}, ZRAM_CHECK, ['must be one line']),
    ('params-threshold', {'zram_recompression_params': 'type=idle threshold=4096'}, ZRAM_CHECK,
     ['threshold must be from 1 to 3000, got 4096']),
    ('params-max-pages', {'zram_recompression_params': 'max_pages=0'}, ZRAM_CHECK, ['max_pages must be from 1']),
    ('timer-newline', {'zram_recompress_interval': '1h\nExecStart=/bin/sh'}, ZRAM_CHECK,
     ['zram_recompress_interval must be a systemd time span']),
    ('timer-too-short', {'zram_recompress_interval': '10s'}, ZRAM_CHECK, ["zram_recompress_interval '10s' is 10 s"]),
    ('timer-calendar', {'zram_recompress_on_boot_sec': 'hourly'}, ZRAM_CHECK,
     ['zram_recompress_on_boot_sec must be a systemd time span']),
    ('algorithm-form', {'zram_compression_algorithm': 'zstd (level=3)'}, ZRAM_CHECK,
     ['zram_compression_algorithm must be a name']),
    ('size-newline', {'zram_size': 'ram / 2\n[zram1]'}, ZRAM_CHECK, ['zram_size must be one line']),
    ('service-climbs', {'zram_takeover_services': ['../../etc/passwd']}, ZRAM_CHECK,
     ['zram_takeover_services[0] must be a file name']),
    ('override-misspelt', {'zram_overrides': {'zram:zram0:comp_algoritm': 'lz4'}}, ZRAM_PROFILE,
     ["item id 'zram:zram0:comp_algoritm' is not of a known form", 'did you mean "zram:zram0:comp_algorithm"']),
    # Python's own exceptions used to come through here.
    ('size-divides-by-zero', {'zram_size': 'ram / (ram - ram)'}, ZRAM_SIZE, ['divides by zero']),
    ('size-overflows', {'zram_size': '10 ^ 400'}, ZRAM_SIZE, ['cannot be evaluated']),
    ('size-python-power', {'zram_size': 'ram ** 1'}, ZRAM_SIZE, ['** and // are Python']),
    ('size-larger-than-ram', {'zram_size': 'ram * 2'}, ZRAM_SIZE, ['MiB of RAM']),
    # check.yml and the rollout's gate read the items: a variable they would fail leaves a drifting host.
    ('algorithm-not-the-profiles', {'zram_compression_algorithm': 'lz4'}, ZRAM_ALGORITHMS,
     ['zram_compression_algorithm is lz4, but the profile item zram:zram0:comp_algorithm expects zstd',
      'hyperion_profile_overrides']),
]
# No kernel offers this name; the message lists what this machine's kernel does offer.
OFFERED_CASE = ('algorithm-not-offered', {'zram_overrides': {'zram:zram0:comp_algorithm': 'lz5'}}, ZRAM_OFFERED,
                ['the compression algorithm lz5 is not offered by the kernel', 'nothing was changed'])
# The argument spec's own refusals (types).
ZRAM_SPEC_CASES = [('priority-not-a-number', {'zram_swap_priority': 'high'}, ARG_SPEC_TASK, ['zram_swap_priority'])]


def _zram_readable():
    """Whether this machine's kernel can tell what zram offers without loading a module (check mode)."""
    return bool(glob.glob('/sys/block/zram*/comp_algorithm') or os.path.exists('/proc/config.gz')
                or os.path.exists('/boot/config-%s' % platform.release()))


@pytest.fixture(scope='module')
def zram_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('zram-inputs')
    cases = ZRAM_CASES + ZRAM_SPEC_CASES + ([OFFERED_CASE] if _zram_readable() else [])
    returncode, document, stderr = run_role(tmp_path, 'hyperion.kernel.zram',
                                            dict((case, values) for case, values, _task, _expected in cases))
    assert returncode != 0, stderr
    return document


def _refused_at(document, host, task, expected):
    """HOST failed at TASK with EXPECTED in its message, after reading tasks only, with no change anywhere."""
    if task in (ZRAM_CHECK, ARG_SPEC_TASK):
        return assert_refused_first(document, host, task, expected)
    tasks = host_tasks(document, host)
    names = [name for name, _result in tasks]
    assert names[-1] == task, (host, names)
    before = [name for name in names[1:-1] if not name.startswith(ARG_SPEC_TASK)]
    # Skipped tasks (the module load where the kernel could tell) are listed too; none of them ran.
    ran = [name for name, result in tasks[1:-1] if not result.get('skipped')]
    assert set(ran) <= ZRAM_READING, (host, ran)
    assert not any(result.get('changed') for _name, result in tasks), (host, names)
    assert all(not result.get('failed') for _name, result in tasks[:-1]), (host, names)
    message = tasks[-1][1].get('msg', '')
    assert tasks[-1][1].get('failed'), (host, 'the check passed', message)
    for text in expected:
        assert text in message, (host, text, message)
    assert before, host
    return message


@pytest.mark.parametrize('case, values, task, expected', ZRAM_CASES + ZRAM_SPEC_CASES,
                         ids=[case[0] for case in ZRAM_CASES + ZRAM_SPEC_CASES])
def test_zram_refuses_before_any_change(zram_run, case, values, task, expected):
    _refused_at(zram_run, case, task, expected)


@pytest.mark.skipif(not _zram_readable(), reason='this machine has no zram device and no kernel config to read')
def test_zram_refuses_an_algorithm_the_running_kernel_lacks(zram_run):
    case, _values, task, expected = OFFERED_CASE
    message = _refused_at(zram_run, case, task, expected)
    # The message says where the list came from and what is in it.
    assert ' lists ' in message and ('/sys/block/zram' in message or 'config' in message), message


TUNING_CHECK = 'Check the settings'
TUNING_BORE = "Check BORE's settings against the ranges of the BORE patch"
TUNING_PROFILE = 'Resolve the profile items this role applies'
TUNING_ADIOS = 'Check the ADIOS settings against the bounds of the ADIOS patch'
TUNING_KNOBS = 'Check scheduler statistics and HRTICK (role variables first, else the profile)'
TUNING_READING = {TUNING_PROFILE, 'Decide BORE, I/O scheduler and THP settings (role variables first, else the profile)',
                  TUNING_KNOBS, TUNING_CHECK, TUNING_BORE}
TUNING_CASES = [
    ('thp-unknown', {'tuning_thp_enabled': 'sometimes'}, TUNING_CHECK, ['THP enabled "sometimes"', 'Nothing was changed']),
    ('thp-defrag-newline', {'tuning_thp_defrag': 'madvise\nw /etc/shadow'}, TUNING_CHECK, ['defrag']),
    ('scheduler-newline', {'tuning_iosched_ssd': ['mq-deadline\nRUN+="/bin/sh"']}, TUNING_CHECK, ['schedulers']),
    ('sysctl-file-elsewhere', {'tuning_sysctl_file': '/etc/hyperion.conf'}, TUNING_CHECK, ['tuning_sysctl_file']),
    ('sysctl-file-not-conf', {'tuning_sysctl_file': '/etc/sysctl.d/90-hyperion'}, TUNING_CHECK, ['tuning_sysctl_file']),
    ('sysctl-file-climbs', {'tuning_sysctl_file': '/etc/sysctl.d/../cron.d/x.conf'}, TUNING_CHECK, ['tuning_sysctl_file']),
    ('sysctl-file-newline', {'tuning_sysctl_file': '/etc/sysctl.d/x.conf\n'}, TUNING_CHECK, ['tuning_sysctl_file']),
    ('bore-smoothness-above', {'tuning_bore_burst_smoothness': 4}, TUNING_BORE, ['BORE settings']),
    ('bore-enabled-above', {'tuning_bore_enabled': 2}, TUNING_BORE, ['BORE settings']),
    ('adios-priority-above', {'tuning_adios': {'read_priority': 20}}, TUNING_ADIOS,
     ['tuning_adios: ADIOS read_priority (priority of reads, as a nice value) must be -20 to 19']),
    ('adios-not-a-setting', {'tuning_adios': {'batch_order': 1}}, TUNING_ADIOS, ["'batch_order' is not an ADIOS tunable"]),
    ('adios-newline', {'tuning_adios': {'read_priority': '1\nRUN+="/bin/sh"'}}, TUNING_ADIOS, ['must be a whole number']),
    ('schedstats-item-not-a-switch', {'tuning_overrides': {'sysctl:kernel.sched_schedstats': 'sometimes'}}, TUNING_KNOBS,
     ["profile item sysctl:kernel.sched_schedstats must be true or false, not 'sometimes'"]),
    ('tmpfiles-elsewhere', {'tuning_sched_tmpfiles': '/etc/hyperion-sched.conf'}, TUNING_CHECK, ['tuning_sched_tmpfiles']),
    ('override-misspelt', {'tuning_overrides': {'iosched:nvm': 'none'}}, TUNING_PROFILE,
     ["item id 'iosched:nvm' is not of a known form", 'did you mean "iosched:nvme"']),
    ('override-misspelt-sysctl', {'tuning_overrides': {'sysctl:kernel.sched_bor': 1}}, TUNING_PROFILE,
     ['no item sysctl:kernel.sched_bor', 'did you mean "sysctl:kernel.sched_bore"']),
]


@pytest.fixture(scope='module')
def tuning_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('tuning-inputs')
    returncode, document, stderr = run_role(tmp_path, 'hyperion.kernel.tuning',
                                            dict((case, values) for case, values, _task, _expected in TUNING_CASES))
    assert returncode != 0, stderr
    return document


@pytest.mark.parametrize('case, values, task, expected', TUNING_CASES, ids=[case[0] for case in TUNING_CASES])
def test_tuning_refuses_before_any_change(tuning_run, case, values, task, expected):
    tasks = host_tasks(tuning_run, case)
    names = [name for name, _result in tasks]
    assert names[0].startswith(ARG_SPEC_TASK) and names[-1] == task, (case, names)
    assert set(names[1:-1]) <= TUNING_READING, (case, names)
    assert not any(result.get('changed') for _name, result in tasks), (case, names)
    result = tasks[-1][1]
    assert result.get('failed'), (case, 'the check passed')
    for text in expected:
        assert text in result.get('msg', ''), (case, text, result.get('msg'))


def test_zram_values_from_the_command_line_are_checked_as_numbers(tmp_path):
    """-e key=value gives the string "32768": the check reads it as the number it stands for."""
    returncode, document, stderr = run_role(tmp_path, 'hyperion.kernel.zram', {'localhost': {}},
                                            ['-e', 'zram_swap_priority=32768'])
    assert returncode != 0, stderr
    assert_refused_first(document, 'localhost', ZRAM_CHECK, ['zram_swap_priority must be from -1 to 32767, got 32768'])

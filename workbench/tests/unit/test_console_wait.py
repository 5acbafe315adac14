# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""molecule/shared/console_wait.py on a serial log that grows while it waits, as a lab machine's does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, '..', '..', '..', 'molecule', 'shared', 'console_wait.py')
BOOT = os.path.join(HERE, 'fixtures', 'bench', 'lab-trixie-boot-serial.log.gz')


def wait(log, offset, pattern, timeout):
    return subprocess.Popen([sys.executable, SCRIPT, str(log), str(offset), pattern, str(timeout)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def test_a_line_written_after_the_offset_is_found_and_one_before_is_not(tmp_path):
    with gzip.open(BOOT, 'rb') as handle:
        boot = handle.read()
    log = tmp_path / 'serial.log'
    log.write_bytes(boot)  # a whole boot of the trixie image, with its ssh line, before the offset
    offset = len(boot)
    waiter = wait(log, offset, r'Started .*OpenBSD Secure Shell server|hyperion-trial-guard: .* not confirmed', 30)
    time.sleep(1)
    assert waiter.poll() is None  # the boot before the offset does not count
    with open(str(log), 'ab') as handle:
        handle.write(b'\x1b[0m[  240.651064] hyperion-trial-guard: trial boot of 6.12.118-hyperion not confirmed within 240 s'
                     b' of boot: rebooting into the default kernel\r\n[  244.628286] reboot: Restarting system\r\n')
    out, _err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0
    found = json.loads(out)
    assert found['line'].startswith('[  240.651064] hyperion-trial-guard: trial boot of 6.12.118-hyperion')
    assert not found['line'].endswith('\r')
    # The offset just after the line: a next wait starts there and finds the reboot, not the guard again.
    assert open(str(log), 'rb').read()[found['offset']:].startswith(b'[  244.628286] reboot')


def test_no_line_before_the_timeout_is_an_error_with_the_last_lines(tmp_path):
    log = tmp_path / 'serial.log'
    log.write_text('[    1.000000] Run /init as init process\n[    2.000000] Begin: Waiting for root file system ...\n')
    waiter = wait(log, 0, 'Linux version 6.12.117', 2)
    out, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 1 and out == ''
    assert 'within 2 s' in err and 'Waiting for root file system' in err

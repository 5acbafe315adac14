# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command line policy of the boot_params role: kgdboc, kgdbwait, extra parameters.

Pure checks, run before anything on a host changes:

- ``kgdboc=<tty>,<baud>``: a serial tty name and a standard baud rate (the
  device's existence and the kernel's CONFIG_KGDB_SERIAL_CONSOLE are checked on
  the host, against the data this module is given);
- extra parameters from inventory: the name must be one the kernel documents
  (``Documentation/admin-guide/kernel-parameters.txt`` of the target source) or a
  ``module.parameter`` the host's kernel exposes under /sys/module, and the
  parameters the role manages itself cannot be set a second time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .errors import HyperionError
from .bootloader import value_problem
from .cmdline import normalize_name
from .validation import describe, did_you_mean, is_valid

# Rates the 8250/16550 driver and kgdboc's earlycon parser accept as written.
STANDARD_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
_TTY_RE = re.compile(r'tty[A-Za-z]+[0-9]+')
# Set by the role from its own variables: an extra entry may not fight them.
MANAGED_NAMES = ('kgdboc', 'kgdbwait', 'sysrq_always_enabled')
KGDB_OPTION = 'CONFIG_KGDB_SERIAL_CONSOLE'


def parse_kgdboc(value):
    """(tty, baud) from 'ttyS0,115200'; a clear error for anything else."""
    if not isinstance(value, str) or not value:
        raise HyperionError('kgdboc must be "<tty>,<baud>" such as "ttyS0,115200", not %r' % (value,))
    tty, sep, baud = value.partition(',')
    if not _TTY_RE.fullmatch(tty):
        raise HyperionError('kgdboc %r: %r is not a serial tty name (ttyS0, ttyAMA0, ttyUSB0 ...)' % (value, tty))
    if not sep or not baud.isdigit():
        raise HyperionError('kgdboc %r: give the baud rate after the tty, as in %s,115200' % (value, tty))
    if int(baud) not in STANDARD_BAUDS:
        raise HyperionError('kgdboc %r: %s is not a standard baud rate (%s)'
                            % (value, baud, ', '.join(str(b) for b in STANDARD_BAUDS)))
    return tty, int(baud)


def check_kgdboc_host(value, tty_devices, kernel_config, release):
    """Errors (a list of strings) for kgdboc VALUE on a host.

    ``tty_devices`` are the names under /sys/class/tty; ``kernel_config`` the
    target kernel's options ({'CONFIG_X': 'y'}), or None when no config could
    be read (which is an error too: the debugger cannot be promised).
    """
    tty, _baud = parse_kgdboc(value)
    errors = []
    if tty not in (tty_devices or ()):
        errors.append('kgdboc=%s: the serial port %s does not exist on this host (no /sys/class/tty/%s)'
                      % (value, tty, tty))
    if kernel_config is None:
        errors.append('kgdboc=%s: the kernel config of %s could not be read, so %s cannot be confirmed'
                      % (value, release, KGDB_OPTION))
    elif kernel_config.get(KGDB_OPTION) not in ('y', 'm'):
        errors.append('kgdboc=%s: kernel %s has no %s, so the debugger would never attach'
                      % (value, release, KGDB_OPTION))
    return errors


def check_extra_params(params, known_names, host_module_params=()):
    """Validate extra parameters from inventory; returns them as kernel_cmdline entries.

    ``params`` is a list of {name, value?, state?}. ``known_names`` the names the
    kernel documents; ``host_module_params`` the 'module.param' names the host
    exposes under /sys/module. Every problem is collected, then raised together.
    """
    if params is None:
        return []
    if not isinstance(params, list):
        raise HyperionError('extra parameters must be a list of {name, value, state}')
    known = set(normalize_name(n) for n in known_names)
    exposed = set(normalize_name(n) for n in host_module_params)
    problems, result, seen = [], [], set()
    for index, entry in enumerate(params):
        where = 'extra parameter #%d' % (index + 1)
        if not isinstance(entry, dict) or not isinstance(entry.get('name'), str):
            problems.append('%s must be a mapping with a name' % where)
            continue
        unknown_keys = sorted(set(entry) - set(('name', 'value', 'state')))
        if unknown_keys:
            problems.append('%s (%s) has unknown keys %s' % (where, entry['name'], ', '.join(unknown_keys)))
            continue
        name = entry['name']
        state = entry.get('state') or 'present'
        if not is_valid('param_name', name):
            problems.append('%s: %s is not a kernel parameter name (letters, digits, "_", "." and "-", starting with '
                            'a letter or digit)' % (where, describe(name)))
            continue
        canonical = normalize_name(name)
        if canonical in MANAGED_NAMES:
            problems.append('%s: %s is managed by the role itself (use its own variable)' % (where, name))
            continue
        if canonical in seen:
            problems.append('%s: %s is given twice' % (where, name))
            continue
        seen.add(canonical)
        if state not in ('present', 'absent'):
            problems.append('%s (%s): state must be present or absent, not %r' % (where, name, state))
            continue
        # Removing is always allowed: it is how a stale parameter leaves the command line.
        if state == 'present' and canonical not in known and canonical not in exposed:
            if '.' in canonical:
                problems.append('%s: %s is unknown: the kernel documents no such parameter and the host has no '
                                '/sys/module/%s/parameters/%s' % ((where, name) + tuple(canonical.split('.', 1))))
            else:
                problems.append('%s: %s is not a kernel parameter (not in the kernel\'s kernel-parameters.txt)%s'
                                % (where, name, did_you_mean(canonical, known)))
            continue
        value = entry.get('value')
        if value is not None and state == 'present':
            # The same check kernel_cmdline makes, here so that every problem is reported at once.
            problem = value_problem(value if isinstance(value, str) else str(value))
            if problem:
                problems.append('%s (%s): value %s contains %s, which shell-sourced files and bootloader scripts '
                                'would interpret' % (where, name, describe(str(value)), problem))
                continue
        item = {'name': name, 'state': state}
        if value is not None and state == 'present':
            item['value'] = value if isinstance(value, str) else str(value)
        result.append(item)
    if problems:
        raise HyperionError('; '.join(problems))
    return result


def cmdline_params(kgdboc=None, kgdbwait=False, extra=()):
    """The kernel_cmdline module's ``params`` for the role's whole policy."""
    params = [{'name': 'kgdboc', 'value': kgdboc, 'state': 'present'} if kgdboc
              else {'name': 'kgdboc', 'state': 'absent'}]
    params.append({'name': 'kgdbwait', 'state': 'present' if kgdbwait else 'absent'})
    if kgdbwait and not kgdboc:
        raise HyperionError('kgdbwait without kgdboc waits for a debugger that has no way in')
    params.extend(extra)
    return params

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command line policy of the boot_params role: kgdboc, kgdbwait, extra parameters.

Pure checks, run before anything on a host changes:

- ``kgdboc``: every form the kernel documents (a serial port with or without its
  options, ``kbd``, ``kms,kbd``, combined), read as drivers/tty/serial/kgdboc.c reads
  it; the port's existence and UART, and the kernel options each form needs, are
  checked on the host against the data this module is given;
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
from .runtime_knobs import KNOBS
from .sysrq import ALWAYS_ENABLED, parse_sysrq
from .validation import describe, did_you_mean, is_valid

# Rates the 8250/16550 driver and kgdboc's earlycon parser accept as written.
STANDARD_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
_TTY_RE = re.compile(r'tty[A-Za-z]+[0-9]+')
# Set by the role from its own variables: an extra entry may not fight them.
MANAGED_NAMES = ('kgdboc', 'kgdbwait', 'sysrq_always_enabled') + tuple(
    sorted(normalize_name(knob['param']) for knob in KNOBS.values() if knob['kind'].startswith('cmdline')))
KGDB_OPTION = 'CONFIG_KGDB_SERIAL_CONSOLE'


# MAX_CONFIG_LEN of drivers/tty/serial/kgdboc.c: kgdboc_option_setup() refuses a longer value ("config string
# too long") and the debugger stays unconfigured.
KGDBOC_MAX_LEN = 40
# tty_find_polling_driver() (drivers/tty/tty_io.c): the driver name up to the first digit, the line, then the
# options poll_init() gets (uart_parse_options: baud, parity n/o/e, bits 5-8, r for RTS/CTS flow control).
_SERIAL_RE = re.compile(r'(tty[A-Za-z]+)([0-9]+)(?:,([0-9]+)([noe]?)([5-8]?)(r?))?')
KDB_KEYBOARD_OPTION = 'CONFIG_KDB_KEYBOARD'
KDB_OPTION = 'CONFIG_KGDB_KDB'


def kgdboc_prefixes(value):
    """(kms, kbd, rest) as configure_kgdboc() of drivers/tty/serial/kgdboc.c reads the front of VALUE on a kernel
    with CONFIG_KDB_KEYBOARD: 'kms,' first, then 'kbd' (or 'kdb'), which ends the parse unless a ',' follows;
    REST is what goes on to tty_find_polling_driver(), None when the keyboard ended the parse."""
    cptr = value
    kms = cptr.startswith('kms,')
    if kms:
        cptr = cptr[4:]
    if cptr[:3] in ('kbd', 'kdb'):
        if cptr[3:4] == ',':
            return kms, True, cptr[4:]
        return kms, True, None
    return kms, False, cptr


def parse_kgdboc(value):
    """The parts of a kgdboc value, in every form the kernel documents (``[kms,][kbd[,]][<tty>[,<options>]]``):
    {'kms', 'kbd', 'tty', 'baud', 'options'}; a clear error for anything the kernel would refuse or misread.

    Stricter than the kernel where it would silently ignore text ('kbdx' is read as 'kbd'), and the baud
    rate, when given, must be a standard one."""
    example = '"ttyS0,115200", "ttyS0", "kbd", "kms,kbd" or "kbd,ttyS0,115200"'
    if not isinstance(value, str) or not value or value[0].isspace():
        raise HyperionError('kgdboc must be one of the kernel\'s forms such as %s, not %r' % (example, value))
    if len(value) >= KGDBOC_MAX_LEN:
        raise HyperionError('kgdboc %r is %d characters; the kernel refuses %d or more (MAX_CONFIG_LEN)'
                            % (value, len(value), KGDBOC_MAX_LEN))
    kms, kbd, rest = kgdboc_prefixes(value)
    spec = {'kms': kms, 'kbd': kbd, 'tty': None, 'baud': None, 'options': None}
    if rest is None:
        if value[len('kms,') if kms else 0:] not in ('kbd', 'kdb'):
            raise HyperionError('kgdboc %r: the kernel would read only the keyboard and ignore the rest; write kbd, '
                                'then a comma before a serial port' % (value,))
        return spec
    if rest == '':
        raise HyperionError('kgdboc %r ends with a comma: name a serial port after it, or drop the comma' % (value,))
    match = _SERIAL_RE.fullmatch(rest)
    if not match:
        raise HyperionError('kgdboc %r: %r is not a serial port with optional options (ttyS0, ttyS0,115200, '
                            'ttyS0,115200n8); the forms are %s' % (value, rest, example))
    spec['tty'] = match.group(1) + match.group(2)
    if match.group(3) is not None:
        baud = int(match.group(3))
        if baud not in STANDARD_BAUDS:
            raise HyperionError('kgdboc %r: %s is not a standard baud rate (%s)'
                                % (value, baud, ', '.join(str(b) for b in STANDARD_BAUDS)))
        spec['baud'] = baud
        spec['options'] = rest.split(',', 1)[1]
    return spec


def check_kgdboc_host(value, ttys, kernel_config, release):
    """Errors (a list of strings) for kgdboc VALUE on a host.

    ``ttys`` is what the host has under /sys/class/tty: kernel_facts' ``tty`` subset, {name: {'exists',
    'uart_type'}} (the UART type; 0 is PORT_UNKNOWN, a name the 8250 driver registers without a UART behind it),
    or just the names that exist. ``kernel_config`` the target kernel's options ({'CONFIG_X': 'y'}), or None when
    no config could be read (which is an error too: the debugger cannot be promised).
    """
    spec = parse_kgdboc(value)
    errors = []
    tty = spec['tty']
    if tty is not None:
        if isinstance(ttys, dict):
            found = ttys.get(tty) or {}
            exists, uart_type = bool(found.get('exists')), found.get('uart_type')
        else:
            exists, uart_type = tty in (ttys or ()), None
        if not exists:
            errors.append('kgdboc=%s: the serial port %s does not exist on this host (no /sys/class/tty/%s)'
                          % (value, tty, tty))
        elif uart_type == 0:
            errors.append('kgdboc=%s: %s has no UART behind it (/sys/class/tty/%s/type is 0, PORT_UNKNOWN)'
                          % (value, tty, tty))
    needed = [KGDB_OPTION] + ([KDB_KEYBOARD_OPTION] if spec['kbd'] else []) + ([KDB_OPTION] if spec['kms'] else [])
    if kernel_config is None:
        errors.append('kgdboc=%s: the kernel config of %s could not be read, so %s cannot be confirmed'
                      % (value, release, ', '.join(needed)))
        return errors
    for option in needed:
        # kgdboc= is a __setup() parameter of the built-in driver only (a module reads kgdboc.kgdboc=), and the
        # keyboard and kms hooks are compiled in or absent.
        if kernel_config.get(option) != 'y':
            errors.append('kgdboc=%s: kernel %s has %s=%s, not built in, so the debugger would never attach%s'
                          % (value, release, option, kernel_config.get(option) or 'n',
                             ' on the keyboard' if option == KDB_KEYBOARD_OPTION else ''))
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


def cmdline_params(kgdboc=None, kgdbwait=False, extra=(), sysrq_always_enabled=False, sysrq=None):
    """The kernel_cmdline module's ``params`` for the role's whole policy.

    ``sysrq_always_enabled`` puts the flag on or takes it off (every form the kernel honours compares as its name);
    with a SysRq mask ``sysrq`` other than 1 it is refused: the kernel would allow every function the mask forbids."""
    params = [{'name': 'kgdboc', 'value': kgdboc, 'state': 'present'} if kgdboc
              else {'name': 'kgdboc', 'state': 'absent'}]
    params.append({'name': 'kgdbwait', 'state': 'present' if kgdbwait else 'absent'})
    if kgdbwait and not kgdboc:
        raise HyperionError('kgdbwait without kgdboc waits for a debugger that has no way in')
    if not isinstance(sysrq_always_enabled, bool):
        raise HyperionError('sysrq_always_enabled must be true or false, got %r' % (sysrq_always_enabled,))
    if sysrq_always_enabled and sysrq is not None and parse_sysrq(sysrq) != 1:
        raise HyperionError('sysrq_always_enabled overrides kernel.sysrq=%s: the kernel would allow every SysRq function '
                            'the mask forbids; leave the flag off, or set the mask to 1' % (sysrq,))
    params.append({'name': ALWAYS_ENABLED, 'state': 'present' if sysrq_always_enabled else 'absent'})
    params.extend(extra)
    return params

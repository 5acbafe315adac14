# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way to validate a string that reaches a file, a command line or a unit.

Every pattern here is matched against the *whole* value (``re.fullmatch``):
``re.match(r'^x$')`` accepts ``'x\\n'`` because ``$`` also matches before a
trailing newline, and a newline written into an apt source, a GRUB drop-in or a
unit file starts a line of the attacker's choosing. Modules, filters (through
the ``hyperion.kernel.valid`` test) and role checks call these functions; none
of them keeps a pattern of its own for the same kind of value.

Numbers are bounded by what their consumer accepts (the kernel's parser, tc's,
systemd's), so a value is refused here instead of being ignored or rejected
half-way through a change on the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from .errors import HyperionError

# Named kinds of strings. Each is a full-match pattern and the words an error uses.
KINDS = {
    # A file name inside a directory the caller chose: no separator, not '.' or '..' (checked below).
    'file_name': (r'[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}', 'a file name of letters, digits, "_", ".", "+" and "-"'),
    # A directory the roles create and write under: absolute, no '.' or '..' component, no '//', no
    # trailing '/', names of the file_name characters (hidden directories such as ~/.cache allowed).
    'absolute_path': (r'(/(?!\.\.?(?:/|\Z))[A-Za-z0-9_.+~-]{1,255})+',
                      'an absolute path of names of letters, digits, "_", ".", "+", "~" and "-" (no "." or ".." '
                      'component, no "//", no trailing "/")'),
    # grub-mkconfig sources /etc/default/grub.d/*.cfg: another name is never read.
    'grub_dropin': (r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,123}\.cfg', 'a file name ending in .cfg (letters, digits, "_", ".", "-")'),
    # A kernel release as uname -r prints it and as /boot and /lib/modules name it.
    'kernel_release': (r'[A-Za-z0-9][A-Za-z0-9_.+~-]{0,127}', 'a kernel release such as 6.19.2-hyperion'),
    # A kernel parameter name: lib/cmdline.c splits at '=' and white space; '--' ends the kernel's part.
    'param_name': (r'[A-Za-z0-9][A-Za-z0-9_.-]{0,127}', 'a kernel parameter name (letters, digits, "_", "." and "-", '
                                                        'starting with a letter or digit)'),
    # A network device: dev_valid_name() allows up to IFNAMSIZ-1 bytes without '/', ':' or white space.
    'netdev': (r'[A-Za-z0-9_.@+-]{1,15}', 'a network interface name of at most 15 characters'),
    'mac': (r'[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}', 'six hex pairs such as 52:54:00:12:34:56'),
    'hhmm_window': (r'([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]', 'HH:MM-HH:MM such as 22:00-06:00'),
    'zram_device': (r'zram[0-9]{1,3}', 'a zram device such as zram0'),
    # Names of the kernel's crypto and elevator registries (lz4hc, zstd, mq-deadline, adios, bfq ...).
    'kernel_algorithm': (r'[a-z0-9][a-z0-9_-]{0,63}', 'a name of lower-case letters, digits, "_" and "-"'),
    # A device driver as /sys/bus/*/drivers/ and a device's driver link name it (igc, rk_gmac-dwmac, stmmaceth).
    'driver_name': (r'[A-Za-z0-9][A-Za-z0-9_.-]{0,63}', 'a driver name of letters, digits, "_", "." and "-" such as igc'),
    'sha256': (r'[0-9a-fA-F]{64}', '64 hex digits'),
    'checksum': (r'(sha256:[0-9a-fA-F]{64}|sha512:[0-9a-fA-F]{128})', 'sha256:<64 hex digits> or sha512:<128 hex digits>'),
    # One URL on one line: no white space, quotes or control characters, so it stays one field of a file.
    'http_url': (r'https?://[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]+', 'an http:// or https:// URL without spaces or quotes'),
    # The URI of an apt source: the network ones, or file:// for a repository on the host's own disk.
    'apt_url': (r'(https?|file)://[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]+',
                'an http://, https:// or file:// URL without spaces or quotes'),
    # An apt suite or component: one field of a deb822 line.
    'apt_word': (r'[A-Za-z0-9][A-Za-z0-9_./+~-]{0,127}', 'one word of letters, digits, "_", ".", "/", "+", "~" and "-"'),
    # A package name as apt, dnf and pacman accept it.
    'package_name': (r'[A-Za-z0-9][A-Za-z0-9_.+~-]{0,127}', 'a package name such as linux-image-hyperion'),
    # A Debian package name (Debian Policy 5.6.1): lower case, at least two characters.
    'deb_package_name': (r'[a-z0-9][a-z0-9+.-]{1,127}', 'a Debian package name such as linux-image-hyperion (lower-case '
                                                        'letters, digits, "+", "-" and ".", at least two characters)'),
    # A systemd time span for a timer (OnCalendar is not a span): 1h, 30min, 1h 30min, 90s.
    'systemd_timespan': (r'[0-9]{1,9} ?(us|ms|s|sec|m|min|h|hr|d|w)?( [0-9]{1,9} ?(us|ms|s|sec|m|min|h|hr|d|w))*',
                         'a systemd time span such as 1h, 30min or "1h 30min"'),
    # A file systemd-sysctl reads at boot: *.conf directly in /etc/sysctl.d (it reads no other there).
    'sysctl_d_file': (r'/etc/sysctl\.d/[A-Za-z0-9_][A-Za-z0-9_.+-]{0,122}\.conf',
                      'a file name ending in .conf directly in /etc/sysctl.d (systemd-sysctl reads no other)'),
    # A file systemd-tmpfiles reads at boot: *.conf directly in /etc/tmpfiles.d.
    'tmpfiles_d_file': (r'/etc/tmpfiles\.d/[A-Za-z0-9_][A-Za-z0-9_.+-]{0,122}\.conf',
                        'a file name ending in .conf directly in /etc/tmpfiles.d (systemd-tmpfiles reads no other)'),
    # A name under /sys/class/tty (ttyS0, ttyAMA0, hvc0, tty1): one path component.
    'tty_name': (r'[A-Za-z][A-Za-z0-9_]{0,31}', 'a tty name such as ttyS0 (letters, digits and "_")'),
    'sysctl_name': (r'[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)*', 'a sysctl name such as net.core.default_qdisc'),
}
_COMPILED = dict((kind, re.compile(pattern)) for kind, (pattern, _words) in KINDS.items())
# Characters below 0x20 and DEL: a newline starts a new line in any file, a NUL ends a C string.
_CONTROL_RE = re.compile(r'[\x00-\x1f\x7f]')


class ValidationError(HyperionError):
    """A value is not of the form its consumer accepts."""


def full_match(pattern, value):
    """True when the whole string VALUE matches PATTERN (a string or a compiled pattern)."""
    if not isinstance(value, str):
        return False
    compiled = pattern if hasattr(pattern, 'fullmatch') else re.compile(pattern)
    return compiled.fullmatch(value) is not None


def is_valid(kind, value):
    """True when VALUE is a string of KIND (one of KINDS)."""
    try:
        compiled = _COMPILED[kind]
    except KeyError:
        raise ValidationError('no such kind of value: %s%s' % (kind, did_you_mean(kind, KINDS)))
    if not isinstance(value, str) or compiled.fullmatch(value) is None:
        return False
    # A name that is only dots climbs out of (or stays at) its directory.
    return not (kind in ('file_name', 'netdev') and value in ('.', '..'))


def require(kind, value, what):
    """VALUE when it is a string of KIND; else a ValidationError that names WHAT and the expected form."""
    if is_valid(kind, value):
        return value
    raise ValidationError('%s must be %s, got %s' % (what, KINDS[kind][1], describe(value)))


def single_line(value, what, allow_empty=True):
    """VALUE when it is a string without control characters (newline, tab, NUL, escape ...)."""
    if not isinstance(value, str):
        raise ValidationError('%s must be a string, got %s' % (what, describe(value)))
    if not value and not allow_empty:
        raise ValidationError('%s must not be empty' % what)
    found = _CONTROL_RE.search(value)
    if found:
        raise ValidationError('%s must be one line of printable characters; %s has %s at position %d'
                              % (what, describe(value), describe_char(found.group()), found.start() + 1))
    return value


# The words a switch takes (as Ansible's own booleans, in any case); 1 and 0 as numbers too.
TRUE_WORDS = ('true', 'yes', 'on', 'y', '1')
FALSE_WORDS = ('false', 'no', 'off', 'n', '0')


def as_bool(value, what):
    """VALUE as True or False: a bool, 1 or 0, or one of the words above; anything else is refused naming WHAT."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValidationError('%s must be true or false, not %r' % (what, value))


def bounded_int(value, what, minimum=None, maximum=None, why=''):
    """VALUE as an int within [minimum, maximum]; booleans, floats with a fraction and text are refused.

    WHY, when given, says whose limit it is ("the kernel's int", "tc's u32") and ends the message.
    """
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r'[+-]?[0-9]{1,20}', value.strip()):
        number = int(value.strip())
    else:
        number = None
    if number is None:
        raise ValidationError('%s must be a whole number, got %s' % (what, describe(value)))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValidationError('%s must be %s, got %d%s' % (what, range_words(minimum, maximum), number,
                                                           ' (%s)' % why if why else ''))
    return number


def range_words(minimum, maximum):
    """'from 1 to 2147483' / 'at least 1' / 'at most 9'."""
    if minimum is not None and maximum is not None:
        return 'from %d to %d' % (minimum, maximum)
    if minimum is not None:
        return 'at least %d' % minimum
    return 'at most %d' % maximum


def did_you_mean(name, candidates, cutoff=0.6):
    """' (did you mean "a" or "b"?)' for the close matches of NAME among CANDIDATES, or ''."""
    close = difflib.get_close_matches(str(name), sorted(str(c) for c in candidates), n=3, cutoff=cutoff)
    if not close:
        return ''
    return ' (did you mean %s?)' % ' or '.join('"%s"' % c for c in close)


def require_known(name, candidates, what):
    """NAME when it is one of CANDIDATES; else an error naming the close matches."""
    if name in candidates:
        return name
    raise ValidationError('%s %s is unknown%s' % (what, describe(name), did_you_mean(name, candidates)))


def describe(value):
    """A value as an error message shows it: quoted, with control characters made visible."""
    if isinstance(value, str):
        text = value if len(value) <= 80 else value[:77] + '...'
        return '"%s"' % text.encode('unicode_escape').decode('ascii').replace('"', '\\"')
    return repr(value)


def describe_char(char):
    names = {'\n': 'a newline', '\r': 'a carriage return', '\t': 'a tab', '\x00': 'a NUL byte', '\x1b': 'an escape'}
    return names.get(char, 'the control character 0x%02x' % ord(char))

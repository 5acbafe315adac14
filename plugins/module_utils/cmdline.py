# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command line parsing with the kernel's own rules.

A port of next_arg() (lib/cmdline.c) and of the loop of parse_args() (kernel/params.c),
checked against the C functions of the kernel source by a property test:
- the line is a C string: it ends at its first NUL;
- arguments are separated by white space outside double quotes, where white space is
  what lib/ctype.c calls space: tab, newline, vertical tab, form feed, carriage return,
  space and byte 0xA0 (so text should be decoded as Latin-1 to be split as the kernel
  splits the bytes);
- a value may be quoted (``"dyndbg=module zram +p"`` or ``opt="a b"``); the quotes are
  not part of the value;
- ``-`` and ``_`` are the same character in a parameter name (parameq());
- a lone ``--`` ends the kernel's parameters: what follows is for init, up to a second
  lone ``--``, after which the kernel drops the rest.
A parameter given twice keeps every value; the kernel's handlers use the last.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .validation import ValidationError, require

# isspace() of lib/ctype.c: _S is set for 9-13, 32 and 160, nothing else (not 0x1c-0x1f or 0x85,
# which Python's str.isspace() counts).
KERNEL_SPACE = frozenset('\t\n\v\f\r \xa0')


def normalize_name(name):
    """Canonical spelling of a parameter name (the kernel treats - and _ alike)."""
    return name.replace('-', '_')


def skip_spaces(text, pos):
    while pos < len(text) and text[pos] in KERNEL_SPACE:
        pos += 1
    return pos


def next_arg(text, pos):
    """lib/cmdline.c next_arg() on ``text`` from ``pos`` (a non-space character).

    Returns ``(param, value, new_pos)``: value is None for a bare flag, new_pos is past
    the white space that follows. The C function writes NULs into its buffer; ``cut``
    holds the positions it would overwrite, and each string ends at the first of them.
    """
    in_quote = quoted = False
    if text[pos] == '"':
        pos += 1
        in_quote = quoted = True
    args = text[pos:]
    i = 0
    equals = 0  # as in C, 0 also means "not found": an '=' at index 0 does not count
    while i < len(args):
        char = args[i]
        if char in KERNEL_SPACE and not in_quote:
            break
        if equals == 0 and char == '=':
            equals = i
        if char == '"':
            in_quote = not in_quote
        i += 1
    cut = set([i])
    value_start = None
    if equals:
        cut.add(equals)
        value_start = equals + 1
        # Don't include quotes in value (args[i] is white space or the end, never a quote).
        if value_start < i and args[value_start] == '"':
            value_start += 1
            if args[i - 1] == '"':
                cut.add(i - 1)
    if quoted and i > 0 and args[i - 1] == '"' and (i - 1) not in cut:
        cut.add(i - 1)

    def string_at(start):
        end = min(c for c in cut if c >= start)
        return args[start:end]

    param = string_at(0)
    value = string_at(value_start) if value_start is not None else None
    following = pos + i + 1 if i < len(args) else pos + i
    return param, value, skip_spaces(text, following)


def split_args(text, pos=0):
    """The (param, value) pairs parse_args() hands on from ``pos``, and where it stopped.

    The second item is the position after a lone ``--`` (the rest is init's), or None
    when the line ended first.
    """
    pairs = []
    pos = skip_spaces(text, pos)
    while pos < len(text):
        param, value, pos = next_arg(text, pos)
        if value is None and param == '--':
            return pairs, pos
        pairs.append((param, value))
    return pairs, None


class Cmdline(object):
    """A parsed command line: kernel parameters in order, then init's arguments."""

    def __init__(self, raw, params, init_args):
        self.raw = raw
        self.params = params  # list of (normalized name, value or None)
        self.init_args = init_args

    def values(self, name):
        """Every value given for ``name`` (None for a bare flag), in order."""
        wanted = normalize_name(name)
        return [value for key, value in self.params if key == wanted]

    def has(self, name):
        return bool(self.values(name))

    def get(self, name, default=None):
        """The value the kernel acts on (the last one), or ``default`` when absent."""
        found = self.values(name)
        return found[-1] if found else default

    def to_dict(self):
        """Name -> last value ('' for a bare flag), as a fact."""
        result = {}
        for key, value in self.params:
            result[key] = '' if value is None else value
        return result


def parse_cmdline(text):
    """Parse /proc/cmdline (or a command line an admin wants to set)."""
    if isinstance(text, bytes):
        text = text.decode('latin-1')  # one character per byte, as the kernel reads it
    text = text.split('\x00', 1)[0]
    pairs, rest = split_args(text)
    init_args = []
    if rest is not None:
        # init/main.c parses the rest the same way and rejoins param=value (repair_env_string).
        init_pairs, _dropped = split_args(text, rest)
        init_args = [param if value is None else '%s=%s' % (param, value) for param, value in init_pairs]
    params = [(normalize_name(param), value) for param, value in pairs]
    return Cmdline(text.strip('\n '), params, init_args)


def format_param(name, value):
    """Render one parameter so that parse_cmdline() reads it back unchanged.

    The kernel has no escape character: a value with a double quote or a NUL cannot be
    written, and one with white space is quoted as a whole.
    """
    try:
        require('param_name', name, 'the name')
    except ValidationError as exc:
        raise ValueError(str(exc))
    if value is None:
        return name
    if '"' in value or '\x00' in value:
        raise ValueError('%s: a value with a double quote or a NUL cannot be written on a kernel command line' % name)
    if value == '' or any(c in KERNEL_SPACE for c in value):
        return '%s="%s"' % (name, value)
    return '%s=%s' % (name, value)

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command line parsing with the kernel's own rules.

Follows lib/cmdline.c's next_arg() and kernel/params.c:
- parameters are separated by white space outside double quotes;
- a value may be quoted (``"dyndbg=module zram +p"`` or ``opt="a b"``); the
  quotes are not part of the value;
- ``-`` and ``_`` are the same character in a parameter name (parameq());
- a lone ``--`` ends the kernel's parameters: what follows is for init.
A parameter given twice keeps every value; the kernel's handlers use the last.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def normalize_name(name):
    """Canonical spelling of a parameter name (the kernel treats - and _ alike)."""
    return name.replace('-', '_')


def _next_arg(text, pos):
    """One argument starting at ``pos`` (white space already skipped).

    Returns ``(param, value, new_pos)``; value is None for a bare flag.
    """
    in_quote = quoted = False
    if text[pos] == '"':
        pos += 1
        in_quote = quoted = True
    start = pos
    equals = None
    i = pos
    while i < len(text):
        char = text[i]
        if char.isspace() and not in_quote:
            break
        # The kernel only looks for '=' after the first character.
        if equals is None and char == '=' and i > start:
            equals = i
        if char == '"':
            in_quote = not in_quote
        i += 1
    end = i
    arg = text[start:end]
    if quoted and arg.endswith('"'):
        arg = arg[:-1]
    if equals is None:
        return arg, None, end
    param = arg[:equals - start]
    value = arg[equals - start + 1:]
    if value.startswith('"'):
        value = value[1:]
        if value.endswith('"'):
            value = value[:-1]
    return param, value, end


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
    raw = text.strip('\n\x00 ')
    params = []
    init_args = []
    pos = 0
    after_dashes = False
    while pos < len(raw):
        while pos < len(raw) and raw[pos].isspace():
            pos += 1
        if pos >= len(raw):
            break
        param, value, pos = _next_arg(raw, pos)
        if after_dashes:
            init_args.append(param if value is None else '%s=%s' % (param, value))
            continue
        if param == '--' and value is None:
            after_dashes = True
            continue
        params.append((normalize_name(param), value))
    return Cmdline(raw, params, init_args)


def format_param(name, value):
    """Render one parameter so that parse_cmdline() reads it back unchanged."""
    if value is None:
        return name
    if value == '' or any(c.isspace() for c in value):
        return '%s="%s"' % (name, value)
    return '%s=%s' % (name, value)

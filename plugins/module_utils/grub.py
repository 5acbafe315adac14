# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What GRUB and grub-mkconfig do, in one place for kernel_cmdline, boot_entry and bootloader detection.

- Files: /etc/default/grub and the drop-ins /etc/default/grub.d/*.cfg, which
  grub-mkconfig sources with /bin/sh in name order (where it sources them at all:
  a Debian patch); grub.cfg in /boot/grub or /boot/grub2 and grubenv beside it.
- Tools: update-grub or grub-mkconfig/grub2-mkconfig regenerate grub.cfg;
  grub-set-default and grub-reboot (grub2-* on Fedora) write grubenv.
- The GRUB_CMDLINE_LINUX* assignments this collection rewrites, the drop-ins it
  writes, and what a linux line of 10_linux looks like.
- grub.cfg's menu entries and submenus, grubenv's saved_entry and next_entry, and
  the entry GRUB boots for a GRUB_DEFAULT value.

Functions that read the system take a ``host.Host`` and raise ``host.error``;
pure Python, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import shutil
import tempfile

from .cmdline import edit_tokens, release_of_kernel_path, split_tokens, token_param
from .errors import HyperionError

DEFAULT_FILE = 'etc/default/grub'
DROPIN_DIR = 'etc/default/grub.d'
# Debian's grub.cfg, then Fedora's and openSUSE's.
CFG_FILES = ('boot/grub/grub.cfg', 'boot/grub2/grub.cfg')
# In the order they are preferred: update-grub is Debian's wrapper around grub-mkconfig.
REGENERATE_COMMANDS = (('update-grub',), ('grub-mkconfig', '-o', '/boot/grub/grub.cfg'),
                       ('grub2-mkconfig', '-o', '/boot/grub2/grub.cfg'))
REGENERATE_TOOLS = tuple(argv[0] for argv in REGENERATE_COMMANDS)
MKCONFIG_TOOLS = ('grub-mkconfig', 'grub2-mkconfig')
GRUB_VARIABLES = ('GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT')
_ASSIGNMENT_RE = re.compile(r'(?P<lead>\s*(?:export\s+)?)(?P<var>GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=(?P<rhs>.*)')
# The right-hand sides this module rewrites: one quoted string or one bare word, then an optional comment.
_SIMPLE_RHS_RE = re.compile(r'(?:"(?P<dq>[^"\\`]*)"|\'(?P<sq>[^\']*)\'|(?P<bare>[^\s"\'\\`;&|<>#]*))(?P<tail>\s*(?:#.*)?)')
DROPIN_HEADER = ('# Managed by hyperion.kernel.kernel_cmdline: kernel parameters for every boot entry.\n'
                 '# Set them through the module; edits here are overwritten.\n')
DEFAULT_DROPIN_HEADER = ('# Managed by hyperion.kernel.boot_entry: GRUB boots the entry saved in grubenv\n'
                         '# (grub-set-default, grub-reboot). Edits here are overwritten.\n')
# Stand-ins where the host cannot tell: a 64-character release and a root=UUID=... .
_IMAGE_GUESS = '/boot/vmlinuz-' + 'x' * 64
_ROOT_GUESS = 'UUID=' + 'x' * 36
_MENU_RE = re.compile(r'\s*(menuentry|submenu)\s+(.*?)\s*\{\s*')
_LINUX_RE = re.compile(r'^\s*linux(?:16|efi)?\s+(\S+)')
_WORD_RE = re.compile(r"'([^']*)'|\"((?:[^\"\\]|\\.)*)\"|(\S+)")


# ---------------------------------------------------------------- the installation

def is_installed(host):
    """Whether GRUB manages kernels here: /etc/default/grub and a tool that regenerates grub.cfg."""
    tools = [tool for tool in REGENERATE_TOOLS if host.find_tool(tool)]
    return host.read(DEFAULT_FILE) is not None and bool(tools)


def read_default_file(host):
    """The text of /etc/default/grub; ``host.error`` when it is missing."""
    text = host.read(DEFAULT_FILE)
    if text is None:
        raise host.error('%s does not exist: is GRUB configured on this system?' % host.path(DEFAULT_FILE))
    return text


def dropin_paths(host):
    """The drop-ins below root that grub-mkconfig sources, in its order."""
    return sorted(glob.glob(host.path(DROPIN_DIR + '/*.cfg')))


def grub_sources_dropins(host):
    """Whether this system's grub-mkconfig sources /etc/default/grub.d/*.cfg (a Debian patch)."""
    for name in MKCONFIG_TOOLS:
        tool = host.find_tool(name)
        if tool:
            return 'default/grub.d' in (host.read(tool) or '')
    return os.path.isdir(host.path(DROPIN_DIR))


def grub_regenerate_command(host):
    """The command that writes grub.cfg again from /etc/default/grub*; ``host.error`` without one."""
    for argv in REGENERATE_COMMANDS:
        if host.find_tool(argv[0]):
            return list(argv)
    raise host.error('no update-grub, grub-mkconfig or grub2-mkconfig in %s to regenerate grub.cfg'
                     % ', '.join('/' + d for d in host.bin_dirs))


def tool_prefix(host):
    """'grub2' where only grub2-set-default is installed (Fedora, openSUSE), else 'grub' (grub-set-default, grub-reboot)."""
    return 'grub2' if host.find_tool('grub2-set-default') and not host.find_tool('grub-set-default') else 'grub'


def find_cfg(host):
    """grub.cfg below root, relative (boot/grub first), or None."""
    for rel in CFG_FILES:
        if os.path.exists(host.path(rel)):
            return rel
    return None


def cfg_is_stale(host, paths):
    """grub.cfg older than a file it is generated from: a previous regeneration did not happen."""
    cfg = find_cfg(host)
    if cfg is None:
        return False
    generated = os.stat(host.path(cfg)).st_mtime
    return any(os.path.exists(host.path(p)) and os.stat(host.path(p)).st_mtime > generated for p in paths)


def read_grubenv(host, cfg_rel):
    """saved_entry, next_entry, ... of the grubenv beside grub.cfg ({} when it is missing)."""
    return parse_grubenv(host.read(os.path.join(os.path.dirname(cfg_rel), 'grubenv')))


# ---------------------------------------------------------------- sourcing /etc/default/grub*

def sourced_files(host, main_text, dropin_names=(), planned=None):
    """(path, text) of what grub-mkconfig sources: /etc/default/grub, then the drop-ins named, in name order.

    ``planned`` (path -> text, None = removed) stands in for the files a plan would write;
    a drop-in that neither exists nor is planned is left out.
    """
    planned = planned or {}
    main = host.path(DEFAULT_FILE)
    files = [(main, planned.get(main, main_text))]
    for name in sorted(set(dropin_names)):
        path = host.path(DROPIN_DIR + '/' + name)
        text = planned[path] if path in planned else host.read(DROPIN_DIR + '/' + name)
        if text is not None:
            files.append((path, text))
    return files


def run_sourced(host, files, then):
    """Output of the shell code ``then`` after sourcing ``files`` in order with /bin/sh, as grub-mkconfig does.

    ``files`` is a list of (path, text); each text is written to a private
    temporary file first, so planned contents are sourced without touching the
    real ones.
    """
    workdir = tempfile.mkdtemp(prefix='hyperion-grub-')
    try:
        paths = []
        for number, (_path, text) in enumerate(files):
            temp = os.path.join(workdir, '%03d.cfg' % number)
            with open(temp, 'w') as handle:
                handle.write(text)
            paths.append(temp)
        script = 'for f in "$@"; do . "$f" || exit 1; done; ' + then
        return host.run(['sh', '-c', script, 'sh'] + paths, 'sourcing %s' % ', '.join(path for path, _text in files))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def source_grub_files(host, files):
    """GRUB_CMDLINE_LINUX and _DEFAULT after sourcing ``files`` ((path, text) pairs); see run_sourced()."""
    out = run_sourced(host, files, 'printf "GRUB_CMDLINE_LINUX=%s\\nGRUB_CMDLINE_LINUX_DEFAULT=%s\\n" '
                                   '"$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"')
    values = dict((var, '') for var in GRUB_VARIABLES)
    for line in out.splitlines():
        var, _sep, value = line.partition('=')
        if var in values:
            values[var] = value
    return values


def effective_grub_default(host, files):
    """GRUB_DEFAULT after sourcing ``files`` ((path, text) pairs) with /bin/sh, as grub-mkconfig does."""
    return run_sourced(host, files, 'printf "%s\\n" "$GRUB_DEFAULT"').strip()


def entry_cmdline(values):
    """The parameters grub-mkconfig's 10_linux gives a normal entry, from source_grub_files()' values."""
    return '%s %s' % (values['GRUB_CMDLINE_LINUX'], values['GRUB_CMDLINE_LINUX_DEFAULT'])


def linux_line_prefix(host):
    """BOOT_IMAGE=, root= and ro as grub-mkconfig and GRUB put them before the variables' parameters.

    10_linux writes "linux <image> root=<device> ro <args>" and GRUB puts BOOT_IMAGE=<image> first.
    The running kernel's /proc/cmdline gives root= (and rootflags=); the image is the longest of its
    BOOT_IMAGE and the kernels in /boot, as a newer kernel may have a longer release.
    """
    running = split_tokens(host.read('proc/cmdline') or '')
    values = dict((token.split('=', 1)[0], token.split('=', 1)[1]) for token in running if '=' in token)
    images = [values['BOOT_IMAGE']] if 'BOOT_IMAGE' in values else []
    images.extend('/boot/' + os.path.basename(path) for path in glob.glob(host.path('boot/vmlinuz-*')))
    image = max(images, key=len) if images else _IMAGE_GUESS
    prefix = ['BOOT_IMAGE=' + image, 'root=' + values.get('root', _ROOT_GUESS), 'ro']
    return prefix + [token for token in running if token.startswith('rootflags=')]


# ---------------------------------------------------------------- GRUB_CMDLINE_LINUX* assignments

def assignments(text):
    """(line index, variable, match, match of the simple right-hand side or None) of each cmdline assignment."""
    found = []
    for index, line in enumerate(text.splitlines(True)):
        match = _ASSIGNMENT_RE.fullmatch(line.rstrip('\n'))
        if match:
            found.append((index, match.group('var'), match, _SIMPLE_RHS_RE.fullmatch(match.group('rhs'))))
    return found


def mentions(text, params):
    """Managed parameters whose name appears as a word in ``text``."""
    words = set(token_param(token)[0] for token in re.split(r'[\s"\']+', text) if token)
    return [param.name for param in params if param.key in words]


def _simple_value(rhs):
    for group in ('dq', 'sq', 'bare'):
        if rhs.group(group) is not None:
            return group, rhs.group(group)
    return None, None


def _rewrite_assignment(match, rhs, tokens):
    style, _value = _simple_value(rhs)
    joined = ' '.join(tokens)
    if style == 'sq':
        quoted = "'%s'" % joined
    elif style == 'bare' and joined and ' ' not in joined:
        quoted = joined
    else:
        quoted = '"%s"' % joined
    return '%s%s=%s%s' % (match.group('lead'), match.group('var'), quoted, rhs.group('tail'))


def edit_grub_file(text, path, params, place_in=None, error=HyperionError):
    """/etc/default/grub with managed parameters taken out of every cmdline assignment.

    ``place_in`` (a variable name) receives the present parameters on its last
    assignment, or on a new line at the end when the file has none. An
    assignment in a form this module does not rewrite that names a managed
    parameter raises ``error``.
    """
    lines = text.splitlines(True)
    found = assignments(text)
    last = None
    if place_in:
        for index, var, _match, _rhs in found:
            if var == place_in:
                last = index
    for index, var, match, rhs in found:
        if rhs is None:
            mentioned = mentions(match.group('rhs'), params)
            if mentioned:
                raise error('%s line %d sets %s in a form this module does not rewrite (%s); move %s out of '
                            'it by hand' % (path, index + 1, var, match.group('rhs').strip(), ', '.join(mentioned)))
            continue
        _style, value = _simple_value(rhs)
        tokens = split_tokens(value)
        edited = edit_tokens(tokens, params, place=(index == last))
        if edited != tokens:
            newline = '\n' if lines[index].endswith('\n') else ''
            lines[index] = _rewrite_assignment(match, rhs, edited) + newline
    result = ''.join(lines)
    if place_in and last is None:
        wanted = [param.render() for param in params if param.state == 'present']
        if wanted:
            if result and not result.endswith('\n'):
                result += '\n'
            result += '%s="%s"\n' % (place_in, ' '.join(wanted))
    return result


def dropin_tokens(text):
    """The parameters a drop-in of render_dropin() appends (any cmdline assignment of it, read back)."""
    tokens = []
    for _index, _var, match, rhs in assignments(text or ''):
        value = _simple_value(rhs)[1] if rhs is not None else match.group('rhs')
        tokens.extend(token for token in split_tokens(value) if 'GRUB_CMDLINE_LINUX' not in token)
    return tokens


def render_dropin(tokens):
    """kernel_cmdline's drop-in: appends ``tokens`` to GRUB_CMDLINE_LINUX."""
    return DROPIN_HEADER + 'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} %s"\n' % ' '.join(tokens)


# ---------------------------------------------------------------- GRUB_DEFAULT

def render_default_dropin():
    """boot_entry's drop-in: GRUB_DEFAULT=saved, so grubenv (grub-set-default, grub-reboot) chooses the entry."""
    return DEFAULT_DROPIN_HEADER + 'GRUB_DEFAULT=saved\n'


def set_default_saved(text):
    """/etc/default/grub with GRUB_DEFAULT=saved in place of its first GRUB_DEFAULT line (or appended)."""
    lines = text.splitlines(True)
    for index, line in enumerate(lines):
        if re.fullmatch(r'\s*GRUB_DEFAULT=.*', line, re.S):
            lines[index] = 'GRUB_DEFAULT=saved\n'
            return ''.join(lines)
    if text and not text.endswith('\n'):
        text += '\n'
    return text + 'GRUB_DEFAULT=saved\n'


# ---------------------------------------------------------------- grub.cfg and grubenv

def _words(text):
    return [next(group for group in match.groups() if group is not None) for match in _WORD_RE.finditer(text)]


def _menu_title_and_id(rest):
    """Title and --id/$menuentry_id_option value of a menuentry/submenu line's arguments."""
    words = _words(rest)
    title = words[0] if words else ''
    entry_id = None
    for index, word in enumerate(words[1:], 1):
        if word in ('$menuentry_id_option', '--id', '${menuentry_id_option}') and index + 1 < len(words):
            entry_id = words[index + 1]
    return title, entry_id


def parse_grub_cfg(text):
    """Menu entries of a grub.cfg: dicts with id, title, path (ids joined by '>'), kind, kernel, release, top_index.

    Brace depth is tracked line by line, as grub-mkconfig writes one entry header per line.
    ``kind`` is ``simple`` (top level), ``advanced`` (in a submenu), ``recovery`` or ``other`` (no linux line).
    """
    entries = []
    stack = []  # open blocks: ('submenu'|'menuentry'|'other', id, title, entry dict or None)
    top_index = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith('#'):
            continue
        match = _MENU_RE.fullmatch(line)
        if match:
            kind, rest = match.groups()
            title, entry_id = _menu_title_and_id(rest)
            parents = [block for block in stack if block[0] == 'submenu']
            at_top = not stack
            entry = None
            if kind == 'menuentry':
                path_ids = [block[1] or block[2] for block in parents] + [entry_id or title]
                entry = {'id': entry_id, 'title': title, 'path': '>'.join(path_ids), 'kernel': None,
                         'release': None, 'top_index': top_index if at_top else None,
                         'submenu': parents[-1][1] if parents else None}
                entries.append(entry)
            if at_top:
                top_index += 1
            stack.append((kind, entry_id, title, entry))
            continue
        linux = _LINUX_RE.match(line)
        if linux and stack and stack[-1][3] is not None and stack[-1][3]['kernel'] is None:
            stack[-1][3]['kernel'] = linux.group(1)
            stack[-1][3]['release'] = release_of_kernel_path(linux.group(1))
        opened = stripped.count('{') - stripped.count('}')
        if stripped.endswith('{') and not match:
            stack.append(('other', None, None, None))
        elif stripped == '}' or (opened < 0 and stack):
            if stack:
                stack.pop()
    for entry in entries:
        if entry['kernel'] is None:
            entry['kind'] = 'other'
        elif 'recovery' in (entry['id'] or '') or '(recovery mode)' in entry['title'] or 'fallback' in entry['title']:
            entry['kind'] = 'recovery'
        elif entry['submenu']:
            entry['kind'] = 'advanced'
        else:
            entry['kind'] = 'simple'
    return entries


def parse_grubenv(text):
    """The variables of a grubenv block (grub-editenv list prints the same lines)."""
    values = {}
    for line in (text or '').splitlines():
        if line.startswith('#'):
            continue
        key, sep, value = line.partition('=')
        if sep:
            values[key] = value
    return values


def resolve_grub_entry(entries, value):
    """The entry GRUB boots for a default/next_entry value: an index, an id, a title, or a '>' path."""
    if value is None or value == '':
        value = '0'
    if re.fullmatch(r'\d+', value):
        number = int(value)
        for entry in entries:
            if entry['top_index'] == number:
                return entry
        return None  # a submenu, or out of range
    for entry in entries:
        if value in (entry['path'], entry['id'], entry['title']):
            return entry
    # A path may use titles instead of ids for the submenu part.
    tail = value.rsplit('>', 1)[-1]
    for entry in entries:
        if '>' in value and tail in (entry['id'], entry['title']):
            return entry
    return None

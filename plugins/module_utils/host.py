# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-side file and command helpers shared by the modules that change a system.

- ``read_file(path)``: a file's text, None when it does not exist, a
  SourceError (a HyperionError) when it exists but cannot be read.
- ``atomic_write(path, text)``: write beside, fsync, rename over, fsync the
  directory, keeping the replaced file's mode and owner.
- ``Host(root, run)``: paths, reads and tools below ``root`` (normally '/';
  tests point it at a fake tree) and command runs through ``run``, a callable
  taking an argv list and returning ``(rc, stdout, stderr)``.
- ``detect_bootloader(host)`` and ``secure_boot_state(root)``: which bootloader
  manages the system and whether Secure Boot enforces signatures, the one
  answer kernel_cmdline, boot_entry and kernel_preflight give (the rollout's
  preflight.sh repeats it in shell; a differential unit test keeps them equal).

Pure Python like the rest of module_utils: no Ansible import, so the unit tests
and the command-line checker use it as they are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import tempfile

from . import grub
from .errors import HyperionError, SourceError
# One reader for the whole collection: facts gathering already reports an unreadable file this way.
from .facts import read_text as read_file

# Where a managed system keeps the tools we run, in the order a root shell's PATH finds them.
BIN_DIRS = ('usr/sbin', 'usr/bin', 'sbin', 'bin')
# Where an ESP (or XBOOTLDR) is mounted when bootctl cannot say (no runner, or a root other than /).
ESP_CANDIDATES = ('efi', 'boot', 'boot/efi')
EFI_GLOBAL_GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c'

__all__ = ['BIN_DIRS', 'EFI_GLOBAL_GUID', 'ESP_CANDIDATES', 'Host', 'atomic_write', 'detect_bootloader',
           'entry_files', 'find_entry_dirs', 'has_systemd_boot', 'read_efi_bool', 'read_file', 'secure_boot_state']


class Host(object):
    """File reads below ``root`` and command runs (inside ``root`` through chroot when it is not /).

    ``run`` may be None for a plan that needs no command; ``run()`` then raises
    ``error``. ``error`` is the HyperionError subclass the caller reports
    (kernel_cmdline and boot_entry pass CmdlineError), so a failed or missing
    command is a message, never a traceback.
    """

    # Where find_tool() looks, for messages that say so.
    bin_dirs = BIN_DIRS

    def __init__(self, root, run, error=HyperionError):
        self.root = root
        self.run_callable = run
        self.error = error

    def path(self, rel):
        """The absolute path of ``rel`` (with or without a leading /) below root."""
        return os.path.join(self.root, rel.lstrip('/'))

    def read(self, rel):
        """The text of ``rel`` below root, or None when it does not exist."""
        return read_file(self.path(rel))

    def find_tool(self, name):
        """The managed system's path of tool ``name`` (as seen inside root), or None."""
        for directory in BIN_DIRS:
            if os.path.isfile(self.path(os.path.join(directory, name))):
                return '/' + os.path.join(directory, name)
        return None

    def command(self, argv):
        """The argv that runs a tool of the managed system."""
        if os.path.realpath(self.root) == '/':
            return list(argv)
        return ['chroot', self.root] + list(argv)

    def run(self, argv, what):
        """Run ``argv`` for ``what`` (said in the error) and return its stdout; raise ``error`` on failure."""
        if self.run_callable is None:
            raise self.error('%s needs to run %s, but no command runner was given' % (what, argv[0]))
        try:
            rc, out, err = self.run_callable(argv)
        except (IOError, OSError) as exc:
            # A runner over subprocess raises when the program is missing; say which one instead of a traceback.
            raise self.error('%s: cannot run %s: %s' % (what, argv[0], exc.strerror or exc))
        if rc != 0:
            raise self.error('%s: %s failed (rc=%s): %s' % (what, ' '.join(argv), rc, (err or out or '').strip()[-800:]))
        return out


def replace_file(path, data, mode, uid=None, gid=None):
    """Write DATA (bytes) beside PATH, fsync, set MODE (and UID:GID when given and not ours), rename over
    PATH, fsync the directory. A reader sees the old or the new file, never half of one; a directory at
    PATH is refused by the rename (OSError), and the temporary file is removed."""
    directory = os.path.dirname(path)
    handle, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.hyperion-tmp', dir=directory)
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        if uid is not None and (uid, gid) != (os.getuid(), os.getgid()):
            os.chown(temp, uid, gid)
        os.rename(temp, path)
    except BaseException:
        if os.path.lexists(temp):
            os.unlink(temp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write(path, text):
    """replace_file for a text file that keeps the old file's mode and owner (0644 and ours when new).

    GRUB's scripts, the boot loader and a second run read these files: they see the old or the new one.
    """
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    try:
        old = os.stat(path)
    except OSError:
        old = None
    owner = (None, None)
    if old is not None and os.getuid() == 0:
        owner = (old.st_uid, old.st_gid)  # not root: the file stays ours, which is what we could write anyway
    replace_file(path, text.encode('utf-8'), old.st_mode & 0o7777 if old else 0o644, *owner)


# ---------------------------------------------------------------- bootloader and Secure Boot

def find_entry_dirs(host):
    """Directories holding Type #1 entries: bootctl's ESP and XBOOTLDR, else /efi, /boot, /boot/efi."""
    candidates = []
    if os.path.realpath(host.root) == '/' and host.run_callable is not None:
        for flag in ('--print-esp-path', '--print-boot-path'):
            rc, out, _err = host.run_callable(['bootctl', flag])
            if rc == 0 and out.strip():
                candidates.append(out.strip())
    candidates.extend('/' + rel for rel in ESP_CANDIDATES)
    found = []
    for candidate in candidates:
        entries = os.path.join(host.path(candidate), 'loader', 'entries')
        real = os.path.realpath(entries)
        if os.path.isdir(entries) and real not in [os.path.realpath(f) for f in found]:
            found.append(entries)
    return found


def entry_files(directory):
    """The Type #1 entries of one directory find_entry_dirs() gave: its *.conf files, in name order."""
    return sorted(glob.glob(os.path.join(directory, '*.conf')))


def has_systemd_boot(host):
    """Whether a systemd-boot binary is installed on one of the ESP candidates."""
    for candidate in ESP_CANDIDATES:
        if glob.glob(os.path.join(host.path(candidate), 'EFI', 'systemd', 'systemd-boot*.efi')):
            return True
    return False


def detect_bootloader(host):
    """'grubby', 'systemd-boot' or 'grub': the bootloader managing the system below ``host.root``; None if none.

    grubby comes first: Fedora/EL also have GRUB's files, but grubby owns their BLS entries.
    """
    if host.find_tool('grubby') and (os.path.isdir(host.path('boot/loader/entries')) or host.find_tool('grub2-mkconfig')):
        return 'grubby'
    if has_systemd_boot(host) and find_entry_dirs(host):
        return 'systemd-boot'
    if grub.is_installed(host):
        return 'grub'
    return None


def read_efi_bool(path, error=SourceError):
    """The value byte of a boolean EFI variable file (4 attribute bytes, then the value), or None."""
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError):
        return None
    if len(raw) < 5:
        raise error('%s holds %d bytes; an EFI boolean variable has 4 attribute bytes and a value'
                    % (path, len(raw)))
    return raw[4] if isinstance(raw[4], int) else ord(raw[4])


def secure_boot_state(root, error=SourceError):
    """'bios' (no EFI: off), 'on', 'off', 'setup' (setup mode: keys not enforced) or 'unknown' (EFI, variable missing)."""
    efi = os.path.join(root, 'sys/firmware/efi')
    if not os.path.isdir(efi):
        return 'bios'
    value = read_efi_bool(os.path.join(efi, 'efivars', 'SecureBoot-' + EFI_GLOBAL_GUID), error)
    if value is None:
        return 'unknown'
    if read_efi_bool(os.path.join(efi, 'efivars', 'SetupMode-' + EFI_GLOBAL_GUID), error) == 1:
        return 'setup'
    return 'on' if value == 1 else 'off'

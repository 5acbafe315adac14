# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks before a kernel is installed: room on /boot, Secure Boot vs an unsigned kernel, CPU architecture.

``gather_host(root)`` reads the host below ``root``: free space where /boot and the
modules directory live, the initramfs images and kernels already in /boot, the
Secure Boot state from the EFI variable (no /sys/firmware/efi = BIOS = off) and
the bootloader, both as host.py reads them for every module.
``inspect_kernel_image(data)`` tells whether a kernel image (bzImage/EFI stub, a
PE/COFF file) carries an Authenticode signature. ``check(host, package)`` returns
the refusals; an empty list means the install may go ahead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import struct

from . import host as host_utils
from . import validation
from .errors import HyperionError

# Kernel package architecture names per package format, as the CPU (uname -m) names them.
ARCH_ALIASES = {
    'x86_64': ('amd64', 'x86_64'),
    'aarch64': ('arm64', 'aarch64'),
    'i686': ('i386', 'i686'),
    'armv7l': ('armhf', 'armv7hl', 'armv7h'),
    'riscv64': ('riscv64',),
    'ppc64le': ('ppc64el', 'ppc64le'),
    's390x': ('s390x',),
}
INITRAMFS_GLOBS = ('initrd.img-*', 'initramfs-*.img', 'initrd-*')
# Without an initramfs to go by, assume this much for the new one (Debian's generic initramfs is 30-70 MiB).
DEFAULT_INITRAMFS_BYTES = 64 * 1024 * 1024
MIB = 1024 * 1024
# A margin larger than this is a typo (GiB for MiB): no /boot partition is that large.
MAX_MARGIN_MIB = 4096


class PreflightError(HyperionError):
    """Input the preflight cannot judge (a package description, an unreadable file)."""


def _free_bytes(path):
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize, stat.f_fsid if hasattr(stat, 'f_fsid') else None


def _device(path):
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


def read_efi_bool(path):
    """The value byte of a boolean EFI variable file (4 attribute bytes, then the value), or None."""
    return host_utils.read_efi_bool(path, PreflightError)


def secure_boot_state(root):
    """host.secure_boot_state(), the one reading kernel_cmdline's and the rollout's preflight share."""
    return host_utils.secure_boot_state(root, PreflightError)


def gather_host(root='/', machine=None, modules_dir='usr/lib/modules'):
    """What the checks need from the host below ``root``, as a JSON-friendly dict."""
    boot = os.path.join(root, 'boot')
    if not os.path.isdir(boot):
        raise PreflightError('%s is not a directory: where are kernels installed on this system?' % boot)
    modules = os.path.join(root, modules_dir)
    if not os.path.isdir(modules):
        modules = root
    boot_free, _fsid = _free_bytes(boot)
    modules_free, _fsid = _free_bytes(modules)
    initramfs = {}
    for pattern in INITRAMFS_GLOBS:
        for path in glob.glob(os.path.join(boot, pattern)):
            if os.path.isfile(path) and not path.endswith('.bak'):
                initramfs[os.path.basename(path)] = os.path.getsize(path)
    kernels = dict((os.path.basename(p), os.path.getsize(p)) for p in glob.glob(os.path.join(boot, 'vmlinuz-*'))
                   if os.path.isfile(p))
    return {
        'machine': machine or os.uname()[4],
        'boot_free_bytes': boot_free,
        'modules_free_bytes': modules_free,
        'boot_and_modules_share_fs': _device(boot) == _device(modules),
        'initramfs_bytes': initramfs,
        'kernel_bytes': kernels,
        'secure_boot': secure_boot_state(root),
        # The same detection kernel_cmdline and boot_entry use, so a preflight and a later change agree.
        'bootloader': host_utils.detect_bootloader(host_utils.Host(root, None)) or 'unknown',
    }


def pe_signature_size(data):
    """Size of the Authenticode certificate table of a PE/COFF image (0 = unsigned), None if not a PE file.

    ``data`` needs only the headers (the first few KiB of the kernel image).
    """
    if len(data) < 0x40 or data[:2] != b'MZ':
        return None
    pe_offset = struct.unpack_from('<I', data, 0x3c)[0]
    if pe_offset + 24 > len(data) or data[pe_offset:pe_offset + 4] != b'PE\0\0':
        return None
    optional = pe_offset + 24
    magic = struct.unpack_from('<H', data, optional)[0]
    if magic == 0x10b:  # PE32
        directories = optional + 96
    elif magic == 0x20b:  # PE32+
        directories = optional + 112
    else:
        return None
    count = struct.unpack_from('<I', data, directories - 4)[0]
    if count < 5 or directories + 5 * 8 > len(data):
        return 0
    _address, size = struct.unpack_from('<II', data, directories + 4 * 8)  # entry 4: certificate table
    return size


def inspect_kernel_image(data):
    """'signed', 'unsigned' or 'not_pe' (no EFI stub: cannot be booted by a Secure Boot firmware at all)."""
    size = pe_signature_size(data)
    if size is None:
        return 'not_pe'
    return 'signed' if size > 0 else 'unsigned'


def validate_package(package):
    if not isinstance(package, dict):
        raise PreflightError('package must be a dictionary, got %r' % (package,))
    for key in ('release', 'arch'):
        if not isinstance(package.get(key), str) or not package.get(key):
            raise PreflightError('package.%s is required (a string), got %r' % (key, package.get(key)))
    # The release names /boot/vmlinuz-<release> and /lib/modules/<release>: one path component.
    validation.require('kernel_release', package['release'], 'package.release')
    for key in ('boot_bytes', 'installed_bytes'):
        value = package.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise PreflightError('package.%s must be a number of bytes, got %r' % (key, value))
    if package.get('signature') not in (None, 'signed', 'unsigned', 'not_pe'):
        raise PreflightError('package.signature must be signed, unsigned or not_pe, got %r' % package.get('signature'))
    return package


def estimate_boot_bytes(host, package):
    """Bytes the new kernel needs in /boot: its files there plus an initramfs as large as the largest one now."""
    initramfs = max(host['initramfs_bytes'].values()) if host['initramfs_bytes'] else DEFAULT_INITRAMFS_BYTES
    files = package.get('boot_bytes')
    if files is None:
        files = max(host['kernel_bytes'].values()) if host['kernel_bytes'] else 16 * MIB
    return files + initramfs


def _arch_matches(machine, arch):
    names = ARCH_ALIASES.get(machine, (machine,))
    return arch in names or arch in ('all', 'any', 'noarch')


def check(host, package, margin_bytes=8 * MIB, allow_unsigned=False):
    """(refusals, report): refusals is a list of messages; report holds the numbers the decision used."""
    validate_package(package)
    validation.bounded_int(margin_bytes // MIB, 'margin_mib', 0, MAX_MARGIN_MIB, why='more room than any /boot has')
    refusals = []
    release = package['release']
    need_boot = estimate_boot_bytes(host, package) + margin_bytes
    need_modules = package.get('installed_bytes') or 0
    if host['boot_and_modules_share_fs']:
        need_boot += need_modules
    report = {'boot_needed_bytes': need_boot, 'boot_free_bytes': host['boot_free_bytes'],
              'modules_needed_bytes': need_modules, 'modules_free_bytes': host['modules_free_bytes'],
              'secure_boot': host['secure_boot'], 'signature': package.get('signature'),
              'machine': host['machine'], 'arch': package['arch']}
    if not _arch_matches(host['machine'], package['arch']):
        refusals.append('kernel %s is built for %s, but this machine is %s (uname -m): it cannot boot it'
                        % (release, package['arch'], host['machine']))
    if need_boot > host['boot_free_bytes']:
        refusals.append('/boot has %d MiB free, kernel %s needs about %d MiB there (its files, an initramfs as large '
                        'as the largest one in /boot now, %d MiB margin%s): free space first, e.g. remove an old '
                        'kernel' % (host['boot_free_bytes'] // MIB, release, need_boot // MIB, margin_bytes // MIB,
                                    ', and its modules on the same file system' if host['boot_and_modules_share_fs']
                                    else ''))
    elif not host['boot_and_modules_share_fs'] and need_modules > host['modules_free_bytes']:
        refusals.append('the modules of kernel %s need %d MiB, the file system of the modules directory has %d MiB '
                        'free' % (release, need_modules // MIB, host['modules_free_bytes'] // MIB))
    signature = package.get('signature')
    if host['secure_boot'] == 'on' and signature in ('unsigned', 'not_pe') and not allow_unsigned:
        refusals.append('Secure Boot is on and kernel %s is %s: the firmware (or shim) would refuse to start it. '
                        'Sign the kernel with a key the machine trusts (MOK), or turn Secure Boot off'
                        % (release, 'not signed' if signature == 'unsigned' else 'not an EFI image'))
    if host['secure_boot'] == 'on' and signature is None and not allow_unsigned:
        refusals.append('Secure Boot is on and the signature of kernel %s was not inspected; give package.signature'
                        % release)
    return refusals, report


_RELEASE_FROM_PATH = re.compile(r'(?:^|/)(?:boot/vmlinuz-|lib/modules/)([^/]+)')


def release_from_paths(paths):
    """The kernel release of a package from its file list (boot/vmlinuz-R or lib/modules/R/)."""
    for path in paths:
        match = _RELEASE_FROM_PATH.search(path)
        if match:
            return match.group(1)
    return None


# ---------------------------------------------------------------- package files

def _ar_members(handle):
    """(name, offset, size) of each member of an ar archive (a .deb)."""
    if handle.read(8) != b'!<arch>\n':
        raise PreflightError('not an ar archive (a .deb starts with !<arch>)')
    members = []
    while True:
        header = handle.read(60)
        if len(header) < 60:
            return members
        name = header[:16].decode('ascii', 'replace').strip().rstrip('/')
        size = int(header[48:58].decode('ascii').strip())
        members.append((name, handle.tell(), size))
        handle.seek(size + (size % 2), 1)


def describe_tar(fileobj, arch=None, installed_bytes=None, mode='r|*'):
    """release, boot_bytes, installed_bytes, signature of a kernel package's file tree (a tar stream)."""
    import tarfile
    release = None
    boot_bytes = 0
    total = 0
    signature = None
    image_names = []
    with tarfile.open(fileobj=fileobj, mode=mode) as tar:
        for member in tar:
            name = member.name.lstrip('./')
            if not member.isfile():
                continue
            total += member.size
            found = release_from_paths([name])
            if found and release is None:
                release = found
            base = os.path.basename(name)
            if name.startswith('boot/'):
                boot_bytes += member.size
            if (name.startswith('boot/vmlinuz-') or re.fullmatch(r'(usr/)?lib/modules/[^/]+/vmlinuz', name)) \
                    and signature is None:
                head = tar.extractfile(member).read(64 * 1024)
                signature = inspect_kernel_image(head)
                image_names.append(base)
    if release is None:
        raise PreflightError('the package holds no boot/vmlinuz-* and no lib/modules/<release>/: is it a kernel '
                             'image package?')
    if boot_bytes == 0:
        # rpm and pacman kernels keep the image under the modules directory; kernel-install copies it to /boot.
        boot_bytes = sum(1 for _n in image_names) and 16 * MIB
    return {'release': release, 'arch': arch, 'boot_bytes': boot_bytes,
            'installed_bytes': installed_bytes if installed_bytes is not None else total, 'signature': signature}


def describe_deb(path, run=None):
    """Describe a .deb in pure Python (ar + tar); a zstd data member is read through ``dpkg-deb --fsys-tarfile``."""
    import io
    import tarfile
    try:
        with open(path, 'rb') as handle:
            members = _ar_members(handle)
            control = data = None
            for name, offset, size in members:
                if name.startswith('control.tar'):
                    control = (name, offset, size)
                elif name.startswith('data.tar'):
                    data = (name, offset, size)
            if control is None or data is None:
                raise PreflightError('%s has no control.tar or data.tar member: not a Debian package' % path)
            fields = {}
            handle.seek(control[1])
            blob = handle.read(control[2])
            if control[0].endswith('.zst'):
                raise PreflightError('%s: a zstd-compressed control member is not supported' % path)
            with tarfile.open(fileobj=io.BytesIO(blob), mode='r:*') as tar:
                for member in tar:
                    if member.name.lstrip('./') == 'control':
                        for line in tar.extractfile(member).read().decode('utf-8', 'replace').splitlines():
                            key, sep, value = line.partition(':')
                            if sep and not line.startswith(' '):
                                fields[key.strip()] = value.strip()
            installed = int(fields['Installed-Size']) * 1024 if fields.get('Installed-Size', '').isdigit() else None
            if data[0].endswith('.zst'):
                if run is None:
                    raise PreflightError('%s: the data member is zstd-compressed; dpkg-deb is needed to read it' % path)
                rc, out, err = run(['dpkg-deb', '--fsys-tarfile', path])
                if rc != 0:
                    raise PreflightError('dpkg-deb --fsys-tarfile %s failed: %s' % (path, err))
                described = describe_tar(io.BytesIO(out), fields.get('Architecture'), installed)
            else:
                handle.seek(data[1])
                described = describe_tar(io.BytesIO(handle.read(data[2])), fields.get('Architecture'), installed)
    except (IOError, OSError) as exc:
        raise PreflightError('cannot read %s: %s' % (path, exc.strerror or exc))
    except (tarfile.TarError, ValueError, EOFError) as exc:
        if isinstance(exc, HyperionError):
            raise
        raise PreflightError('%s is not a readable Debian package: %s' % (path, exc))
    described['name'] = fields.get('Package')
    described['version'] = fields.get('Version')
    return described

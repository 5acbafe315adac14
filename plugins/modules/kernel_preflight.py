#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kernel_preflight
short_description: Refuse a kernel package this machine cannot install or boot, before anything changes
version_added: 0.1.0
description:
  - Reads the host and a kernel package and fails with one message per problem when the package must not be installed.
    Changes nothing on the host, ever.
  - "Room: /boot must hold the kernel's files from the package plus an initramfs as large as the largest one in /boot
    now (64 MiB when there is none), plus O(margin_mib); where /boot and the modules directory share a file system,
    the package's installed size is added."
  - "Secure Boot: read from the EFI variable C(SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c) (no
    C(/sys/firmware/efi) = BIOS = off, C(SetupMode) 1 = keys not enforced). When it is on, a kernel image without an
    Authenticode signature (its PE/COFF certificate table is empty) is refused."
  - "Architecture: the package's architecture (C(amd64), C(x86_64), C(arm64) ...) against C(uname -m)."
  - "O(package_path) is read by the module: a C(.deb) in pure Python (ar and tar; a zstd data member through
    C(dpkg-deb --fsys-tarfile)). Other formats are described by the caller through O(package)."
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  package_path:
    description:
      - Path of a kernel image C(.deb) on the managed host. Mutually exclusive with O(package).
    type: path
  package:
    description:
      - The package described by the caller (an C(.rpm) or C(.pkg.tar.zst), or a package known by its metadata).
    type: dict
    suboptions:
      release:
        description: Kernel release (C(uname -r) of the new kernel).
        type: str
        required: true
      arch:
        description: Package architecture.
        type: str
        required: true
      boot_bytes:
        description: Bytes the package installs under /boot (without the initramfs).
        type: int
      installed_bytes:
        description: Installed size of the package in bytes.
        type: int
      signature:
        description: Whether the kernel image carries a signature.
        type: str
        choices: [signed, unsigned, not_pe]
  margin_mib:
    description: Extra room to keep free on /boot, in MiB, from V(0) to V(4096).
    type: int
    default: 8
  allow_unsigned:
    description:
      - Install an unsigned kernel although Secure Boot is on (for machines whose shim trusts a key that signs the
        kernel later, e.g. through DKMS/MOK hooks). The refusal is the safe default.
    type: bool
    default: false
  root:
    description: Root directory of the system to check.
    type: path
    default: /
extends_documentation_fragment:
  - hyperion.kernel.attributes
attributes:
  check_mode:
    support: full
    details: Reads only, in every mode.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
seealso:
  - module: hyperion.kernel.boot_entry
'''

EXAMPLES = r'''
- name: Refuse the package before anything is installed
  hyperion.kernel.kernel_preflight:
    package_path: /var/tmp/hyperion-kernel/linux-image-6.12.117-hyperion_6.12.117-1_amd64.deb

- name: An RPM described by its metadata
  hyperion.kernel.kernel_preflight:
    package: {release: 6.12.117-hyperion.fc41.x86_64, arch: x86_64, boot_bytes: 16000000, signature: unsigned}
'''

RETURN = r'''
package:
  description: The package as judged (release, arch, boot_bytes, installed_bytes, signature; name and version for a .deb).
  returned: success
  type: dict
  sample: {release: 6.12.117-hyperion, arch: amd64, boot_bytes: 9500000, installed_bytes: 60000000, signature: unsigned}
host:
  description: What was read on the host (machine, free bytes, initramfs and kernel sizes in /boot, secure_boot, bootloader).
  returned: success
  type: dict
report:
  description: The numbers the decision used (bytes needed and free, Secure Boot state, signature, architectures).
  returned: always
  type: dict
refusals:
  description: One message per reason the package must not be installed; the module fails when it is not empty.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.preflight import check, describe_deb, gather_host


def main():
    module = AnsibleModule(
        argument_spec=dict(
            package_path=dict(type='path'),
            package=dict(type='dict', options=dict(
                release=dict(type='str', required=True),
                arch=dict(type='str', required=True),
                boot_bytes=dict(type='int'),
                installed_bytes=dict(type='int'),
                signature=dict(type='str', choices=['signed', 'unsigned', 'not_pe']),
            )),
            margin_mib=dict(type='int', default=8),
            allow_unsigned=dict(type='bool', default=False),
            root=dict(type='path', default='/'),
        ),
        mutually_exclusive=[('package_path', 'package')],
        required_one_of=[('package_path', 'package')],
        supports_check_mode=True,
    )
    args = module.params

    def run(argv):
        return module.run_command(argv, encoding=None)

    try:
        if args['package_path']:
            if not args['package_path'].endswith('.deb'):
                module.fail_json(msg='package_path %s is not a .deb; describe other formats through package'
                                 % args['package_path'], refusals=[], report={})
            package = describe_deb(args['package_path'], run=run)
        else:
            package = dict((key, value) for key, value in args['package'].items() if value is not None)
        host = gather_host(args['root'])
        refusals, report = check(host, package, margin_bytes=args['margin_mib'] * 1024 * 1024,
                                 allow_unsigned=args['allow_unsigned'])
    except HyperionError as exc:
        module.fail_json(msg=str(exc), refusals=[], report={})
    if refusals:
        module.fail_json(msg='kernel %s refused before any change: %s' % (package['release'], ' | '.join(refusals)),
                         refusals=refusals, report=report, package=package, host=host)
    module.exit_json(changed=False, package=package, host=host, report=report, refusals=[],
                     msg='kernel %s may be installed: %d MiB needed on /boot, %d MiB free, Secure Boot %s, %s'
                     % (package['release'], report['boot_needed_bytes'] // 1048576,
                        report['boot_free_bytes'] // 1048576, report['secure_boot'], package.get('signature')))


if __name__ == '__main__':
    main()

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the pip bootstrap script ansible-test downloads.

ansible-test fetches get-pip.py from its own file server before it builds each
sanity venv; these machines reach only the package registries. The Makefile
puts this script in ansible-test's cache under the name it looks for. It does
what get-pip does, from what is here: pip from the interpreter's ensurepip,
then the pinned packages ansible-test asked for from the package index.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ensurepip
import os
import subprocess
import sys

# Options only get-pip itself understands.
GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')


def main():
    ensurepip.bootstrap(upgrade=True)
    # ensurepip points PIP_CONFIG_FILE at /dev/null for itself; the install below
    # needs the machine's pip configuration (index, certificates) back.
    env = dict(os.environ)
    env.pop('PIP_CONFIG_FILE', None)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args, env=env))


if __name__ == '__main__':
    main()

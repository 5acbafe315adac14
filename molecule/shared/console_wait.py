# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a line on a lab machine's serial console, after a given point of its log.

    python3 console_wait.py LOG OFFSET REGEX TIMEOUT

Reads LOG (a lab machine's serial.log, which only grows while the machine runs) from byte OFFSET on and
prints, as JSON, the first line that REGEX matches (searched, terminal codes stripped), the byte offset
just after it and the controller's time (UTC epoch seconds) at which it was seen. Exits 1 with the
last lines read when TIMEOUT seconds pass first. A scenario uses it to follow a boot it cannot reach
over SSH: the console is the evidence of a kernel that never brings its network up.
"""

from __future__ import absolute_import, division, print_function

import json
import re
import sys
import time

ANSI_RE = re.compile(r'\x1b\[[0-9;:?]*[A-Za-z]|\r')
POLL_S = 0.5


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    path, offset, pattern, timeout = argv[1], int(argv[2]), re.compile(argv[3]), float(argv[4])
    deadline = time.time() + timeout
    pending = b''
    seen = []
    with open(path, 'rb') as handle:
        handle.seek(offset)
        while True:
            chunk = handle.read()
            if chunk:
                pending += chunk
                *lines, pending = pending.split(b'\n')
                for raw in lines:
                    offset += len(raw) + 1
                    line = ANSI_RE.sub('', raw.decode('utf-8', 'replace'))
                    seen = (seen + [line])[-20:]
                    if pattern.search(line):
                        print(json.dumps({'line': line, 'offset': offset, 'seen_at': time.time()}))
                        return 0
            elif time.time() > deadline:
                sys.stderr.write('no line matching %r in %s within %d s; the last lines read:\n%s\n'
                                 % (argv[3], path, timeout, '\n'.join(seen)))
                return 1
            else:
                time.sleep(POLL_S)


if __name__ == '__main__':
    sys.exit(main(sys.argv))

# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The private apt state's core, on apt's answers captured in the rollout scenario (Debian trixie, apt 3 with sqv).

The module's test (tests/unit/plugins/modules/test_apt_repo_fetch.py) runs the same code against this
machine's real apt and gpg.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import apt_repo
from ansible_collections.hyperion.kernel.tests.unit.conftest import fixture_path

# The W:/E: lines of apt-get update of a repository signed by another key (trixie, sqv), as the rollout
# scenario's ro-b printed them.
WRONG_KEY = (
    "W: OpenPGP signature verification failed: http://10.77.0.1 hyperion InRelease: Sub-process /usr/bin/sqv returned "
    "an error code (1), error message is: Missing key EBB26C608C0905F0F46EA0FCC0797DA74ECDE1BC, which is needed to "
    "verify signature.\n"
    "E: The repository 'http://10.77.0.1 hyperion InRelease' is not signed.\n"
)
# The same with nothing listening on the repository's port.
UNREACHABLE = (
    "W: Failed to fetch http://10.77.0.1:9/dists/hyperion/InRelease  Unable to connect to 10.77.0.1:9:\n"
    "W: Some index files failed to download. They have been ignored, or old ones used instead.\n"
)
# apt-cache show of a Debian package with an epoch, two versions (tests/unit/fixtures/apt/).
with open(fixture_path('apt', 'apt-cache-show-openssh-client.txt')) as _handle:
    SHOW = _handle.read()


def test_update_verdicts():
    assert apt_repo.update_verdict(0, '') == apt_repo.OK
    # apt 3 ends 100 on a missing signature; older apt ends 0 and only warns: both untrusted.
    assert apt_repo.update_verdict(100, WRONG_KEY) == apt_repo.UNTRUSTED
    assert apt_repo.update_verdict(0, WRONG_KEY.split('E: ', maxsplit=1)[0]) == apt_repo.UNTRUSTED
    assert apt_repo.update_verdict(0, UNREACHABLE) == apt_repo.UNREACHABLE
    assert apt_repo.update_verdict(100, '') == apt_repo.UNTRUSTED


def test_messages_quote_apt_problem_lines_only():
    message = apt_repo.untrusted_message('http://10.77.0.1/', 'hyperion', WRONG_KEY)
    assert message == (
        "The repository http://10.77.0.1/ (hyperion) cannot be trusted with the key in kernel_repo_key, refused before "
        "any change: " + ' '.join(WRONG_KEY.splitlines()))
    # Only apt's problem lines, not its progress.
    assert apt_repo.apt_detail('Ign:1 http://10.77.0.1 hyperion InRelease\n' + UNREACHABLE) == ' '.join(UNREACHABLE.splitlines())
    message = apt_repo.unreachable_message('http://10.77.0.1:9/', 'hyperion', 2, UNREACHABLE)
    assert message.startswith('The repository http://10.77.0.1:9/ (hyperion) cannot be reached (asked 2 times), '
                              'refused before any change: W: Failed to fetch')
    # No W:/E: line: apt's whole output.
    assert apt_repo.apt_detail('  something else\n') == 'something else'


def test_first_stanza_and_download_name():
    fields = apt_repo.parse_stanza(SHOW)
    # The first stanza only; a continuation line (Tag's) is not a field.
    assert fields['Package'] == 'openssh-client' and fields['Version'] == '1:9.2p1-2+deb12u10'
    assert fields['SHA256'] == '42c250b8b9110382488c53c066a960bc564ddac2cb9e449f47b6cdbb5fc1cb60'
    assert fields['Tag'] == 'implemented-in::c, interface::commandline, interface::shell,'
    # apt-get download names the file with the epoch, unlike the pool's Filename.
    assert fields['Filename'].endswith('/openssh-client_9.2p1-2+deb12u10_amd64.deb')
    assert apt_repo.download_file_name(fields) == 'openssh-client_1%3a9.2p1-2+deb12u10_amd64.deb'
    assert apt_repo.parse_stanza('') == {}


def test_listed_packages():
    assert apt_repo.listed_packages([SHOW, 'Package: a\nVersion: 1\n']) == ['a', 'openssh-client']
    assert apt_repo.listed_packages(['']) == []


def test_private_options_and_source():
    options = apt_repo.private_options('/var/cache/hyperion-kernel')
    assert options[1::2] == [
        'Dir::Etc::SourceList=/dev/null',
        'Dir::Etc::SourceParts=/var/cache/hyperion-kernel/apt-check/sources.list.d',
        'Dir::State::Lists=/var/cache/hyperion-kernel/apt-check/lists',
        'Dir::Cache=/var/cache/hyperion-kernel/apt-check/cache',
        'APT::Sandbox::User=root',
    ] and set(options[0::2]) == {'-o'}
    assert apt_repo.check_source('https://apt.example/h', 'hyperion', 'main', '/k.asc') == (
        'Types: deb\nURIs: https://apt.example/h\nSuites: hyperion\nComponents: main\nSigned-By: /k.asc\n')


def test_validate():
    assert apt_repo.validate('https://apt.example/h', 'hyperion', 'main', 'linux-image-6.19.2+hyp1-hyperion') == []
    problems = apt_repo.validate('ftp://x', 'a b', 'main contrib', '-x')
    # apt takes a component with a "/" (as the old security archive's updates/main) and a file:// URL.
    assert apt_repo.validate('file:///srv/repo', 'stable', 'updates/main', 'linux-image-hyperion') == []
    assert [problem.split(' ')[0] for problem in problems] == ['url', 'suite', 'component', 'package']


@given(st.text())
def test_any_apt_output_gets_a_verdict(stderr):
    assert apt_repo.update_verdict(0, stderr) in (apt_repo.OK, apt_repo.UNREACHABLE, apt_repo.UNTRUSTED)
    assert apt_repo.update_verdict(1, stderr) != apt_repo.OK


@given(st.lists(st.from_regex(r'[a-z0-9][a-z0-9+.-]{1,20}', fullmatch=True), max_size=8))
def test_listed_packages_reads_back_every_name(names):
    text = ''.join('Package: %s\nVersion: 1\n\n' % name for name in names)
    assert apt_repo.listed_packages([text]) == sorted(set(names))

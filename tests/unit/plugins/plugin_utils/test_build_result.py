# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding the test kernel build and reading its result.json (a real record of the build role)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

import pytest

from ansible_collections.hyperion.kernel.plugins.plugin_utils.build_result import cache_dir, package_dir, read_build_result
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import SourceError
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import make_test_kernel_build


def test_packages_are_found_next_to_the_record_not_at_the_recorded_paths(tmp_path):
    recorded = make_test_kernel_build(str(tmp_path))
    assert recorded['packages'][0].startswith('CACHE/')
    build = read_build_result(str(tmp_path))
    assert build['release'] == '6.12.118-hyperion'
    assert build['source'] == 'linux-source-6.12_6.12.118-1'
    assert build['key'] == 'linux-source-6.12_6.12.118-1-3deb6fc4baec3bfc'
    assert [os.path.dirname(p) for p in build['packages']] == [str(tmp_path)] * 3
    assert os.path.basename(build['image']) == 'linux-image-6.12.118-hyperion_6.12.118-1_amd64.deb'
    content = b'package linux-image-6.12.118-hyperion_6.12.118-1_amd64.deb'
    assert build['image_sha256'] == hashlib.sha256(content).hexdigest()


def test_a_rebuilt_image_is_hashed_again(tmp_path):
    make_test_kernel_build(str(tmp_path))
    first = read_build_result(str(tmp_path))
    assert read_build_result(str(tmp_path))['image_sha256'] == first['image_sha256']
    # A new build of the same name: other content and size, so another file version.
    with open(first['image'], 'wb') as handle:
        handle.write(b'rebuilt image')
    assert read_build_result(str(tmp_path))['image_sha256'] == hashlib.sha256(b'rebuilt image').hexdigest()


def test_no_build_says_how_to_make_one(tmp_path):
    with pytest.raises(SourceError, match=r'no test kernel build in .*make kernel-package'):
        read_build_result(str(tmp_path / 'absent'))


def test_a_listed_package_that_is_gone_is_named(tmp_path):
    make_test_kernel_build(str(tmp_path), drop='linux-headers-6.12.118-hyperion_6.12.118-1_amd64.deb')
    with pytest.raises(SourceError, match=r'lists linux-headers-6\.12\.118-hyperion_6\.12\.118-1_amd64\.deb, which is not in'):
        read_build_result(str(tmp_path))


@pytest.mark.parametrize('content', ['{"kernel_release": "6.12.118-hyperion"', '[]', '{"packages": []}'])
def test_a_broken_record_is_refused(tmp_path, content):
    (tmp_path / 'result.json').write_text(content)
    with pytest.raises(SourceError, match=r'result\.json'):
        read_build_result(str(tmp_path))


def test_a_record_without_an_image_is_refused(tmp_path):
    (tmp_path / 'linux-libc-dev_6.12.118-1_amd64.deb').write_bytes(b'x')
    (tmp_path / 'result.json').write_text(json.dumps({'kernel_release': '6.12.118-hyperion',
                                                      'packages': ['CACHE/linux-libc-dev_6.12.118-1_amd64.deb']}))
    with pytest.raises(SourceError, match='0 linux-image packages'):
        read_build_result(str(tmp_path))


@pytest.mark.parametrize('environ, expected', [
    ({'HYPERION_KERNEL_PACKAGE_DIR': '/srv/build', 'HYPERION_CACHE': '/c'}, '/srv/build'),
    ({'HYPERION_CACHE': '/c', 'XDG_CACHE_HOME': '/x', 'HOME': '/h'}, '/c/kernel-package/latest'),
    ({'XDG_CACHE_HOME': '/x', 'HOME': '/h'}, '/x/hyperion-kernel/kernel-package/latest'),
    ({'HOME': '/h'}, '/h/.cache/hyperion-kernel/kernel-package/latest'),
    ({'HYPERION_CACHE': '', 'HOME': '/h'}, '/h/.cache/hyperion-kernel/kernel-package/latest'),
])
def test_the_package_dir_follows_the_makefile(environ, expected):
    assert package_dir(environ) == expected
    if 'HYPERION_KERNEL_PACKAGE_DIR' not in environ:
        assert expected.startswith(cache_dir(environ))


def test_a_record_without_patches_or_accepted_items_reads_as_none(tmp_path):
    # Records written before the build role recorded them (the captured one is such a record).
    recorded = make_test_kernel_build(str(tmp_path))
    assert 'patches' not in recorded and 'accepted_missing' not in recorded
    build = read_build_result(str(tmp_path))
    assert build['patches'] == [] and build['accepted_missing'] == {} and build['profile_skips'] == {}


def test_patches_and_accepted_items_come_from_the_record(tmp_path):
    recorded = make_test_kernel_build(str(tmp_path))
    recorded.update(patches=['0001-bore.patch', '0002-adios.patch'],
                    accepted_missing={'CONFIG_RUST': 'test kernel built without the Rust toolchain'})
    with open(os.path.join(str(tmp_path), 'result.json'), 'w') as handle:
        json.dump(recorded, handle)
    build = read_build_result(str(tmp_path))
    assert build['patches'] == ['0001-bore.patch', '0002-adios.patch']
    assert build['accepted_missing'] == {'CONFIG_RUST': 'test kernel built without the Rust toolchain'}
    assert build['profile_skips'] == {'CONFIG_RUST': {'skip': 'test kernel built without the Rust toolchain'}}

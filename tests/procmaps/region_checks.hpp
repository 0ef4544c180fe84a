// Field-by-field comparison of two regions, shared by the procmaps tests.
#pragma once

#include <doctest/doctest.h>

#include "procmaps/region.hpp"

namespace procmaps_test {

inline void check_same_region(const procmaps::Region& a, const procmaps::Region& b) {
    CHECK(a.start == b.start);
    CHECK(a.end == b.end);
    CHECK(a.perms == b.perms);
    CHECK(a.offset == b.offset);
    CHECK(a.inode == b.inode);
    CHECK(a.dev_major == b.dev_major);
    CHECK(a.dev_minor == b.dev_minor);
    CHECK(a.path == b.path);
    CHECK(a.kind == b.kind);
    CHECK(a.deleted == b.deleted);
}

} // namespace procmaps_test

// The dylibs every generated-cache test uses, built once per test run with clang and
// ld64.lld, plus their llvm-nm-14 symbols: the oracle for addresses in generated caches.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cache_builder.hpp"
#include "nm_oracle.hpp"

namespace cachegen {

struct CorpusDylib {
    std::string path;  // the input file
    InputDylib input;
    std::vector<NmSymbol> nm;
    std::vector<std::uint64_t> rebases;  // input addresses, from llvm-objdump
    std::string uuid;                    // from llvm-objdump
};

struct Corpus {
    std::vector<CorpusDylib> dylibs;  // libSystem.B, liba, libb, libbig
    std::vector<InputDylib> inputs() const;
    const CorpusDylib& by_install_name(const std::string& install_name) const;
};

// The corpus, or nullopt with `why` set when the toolchain is missing (tests then skip).
const Corpus* test_corpus(std::string& why);

// Builds a cache from the corpus in a fresh directory under the test temp dir.
BuildOutcome build_test_cache(const Corpus& corpus, const CacheOptions& options, const std::string& label);

}  // namespace cachegen

// Binds `corpus` or leaves the test with a message when dylibs cannot be built here.
#define REQUIRE_CORPUS(corpus)                                       \
    std::string corpus##_why;                                        \
    const ::cachegen::Corpus* corpus = ::cachegen::test_corpus(corpus##_why); \
    if (!corpus) {                                                   \
        MESSAGE("skipped: " << corpus##_why);                        \
        return;                                                      \
    }

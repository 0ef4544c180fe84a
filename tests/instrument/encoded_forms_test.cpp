// The translator's re-aimed instruction forms against Zydis's encoder (the oracle): the same
// bytes at every place and target, the same refusals out of rel32 reach.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "x86_64/encoded_forms.hpp"

namespace x86 = instrument::x86_64;

namespace {

std::vector<std::uint8_t> encoded(std::uint64_t at, const ZydisEncoderRequest& request) {
    x86::CodeBuffer code(at);
    if (!code.emit(request)) return {};
    return {code.bytes().begin(), code.bytes().end()};
}

template <class Emit>
std::vector<std::uint8_t> emitted(std::uint64_t at, Emit emit) {
    x86::CodeBuffer code(at);
    if (!emit(code)) return {};
    return {code.bytes().begin(), code.bytes().end()};
}

// Places and targets near each other (in reach), at the edges of reach, and far apart.
std::vector<std::pair<std::uint64_t, std::uint64_t>> places_and_targets() {
    std::mt19937_64 random(11);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    for (int k = 0; k < 200; ++k) {
        std::uint64_t at = 0x7f0000000000 + (random() % 0x100000000);
        std::int64_t distance = static_cast<std::int64_t>(random() % 0x100000000) - 0x80000000;
        out.emplace_back(at, at + static_cast<std::uint64_t>(distance));
    }
    out.emplace_back(0x400000, 0x400000);
    out.emplace_back(0x400000, 0x7fff00000000); // out of reach
    return out;
}

} // namespace

TEST_CASE("near branches from forms are the encoder's bytes, and refuse what it refuses") {
    const ZydisMnemonic branches[] = {ZYDIS_MNEMONIC_JMP, ZYDIS_MNEMONIC_JZ,  ZYDIS_MNEMONIC_JNZ, ZYDIS_MNEMONIC_JB,
                                      ZYDIS_MNEMONIC_JNBE, ZYDIS_MNEMONIC_JL, ZYDIS_MNEMONIC_JNLE, ZYDIS_MNEMONIC_JO,
                                      ZYDIS_MNEMONIC_JNP, ZYDIS_MNEMONIC_JS};
    int compared = 0, refused = 0;
    for (ZydisMnemonic branch : branches)
        for (const auto& [at, target] : places_and_targets()) {
            auto request = branch == ZYDIS_MNEMONIC_JMP ? x86::jmp_to(target) : x86::jcc_to(branch, target);
            auto expected = encoded(at, request);
            auto got = emitted(at, [&](x86::CodeBuffer& c) { return x86::emit_near_branch(c, branch, target).has_value(); });
            CHECK(got == expected);
            if (expected.empty()) ++refused;
            else ++compared;
        }
    CHECK(compared > 1000);
    CHECK(refused >= 10);
}

TEST_CASE("a near branch rewritten over its placeholder equals a fresh encoding there") {
    for (const auto& [at, target] : places_and_targets()) {
        x86::CodeBuffer code(at);
        REQUIRE(x86::emit_near_branch(code, ZYDIS_MNEMONIC_JNZ, at));
        bool ok = x86::emit_near_branch_at(code, at, ZYDIS_MNEMONIC_JNZ, target).has_value();
        auto expected = encoded(at, x86::jcc_to(ZYDIS_MNEMONIC_JNZ, target));
        CHECK(ok == !expected.empty());
        if (ok) CHECK(std::vector<std::uint8_t>(code.bytes().begin(), code.bytes().end()) == expected);
    }
}

TEST_CASE("rip-relative forms carry their address and immediate like the encoder") {
    for (const auto& [at, address] : places_and_targets()) {
        CHECK(emitted(at, [&](x86::CodeBuffer& c) { return x86::emit_push_rip(c, address).has_value(); }) ==
              encoded(at, x86::push_rip(address)));
        CHECK(emitted(at, [&](x86::CodeBuffer& c) { return x86::emit_jmp_rip(c, address).has_value(); }) ==
              encoded(at, x86::jmp_indirect_rip(address)));
        for (int v : {0, 1, 0x7f, 0x80, 0xff}) {
            auto value = static_cast<std::uint8_t>(v);
            CHECK(emitted(at, [&](x86::CodeBuffer& c) { return x86::emit_mov_byte_rip(c, address, value).has_value(); }) ==
                  encoded(at, x86::mov_byte_rip(address, value)));
            CHECK(emitted(at, [&](x86::CodeBuffer& c) { return x86::emit_add_dword_rip(c, address, value).has_value(); }) ==
                  encoded(at, x86::add_dword_rip(address, value)));
        }
    }
}

TEST_CASE("fixed code is encoded once and appended as the encoder writes it anywhere") {
    auto fixed = x86::FixedCode::of({x86::lea_rsp(136), x86::push_register(ZYDIS_REGISTER_RCX),
                                     x86::mov_reg_memory(ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RSP, 16)});
    for (std::uint64_t at : {0x1000ull, 0x7fffffff0000ull}) {
        x86::CodeBuffer expected(at);
        for (const auto& r : {x86::lea_rsp(136), x86::push_register(ZYDIS_REGISTER_RCX),
                              x86::mov_reg_memory(ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RSP, 16)})
            REQUIRE(expected.emit(r));
        x86::CodeBuffer got(at);
        REQUIRE(fixed.append(got));
        CHECK(std::vector<std::uint8_t>(got.bytes().begin(), got.bytes().end()) ==
              std::vector<std::uint8_t>(expected.bytes().begin(), expected.bytes().end()));
    }
    // A run with a relative operand is not fixed: it still comes out right, through the encoder.
    auto relative = x86::FixedCode::of({x86::push_rip(0x5000)});
    x86::CodeBuffer got(0x4000);
    REQUIRE(relative.append(got));
    CHECK(std::vector<std::uint8_t>(got.bytes().begin(), got.bytes().end()) == encoded(0x4000, x86::push_rip(0x5000)));
}

// Shared helpers of the fuzz entry points (tests/fuzz/targets/*.h).
//
// Every entry point is an inline function `int NAME(const std::uint8_t* data, std::size_t size)`
// with libFuzzer's contract: it must not crash, leak or trip a sanitizer on any input, and it
// checks the module's own invariants (round trips, bounds), calling fuzzFail() when one breaks.
// The fuzzers (tests/fuzz/fuzz_*.cpp) call them from LLVMFuzzerTestOneInput; the unit test
// tests/unit/fuzz_regressions_test.cpp replays tests/fuzz/corpus/* and tests/fuzz/regressions/*
// through the very same functions, so every crash found once stays covered by the normal tests.
//
// Thread-safety: the entry points keep process-wide state (sockets, a daemon); one thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace vs::fuzz {

// The file being replayed (set by the regression test; empty under libFuzzer, which names the
// crashing input itself).
inline std::string& currentInputName() {
    static std::string name;
    return name;
}

// An invariant broke: print what and abort (libFuzzer saves the input as a crash; a unit test that
// replays it dies with the message).
[[noreturn]] inline void fuzzFail(const char* target, const std::string& what) {
    std::fprintf(stderr, "\n*** fuzz target %s: invariant violated: %s\n", target, what.c_str());
    if (!currentInputName().empty()) std::fprintf(stderr, "*** input: %s\n", currentInputName().c_str());
    std::fflush(stderr);
    std::abort();
}

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Printable excerpt of an input for failure messages.
inline std::string excerpt(std::string_view s, std::size_t max = 300) {
    std::string out;
    for (char c : s.substr(0, max)) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) out += c;
        else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", u);
            out += b;
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

}  // namespace vs::fuzz

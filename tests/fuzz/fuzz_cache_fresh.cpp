// libFuzzer target cache_fresh: see tests/fuzz/targets/cache_fresh.h for the input format and the invariants.
#include "tests/fuzz/targets/cache_fresh.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::cacheFresh(data, size);
}

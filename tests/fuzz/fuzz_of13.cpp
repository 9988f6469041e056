// libFuzzer target of13: see tests/fuzz/targets/of13.h for the input format and the invariants.
#include "tests/fuzz/targets/of13.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::of13Msg(data, size);
}

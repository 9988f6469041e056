// libFuzzer target bpdu: see tests/fuzz/targets/bpdu.h for the input format and the invariants.
#include "tests/fuzz/targets/bpdu.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::bpdu(data, size);
}

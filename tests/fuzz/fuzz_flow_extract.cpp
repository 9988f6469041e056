// libFuzzer target flow_extract: see tests/fuzz/targets/flow_extract.h for the input format and the invariants.
#include "tests/fuzz/targets/flow_extract.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::flowExtract(data, size);
}

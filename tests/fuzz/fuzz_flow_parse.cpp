// libFuzzer target flow_parse: see tests/fuzz/targets/flow_parse.h for the input format and the invariants.
#include "tests/fuzz/targets/flow_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::flowParse(data, size);
}

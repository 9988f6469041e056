// libFuzzer target ofmsg: see tests/fuzz/targets/ofmsg.h for the input format and the invariants.
#include "tests/fuzz/targets/ofmsg.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::ofMsg(data, size);
}

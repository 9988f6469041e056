// libFuzzer target config_load: see tests/fuzz/targets/config_load.h for the input format and the invariants.
#include "tests/fuzz/targets/config_load.h"

#include "vswitchd/log.h"

// The store and the reconciler log every load and port; keep the fuzzer's output readable.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    vs::log::setLevel(vs::log::Level::kOff);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::configLoad(data, size);
}

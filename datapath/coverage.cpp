#include "datapath/coverage.h"

#include <array>

namespace vs::dp {
namespace {
std::array<std::atomic<std::uint64_t>, kCoverageCount> g_counters{};
constexpr CoverageInfo kInfo[] = {
#define VS_COVERAGE_INFO(name, desc) {#name, desc},
    VS_COVERAGE_COUNTERS(VS_COVERAGE_INFO)
#undef VS_COVERAGE_INFO
};
}  // namespace

void coverageAdd(Coverage c, std::uint64_t n) noexcept {
    g_counters[static_cast<unsigned>(c)].fetch_add(n, std::memory_order_relaxed);
}
std::uint64_t coverageRead(Coverage c) noexcept {
    return g_counters[static_cast<unsigned>(c)].load(std::memory_order_relaxed);
}
CoverageInfo coverageInfo(Coverage c) noexcept { return kInfo[static_cast<unsigned>(c)]; }

}  // namespace vs::dp

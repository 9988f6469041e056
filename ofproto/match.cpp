#include "ofproto/ofp_types.h"

namespace vs::ofproto {

bool Match::matches(const dp::FlowKey& flow, std::uint64_t flow_metadata) const noexcept {
    const std::uint64_t* f = flow.words();
    const std::uint64_t* k = key.words();
    const std::uint64_t* m = mask.words();
    for (std::size_t i = 0; i < dp::FlowKey::kWords; ++i)
        if ((f[i] & m[i]) != k[i]) return false;
    return (flow_metadata & metadata_mask) == metadata;
}

}  // namespace vs::ofproto

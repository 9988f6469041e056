// OpenFlow port config on a bridge's ports (ofproto/port_config.h): port_mod's setter and the
// predicates translation asks (xlate.cpp, xlate_normal.cpp).
#include <cstdio>

#include "ofproto/ofproto.h"

namespace vs::ofproto {

std::uint32_t Ofproto::setPortConfig(const std::string& bridge, std::uint32_t ofport, std::uint32_t config,
                                     std::uint32_t mask) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    auto it = br.ports.find(ofport);
    if (it == br.ports.end())
        throw PortConfigError(0, "bridge " + bridge + " has no port " + std::to_string(ofport));
    if (mask & ~kPortConfigKnown)
        throw PortConfigError(2, "port config bits 0x" + [](std::uint32_t v) {
            char b[16];
            std::snprintf(b, sizeof b, "%x", v);
            return std::string(b);
        }(mask & ~kPortConfigKnown) + " are not supported");
    std::uint32_t old = it->second.of_config;
    it->second.of_config = (old & ~mask) | (config & mask);
    if (it->second.of_config != old) invalidateBridge(br);
    return old;
}

bool Ofproto::portConfigHas(const Bridge& br, std::uint32_t ofport, std::uint32_t bit) {
    auto it = br.ports.find(ofport);
    return it != br.ports.end() && (it->second.of_config & bit);
}

bool Ofproto::bundleConfigHas(const Bridge& br, const Bundle& b, std::uint32_t bit) {
    for (std::uint32_t m : b.members)
        if (portConfigHas(br, m, bit)) return true;
    return false;
}

}  // namespace vs::ofproto

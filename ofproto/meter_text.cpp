// ovs-ofctl(8)'s meter syntax ("Meter Syntax"): meter=ID,kbps|pktps,[burst],[stats],bands=type=drop,
// rate=R[,burst_size=B][,type=...]; commas and spaces separate. Used by vsofctl and the meter
// store (vswitchd/meter_store.h).
#include <cctype>
#include <charconv>

#include "ofproto/meter.h"

namespace vs::ofproto {
namespace {

std::uint32_t number(std::string_view key, std::string_view v, std::uint64_t max) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty() || n > max)
        throw std::invalid_argument(std::string(key) + "=" + std::string(v) + ": expected a number up to " + std::to_string(max));
    return static_cast<std::uint32_t>(n);
}

}  // namespace

MeterConfig parseMeter(std::string_view text, bool id_only) {
    MeterConfig m;
    m.flags = 0;
    bool have_id = false, in_bands = false;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ',' || std::isspace(static_cast<unsigned char>(text[i])))) ++i;
        std::size_t j = i;
        while (j < text.size() && text[j] != ',' && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
        if (i == j) break;
        std::string_view tok = text.substr(i, j - i);
        i = j;
        auto eq = tok.find('=');
        std::string_view key = tok.substr(0, eq), val = eq == std::string_view::npos ? "" : tok.substr(eq + 1);
        if (key == "bands") {
            in_bands = true;
            if (val.empty()) continue;
            key = val.substr(0, val.find('='));
            val = val.find('=') == std::string_view::npos ? "" : val.substr(val.find('=') + 1);
        }
        if (key == "meter") {
            m.id = val == "all" ? kMeterAll : number("meter", val, 0xffffffff);
            have_id = true;
        } else if (!in_bands && (key == "kbps" || key == "pktps" || key == "burst" || key == "stats") && eq == std::string_view::npos) {
            m.flags |= key == "kbps" ? kMeterKbps : key == "pktps" ? kMeterPktps : key == "burst" ? kMeterBurst : kMeterStats;
        } else if (in_bands && key == "type") {
            MeterBand b;
            if (val == "drop") b.type = MeterBandType::kDrop;
            else if (val == "dscp_remark") b.type = MeterBandType::kDscpRemark;
            else throw std::invalid_argument("band type=" + std::string(val) + ": expected drop or dscp_remark");
            m.bands.push_back(b);
        } else if (in_bands && !m.bands.empty() && key == "rate") {
            m.bands.back().rate = number("rate", val, 0xffffffff);
        } else if (in_bands && !m.bands.empty() && key == "burst_size") {
            m.bands.back().burst = number("burst_size", val, 0xffffffff);
        } else if (in_bands && !m.bands.empty() && key == "prec_level") {
            m.bands.back().prec_level = static_cast<std::uint8_t>(number("prec_level", val, 0xff));
        } else {
            throw std::invalid_argument("unknown meter keyword '" + std::string(tok) + "'" +
                                        (in_bands && m.bands.empty() ? " (a band starts with type=)" : ""));
        }
    }
    if (!have_id) throw std::invalid_argument("meter=ID is required");
    if (id_only) {
        if (m.flags || in_bands) throw std::invalid_argument("only meter=ID is expected here");
        return m;
    }
    if (!(m.flags & (kMeterKbps | kMeterPktps))) m.flags |= kMeterKbps;  // ovs-ofctl's default
    return m;
}

std::string formatMeter(const MeterConfig& m) {
    std::string s = "meter=" + std::to_string(m.id);
    if (m.flags & kMeterKbps) s += " kbps";
    if (m.flags & kMeterPktps) s += " pktps";
    if (m.flags & kMeterBurst) s += " burst";
    if (m.flags & kMeterStats) s += " stats";
    s += " bands=";
    for (const auto& b : m.bands) {
        s += b.type == MeterBandType::kDrop ? "type=drop" : b.type == MeterBandType::kDscpRemark ? "type=dscp_remark" : "type=experimenter";
        s += " rate=" + std::to_string(b.rate);
        if (m.flags & kMeterBurst) s += " burst_size=" + std::to_string(b.burst);
        if (b.type == MeterBandType::kDscpRemark) s += " prec_level=" + std::to_string(b.prec_level);
        s += " ";
    }
    if (s.back() == ' ') s.pop_back();
    return s;
}

}  // namespace vs::ofproto

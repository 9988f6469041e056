// MirrorSet: a bridge's mirrors resolved into per-port bit masks (ofproto/mirror.h).
#include "ofproto/mirror.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace vs::ofproto {
namespace {

void check(const MirrorSpec& s) {
    const std::string what = "mirror " + s.name + ": ";
    if (!s.out_port.empty() && s.out_vlan)
        throw std::invalid_argument(what + "output_port and output_vlan are exclusive (set one)");
    if (s.out_vlan && (*s.out_vlan < 1 || *s.out_vlan > 4095))
        throw std::invalid_argument(what + "output_vlan " + std::to_string(*s.out_vlan) + " is outside 1..4095");
    for (std::uint16_t v : s.vlans)
        if (v > 4095) throw std::invalid_argument(what + "select_vlan " + std::to_string(v) + " is outside 0..4095");
    auto selects = [&](const std::vector<std::string>& ports) {
        return std::find(ports.begin(), ports.end(), s.out_port) != ports.end();
    };
    if (!s.out_port.empty() && (selects(s.src_ports) || selects(s.dst_ports)))
        throw std::invalid_argument(what + "output port " + s.out_port + " is also a selected port");
}

}  // namespace

bool MirrorSet::set(std::vector<MirrorSpec> specs) {
    if (specs.size() > kMaxMirrors)
        throw std::invalid_argument("at most " + std::to_string(kMaxMirrors) + " mirrors per bridge");
    std::set<std::string> names;
    for (const auto& s : specs) {
        check(s);
        if (!names.insert(s.name).second) throw std::invalid_argument("two mirrors are named " + s.name);
    }
    if (specs == this->specs()) return false;
    std::vector<Entry> next;
    for (auto& s : specs) {
        Entry e;
        for (const auto& old : mirrors_)
            if (old.spec.name == s.name) e.counters = old.counters;
        if (!e.counters) e.counters = std::make_shared<dp::StatsSink>();
        e.all_vlans = s.vlans.empty();
        for (std::uint16_t v : s.vlans) e.vlans.set(v);
        e.spec = std::move(s);
        next.push_back(std::move(e));
    }
    mirrors_ = std::move(next);
    by_port_.clear();
    all_ = 0;
    for (std::size_t i = 0; i < mirrors_.size(); ++i) {
        const MirrorSpec& s = mirrors_[i].spec;
        MirrorMask bit = MirrorMask{1} << i;
        if (s.select_all) all_ |= bit;
        for (const auto& p : s.src_ports) by_port_[p].src |= bit;
        for (const auto& p : s.dst_ports) by_port_[p].dst |= bit;
        if (!s.out_port.empty()) by_port_[s.out_port].out |= bit;
        mirrors_[i].dups = bit;
        for (std::size_t j = 0; j < mirrors_.size(); ++j) {
            const MirrorSpec& o = mirrors_[j].spec;
            if (j != i && o.out_port == s.out_port && o.out_vlan == s.out_vlan) mirrors_[i].dups |= MirrorMask{1} << j;
        }
    }
    // An inactive mirror (no output) selects nothing: it costs no mask bits in translation.
    for (std::size_t i = 0; i < mirrors_.size(); ++i) {
        const MirrorSpec& s = mirrors_[i].spec;
        if (!s.out_port.empty() || s.out_vlan) continue;
        MirrorMask keep = ~(MirrorMask{1} << i);
        all_ &= keep;
        for (auto& [p, m] : by_port_) m.src &= keep, m.dst &= keep;
    }
    return true;
}

std::vector<MirrorSpec> MirrorSet::specs() const {
    std::vector<MirrorSpec> out;
    for (const auto& e : mirrors_) out.push_back(e.spec);
    return out;
}

std::vector<std::string> MirrorSet::outputPorts() const {
    std::vector<std::string> out;
    for (const auto& [p, m] : by_port_)
        if (m.out) out.push_back(p);
    return out;
}

std::vector<MirrorStats> MirrorSet::stats() const {
    std::vector<MirrorStats> out;
    for (const auto& e : mirrors_)
        out.push_back({e.spec.name, e.counters->packets.load(std::memory_order_relaxed),
                       e.counters->bytes.load(std::memory_order_relaxed)});
    return out;
}

}  // namespace vs::ofproto

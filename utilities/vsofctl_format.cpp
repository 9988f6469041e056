// ovs-ofctl-style text of vsofctl's results (vsofctl_format.h).
#include "utilities/vsofctl_format.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

namespace vs::utilities {
namespace {

using Value = rapidjson::Value;

constexpr std::uint64_t kDefaultPriority = 32768;
constexpr std::uint64_t kLocalPort = 0xfffe;

template <typename... Args>
std::string fmt(const char* f, Args... args) {
    char buf[256];
    const int n = std::snprintf(buf, sizeof buf, f, args...);
    return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

const Value* member(const Value& obj, const char* name) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(name);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::uint64_t> optU64(const Value& obj, const char* name) {
    const Value* v = member(obj, name);
    if (!v) return std::nullopt;
    if (v->IsUint64()) return v->GetUint64();
    if (v->IsNumber() && v->GetDouble() >= 0) return static_cast<std::uint64_t>(v->GetDouble());
    return std::nullopt;
}

std::uint64_t u64(const Value& obj, const char* name, std::uint64_t dflt = 0) {
    return optU64(obj, name).value_or(dflt);
}

std::string str(const Value& obj, const char* name) {
    const Value* v = member(obj, name);
    return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

bool flag(const Value& obj, const char* name) {
    const Value* v = member(obj, name);
    return v && v->IsBool() && v->GetBool();
}

const Value* array(const Value& obj, const char* name) {
    const Value* v = member(obj, name);
    return v && v->IsArray() ? v : nullptr;
}

// The cookie as 0x-hex (the daemon sends a "0x..." string; a number is accepted too).
std::string cookieText(const Value& flow, bool& zero) {
    zero = true;
    const Value* v = member(flow, "cookie");
    if (!v) return "0x0";
    if (v->IsUint64()) {
        zero = v->GetUint64() == 0;
        return fmt("0x%" PRIx64, v->GetUint64());
    }
    if (!v->IsString()) return "0x0";
    const std::string s = v->GetString();
    char* end = nullptr;
    const unsigned long long n = std::strtoull(s.c_str(), &end, 0);
    if (s.empty() || *end != '\0') {
        zero = false;
        return s;
    }
    zero = n == 0;
    return fmt("0x%llx", n);
}

std::string portLabel(const Value& port) {
    const std::uint64_t ofport = u64(port, "ofport");
    if (ofport == kLocalPort) return "LOCAL";
    const std::string name = str(port, "name");
    return name.empty() ? std::to_string(ofport) : name;
}

std::string counter(const Value& obj, const char* name) {
    auto v = optU64(obj, name);
    return v ? std::to_string(*v) : std::string("?");
}

std::vector<const Value*> items(const Value* arr) {
    std::vector<const Value*> out;
    if (arr)
        for (const auto& v : arr->GetArray()) out.push_back(&v);
    return out;
}

}  // namespace

std::string formatFlowLine(const Value& flow, bool noStats) {
    std::string out = " ";
    bool zeroCookie = true;
    const std::string cookie = cookieText(flow, zeroCookie);
    if (!noStats || !zeroCookie) out += "cookie=" + cookie + ", ";
    if (!noStats) {
        const Value* d = member(flow, "duration");
        out += fmt("duration=%.3fs, ", d && d->IsNumber() ? d->GetDouble() : 0.0);
    }
    const std::uint64_t table = u64(flow, "table");
    if (!noStats || table) out += "table=" + std::to_string(table) + ", ";
    if (!noStats)
        out += "n_packets=" + std::to_string(u64(flow, "n_packets")) + ", n_bytes=" + std::to_string(u64(flow, "n_bytes")) + ", ";
    if (auto t = u64(flow, "idle_timeout")) out += "idle_timeout=" + std::to_string(t) + ", ";
    if (auto t = u64(flow, "hard_timeout")) out += "hard_timeout=" + std::to_string(t) + ", ";
    if (flag(flow, "send_flow_rem")) out += "send_flow_rem ";
    const std::uint64_t priority = u64(flow, "priority", kDefaultPriority);
    std::string body = priority != kDefaultPriority ? "priority=" + std::to_string(priority) : "";
    const std::string match = str(flow, "match");
    if (!match.empty()) body += (body.empty() ? "" : ",") + match;
    if (!body.empty()) out += body + " ";
    const std::string actions = str(flow, "actions");
    return out + "actions=" + (actions.empty() ? "drop" : actions);
}

std::string formatDumpFlows(const Value& result, bool noStats, SortOrder sort) {
    std::vector<const Value*> flows = items(array(result, "flows"));
    if (sort != SortOrder::kNone) {
        std::stable_sort(flows.begin(), flows.end(), [sort](const Value* a, const Value* b) {
            const auto pa = u64(*a, "priority", kDefaultPriority), pb = u64(*b, "priority", kDefaultPriority);
            return sort == SortOrder::kAscending ? pa < pb : pa > pb;
        });
    }
    std::string out;
    for (const Value* f : flows) out += formatFlowLine(*f, noStats) + "\n";
    return out;
}

std::string formatOfctlShow(const Value& result) {
    std::string out = "OFPT_FEATURES_REPLY: dpid:" + str(result, "datapath_id") + "\n";
    out += "n_tables:" + std::to_string(u64(result, "n_tables")) + ", n_buffers:0\n";
    out += "capabilities: FLOW_STATS TABLE_STATS PORT_STATS\n";
    std::vector<const Value*> ports = items(array(result, "ports"));
    std::stable_sort(ports.begin(), ports.end(),
                     [](const Value* a, const Value* b) { return u64(*a, "ofport") < u64(*b, "ofport"); });
    for (const Value* p : ports) {
        const std::uint64_t ofport = u64(*p, "ofport");
        const std::string number = ofport == kLocalPort ? "LOCAL" : std::to_string(ofport);
        std::string config = str(*p, "config"), state = str(*p, "state");
        if (config.empty()) config = "0";
        if (state == "up" || state.empty()) state = "0";
        else if (state == "down") state = "LINK_DOWN";
        out += " " + number + "(" + str(*p, "name") + "): addr:" + str(*p, "mac") + "\n";
        out += "     config:     " + config + "\n";
        out += "     state:      " + state + "\n";
    }
    return out;
}

std::string formatDumpPorts(const Value& result) {
    const std::vector<const Value*> ports = items(array(result, "ports"));
    std::string out = "OFPST_PORT reply: " + std::to_string(ports.size()) + (ports.size() == 1 ? " port\n" : " ports\n");
    for (const Value* p : ports) {
        const Value& v = *p;
        out += "  port " + std::string(u64(v, "ofport") < 10 ? " " : "") + portLabel(v) + ": ";
        out += "rx pkts=" + counter(v, "rx_packets") + ", bytes=" + counter(v, "rx_bytes") + ", drop=" +
               counter(v, "rx_dropped") + ", errs=" + counter(v, "rx_errors") + ", frame=" +
               counter(v, "rx_frame_err") + ", over=" + counter(v, "rx_over_err") + ", crc=" +
               counter(v, "rx_crc_err") + "\n";
        out += "           tx pkts=" + counter(v, "tx_packets") + ", bytes=" + counter(v, "tx_bytes") + ", drop=" +
               counter(v, "tx_dropped") + ", errs=" + counter(v, "tx_errors") + ", coll=" +
               counter(v, "collisions") + "\n";
    }
    return out;
}

std::string formatDumpTables(const Value& result) {
    std::string out = "OFPST_TABLE reply:\n";
    for (const Value* t : items(array(result, "tables"))) {
        const std::uint64_t active = u64(*t, "active_count"), lookup = u64(*t, "lookup_count");
        if (active == 0 && lookup == 0) continue;
        out += "  table " + std::to_string(u64(*t, "table")) + ":\n";
        out += "    active=" + std::to_string(active) + ", lookup=" + std::to_string(lookup) +
               ", matched=" + std::to_string(u64(*t, "matched_count")) + "\n";
    }
    return out;
}

}  // namespace vs::utilities

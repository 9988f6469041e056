// Flow-table management methods (docs/protocol.md "Flow table methods"): flow/add, flow/mod,
// flow/del, flow/dump, ofproto/show, port/stats, table/stats, ofproto/trace. The daemon parses
// the ovs-ofctl text (ofproto/ofp_parse.h), so clients stay thin and every error is reported in
// one place, pointing at the offending token.
#include <cstdio>

#include "datapath/clock.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "vswitchd/daemon.h"
#include "vswitchd/rpc_params.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using ofproto::FlowMod;
using rpc::bridgeParam;
using rpc::param;
using rpc::str;


bool boolParam(const rapidjson::Value& p, const char* name) {
    if (!p.IsObject()) return false;
    auto it = p.FindMember(name);
    if (it == p.MemberEnd()) return false;
    if (!it->value.IsBool()) throw RpcError(ErrorCode::kInvalidParams, std::string("param '") + name + "' must be a boolean");
    return it->value.GetBool();
}

ofproto::PortResolver resolver(Daemon& d, const std::string& br) {
    return [&d, br](std::string_view name) { return d.ofproto().portNumber(br, std::string(name)); };
}
ofproto::PortNamer namer(Daemon& d, const std::string& br) {
    return [&d, br](std::uint32_t n) { return d.ofproto().portName(br, n).value_or(std::to_string(n)); };
}

[[noreturn]] void throwParse(const ofproto::ParseError& e) {
    auto data = std::make_shared<rapidjson::Document>();
    data->SetObject();
    auto& a = data->GetAllocator();
    if (e.line) data->AddMember("line", static_cast<std::uint64_t>(e.line), a);
    data->AddMember("offset", static_cast<std::uint64_t>(e.offset), a);
    data->AddMember("token", str(e.token, a), a);
    throw RpcError(ErrorCode::kInvalidValue, e.message, data);
}

// Applies `mods` all or nothing, durable before the answer (Daemon::commitFlowMods).
std::size_t commitFlows(Daemon& d, const std::string& br, const std::vector<FlowMod>& mods) {
    return d.commitFlowMods(br, mods);
}

std::vector<std::string> linesParam(const rapidjson::Value& p) {
    if (!p.IsObject() || !p.HasMember("flows") || !p["flows"].IsArray())
        throw RpcError(ErrorCode::kInvalidParams, "param 'flows' must be an array of strings");
    std::vector<std::string> lines;
    for (const auto& l : p["flows"].GetArray()) {
        if (!l.IsString()) throw RpcError(ErrorCode::kInvalidParams, "param 'flows' must be an array of strings");
        lines.emplace_back(l.GetString(), l.GetStringLength());
    }
    return lines;
}

void flowAdd(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = bridgeParam(d, req.params);
    auto parsed = ofproto::parseFlowLines(linesParam(req.params), FlowMod::Command::kAdd, resolver(d, br));
    if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) throwParse(*e);
    std::size_t n = commitFlows(d, br, std::get<std::vector<FlowMod>>(parsed));
    res.SetObject();
    res.AddMember("added", static_cast<std::uint64_t>(n), res.GetAllocator());
}

void flowMod(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = bridgeParam(d, req.params);
    auto cmd = boolParam(req.params, "strict") ? FlowMod::Command::kModifyStrict : FlowMod::Command::kModify;
    auto parsed = ofproto::parseFlowLines(linesParam(req.params), cmd, resolver(d, br));
    if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) throwParse(*e);
    std::size_t n = commitFlows(d, br, std::get<std::vector<FlowMod>>(parsed));
    res.SetObject();
    res.AddMember("modified", static_cast<std::uint64_t>(n), res.GetAllocator());
}

void flowDel(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = bridgeParam(d, req.params);
    auto cmd = boolParam(req.params, "strict") ? FlowMod::Command::kDeleteStrict : FlowMod::Command::kDelete;
    std::string text = param(req.params, "match", 1).value_or("");
    auto parsed = ofproto::parseFlowMod(text, cmd, resolver(d, br));
    if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) throwParse(*e);
    std::size_t n = commitFlows(d, br, {std::get<FlowMod>(parsed)});
    res.SetObject();
    res.AddMember("deleted", static_cast<std::uint64_t>(n), res.GetAllocator());
}

void flowDump(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = bridgeParam(d, req.params);
    FlowMod filter;  // match, table, cookie/mask, out_port (ovs-ofctl dump-flows filter)
    filter.table = ofproto::kTableAll;
    if (auto m = param(req.params, "match", 1); m && !m->empty()) {
        auto parsed = ofproto::parseFlowFilter(*m, resolver(d, br));
        if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) throwParse(*e);
        filter = std::get<FlowMod>(parsed);
    }
    auto& a = res.GetAllocator();
    auto name = namer(d, br);
    std::int64_t now = dp::monotonicMs();
    rapidjson::Value rows(rapidjson::kArrayType);
    for (const auto& r : d.ofproto().rules(br, filter.table, filter.match)) {
        if ((r->cookie & filter.cookie_mask) != (filter.cookie & filter.cookie_mask) ||
            !ofproto::outputsTo(*r, filter.out_port))
            continue;
        rapidjson::Value o(rapidjson::kObjectType);
        char cookie[24];
        std::snprintf(cookie, sizeof cookie, "0x%llx", static_cast<unsigned long long>(r->cookie));
        o.AddMember("table", r->table, a);
        o.AddMember("priority", r->priority, a);
        o.AddMember("cookie", str(cookie, a), a);
        o.AddMember("duration", (now - r->created_ms) / 1000.0, a);
        o.AddMember("n_packets", r->stats->packets.load(std::memory_order_relaxed), a);
        o.AddMember("n_bytes", r->stats->bytes.load(std::memory_order_relaxed), a);
        o.AddMember("idle_timeout", r->idle_timeout, a);
        o.AddMember("hard_timeout", r->hard_timeout, a);
        o.AddMember("send_flow_rem", r->send_flow_rem, a);
        o.AddMember("match", str(ofproto::formatMatch(r->match, name), a), a);
        o.AddMember("actions", str(ofproto::formatActions(r->actions, name), a), a);
        rows.PushBack(o, a);
    }
    res.SetObject();
    res.AddMember("flows", rows, a);
}

}  // namespace

void registerFlowMethods(MethodTable& t, Daemon& d) {
    using Fn = void (*)(Daemon&, const protocol::Request&, rapidjson::Document&);
    const std::pair<const char*, Fn> methods[] = {
        {"flow/add", flowAdd}, {"flow/mod", flowMod}, {"flow/del", flowDel}, {"flow/dump", flowDump},
    };
    for (const auto& [name, fn] : methods)
        t.add(name, [&d, fn](const protocol::Request& r, rapidjson::Document& res) { fn(d, r, res); });
}

}  // namespace vs::vswitchd

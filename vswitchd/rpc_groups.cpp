// OpenFlow 1.3 group methods of the management protocol (docs/protocol.md "Group methods"), for
// vsofctl's add-group, add-groups, mod-group, del-groups, dump-groups and dump-group-stats:
// group/add, group/mod, group/del, group/dump, group/stats. The daemon parses ovs-ofctl's group
// text (ofproto/ofp_group_text.h); a refusal names the OpenFlow code (OFPGMFC_*). Changes go
// through Ofproto's group log and are journaled with the flows before the answer, as a
// controller's group_mods are (Daemon::persistFlowLog).
#include "datapath/clock.h"
#include "ofproto/ofp_group_text.h"
#include "vswitchd/daemon.h"
#include "vswitchd/rpc_params.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using ofproto::GroupMod;
using rpc::bridgeParam;
using rpc::param;
using rpc::str;

const char* errorName(ofproto::GroupError e) {
    static const char* kNames[] = {
        "OFPGMFC_GROUP_EXISTS",   "OFPGMFC_INVALID_GROUP",       "OFPGMFC_WEIGHT_UNSUPPORTED", "OFPGMFC_OUT_OF_GROUPS",
        "OFPGMFC_OUT_OF_BUCKETS", "OFPGMFC_CHAINING_UNSUPPORTED", "OFPGMFC_WATCH_UNSUPPORTED", "OFPGMFC_LOOP",
        "OFPGMFC_UNKNOWN_GROUP",  "OFPGMFC_CHAINED_GROUP",        "OFPGMFC_BAD_TYPE",          "OFPGMFC_BAD_COMMAND",
        "OFPGMFC_BAD_BUCKET",     "OFPGMFC_BAD_WATCH",            "OFPGMFC_EPERM"};
    auto i = static_cast<unsigned>(e);
    return i < std::size(kNames) ? kNames[i] : "OFPGMFC_UNKNOWN";
}

ofproto::PortResolver resolver(Daemon& d, const std::string& br) {
    return [&d, br](std::string_view name) { return d.ofproto().portNumber(br, std::string(name)); };
}

// A parse error with the location vsofctl draws a caret under (as flow/add's).
[[noreturn]] void throwParse(const ofproto::ParseError& e, std::size_t line) {
    auto data = std::make_shared<rapidjson::Document>();
    data->SetObject();
    auto& a = data->GetAllocator();
    if (line) data->AddMember("line", static_cast<std::uint64_t>(line), a);
    data->AddMember("offset", static_cast<std::uint64_t>(e.offset), a);
    data->AddMember("token", str(e.token, a), a);
    throw RpcError(ErrorCode::kInvalidValue, (line ? "line " + std::to_string(line) + ": " : "") + e.message, data);
}

// params.groups (an array of group texts; blank and '#' lines skipped, line numbers kept).
std::vector<std::pair<std::size_t, std::string>> groupLines(const rapidjson::Value& p) {
    if (!p.IsObject() || !p.HasMember("groups") || !p["groups"].IsArray())
        throw RpcError(ErrorCode::kInvalidParams, "param 'groups' must be an array of strings");
    std::vector<std::pair<std::size_t, std::string>> out;
    std::size_t line = 0;
    for (const auto& l : p["groups"].GetArray()) {
        ++line;
        if (!l.IsString()) throw RpcError(ErrorCode::kInvalidParams, "param 'groups' must be an array of strings");
        std::string_view s(l.GetString(), l.GetStringLength());
        auto first = s.find_first_not_of(" \t");
        if (first == std::string_view::npos || s[first] == '#') continue;
        out.emplace_back(line, std::string(s));
    }
    return out;
}

GroupMod parseOne(Daemon& d, const std::string& br, const std::string& text, GroupMod::Command cmd, std::size_t line) {
    auto parsed = ofproto::parseGroupMod(text, cmd, resolver(d, br));
    if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) throwParse(*e, line);
    return std::get<GroupMod>(parsed);
}

// Applies `mods` in order; the first refusal stops there (the groups before it stay, as with
// ovs-ofctl add-groups, which sends one group_mod per line) and names its line.
std::size_t applyMods(Daemon& d, const std::string& br, const std::vector<std::pair<std::size_t, GroupMod>>& mods,
                      bool numbered) {
    std::size_t rules = 0;
    for (const auto& [line, gm] : mods) {
        try {
            rules += d.ofproto().applyGroupMod(br, gm, true);
        } catch (const ofproto::GroupModError& e) {
            (void)d.persistFlowLog();  // what was applied before stays durable (else: retried within a second)
            throw RpcError(ErrorCode::kInvalidValue, (numbered ? "line " + std::to_string(line) + ": " : "") +
                                                         errorName(e.code) + ": " + e.what());
        }
    }
    if (auto problem = d.persistFlowLog())
        throw RpcError(ErrorCode::kPersistFailed, "groups changed but not yet saved (retried within a second): " + *problem);
    return rules;
}

void groupAddMod(Daemon& d, const protocol::Request& r, rapidjson::Document& res, GroupMod::Command cmd) {
    std::string br = bridgeParam(d, r.params);
    auto lines = groupLines(r.params);
    const bool numbered = r.params["groups"].Size() > 1;
    std::vector<std::pair<std::size_t, GroupMod>> mods;
    for (const auto& [line, text] : lines) mods.emplace_back(line, parseOne(d, br, text, cmd, numbered ? line : 0));
    applyMods(d, br, mods, numbered);
    res.SetObject();
}

// params.group: "group_id=ID" (missing, empty or group_id=all: every group).
std::uint32_t groupIdParam(Daemon& d, const std::string& br, const rapidjson::Value& p) {
    auto text = param(p, "group", 1);
    if (!text || text->empty()) return ofproto::kGroupAll;
    return parseOne(d, br, *text, GroupMod::Command::kDelete, 0).group_id;
}

void groupDel(Daemon& d, const protocol::Request& r, rapidjson::Document& res) {
    std::string br = bridgeParam(d, r.params);
    GroupMod gm;
    gm.command = GroupMod::Command::kDelete;
    gm.group_id = groupIdParam(d, br, r.params);
    std::size_t rules = applyMods(d, br, {{0, gm}}, false);
    res.SetObject();
    res.AddMember("rules_deleted", static_cast<std::uint64_t>(rules), res.GetAllocator());
}

bool selected(std::uint32_t want, std::uint32_t id) { return want == ofproto::kGroupAll || want == id; }

void groupDump(Daemon& d, const protocol::Request& r, rapidjson::Document& res) {
    std::string br = bridgeParam(d, r.params);
    std::uint32_t want = groupIdParam(d, br, r.params);
    ofproto::PortNamer namer = [&d, br](std::uint32_t n) { return d.ofproto().portName(br, n).value_or(std::to_string(n)); };
    res.SetObject();
    auto& a = res.GetAllocator();
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& g : d.ofproto().groups(br)) {
        if (!selected(want, g->id)) continue;
        GroupMod gm;
        gm.type = g->type;
        gm.group_id = g->id;
        gm.buckets = g->buckets;
        rapidjson::Value o(rapidjson::kObjectType);
        o.AddMember("group_id", g->id, a);
        o.AddMember("text", str(ofproto::formatGroup(gm, namer), a), a);
        list.PushBack(o, a);
    }
    res.AddMember("groups", list, a);
}

void groupStats(Daemon& d, const protocol::Request& r, rapidjson::Document& res) {
    std::string br = bridgeParam(d, r.params);
    std::uint32_t want = groupIdParam(d, br, r.params);
    auto refs = d.ofproto().groupRefCounts(br);
    const std::int64_t now = dp::monotonicMs();
    auto ld = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
    res.SetObject();
    auto& a = res.GetAllocator();
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& g : d.ofproto().groups(br)) {
        if (!selected(want, g->id)) continue;
        rapidjson::Value o(rapidjson::kObjectType);
        o.AddMember("group_id", g->id, a);
        o.AddMember("duration_ms", std::max<std::int64_t>(0, now - g->created_ms), a);
        o.AddMember("ref_count", refs.count(g->id) ? refs[g->id] : 0u, a);
        o.AddMember("packet_count", ld(g->stats->packets), a);
        o.AddMember("byte_count", ld(g->stats->bytes), a);
        rapidjson::Value buckets(rapidjson::kArrayType);
        for (const auto& b : g->bucket_stats) {
            rapidjson::Value bo(rapidjson::kObjectType);
            bo.AddMember("packet_count", ld(b->packets), a);
            bo.AddMember("byte_count", ld(b->bytes), a);
            buckets.PushBack(bo, a);
        }
        o.AddMember("buckets", buckets, a);
        list.PushBack(o, a);
    }
    if (want != ofproto::kGroupAll && list.Empty())  // as the OpenFlow group multipart (of13_group.cpp)
        throw RpcError(ErrorCode::kInvalidValue,
                       "OFPGMFC_UNKNOWN_GROUP: bridge " + br + " has no group " + std::to_string(want));
    res.AddMember("groups", list, a);
}

}  // namespace

void registerGroupMethods(MethodTable& t, Daemon& d) {
    using C = GroupMod::Command;
    t.add("group/add", [&d](const protocol::Request& r, rapidjson::Document& res) { groupAddMod(d, r, res, C::kAdd); });
    t.add("group/mod", [&d](const protocol::Request& r, rapidjson::Document& res) { groupAddMod(d, r, res, C::kModify); });
    t.add("group/del", [&d](const protocol::Request& r, rapidjson::Document& res) { groupDel(d, r, res); });
    t.add("group/dump", [&d](const protocol::Request& r, rapidjson::Document& res) { groupDump(d, r, res); });
    t.add("group/stats", [&d](const protocol::Request& r, rapidjson::Document& res) { groupStats(d, r, res); });
}

}  // namespace vs::vswitchd

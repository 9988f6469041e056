// OpenFlow 1.3 meter methods of the management protocol (docs/protocol.md "Meter methods"), for
// vsofctl's add-meter, mod-meter, del-meter(s), dump-meters, meter-stats and meter-features:
// meter/add, meter/mod, meter/del, meter/dump, meter/stats, meter/features. The daemon parses
// ovs-ofctl's meter text (ofproto::parseMeter); refusals name the OpenFlow error (OFPMMFC_*).
// The meters file is saved by the daemon's periodic persistMeters() (vswitchd/meter_store.h).
#include "datapath/meter.h"
#include "ofproto/meter.h"
#include "vswitchd/daemon.h"
#include "vswitchd/rpc_params.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rpc::bridgeParam;
using rpc::param;
using rpc::str;

const char* errorName(ofproto::MeterError e) {
    static const char* kNames[] = {"OFPMMFC_UNKNOWN",   "OFPMMFC_METER_EXISTS",  "OFPMMFC_INVALID_METER",
                                   "OFPMMFC_UNKNOWN_METER", "OFPMMFC_BAD_COMMAND", "OFPMMFC_BAD_FLAGS",
                                   "OFPMMFC_BAD_RATE",  "OFPMMFC_BAD_BURST",     "OFPMMFC_BAD_BAND",
                                   "OFPMMFC_BAD_BAND_VALUE", "OFPMMFC_OUT_OF_METERS", "OFPMMFC_OUT_OF_BANDS"};
    auto i = static_cast<unsigned>(e);
    return i < std::size(kNames) ? kNames[i] : "OFPMMFC_UNKNOWN";
}

// params.meter parsed (a missing one: every meter when `all_default`).
ofproto::MeterConfig meterParam(const rapidjson::Value& p, bool id_only, bool all_default) {
    auto text = param(p, "meter", 1);
    if (!text || text->empty()) {
        if (!all_default) throw RpcError(ErrorCode::kInvalidParams, "missing param 'meter'");
        ofproto::MeterConfig all;
        all.id = ofproto::kMeterAll;
        return all;
    }
    try {
        return ofproto::parseMeter(*text, id_only);
    } catch (const std::invalid_argument& e) {
        throw RpcError(ErrorCode::kInvalidValue, std::string("meter '") + *text + "': " + e.what());
    }
}

void meterMod(Daemon& d, const protocol::Request& r, rapidjson::Document& res, ofproto::Ofproto::MeterCommand cmd) {
    std::string br = bridgeParam(d, r.params);
    bool del = cmd == ofproto::Ofproto::MeterCommand::kDelete;
    auto m = meterParam(r.params, del, del);
    std::size_t rules = 0;
    try {
        rules = d.ofproto().meterMod(br, cmd, m);
    } catch (const ofproto::MeterRefused& e) {
        throw RpcError(ErrorCode::kInvalidValue, std::string(errorName(e.error)) + ": " + e.what());
    }
    res.SetObject();
    if (del) res.AddMember("rules_deleted", static_cast<std::uint64_t>(rules), res.GetAllocator());
}

void meterDump(Daemon& d, const protocol::Request& r, rapidjson::Document& res) {
    std::string br = bridgeParam(d, r.params);
    auto id = meterParam(r.params, true, true).id;
    res.SetObject();
    auto& a = res.GetAllocator();
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& m : d.ofproto().meterConfigs(br, id)) {
        rapidjson::Value o(rapidjson::kObjectType);
        o.AddMember("meter", m.id, a);
        o.AddMember("text", str(ofproto::formatMeter(m), a), a);
        list.PushBack(o, a);
    }
    res.AddMember("meters", list, a);
}

void meterStats(Daemon& d, const protocol::Request& r, rapidjson::Document& res) {
    std::string br = bridgeParam(d, r.params);
    auto id = meterParam(r.params, true, true).id;
    res.SetObject();
    auto& a = res.GetAllocator();
    rapidjson::Value list(rapidjson::kArrayType);
    for (const auto& s : d.ofproto().meterStats(br, id)) {
        rapidjson::Value o(rapidjson::kObjectType);
        o.AddMember("meter", s.row.id, a);
        o.AddMember("flow_count", s.flow_count, a);
        o.AddMember("packet_in_count", s.row.packets, a);
        o.AddMember("byte_in_count", s.row.bytes, a);
        o.AddMember("duration_ms", static_cast<std::int64_t>(s.row.age_ms), a);
        rapidjson::Value bands(rapidjson::kArrayType);
        for (const auto& b : s.row.bands) {
            rapidjson::Value bo(rapidjson::kObjectType);
            bo.AddMember("packet_count", b.packets, a);
            bo.AddMember("byte_count", b.bytes, a);
            bands.PushBack(bo, a);
        }
        o.AddMember("bands", bands, a);
        list.PushBack(o, a);
    }
    res.AddMember("meters", list, a);
}

void meterFeatures(Daemon& d, const protocol::Request& r, rapidjson::Document& res) {
    bridgeParam(d, r.params);
    res.SetObject();
    auto& a = res.GetAllocator();
    res.AddMember("max_meter", dp::MeterPool::kSlots, a);
    rapidjson::Value types(rapidjson::kArrayType);
    types.PushBack("drop", a);
    res.AddMember("band_types", types, a);
    rapidjson::Value caps(rapidjson::kArrayType);
    for (const char* c : {"kbps", "pktps", "burst", "stats"}) caps.PushBack(rapidjson::StringRef(c), a);
    res.AddMember("capabilities", caps, a);
    res.AddMember("max_bands", ofproto::kMaxBands, a);
    res.AddMember("max_color", 0, a);
}

}  // namespace

void registerMeterMethods(MethodTable& t, Daemon& d) {
    using C = ofproto::Ofproto::MeterCommand;
    t.add("meter/add", [&d](const protocol::Request& r, rapidjson::Document& res) { meterMod(d, r, res, C::kAdd); });
    t.add("meter/mod", [&d](const protocol::Request& r, rapidjson::Document& res) { meterMod(d, r, res, C::kModify); });
    t.add("meter/del", [&d](const protocol::Request& r, rapidjson::Document& res) { meterMod(d, r, res, C::kDelete); });
    t.add("meter/dump", [&d](const protocol::Request& r, rapidjson::Document& res) { meterDump(d, r, res); });
    t.add("meter/stats", [&d](const protocol::Request& r, rapidjson::Document& res) { meterStats(d, r, res); });
    t.add("meter/features", [&d](const protocol::Request& r, rapidjson::Document& res) { meterFeatures(d, r, res); });
}

}  // namespace vs::vswitchd

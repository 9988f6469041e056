#include "vswitchd/meter_store.h"

#include <fstream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "protocol/jsonrpc.h"
#include "vswitchd/config_store.h"

namespace vs::vswitchd {

MeterLines MeterStore::load() const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return {};
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto corrupt = [&](const std::string& why) {
        return ConfigError("meters file " + path_.string() + " is corrupt: " + why +
                           "; refusing to start (the file is left in place)");
    };
    if (auto deep = protocol::checkJsonDepth(text)) throw corrupt(*deep);
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError())
        throw corrupt("offset " + std::to_string(d.GetErrorOffset()) + ": " + rapidjson::GetParseError_En(d.GetParseError()));
    if (!d.IsObject() || !d.HasMember("format") || !d["format"].IsString() ||
        std::string(d["format"].GetString()) != "vswitch-meters")
        throw corrupt("$.format: expected \"vswitch-meters\"");
    if (!d.HasMember("version") || !d["version"].IsInt() || d["version"].GetInt() != 1) throw corrupt("$.version: expected 1");
    if (!d.HasMember("bridges") || !d["bridges"].IsObject()) throw corrupt("$.bridges: expected an object");
    MeterLines out;
    for (const auto& b : d["bridges"].GetObject()) {
        std::string name = b.name.GetString();
        if (!b.value.IsArray()) throw corrupt("$.bridges." + name + ": expected an array of strings");
        for (const auto& l : b.value.GetArray()) {
            if (!l.IsString()) throw corrupt("$.bridges." + name + ": expected an array of strings");
            out[name].emplace_back(l.GetString(), l.GetStringLength());
        }
    }
    return out;
}

std::optional<std::string> MeterStore::save(const MeterLines& m) const {
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.SetIndent(' ', 1);
    w.StartObject();
    w.Key("format"); w.String("vswitch-meters");
    w.Key("version"); w.Int(1);
    w.Key("bridges");
    w.StartObject();
    for (const auto& [br, ls] : m) {
        w.Key(br.c_str());
        w.StartArray();
        for (const auto& l : ls) w.String(l.c_str(), static_cast<rapidjson::SizeType>(l.size()));
        w.EndArray();
    }
    w.EndObject();
    w.EndObject();
    return writeFileDurably(path_, std::string(sb.GetString(), sb.GetSize()) + "\n");
}

MeterLines exportMeters(const ofproto::Ofproto& of, const Config& cfg) {
    MeterLines out;
    for (const auto& [name, bc] : cfg.bridges) {
        if (!of.hasBridge(name)) continue;
        for (const auto& m : of.meterConfigs(name, ofproto::kMeterAll)) out[name].push_back(ofproto::formatMeter(m));
    }
    return out;
}

void restoreMeters(ofproto::Ofproto& of, const MeterLines& m, const std::string& file) {
    for (const auto& [bridge, lines] : m) {
        if (!of.hasBridge(bridge)) continue;
        for (const auto& line : lines) {
            try {
                of.meterMod(bridge, ofproto::Ofproto::MeterCommand::kAdd, ofproto::parseMeter(line));
            } catch (const std::invalid_argument& e) {
                throw ConfigError("meters file " + file + ", bridge " + bridge + ": '" + line + "': " + e.what());
            }
        }
    }
}

}  // namespace vs::vswitchd

#include "vswitchd/flow_store.h"

#include <fstream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "protocol/jsonrpc.h"
#include "vswitchd/config_store.h"

namespace vs::vswitchd {

FlowSnapshot FlowStore::load() const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return {};
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto corrupt = [&](const std::string& why) {
        return ConfigError("flows file " + path_.string() + " is corrupt: " + why +
                           "; refusing to start (the file is left in place)");
    };
    // RapidJSON recurses: a file of a million '[' (hand-edited, or damaged) must be refused, not
    // overflow the stack. A valid flows file nests three levels.
    if (auto deep = protocol::checkJsonDepth(text)) throw corrupt(*deep);
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError())
        throw corrupt(std::string("offset ") + std::to_string(d.GetErrorOffset()) + ": " +
                      rapidjson::GetParseError_En(d.GetParseError()));
    if (!d.IsObject() || !d.HasMember("format") || !d["format"].IsString() ||
        std::string(d["format"].GetString()) != "vswitch-flows")
        throw corrupt("$.format: expected \"vswitch-flows\"");
    if (!d.HasMember("version") || !d["version"].IsInt() || (d["version"].GetInt() != 1 && d["version"].GetInt() != 2))
        throw corrupt("$.version: expected 1 or 2");
    if (!d.HasMember("bridges") || !d["bridges"].IsObject()) throw corrupt("$.bridges: expected an object");
    FlowSnapshot out;
    if (d["version"].GetInt() == 2) {
        for (const char* key : {"config_seq", "flow_seq"})
            if (!d.HasMember(key) || !d[key].IsUint64()) throw corrupt(std::string("$.") + key + ": expected a number");
        out.config_seq = d["config_seq"].GetUint64();
        out.flow_seq = d["flow_seq"].GetUint64();
    }
    for (const auto& b : d["bridges"].GetObject()) {
        std::string name = b.name.GetString();
        if (!b.value.IsArray()) throw corrupt("$.bridges." + name + ": expected an array of strings");
        auto& lines = out.bridges[name];
        for (const auto& l : b.value.GetArray()) {
            if (!l.IsString()) throw corrupt("$.bridges." + name + ": expected an array of strings");
            lines.emplace_back(l.GetString(), l.GetStringLength());
        }
    }
    return out;
}

std::optional<std::string> FlowStore::save(const FlowSnapshot& s) const {
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.SetIndent(' ', 1);
    w.StartObject();
    w.Key("format"); w.String("vswitch-flows");
    w.Key("version"); w.Int(2);
    w.Key("config_seq"); w.Uint64(s.config_seq);
    w.Key("flow_seq"); w.Uint64(s.flow_seq);
    w.Key("bridges");
    w.StartObject();
    for (const auto& [br, ls] : s.bridges) {
        w.Key(br.c_str());
        w.StartArray();
        for (const auto& l : ls) w.String(l.c_str(), static_cast<rapidjson::SizeType>(l.size()));
        w.EndArray();
    }
    w.EndObject();
    w.EndObject();
    std::string text(sb.GetString(), sb.GetSize());
    text += "\n";
    return writeFileDurably(path_, text);
}

}  // namespace vs::vswitchd

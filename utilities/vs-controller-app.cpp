#include "utilities/vs-controller-app.h"

#include <cstdio>
#include <stdexcept>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.h"

namespace vs::utilities {

namespace of = protocol::of;

std::string macText(const std::uint8_t* p) {
    char b[18];
    std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
    return b;
}

void EventSink::message(const std::string& name, const std::string& peer, const of::Message& msg) {
    rapidjson::Document doc;
    doc.Parse(of::encode(msg).c_str());
    rapidjson::Document out(rapidjson::kObjectType);
    auto& a = out.GetAllocator();
    out.AddMember("event", rapidjson::Value(name.c_str(), a), a);
    out.AddMember("switch", rapidjson::Value(peer.c_str(), a), a);
    for (auto& m : doc.GetObject())
        if (std::string_view(m.name.GetString()) != "type")
            out.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a), a);
    out_ << protocol::toJson(out) << std::endl;
}

void EventSink::note(const std::string& name, const std::string& peer, const std::string& reason) {
    rapidjson::Document out(rapidjson::kObjectType);
    auto& a = out.GetAllocator();
    out.AddMember("event", rapidjson::Value(name.c_str(), a), a);
    out.AddMember("switch", rapidjson::Value(peer.c_str(), a), a);
    if (!reason.empty()) out.AddMember("reason", rapidjson::Value(reason.c_str(), a), a);
    out_ << protocol::toJson(out) << std::endl;
}

// --- LearningSwitch --------------------------------------------------------------------------------

void LearningSwitch::connected(const std::string& peer, const SendFn& send) {
    macs_[peer].clear();
    send(of::FeaturesRequest{});
    send(of::FlowMod{of::FlowModCommand::kDelete, ""});
    send(of::FlowMod{of::FlowModCommand::kAdd, "priority=0,actions=CONTROLLER:65535"});
    send(of::BarrierRequest{});
}

void LearningSwitch::message(const std::string& peer, const of::Message& msg, const SendFn& send) {
    std::string name(of::typeName(msg.body));
    if (const auto* pin = std::get_if<of::PacketIn>(&msg.body)) {
        events_.message(name, peer, msg);
        return packetIn(peer, *pin, send);
    }
    if (name == "features_reply") return events_.message("connected", peer, msg);
    events_.message(name, peer, msg);
}

void LearningSwitch::packetIn(const std::string& peer, const of::PacketIn& pin, const SendFn& send) {
    if (pin.data.size() < 14) return;
    std::string dst = macText(pin.data.data());
    std::string src = macText(pin.data.data() + 6);
    auto& table = macs_[peer];
    if (!(pin.data[6] & 1)) table[src] = pin.in_port;  // never learn a multicast source
    auto it = (pin.data[0] & 1) ? table.end() : table.find(dst);
    if (it == table.end() || it->second == pin.in_port) {
        if (it != table.end()) return;  // destination behind the ingress port: drop
        send(of::PacketOut{pin.in_port, "FLOOD", pin.data});
        return;
    }
    std::string out = "output:" + std::to_string(it->second);
    std::string flow = "priority=100,idle_timeout=" + std::to_string(idle_timeout_s_) + ",dl_dst=" + dst + ",actions=" + out;
    send(of::FlowMod{of::FlowModCommand::kAdd, flow});
    send(of::PacketOut{pin.in_port, out, pin.data});
}

// --- ScriptApp -------------------------------------------------------------------------------------

std::vector<of::Body> ScriptApp::load(const std::string& text) {
    if (auto deep = protocol::checkJsonDepth(text)) throw std::runtime_error("not usable JSON: " + *deep);
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError()) throw std::runtime_error("not JSON (offset " + std::to_string(doc.GetErrorOffset()) + ")");
    const rapidjson::Value* list = &doc;
    if (doc.IsObject() && doc.HasMember("messages")) list = &doc["messages"];
    if (!list->IsArray()) throw std::runtime_error("expected an array of messages or {\"messages\": [...]}");
    std::vector<of::Body> out;
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
        rapidjson::Document m;
        m.CopyFrom((*list)[i], m.GetAllocator());
        if (!m.IsObject()) throw std::runtime_error("message " + std::to_string(i) + ": expected a JSON object");
        if (!m.HasMember("xid")) m.AddMember("xid", 0, m.GetAllocator());
        auto decoded = of::decode(protocol::toJson(m));
        if (auto* e = std::get_if<of::DecodeError>(&decoded))
            throw std::runtime_error("message " + std::to_string(i) + ": " + e->message);
        out.push_back(std::get<of::Message>(decoded).body);
    }
    return out;
}

void ScriptApp::connected(const std::string&, const SendFn& send) {
    send(of::FeaturesRequest{});
    for (const auto& m : messages_) send(m);
    send(of::BarrierRequest{});
}

void ScriptApp::message(const std::string& peer, const of::Message& msg, const SendFn&) {
    std::string name(of::typeName(msg.body));
    events_.message(name == "features_reply" ? "connected" : name, peer, msg);
}

}  // namespace vs::utilities

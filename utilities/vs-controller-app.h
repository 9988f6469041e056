// The applications of the reference controller vs-controller (docs/controller.md): what it does
// with each switch it talks to, independent of the transport (protocol/ofchannel.h carries the
// lines; this code sees decoded messages, protocol/ofmsg.h).
//
//  - LearningSwitch: an L2 learning switch (the classic OpenFlow example, as Open vSwitch's
//    ovs-testcontroller): on connection it deletes every rule and installs a table-miss rule
//    (priority 0, actions=CONTROLLER); for each packet_in it learns (source MAC -> in_port), and if
//    the destination is known installs "priority=100,dl_dst=DST,actions=output:PORT" (idle_timeout
//    configurable) and sends the frame there with packet_out, else floods it with packet_out.
//  - Script: on connection it sends the messages of a JSON file (each a protocol message without
//    xid, e.g. {"type":"flow_mod","command":"add","flow":"..."}; "xid" is added), then a barrier.
// Both print every event from the switch as one JSON object per line (`EventSink`): connected
// (datapath_id, ports), packet_in, flow_removed, port_status, error, replies (multipart_reply,
// barrier_reply, features_reply, echo_reply) and disconnected.
//
// Thread-safety: none; one thread (the controller's io_context) drives it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "protocol/ofmsg.h"

namespace vs::utilities {

// Prints events as JSON lines (flushed at once, so that scripts and tests can follow them live).
class EventSink {
public:
    explicit EventSink(std::ostream& out) : out_(out) {}
    // {"event": NAME, "switch": PEER, ...fields of `msg` (its encoded JSON members)}.
    void message(const std::string& name, const std::string& peer, const protocol::of::Message& msg);
    // {"event": NAME, "switch": PEER, "reason": REASON} (connected / disconnected / refused).
    void note(const std::string& name, const std::string& peer, const std::string& reason);

private:
    std::ostream& out_;
};

// Sends one message to the switch (the app fills the xid).
using SendFn = std::function<void(protocol::of::Body)>;

class ControllerApp {
public:
    virtual ~ControllerApp() = default;
    // The hello exchange with a switch completed.
    virtual void connected(const std::string& peer, const SendFn& send) = 0;
    // A message from that switch (after hello).
    virtual void message(const std::string& peer, const protocol::of::Message& msg, const SendFn& send) = 0;
    virtual void disconnected(const std::string& peer) = 0;
};

class LearningSwitch final : public ControllerApp {
public:
    LearningSwitch(EventSink& events, int idle_timeout_s) : events_(events), idle_timeout_s_(idle_timeout_s) {}
    void connected(const std::string& peer, const SendFn& send) override;
    void message(const std::string& peer, const protocol::of::Message& msg, const SendFn& send) override;
    void disconnected(const std::string& peer) override { macs_.erase(peer); }

    // The learned MAC table of a switch ("aa:bb:..." -> port), for tests.
    const std::map<std::string, std::uint32_t>& macs(const std::string& peer) { return macs_[peer]; }

private:
    void packetIn(const std::string& peer, const protocol::of::PacketIn& pin, const SendFn& send);

    EventSink& events_;
    int idle_timeout_s_;
    std::map<std::string, std::map<std::string, std::uint32_t>> macs_;  // per switch
};

class ScriptApp final : public ControllerApp {
public:
    // `messages`: the bodies to send on each connection, in order.
    ScriptApp(EventSink& events, std::vector<protocol::of::Body> messages)
        : events_(events), messages_(std::move(messages)) {}
    // Reads a script file: a JSON array of messages, or {"messages": [...]}. Throws
    // std::runtime_error naming the element and the problem.
    static std::vector<protocol::of::Body> load(const std::string& text);
    void connected(const std::string& peer, const SendFn& send) override;
    void message(const std::string& peer, const protocol::of::Message& msg, const SendFn& send) override;
    void disconnected(const std::string&) override {}

private:
    EventSink& events_;
    std::vector<protocol::of::Body> messages_;
};

// "aa:bb:cc:dd:ee:ff" of the 6 bytes at `p`.
std::string macText(const std::uint8_t* p);

}  // namespace vs::utilities

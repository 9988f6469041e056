// Ingress policing and egress QoS (docs/qos.md), as Open vSwitch's Interface
// ingress_policing_rate/burst and its Port qos -> QoS -> Queue tables (vswitch.xml, "QoS" and
// "Queue"; netdev-linux's linux-htb and linux-hfsc).
//
// - Config (qos_config.cpp): the Port `qos` column of the config store and its validation:
//   type linux-htb or linux-hfsc; other_config max-rate; queues (id 0..61439) with other_config
//   min-rate, max-rate, burst (bit/s, bits) and priority; bad input is refused with a message
//   naming the key (unknown type, a rate that is not a non-negative integer, max-rate below
//   min-rate).
// - Plan (qos.cpp, pure): what Linux traffic control must hold for a QosConfig on a netdev of a
//   given MTU and link rate: a root qdisc 1: (htb or hfsc, default class 1:1), a class 1:fffe
//   at the QoS max-rate, and one class 1:(N+1) per queue N, parent 1:fffe — Open vSwitch's layout,
//   so `set_queue:N` selects class 1:(N+1) by skb->priority (ofproto/queue.h).
// - Apply (qos.cpp, QosApplier): builds the plan through libnl-route (rtnetlink) on the port's
//   netdev, removes the root qdisc when the QoS goes away, and programs each interface's
//   datapath ingress policer (datapath/policer.h).
//
// Thread-safety: QosApplier belongs to the daemon's control thread (the reconciler calls it);
// the other functions are pure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datapath/port.h"
#include "vswitchd/config_model.h"
#include "vswitchd/config_schema.h"

namespace vs::vswitchd {

inline const std::vector<std::string>& qosTypes() {
    static const std::vector<std::string> types = {"linux-htb", "linux-hfsc"};
    return types;
}

// The first problem of `q` ("QoS type 'linux-sfq' is not supported (supported: linux-htb,
// linux-hfsc)", "queue 1 max-rate 1000 is below its min-rate 2000", "invalid value '-5' for
// max-rate: expected a non-negative integer (bit/s)"), or nullopt.
std::optional<std::string> qosProblem(const QosConfig& q);

// The Port `qos` column. JSON: null (no QoS) or {"type":T, "other_config":{..},
// "external_ids":{..}, "queues":{"N":{"other_config":{..},"external_ids":{..}}}}. `set` also
// takes the flat form vsctl writes, a map of strings: "type", "N.KEY" for queue N's
// other_config KEY, any other key for the QoS's other_config (vsctl set port p qos:type=linux-htb
// qos:max-rate=10000000 qos:0.max-rate=5000000); `remove` takes the same keys.
ColumnDef<PortConfig> qosColumn();

// One traffic-control object of a plan. Rates in bytes/s, burst in bytes.
struct TcClass {
    std::uint32_t handle = 0, parent = 0;  // TC_H_MAKE(major << 16, minor)
    std::uint64_t min_rate = 0, max_rate = 0;
    std::uint32_t burst = 0;
    std::uint32_t priority = 0;
    bool operator==(const TcClass&) const = default;
};
struct TcPlan {
    std::string kind;              // "htb" | "hfsc": the root qdisc 1:, default class 1:1
    std::vector<TcClass> classes;  // 1:fffe first, then 1:(N+1) by queue id
    bool operator==(const TcPlan&) const = default;
};

inline constexpr std::uint32_t kQosRootClass = 0x1fffe;  // 1:fffe
inline constexpr std::uint64_t kDefaultLinkRate = 100'000'000;  // bit/s when the link's speed is unknown

// The plan for `q` (valid: see qosProblem) on a netdev of `mtu` bytes whose link runs at
// `link_bps` (bit/s; used when the QoS has no max-rate). As Open vSwitch: a queue's min-rate is
// at least one MTU per second and at most the QoS max-rate, its max-rate between its min-rate
// and the QoS max-rate, its burst at least MTU + 64 bytes. Queue 0 (the default class) is added
// with the defaults when the QoS does not list it, so unclassified traffic is shaped too.
TcPlan planQos(const QosConfig& q, int mtu, std::uint64_t link_bps);

// Makes each netdev's traffic control and each interface's policer follow the config.
class QosApplier {
public:
    using PortLookup = std::function<std::shared_ptr<dp::Port>(const std::string& iface)>;
    // Idempotent: only what changed (or whose device was reopened) is touched. Problems (no
    // such device, a type QoS cannot shape) are logged and kept for error().
    void apply(const Config& cfg, const PortLookup& portOf);
    // Why the QoS of interface `iface` is not in force, or nullopt.
    std::optional<std::string> error(const std::string& iface) const;

private:
    struct Shaped {
        std::weak_ptr<dp::Port> port;  // the datapath port it was applied for (reopened: apply again)
        TcPlan plan;
    };
    struct Policed {
        std::weak_ptr<dp::Port> port;
        int rate = 0, burst = 0;
    };
    void shape(const std::string& iface, const QosConfig* q, const std::shared_ptr<dp::Port>& port);
    void police(const std::string& iface, const InterfaceConfig& ic, const std::shared_ptr<dp::Port>& port);

    std::map<std::string, Shaped> shaped_;    // by netdev
    std::map<std::string, Policed> policed_;  // by interface
    std::map<std::string, std::string> errors_;
};

// Linux traffic control through libnl-route (qos.cpp): replaces the root qdisc of `netdev` by
// `plan`, or (nullopt) deletes the root qdisc 1: if there is one. Returns the error, or nullopt.
std::optional<std::string> applyTcPlan(const std::string& netdev, const std::optional<TcPlan>& plan);

// True when the two interfaces (maps of interfaces) differ at most in their policing columns (a
// policing change reprograms the running port instead of reopening it).
bool sameApartFromPolicing(const InterfaceConfig& a, const InterfaceConfig& b);
bool sameInterfacesApartFromPolicing(const std::map<std::string, InterfaceConfig>& a,
                                     const std::map<std::string, InterfaceConfig>& b);

}  // namespace vs::vswitchd

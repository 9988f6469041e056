// The switch configuration as typed values: what the config store persists and the reconciler
// applies. Mirrors Open vSwitch's Bridge / Port / Interface tables, keyed by name.
//
// Thread-safety: plain values; the daemon's control thread owns the live copy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vs::vswitchd {

using StringMap = std::map<std::string, std::string>;

struct InterfaceConfig {
    std::string type = "system";  // system | internal | tap | vxlan | geneve | gre | patch | dummy
    StringMap options;
    StringMap other_config;
    StringMap external_ids;
    int ofport = 0;  // assigned by the store when the interface is added (1..65279), stable across restarts
    int ingress_policing_rate = 0;   // kbit/s (1000 bit/s), 0 = no policing (docs/qos.md)
    int ingress_policing_burst = 0;  // kbit, 0 = the default (8000 kbit)
    bool operator==(const InterfaceConfig&) const = default;
};

// Egress QoS of a port: Open vSwitch's QoS row and its Queue rows, embedded in the port that
// references them (docs/qos.md; validated and applied by vswitchd/qos.h). Rates in bit/s, burst
// in bits, as Open vSwitch's other_config keys.
struct QueueConfig {
    StringMap other_config;  // min-rate, max-rate, burst, priority
    StringMap external_ids;
    bool operator==(const QueueConfig&) const = default;
};
struct QosConfig {
    std::string type;                      // linux-htb | linux-hfsc
    std::map<std::uint32_t, QueueConfig> queues;  // by queue id (set_queue:N)
    StringMap other_config;                // max-rate
    StringMap external_ids;
    bool operator==(const QosConfig&) const = default;
};

struct PortConfig {
    std::map<std::string, InterfaceConfig> interfaces;  // one for a plain port, several for a bond
    std::optional<int> tag;          // 802.1Q VLAN (0..4095) of an access / native port
    std::vector<int> trunks;         // VLANs a trunk carries, sorted and unique; empty = all
    std::string vlan_mode;           // "" (implicit) | access | trunk | native-tagged | native-untagged
    // Bonding (docs/bonds.md), as Open vSwitch's Port table. other_config keys: bond-primary,
    // bond-rebalance-interval (ms), lacp-time (fast|slow), lacp-fallback-ab (true|false).
    std::string bond_mode;           // "" (= active-backup) | active-backup | balance-slb | balance-tcp
    std::string lacp;                // "" (= off) | active | passive | off
    int bond_updelay = 0;            // ms a member's link must stay up before it is enabled
    int bond_downdelay = 0;          // ms a member's link must stay down before it is disabled
    StringMap other_config;
    StringMap external_ids;
    std::optional<QosConfig> qos;    // egress QoS (Port qos -> QoS, Queue); nullopt = none
    bool operator==(const PortConfig&) const = default;
};

// A controller of a bridge (Open vSwitch's Controller table; docs/controller.md), keyed by its
// target ("tcp:HOST[:PORT]", "ssl:HOST[:PORT]", "ptcp:[PORT][:IP]", "pssl:[PORT][:IP]").
// Unset optional columns take the defaults below.
struct ControllerConfig {
    static constexpr int kDefaultInactivityProbeMs = 5000;
    static constexpr int kDefaultMaxBackoffMs = 8000;
    static constexpr int kDefaultRateLimit = 1000;  // packet_in per second
    std::optional<int> inactivity_probe;        // ms of silence before an echo probe; 0 = no probes
    std::optional<int> max_backoff;             // ms, the longest wait between connection attempts
    std::optional<int> controller_rate_limit;   // packet_in messages per second to this controller
    std::optional<int> controller_burst_limit;  // packet_in messages saved up (default: rate / 4)
    StringMap other_config;
    StringMap external_ids;
    int probeMs() const { return inactivity_probe.value_or(kDefaultInactivityProbeMs); }
    int maxBackoffMs() const { return max_backoff.value_or(kDefaultMaxBackoffMs); }
    bool operator==(const ControllerConfig&) const = default;
};

// The switch's own TLS identity and the CA it trusts (Open vSwitch's SSL table; set-ssl).
struct SslConfig {
    std::string private_key;
    std::string certificate;
    std::string ca_cert;
    bool operator==(const SslConfig&) const = default;
};

// A port mirror of a bridge (Open vSwitch's Mirror table; docs/mirrors.md, vswitchd/mirror_config.h),
// keyed by name in BridgeConfig::mirrors. Ports are named; at most one output.
struct MirrorConfig {
    bool select_all = false;
    std::vector<std::string> select_src_port;  // sorted, unique port names
    std::vector<std::string> select_dst_port;
    std::vector<int> select_vlan;              // sorted, unique 0..4095; empty: every VLAN
    std::string output_port;                   // "" = none
    std::optional<int> output_vlan;            // 1..4095 (RSPAN)
    StringMap external_ids;
    bool operator==(const MirrorConfig&) const = default;
};

struct BridgeConfig {
    std::map<std::string, PortConfig> ports;
    std::map<std::string, MirrorConfig> mirrors;  // by name (mirror_config.h)
    std::map<std::string, ControllerConfig> controllers;  // by target
    std::string fail_mode;   // "" (= standalone) | standalone | secure
    StringMap other_config;  // mac-aging-time (s, default 300), mac-table-size (default 8192)
    StringMap external_ids;
    bool stp_enable = false;   // 802.1D-1998 STP (vswitchd/stp_config.h, docs/stp.md)
    bool rstp_enable = false;  // refused while RSTP is not implemented
    bool operator==(const BridgeConfig&) const = default;
};

struct Config {
    std::uint64_t seq = 0;  // bumped by every committed transaction
    std::map<std::string, BridgeConfig> bridges;
    std::optional<SslConfig> ssl;
    // The OVSDB rows as last committed through OVSDB (docs/ovsdb.md): JSON text of
    // {TABLE: {UUID: {COLUMN: VALUE}}} with the UUIDs and the columns the fields above do not
    // model. Opaque here (only vswitchd/ovsdb_mapping reads it); "" = none. The fields above win.
    std::string ovsdb;
    bool operator==(const Config&) const = default;
};

}  // namespace vs::vswitchd

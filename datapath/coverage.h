// Named event and drop counters ("coverage"), shown by `vsappctl coverage/show`.
//
// The list below is an X-macro: it generates the enum and the names. Every drop in the datapath
// has its own counter here. Counters are process-wide relaxed atomics: safe to bump from any
// thread, cheap enough for the drop path (which is off the cache-hit path); readers see a
// recent value, not a snapshot across counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace vs::dp {

#define VS_COVERAGE_COUNTERS(X)                                                        \
    X(drop_runt, "frame shorter than an Ethernet header (14 bytes)")                 \
    X(drop_truncated_vlan, "802.1Q/802.1ad tag cut short")                           \
    X(drop_truncated_ip, "IPv4/IPv6 header cut short or IHL beyond the frame")       \
    X(drop_bad_ip, "IPv4 version/IHL/total length inconsistent")                     \
    X(drop_truncated_l4, "TCP/UDP/ICMP header cut short")                            \
    X(drop_truncated_arp, "ARP packet cut short")                                    \
    X(drop_oversize, "frame larger than the receive buffer")                         \
    X(drop_vnet_bad_csum, "virtio-net header: checksum start/offset outside the frame or not at the L4 header") \
    X(drop_vnet_bad_gso, "virtio-net header: GSO type unknown or not what the frame is (TCP/UDP over IPv4/IPv6, no fragment, checksum offloaded)") \
    X(drop_vnet_bad_l4, "virtio-net header: GSO frame whose TCP data offset is below 5 or whose L4 header ends past the frame or 192 bytes") \
    X(drop_vnet_gso_size, "virtio-net header: gso_size below the smallest segment Linux sends (48 bytes for TCP)") \
    X(drop_vnet_gso_segs, "virtio-net header: GSO frame of more than 256 segments") \
    X(drop_no_actions, "flow translated to no output (filtered or dropped)")         \
    X(drop_vlan_tagged_on_access, "tagged frame (VID != 0) on an access port")   \
    X(drop_vlan_not_trunked, "frame on a VLAN the ingress port does not carry")    \
    X(drop_controller_unavailable, "packet for the controller while none is connected")   \
    X(drop_packet_in_rate_limit, "packet_in over a controller's controller_rate_limit")   \
    X(drop_packet_in_backlog, "packet_in not sent: the controller is not reading")       \
    X(packet_in_sent, "packet_in messages sent to controllers")                          \
    X(controller_bad_message, "malformed or refused messages from controllers (answered with an error)") \
    X(drop_resubmit_depth, "resubmit/goto_table recursion deeper than 64")         \
    X(drop_ttl_exceeded, "dec_ttl on a packet with TTL 0 or 1")                    \
    X(drop_table_miss, "no rule matched in a flow table")                         \
    X(drop_vxlan_short, "VXLAN datagram shorter than its header and an Ethernet header") \
    X(drop_vxlan_no_iflag, "VXLAN header without the I flag (RFC 7348 section 5)")   \
    X(vxlan_reserved_ignored, "VXLAN headers with reserved bits set, ignored (RFC 7348 section 5)") \
    X(drop_vxlan_unknown_vni, "VXLAN packet for a VNI no port has")                  \
    X(drop_vxlan_unknown_remote, "VXLAN packet from a VTEP no port names")           \
    X(drop_geneve_short, "Geneve datagram shorter than its header, options and an Ethernet header") \
    X(drop_geneve_version, "Geneve header of a version other than 0 (RFC 8926 section 3.4)") \
    X(drop_geneve_oam, "Geneve control packet (O bit): not data, not forwarded (RFC 8926 section 3.4)") \
    X(drop_geneve_proto, "Geneve payload other than Ethernet (protocol type not 0x6558)") \
    X(drop_geneve_bad_options, "Geneve options that overrun their length (RFC 8926 section 3.5)") \
    X(drop_geneve_critical, "Geneve critical option this endpoint does not understand (RFC 8926 section 3.5.1)") \
    X(geneve_options_skipped, "Geneve options received and skipped (none is interpreted)") \
    X(drop_geneve_unknown_vni, "Geneve packet for a VNI no port has")                  \
    X(drop_geneve_unknown_remote, "Geneve packet from a VTEP no port names")           \
    X(drop_gre_short, "GRE packet shorter than its header and an Ethernet header")     \
    X(drop_gre_version, "GRE header with a version other than 0 or routing present (RFC 2784)") \
    X(drop_gre_proto, "GRE payload other than Ethernet (protocol type not 0x6558)")   \
    X(drop_gre_bad_csum, "GRE checksum that does not verify (RFC 2784 section 2.5)")  \
    X(drop_gre_unknown_key, "GRE packet for a key no port has")                        \
    X(drop_gre_unknown_remote, "GRE packet from a remote no port names")              \
    X(tunnel_rx_gro_merged, "received tunnel segments merged into a GSO super-frame (TCP, same connection)") \
    X(tunnel_rx_csum_partial, "received inner frames whose checksum the sender left to offload (passed on as NEEDS_CSUM)") \
    X(tunnel_tx_gso_fallback, "UDP GSO sends of tunnel segments the kernel refused, sent one datagram each instead") \
    X(drop_tunnel_no_destination, "flow-based tunnel output without a destination")  \
    X(drop_tunnel_offload, "GSO frame the tunnel cannot segment")                     \
    X(tunnel_icmp_frag_needed, "ICMP fragmentation-needed sent for a frame over the tunnel MTU") \
    X(drop_upcall_error, "upcall failed to translate the packet")                    \
    X(poll_thread_exception, "exceptions caught by a poll thread's loop (a bug; the thread went on)") \
    X(drop_upcall_exception, "upcall threw an exception (a slow-path bug): the packet was dropped") \
    X(drop_xlate_resubmit_limit, "translation over 4,096 resubmits/goto_tables: the packet was dropped") \
    X(drop_xlate_action_limit, "translation over 8,192 datapath actions: the packet was dropped") \
    X(drop_ingress_policed, "frames received over the port's ingress_policing_rate (policer.h)") \
    X(drop_tx_error, "transmit to a port failed")                                    \
    X(drop_tx_busy, "frames not sent: the port's transmit queue was full (EAGAIN/ENOBUFS ends the batch)") \
    X(drop_port_gone, "output to a port that no longer exists")                      \
    X(drop_clone_exhausted, "a packet's actions needed more than 64 copies of it: the rest were not run") \
    X(upcall, "datapath misses handed to the slow path")                             \
    X(flow_install, "megaflows installed")                                           \
    X(flow_limit_hit, "megaflow not installed: flow limit reached")                  \
    X(flow_flush_generation, "datapath caches flushed after a slow-path change")     \
    X(flow_flush_ports, "megaflows removed by a change confined to their bridge (MAC table, flow table)") \
    X(flow_idle_expired, "megaflows removed after idling")                           \
    X(mac_learned, "new MAC table entries")                                          \
    X(mac_moved, "MAC entries that moved to another port")                           \
    X(mac_expired, "MAC entries aged out")                                           \
    X(mac_evicted, "MAC entries evicted by the table-size limit")                    \
    X(rx_vlan_restored, "VLAN tags put back from PACKET_AUXDATA")                 \
    X(rx_ring_promoted, "busy ports moved to a memory-mapped receive ring")        \
    X(rx_ring_refused, "busy ports left on recvmmsg: ring budget spent or refused") \
    X(rx_ring_released, "receive rings given back by ports that went idle")        \
    X(drop_bond_inactive_member, "frame received on a backup member of an active-backup bond") \
    X(drop_bond_multicast_not_active, "broadcast/multicast received on a bond member that is not the active one") \
    X(drop_bond_member_disabled, "frame received on a bond member that LACP has not enabled") \
    X(drop_bond_lacp_not_negotiated, "frame on a LACP bond without a partner (no lacp-fallback-ab)") \
    X(drop_bond_reflected, "balance-slb: frame from a MAC learned on another port (a reflection)") \
    X(drop_bond_no_member, "output to a bond that has no enabled member")            \
    X(drop_slow_protocols, "Slow Protocols frame (LACPDU) on a port without LACP: never relayed") \
    X(drop_lacp_malformed, "malformed LACPDU")                                       \
    X(drop_slow_path_queue_full, "packet for the slow path dropped: its queue is full") \
    X(drop_mirror_output_port, "frame received on a mirror output port (reserved for mirroring)") \
    X(lacp_rx, "LACPDUs received and processed")                                     \
    X(lacp_tx, "LACPDUs sent")                                                       \
    X(bond_active_changed, "bond active member changes (failovers)")                 \
    X(bond_learning_packets, "gratuitous announcements (RARP) sent after a bond failover") \
    X(bond_rebalanced, "bond rebalancing runs that moved hash buckets")              \
    X(stp_rx, "BPDUs received and processed by STP")                                 \
    X(stp_tx, "BPDUs sent by STP")                                                   \
    X(drop_stp_malformed, "malformed or unsupported BPDU on a port running STP")     \
    X(drop_stp_blocked, "frame received on a port that STP keeps blocking, listening or learning") \
    X(drop_meter, "packets dropped by an OpenFlow meter's drop band (meter.h)")            \
    X(drop_port_no_recv, "frame received on a port whose OpenFlow config says no_receive (port_mod)")

enum class Coverage : unsigned {
#define VS_COVERAGE_ENUM(name, desc) name,
    VS_COVERAGE_COUNTERS(VS_COVERAGE_ENUM)
#undef VS_COVERAGE_ENUM
        kCount
};

struct CoverageInfo {
    std::string_view name;
    std::string_view description;
};

// Adds `n` to counter `c`. Thread-safe (relaxed atomic).
void coverageAdd(Coverage c, std::uint64_t n = 1) noexcept;
// Current total of counter `c`.
std::uint64_t coverageRead(Coverage c) noexcept;
// Name and description of counter `c`.
CoverageInfo coverageInfo(Coverage c) noexcept;
inline constexpr unsigned kCoverageCount = static_cast<unsigned>(Coverage::kCount);

}  // namespace vs::dp

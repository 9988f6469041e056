// The datapath interface (Open vSwitch's "dpif" idea): the one way the layers above (ofproto and,
// through it, vswitchd) reach a datapath. It covers ports, the cache's lifetime (start/stop,
// invalidation, flow limit, dump), packet execution and meters; upcalls come back the other way,
// through the UpcallHandler given at creation.
//
// One difference from Open vSwitch's dpif: there is no flow_put/flow_del from above. A poll thread
// installs the megaflow its upcall returned in its own cache at once (no handler threads, no
// flow_put round trip), and the slow path removes cached flows by invalidating them (all, or those
// of some input ports), after which they are rebuilt by upcalls. docs/datapath.md explains why.
//
// Thread-safety: every method is called from the control thread (or any single thread) unless it
// says otherwise; UpcallHandler's methods are called from poll threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "datapath/actions.h"
#include "datapath/flow_key.h"
#include "datapath/flow_table.h"
#include "datapath/meter.h"
#include "datapath/port.h"

namespace vs::dp {

// Implemented by the slow path (ofproto). Called from poll threads; must be thread-safe.
class UpcallHandler {
public:
    virtual ~UpcallHandler() = default;
    // Translates a packet that missed the cache. Fills `actions` and `mask` (every field bit the
    // translation looked at; the datapath installs key&mask -> actions). `mask` starts zeroed.
    // Returns false when the packet cannot be translated (it is dropped and counted).
    // `sinks` (empty on entry) lists counters the datapath must feed with the flow's traffic.
    // `report_used` (false on entry): set it to have flowsUsed() report the megaflow while it
    // carries traffic (the slow path's explicit request, e.g. "this flow reached NORMAL and
    // learned its source"; flows without it are never reported). An exception thrown here drops
    // the packet (counted as drop_upcall_exception); the poll thread carries on.
    virtual bool upcall(const FlowKey& key, const Packet& pkt, FlowKey& mask, ActionList& actions,
                        StatsSinks& sinks, bool& report_used) = 0;
    // Reports, about once a second, the megaflows that asked for it (report_used) and carried
    // packets since the last report (masked key and mask), so the slow path can refresh what they
    // depend on (MAC learning).
    virtual void flowsUsed(std::span<const std::pair<FlowKey, FlowKey>> flows) = 0;
    // A kUserspace action ran: `pkt` (as modified by the actions before it) goes to the slow path
    // with the action's `userdata` (e.g. packet_in for a controller, an LACPDU). Called on a poll
    // thread; must only copy and queue, never block.
    virtual void slowPath(const Packet& pkt, std::uint64_t userdata) { (void)pkt; (void)userdata; }
};

struct DatapathConfig {
    std::size_t flow_limit = 200000;     // megaflows per poll thread
    std::int64_t max_idle_ms = 10000;    // idle megaflows are removed after this
    int poll_timeout_ms = 500;           // epoll wait when idle (no busy polling)
    unsigned poll_threads = 1;           // ports are spread over this many threads
    unsigned busy_poll_us = 0;           // keep polling this long after the last frame (0: sleep at once)
};

struct DatapathStats {
    std::uint64_t hit = 0;     // packets that hit the EMC or a megaflow
    std::uint64_t missed = 0;  // packets that needed an upcall
    std::uint64_t lost = 0;    // packets dropped because the upcall failed
    std::uint64_t flows = 0;   // megaflows installed now
};

// Snapshot of one megaflow for introspection (dpif/dump-flows).
struct FlowDump {
    FlowKey key, mask;
    std::string actions;
    std::uint64_t packets = 0, bytes = 0;
    std::int64_t used_ms = 0, created_ms = 0;
};

class Dpif {
public:
    virtual ~Dpif() = default;

    // Adds a port; returns its datapath port number (>= 1; numbers are not reused while the
    // daemon runs, so no flow can ever send to a new port by an old number).
    virtual std::uint32_t addPort(std::shared_ptr<Port> port) = 0;
    // Removes a port; its socket closes once no poll thread uses it any more (see quiesce()).
    virtual void removePort(std::uint32_t port_no) = 0;
    // Waits, at most `timeout_ms`, until no running poll thread still references a port removed
    // before the call. Returns false on timeout. Must not hold a lock an upcall may wait for.
    virtual bool quiesce(int timeout_ms) = 0;
    bool quiesce() { return quiesce(2000); }
    // The port numbered `port_no`, or null.
    virtual std::shared_ptr<Port> port(std::uint32_t port_no) const = 0;

    // Starts the poll threads; stop() joins them (idempotent).
    virtual void start() = 0;
    virtual void stop() = 0;
    // Invalidates every cached flow (before each poll thread's next batch). Any thread.
    virtual void invalidate() noexcept = 0;
    // Invalidates the cached flows of packets received on `ports` (datapath port numbers), for a
    // change confined to one bridge; other flows stay warm. Any thread.
    virtual void invalidatePorts(std::vector<std::uint32_t> ports) = 0;
    // Megaflows kept per poll thread (a full cache evicts). Any thread.
    virtual void setFlowLimit(std::size_t n) noexcept = 0;

    virtual DatapathStats stats() const = 0;
    // Every poll thread's megaflows (dpif/dump-flows). Waits at most ~1 s per thread.
    virtual std::vector<FlowDump> dumpFlows() = 0;
    // Runs `actions` on `frame` as if it had arrived on port `in_port` (0: none), on a poll thread
    // (or inline when none runs): packet_out, LACPDUs, gratuitous announcements. Does not wait.
    virtual void execute(std::vector<std::uint8_t> frame, std::uint32_t in_port, ActionList actions) = 0;
    // OpenFlow meters' token buckets (meter.h), shared with their owners in the slow path.
    virtual std::shared_ptr<MeterPool> meterPool() const noexcept = 0;

    // For tests without threads: process everything pending on every port once, on the calling
    // thread (never while started); and run the periodic sweep (stats, idle expiry, flowsUsed) now.
    virtual void runOnce() = 0;
    virtual void sweepForTest() = 0;
};

// The AF_PACKET/TAP/tunnel datapath with its poll threads (datapath.h), behind the interface.
std::unique_ptr<Dpif> createDatapath(UpcallHandler& handler, DatapathConfig cfg = {});

}  // namespace vs::dp

// Drives ofproto's bonds from the daemon's io_context (IEEE 802.1AX-2014 section 6.4 timers run
// here): a 100 ms tick for the bond up/down delays, LACP machines and rebalancing
// (Ofproto::runBonds); the wake-up that brings slow-path frames (LACPDUs) from the poll threads
// to the control thread (Ofproto::processSlowPath, posted to the io_context); and carrier changes
// from the netlink link monitor (Ofproto::setCarrier).
//
// Thread-safety: control thread only, except the wake callback it installs in ofproto, which a
// poll thread calls; it only posts to the io_context (thread-safe) and touches nothing else.
// Lifecycle: construct after ofproto (before its poll threads start is best; a frame queued
// earlier is picked up by the next tick), destroy before ofproto.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ofproto/ofproto.h"
#include "vswitchd/link_monitor.h"

namespace vs::vswitchd {

class BondDriver {
public:
    static constexpr std::chrono::milliseconds kTick{100};

    BondDriver(boost::asio::io_context& io, ofproto::Ofproto& of);
    ~BondDriver();
    BondDriver(const BondDriver&) = delete;
    BondDriver& operator=(const BondDriver&) = delete;

    // A link event: bond members follow IFF_UP && IFF_RUNNING (carrier).
    void linkEvent(const LinkEvent& ev);

private:
    void arm();

    boost::asio::io_context& io_;
    ofproto::Ofproto& of_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted handlers check it
};

}  // namespace vs::vswitchd

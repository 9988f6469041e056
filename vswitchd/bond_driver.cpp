#include "vswitchd/bond_driver.h"

#include <boost/asio/post.hpp>

namespace vs::vswitchd {

BondDriver::BondDriver(boost::asio::io_context& io, ofproto::Ofproto& of) : io_(io), of_(of), timer_(io) {
    std::weak_ptr<int> alive = alive_;
    of_.setSlowPathWake([&io, &of, alive] {
        boost::asio::post(io, [&of, alive] {
            if (alive.lock()) of.processSlowPath();
        });
    });
    arm();
}

BondDriver::~BondDriver() {
    of_.setSlowPathWake({});
    timer_.cancel();
}

void BondDriver::arm() {
    timer_.expires_after(kTick);
    std::weak_ptr<int> alive = alive_;
    timer_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (ec || !alive.lock()) return;
        of_.processSlowPath();  // also catches a frame queued before the wake was installed
        of_.runBonds();
        of_.runStp();  // STP timers and BPDUs (IEEE 802.1D-1998 8.7), on the same tick
        arm();
    });
}

void BondDriver::linkEvent(const LinkEvent& ev) { of_.setCarrier(ev.name, !ev.deleted && ev.up && ev.running); }

}  // namespace vs::vswitchd

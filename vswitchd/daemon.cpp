#include "vswitchd/daemon.h"

#include "vswitchd/log.h"

namespace vs::vswitchd {

Daemon::Daemon(boost::asio::io_context& io, DaemonOptions opts)
    : io_(io), opts_(std::move(opts)), store_(ConfigStore::open(opts_.config)),
      ofproto_(std::make_unique<ofproto::Ofproto>()),
      reconciler_(std::make_unique<Reconciler>(*ofproto_)), timer_(io) {}

Daemon::~Daemon() { shutdown(); }

void Daemon::start() {
    reconciler_->apply(store_.config());
    ofproto_->start();
    auto table = std::make_shared<MethodTable>();
    registerRpcMethods(*table, *this);
    server_ = std::make_unique<MgmtServer>(
        io_, opts_.socket, [table](const protocol::Request& r, rapidjson::Document& res) { (*table)(r, res); });
    armTimer();
    log::info("vswitchd {} started: config {} (seq {}), socket {}", VSWITCH_VERSION, store_.path().string(),
              store_.seq(), opts_.socket.string());
}

void Daemon::armTimer() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        ofproto_->runPeriodic();
        armTimer();
    });
}

void Daemon::shutdown() {
    timer_.cancel();
    if (server_) server_->close();
    server_.reset();
    if (ofproto_) ofproto_->datapath().stop();
    reconciler_.reset();
    ofproto_.reset();  // closes every datapath port
}

}  // namespace vs::vswitchd

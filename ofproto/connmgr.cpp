#include "ofproto/connmgr.h"

#include <algorithm>

namespace vs::ofproto {

void TokenBucket::configure(double rate_per_s, double burst) {
    rate_ = std::max(rate_per_s, 0.0);
    burst_ = std::max(burst, 1.0);
    if (!started_) tokens_ = burst_;
    tokens_ = std::min(tokens_, burst_);
}

bool TokenBucket::admit(std::int64_t now_ms) {
    if (!started_) {
        started_ = true;
        last_ms_ = now_ms;
    }
    if (now_ms > last_ms_) {
        tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_ms - last_ms_) / 1000.0);
        last_ms_ = now_ms;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

void FailOpenMonitor::configure(FailMode mode, bool has_controllers, std::int64_t probe_ms) {
    mode_ = mode;
    has_controllers_ = has_controllers;
    probe_ms_ = probe_ms;
}

void FailOpenMonitor::connected(std::int64_t now_ms) {
    ++connected_;
    last_alive_ms_ = std::max(last_alive_ms_, now_ms);
}

void FailOpenMonitor::disconnected(std::int64_t) {
    if (connected_ > 0) --connected_;
    // The clock keeps running from the last message received (a dead peer is detected by the
    // probes, which take up to two intervals; Open vSwitch's rconn_failure_duration()).
}

void FailOpenMonitor::alive(std::int64_t now_ms) { last_alive_ms_ = std::max(last_alive_ms_, now_ms); }

bool FailOpenMonitor::failOpen(std::int64_t now_ms) const {
    if (mode_ != FailMode::kStandalone || !has_controllers_ || connected_ > 0) return false;
    return now_ms - last_alive_ms_ >= triggerMs();
}

}  // namespace vs::ofproto

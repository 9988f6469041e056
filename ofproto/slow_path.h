// Slow-path packets: frames that a datapath action (dp::Action::userspace) hands to ofproto on a
// poll thread — LACPDUs today, packet_in for a controller later — queued for the control thread.
//
// A poll thread copies the frame into the queue (UpcallHandler::slowPath must not block) and, when
// the queue was empty, calls the "wake" callback that the daemon installs (it posts a call of
// Ofproto::processSlowPath() to its io_context; ofproto knows nothing of Asio). The control thread
// takes everything queued at once. The queue is bounded: beyond kMaxQueued frames a packet is
// dropped and counted (drop_slow_path_queue_full), so a flood of such frames cannot eat memory.
//
// The userdata of the action says what the frame is for: the kind in the top byte, an argument
// in the low 32 bits (slowPathUserdata()).
//
// Thread-safety: push() from any poll thread, take()/setWake() from the control thread; a mutex
// guards the queue. Only frames the slow path asked for take it — never the forwarding path.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "datapath/packet.h"

namespace vs::ofproto {

enum class SlowPathKind : std::uint8_t { kNone = 0, kLacp = 1, kController = 2, kStp = 3 };

constexpr std::uint64_t slowPathUserdata(SlowPathKind k, std::uint32_t arg = 0) {
    return (static_cast<std::uint64_t>(k) << 56) | arg;
}
constexpr SlowPathKind slowPathKind(std::uint64_t userdata) { return static_cast<SlowPathKind>(userdata >> 56); }
constexpr std::uint32_t slowPathArg(std::uint64_t userdata) { return static_cast<std::uint32_t>(userdata); }

struct SlowPathPacket {
    std::uint64_t userdata = 0;
    std::uint32_t in_port = 0;  // datapath port the frame arrived on
    std::vector<std::uint8_t> frame;
};

class SlowPathQueue {
public:
    static constexpr std::size_t kMaxQueued = 1024;

    // Copies `pkt`. Returns false (counted) when the queue is full.
    bool push(const dp::Packet& pkt, std::uint64_t userdata);
    std::vector<SlowPathPacket> take();
    // `wake` is called (on the pushing thread) when a frame lands in an empty queue.
    void setWake(std::function<void()> wake);

private:
    std::mutex mu_;
    std::vector<SlowPathPacket> q_;
    std::function<void()> wake_;
};

}  // namespace vs::ofproto

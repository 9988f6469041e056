// RxRing: setup, per-packet receive, teardown. See rx_ring.h.
#include "datapath/rx_ring.h"

#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <linux/if_packet.h>

#include "datapath/coverage.h"
#include "datapath/flow_key.h"

namespace vs::dp {
namespace {

std::error_code lastError() { return std::error_code(errno, std::generic_category()); }

bool setInt(int fd, int opt, int v) { return ::setsockopt(fd, SOL_PACKET, opt, &v, sizeof v) == 0; }

constexpr std::uint32_t kBlockSize = 4096;  // one page: always allocatable, 2 slots per block

}  // namespace

void restoreVlanTag(Packet& p, std::uint16_t tpid, std::uint16_t tci) noexcept {
    if (p.size() < 12 || p.headroom() < 4) return;
    std::uint8_t* d = p.push(4);
    std::memmove(d, d + 4, 12);
    std::uint16_t tag[2] = {htons(tpid), htons(tci)};
    std::memcpy(d + 12, tag, 4);
    if (p.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) p.vnet.csum_start += 4;
    if (p.vnet.hdr_len) p.vnet.hdr_len += 4;
    coverageAdd(Coverage::rx_vlan_restored);
}

void restoreVlanFromAuxdata(Packet& p, const msghdr& mh) noexcept {
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&mh), c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (aux.tp_status & TP_STATUS_VLAN_VALID)
            restoreVlanTag(p, (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : kEthTypeVlan,
                           aux.tp_vlan_tci);
        return;
    }
}

std::unique_ptr<RxRing> RxRing::create(int fd, std::uint32_t frames, std::error_code& ec) {
    if (frames < 32 || (frames & (frames - 1))) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return nullptr;
    }
    if (!setInt(fd, PACKET_VERSION, TPACKET_V2) || !setInt(fd, PACKET_COPY_THRESH, 1)) {
        ec = lastError();
        return nullptr;
    }
    tpacket_req req{};
    req.tp_block_size = kBlockSize;
    req.tp_frame_size = kFrameSize;
    req.tp_frame_nr = frames;
    req.tp_block_nr = frames / (kBlockSize / kFrameSize);
    if (::setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
        ec = lastError();
        return nullptr;
    }
    std::size_t size = std::size_t(req.tp_block_nr) * kBlockSize;
    void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        ec = lastError();
        tpacket_req none{};
        ::setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &none, sizeof none);  // give the ring back
        return nullptr;
    }
    return std::unique_ptr<RxRing>(new RxRing(fd, static_cast<std::uint8_t*>(map), size, frames));
}

RxRing::~RxRing() { ::munmap(map_, size_); }

// A frame too long for its slot: the kernel queued all of it on the socket, in ring order.
bool RxRing::fetchCopied(Packet& p) noexcept {
    iovec iov[2] = {{&p.vnet, sizeof(virtio_net_hdr)}, {p.data(), p.tailroom()}};
    alignas(cmsghdr) unsigned char cbuf[CMSG_SPACE(sizeof(tpacket_auxdata))];
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t len = ::recvmsg(fd_, &mh, MSG_DONTWAIT | MSG_TRUNC);
    if (len < static_cast<ssize_t>(sizeof(virtio_net_hdr)) || (mh.msg_flags & MSG_TRUNC) ||
        std::size_t(len) - sizeof(virtio_net_hdr) > p.tailroom())
        return false;
    p.setSize(static_cast<std::uint32_t>(len - sizeof(virtio_net_hdr)));
    restoreVlanFromAuxdata(p, mh);
    return true;
}

int RxRing::receive(Packet** pkts, int max, std::uint64_t& dropped) noexcept {
    int n = 0;
    while (n < max) {
        std::uint8_t* slot = map_ + std::size_t(head_) * kFrameSize;
        auto* h = reinterpret_cast<tpacket2_hdr*>(slot);
        std::uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
        if (!(st & TP_STATUS_USER)) break;
        Packet& p = *pkts[n];
        p.reset();
        bool ok;
        if (st & TP_STATUS_COPY) {
            ok = fetchCopied(p);
        } else {
            std::uint32_t len = h->tp_snaplen, mac = h->tp_mac;
            ok = len == h->tp_len && mac >= sizeof(tpacket2_hdr) + sizeof(virtio_net_hdr) &&
                 mac + len <= kFrameSize && len <= p.tailroom();
            if (ok) {
                std::memcpy(&p.vnet, slot + mac - sizeof(virtio_net_hdr), sizeof(virtio_net_hdr));
                std::memcpy(p.data(), slot + mac, len);
                p.setSize(len);
                if (st & TP_STATUS_VLAN_VALID)
                    restoreVlanTag(p, (st & TP_STATUS_VLAN_TPID_VALID) ? h->tp_vlan_tpid : kEthTypeVlan,
                                   h->tp_vlan_tci);
            }
        }
        __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        head_ = (head_ + 1) & (frames_ - 1);
        if (ok) {
            ++n;
        } else {
            coverageAdd(Coverage::drop_oversize);
            ++dropped;
        }
    }
    return n;
}

}  // namespace vs::dp

// Transport of the controller protocol (docs/protocol.md "Controller protocol"), shared by the
// switch (vswitchd/controller_*.cpp) and the reference controller (utilities/vs-controller):
// a line-framed byte stream over plain TCP or TLS over TCP (Boost.Asio `ssl::stream`, OpenSSL),
// plus the TLS setup both ends use.
//
// TLS (RFC 5246 TLS 1.2, RFC 8446 TLS 1.3): version 1.2 at least; each side presents its own
// certificate and private key and verifies the peer's certificate chain against the configured CA
// certificate (mutual authentication: a server requires a client certificate). A client that
// connects to a named host also checks that the peer's certificate is issued to that host:
// the IP address (subjectAltName iPAddress) when the host is an address literal, else the DNS
// name (RFC 6125). Expired, not-yet-valid and self-signed peer certificates, certificates from
// another CA and a plaintext peer fail the handshake; the failure reason (OpenSSL's verify
// result, e.g. "certificate has expired") is passed to the close callback for the log.
//
// LineChannel: frames a byte stream in one of two ways (ChannelLimits::framing): kLines (the JSON
// dialect) or kOpenFlow (binary OpenFlow: each message is the 16-bit big-endian length at bytes
// 2..3 of its 8-byte header, OpenFlow 1.3.5 section 7.1; a declared length below 8 calls the
// oversize callback with that length, and the channel closes: the stream cannot be resynchronised).
// In kLines mode it reads '\n'-terminated lines (a trailing '\r' is stripped, blank lines skipped)
// and hands each to the line callback; queues lines to send. Bounded: a line longer than
// `max_line` calls the oversize callback, which normally sends an error and closes the channel
// (the framing cannot be trusted after that); a peer that does not read, whose unsent output
// exceeds `max_queued`, is disconnected. The close callback runs exactly once, with the reason.
//
// Thread-safety: none; every call and callback runs on the io_context's thread. Channels are
// owned by shared_ptr (pending handlers hold a reference); callbacks must not assume the owner
// still exists unless they hold it.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

namespace vs::protocol {

// PEM files of one TLS endpoint (Open vSwitch's SSL table / ovs-pki's layout).
struct TlsFiles {
    std::string private_key;
    std::string certificate;
    std::string ca_cert;
    bool operator==(const TlsFiles&) const = default;
};

// A TLS context could not be made; what() names the file and the problem ("cannot read
// certificate /etc/x.pem: No such file or directory", "private key /k.pem does not match
// certificate /c.pem").
struct TlsError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Builds a context for a TLS server (`server`, asks for and requires a client certificate) or
// client. TLS 1.2 minimum, compression off. Throws TlsError.
std::shared_ptr<boost::asio::ssl::context> makeTlsContext(const TlsFiles& files, bool server);

// The problem with `files` (unreadable, not PEM, key/certificate mismatch), or nullopt.
std::optional<std::string> checkTlsFiles(const TlsFiles& files);

enum class Framing { kLines, kOpenFlow };

struct ChannelLimits {
    Framing framing = Framing::kLines;
    std::size_t max_line = 1024 * 1024;          // bytes, newline excluded
    std::size_t max_queued = 8 * 1024 * 1024;    // unsent output bytes before the peer is dropped
    std::chrono::milliseconds handshake_timeout{5000};
};

class LineChannel : public std::enable_shared_from_this<LineChannel> {
public:
    using OnLine = std::function<void(std::string_view line)>;
    using OnOversize = std::function<void(std::size_t bytes)>;
    using OnClose = std::function<void(const std::string& reason)>;
    using OnReady = std::function<void()>;

    // A plain TCP channel.
    static std::shared_ptr<LineChannel> plain(boost::asio::ip::tcp::socket socket, ChannelLimits limits = {});
    // A TLS channel over `socket`; `server` selects the handshake role. `expected_host` (client
    // only, may be empty) is the host the peer's certificate must name.
    static std::shared_ptr<LineChannel> tls(boost::asio::ip::tcp::socket socket,
                                            std::shared_ptr<boost::asio::ssl::context> ctx, bool server,
                                            const std::string& expected_host, ChannelLimits limits = {});
    ~LineChannel();
    LineChannel(const LineChannel&) = delete;
    LineChannel& operator=(const LineChannel&) = delete;

    // Handshakes (TLS), then calls `ready` and starts reading. Callbacks may be empty.
    void start(OnReady ready, OnLine line, OnOversize oversize, OnClose closed);
    // Queues `line` (kLines: a '\n' is appended; kOpenFlow: sent as is). Ignored once closing.
    void send(std::string line);
    // Closes after the queued output is written, our side shut down and the peer's remaining input
    // read and discarded (all within ~2 s: a reset would lose that last output), then reports
    // `reason`.
    void closeAfterFlush(const std::string& reason);
    // Closes now.
    void close(const std::string& reason);

    bool isOpen() const { return !closed_; }
    bool isTls() const { return tls_ != nullptr; }
    // "127.0.0.1:6653" (the remote endpoint), known from construction.
    const std::string& peer() const { return peer_; }
    // The peer certificate's subject ("CN=controller,O=..."), once the TLS handshake succeeded.
    const std::string& peerSubject() const { return peer_subject_; }
    std::size_t queuedBytes() const { return queued_bytes_; }

private:
    struct Private {};

public:
    LineChannel(Private, boost::asio::ip::tcp::socket socket, ChannelLimits limits);

private:
    boost::asio::ip::tcp::socket& socket();
    void handshake(bool server);
    void readMore();
    void onRead(std::size_t n);
    bool splitFrames();  // kOpenFlow: hands over complete frames; false when the channel closes
    void writeMore();
    void drain();
    void drainMore();
    void finish(const std::string& reason);
    std::string handshakeFailure(const boost::system::error_code& ec) const;

    ChannelLimits limits_;
    boost::asio::ip::tcp::socket socket_;
    std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
    std::shared_ptr<boost::asio::ssl::context> ctx_;
    bool server_ = false;
    boost::asio::steady_timer timer_;
    std::string peer_;
    std::string peer_subject_;
    std::string inbuf_;
    std::array<char, 16384> chunk_{};
    std::deque<std::string> outq_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool closing_ = false;  // closeAfterFlush: no more lines handled or sent
    bool draining_ = false;  // output flushed and shut down; discarding input until EOF
    bool closed_ = false;
    std::string close_reason_;
    OnReady on_ready_;
    OnLine on_line_;
    OnOversize on_oversize_;
    OnClose on_close_;
};

// Connects a TCP socket to `host`:`port` (a name is resolved; every address is tried), within
// `timeout`. Calls `done` once, with the socket or the error text.
void asyncConnect(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                  std::chrono::milliseconds timeout,
                  std::function<void(std::optional<boost::asio::ip::tcp::socket>, const std::string& error)> done);

}  // namespace vs::protocol

#include "protocol/ofchannel.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>

namespace vs::protocol {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// Fails with "cannot read WHAT PATH: REASON" unless `path` can be opened for reading.
void requireReadable(const std::string& path, const char* what) {
    if (path.empty()) throw TlsError(std::string("no ") + what + " file configured");
    std::ifstream f(path);
    if (!f) throw TlsError(std::string("cannot read ") + what + " " + path + ": " + std::strerror(errno));
}

std::string opensslError(const boost::system::system_error& e) {
    std::string s = e.code().message();
    return s.empty() ? e.what() : s;
}

std::string subjectOf(SSL* ssl) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!cert) return {};
    std::string out;
    if (BIO* bio = BIO_new(BIO_s_mem())) {
        X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
        char* data = nullptr;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0) out.assign(data, static_cast<std::size_t>(n));
        BIO_free(bio);
    }
    X509_free(cert);
    return out;
}

}  // namespace

std::shared_ptr<ssl::context> makeTlsContext(const TlsFiles& files, bool server) {
    requireReadable(files.private_key, "private key");
    requireReadable(files.certificate, "certificate");
    requireReadable(files.ca_cert, "CA certificate");
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls);
    SSL_CTX* native = ctx->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);  // RFC 8996: no TLS 1.0/1.1
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::single_dh_use);
    auto step = [](const char* what, const std::string& path, auto&& f) {
        try {
            f();
        } catch (const boost::system::system_error& e) {
            throw TlsError(std::string("cannot load ") + what + " " + path + ": " + opensslError(e));
        }
    };
    step("certificate", files.certificate, [&] { ctx->use_certificate_chain_file(files.certificate); });
    step("private key", files.private_key, [&] { ctx->use_private_key_file(files.private_key, ssl::context::pem); });
    if (SSL_CTX_check_private_key(native) != 1)
        throw TlsError("private key " + files.private_key + " does not match certificate " + files.certificate);
    step("CA certificate", files.ca_cert, [&] { ctx->load_verify_file(files.ca_cert); });
    ctx->set_verify_mode(ssl::verify_peer | (server ? ssl::verify_fail_if_no_peer_cert : 0));
    if (server)
        if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca_cert.c_str()))
            SSL_CTX_set_client_CA_list(native, names);  // tells the client which CA we accept
    return ctx;
}

std::optional<std::string> checkTlsFiles(const TlsFiles& files) {
    try {
        makeTlsContext(files, false);
        return std::nullopt;
    } catch (const TlsError& e) {
        return std::string(e.what());
    }
}

// --- LineChannel -----------------------------------------------------------------------------------

LineChannel::LineChannel(Private, tcp::socket socket, ChannelLimits limits)
    : limits_(limits), socket_(std::move(socket)), timer_(socket_.get_executor()) {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) {
        std::string addr = ep.address().to_string();
        peer_ = (ep.address().is_v6() ? "[" + addr + "]" : addr) + ":" + std::to_string(ep.port());
    } else {
        peer_ = "?";
    }
}

LineChannel::~LineChannel() {
    boost::system::error_code ec;
    socket_.close(ec);
}

std::shared_ptr<LineChannel> LineChannel::plain(tcp::socket socket, ChannelLimits limits) {
    return std::make_shared<LineChannel>(Private{}, std::move(socket), limits);
}

std::shared_ptr<LineChannel> LineChannel::tls(tcp::socket socket, std::shared_ptr<ssl::context> ctx, bool server,
                                              const std::string& expected_host, ChannelLimits limits) {
    auto ch = std::make_shared<LineChannel>(Private{}, std::move(socket), limits);
    ch->ctx_ = std::move(ctx);
    ch->server_ = server;
    ch->tls_ = std::make_unique<ssl::stream<tcp::socket&>>(ch->socket_, *ch->ctx_);
    SSL* native = ch->tls_->native_handle();
    if (!server && !expected_host.empty()) {
        // RFC 6125: the certificate must name the host we connected to (SAN IP or DNS name).
        X509_VERIFY_PARAM* param = SSL_get0_param(native);
        boost::system::error_code ec;
        asio::ip::make_address(expected_host, ec);
        if (!ec) {
            X509_VERIFY_PARAM_set1_ip_asc(param, expected_host.c_str());
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, expected_host.c_str(), 0);
            SSL_set_tlsext_host_name(native, expected_host.c_str());  // SNI
        }
    }
    return ch;
}

void LineChannel::start(OnReady ready, OnLine line, OnOversize oversize, OnClose closed) {
    on_ready_ = std::move(ready);
    on_line_ = std::move(line);
    on_oversize_ = std::move(oversize);
    on_close_ = std::move(closed);
    if (tls_) {
        handshake(server_);
        return;
    }
    if (on_ready_) on_ready_();
    readMore();
}

void LineChannel::handshake(bool server) {
    auto self = shared_from_this();
    timer_.expires_after(limits_.handshake_timeout);
    timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec) self->close("TLS handshake timed out");
    });
    tls_->async_handshake(server ? ssl::stream_base::server : ssl::stream_base::client,
                          [self](const boost::system::error_code& ec) {
                              if (self->closed_) return;
                              self->timer_.cancel();
                              if (ec) return self->close(self->handshakeFailure(ec));
                              self->peer_subject_ = subjectOf(self->tls_->native_handle());
                              if (self->on_ready_) self->on_ready_();
                              self->readMore();
                          });
}

std::string LineChannel::handshakeFailure(const boost::system::error_code& ec) const {
    long verify = SSL_get_verify_result(tls_->native_handle());
    if (verify != X509_V_OK)
        return std::string("TLS handshake failed: peer certificate rejected: ") + X509_verify_cert_error_string(verify);
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
        return "TLS handshake failed: the peer closed the connection (it may have rejected our certificate)";
    return "TLS handshake failed: " + ec.message();
}

void LineChannel::readMore() {
    if (closed_ || closing_) return;
    auto self = shared_from_this();
    auto handler = [self](const boost::system::error_code& ec, std::size_t n) {
        if (self->closed_) return;
        if (ec) {
            bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
            return self->close(eof ? "connection closed by peer" : ec.message());
        }
        self->onRead(n);
    };
    if (tls_) tls_->async_read_some(asio::buffer(chunk_), handler);
    else socket_.async_read_some(asio::buffer(chunk_), handler);
}

bool LineChannel::splitFrames() {
    std::size_t start = 0;
    auto self = shared_from_this();  // a callback may drop the owner's reference
    while (!closed_ && !closing_ && inbuf_.size() - start >= 8) {
        std::size_t len = (static_cast<std::uint8_t>(inbuf_[start + 2]) << 8) | static_cast<std::uint8_t>(inbuf_[start + 3]);
        if (len < 8) {
            if (on_oversize_) on_oversize_(len);
            if (!closing_) closeAfterFlush("OpenFlow header declares length " + std::to_string(len));
            return false;
        }
        if (inbuf_.size() - start < len) break;
        std::string_view frame(inbuf_.data() + start, len);
        start += len;
        if (on_line_) on_line_(frame);
    }
    if (closed_) return false;
    inbuf_.erase(0, start);
    return true;
}

void LineChannel::onRead(std::size_t n) {
    if (limits_.framing == Framing::kOpenFlow) {
        inbuf_.append(chunk_.data(), n);
        if (splitFrames()) readMore();
        return;
    }
    std::size_t scan = inbuf_.size();
    inbuf_.append(chunk_.data(), n);
    std::size_t start = 0;
    auto self = shared_from_this();  // a callback may drop the owner's reference
    while (!closed_ && !closing_) {
        std::size_t nl = inbuf_.find('\n', scan);
        if (nl == std::string::npos) break;
        std::string_view line(inbuf_.data() + start, nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        scan = start = nl + 1;
        if (line.size() > limits_.max_line) {
            if (on_oversize_) on_oversize_(line.size());
            if (!closing_) closeAfterFlush("message too large");
            return;
        }
        if (!line.empty() && on_line_) on_line_(line);
    }
    if (closed_) return;
    inbuf_.erase(0, start);
    if (inbuf_.size() > limits_.max_line && !closing_) {
        if (on_oversize_) on_oversize_(inbuf_.size());
        if (!closing_) closeAfterFlush("message too large");
        return;
    }
    readMore();
}

void LineChannel::send(std::string line) {
    if (closed_ || closing_) return;
    if (limits_.framing == Framing::kLines) line += '\n';
    queued_bytes_ += line.size();
    if (queued_bytes_ > limits_.max_queued)
        return close("the peer does not read: " + std::to_string(queued_bytes_) + " bytes unsent");
    outq_.push_back(std::move(line));
    writeMore();
}

void LineChannel::writeMore() {
    if (writing_ || outq_.empty() || closed_) return;
    writing_ = true;
    auto self = shared_from_this();
    auto handler = [self](const boost::system::error_code& ec, std::size_t) {
        self->writing_ = false;
        if (self->closed_) return;
        if (ec) return self->close("write failed: " + ec.message());
        self->queued_bytes_ -= self->outq_.front().size();
        self->outq_.pop_front();
        if (self->outq_.empty() && self->closing_) return self->drain();
        self->writeMore();
    };
    if (tls_) asio::async_write(*tls_, asio::buffer(outq_.front()), handler);
    else asio::async_write(socket_, asio::buffer(outq_.front()), handler);
}

void LineChannel::closeAfterFlush(const std::string& reason) {
    if (closed_ || closing_) return;
    closing_ = true;
    close_reason_ = reason;
    auto self = shared_from_this();
    timer_.expires_after(std::chrono::seconds(2));
    timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec) self->close(self->close_reason_);
    });
    if (!writing_ && outq_.empty()) drain();
}

// Everything queued is written: end our sending side and read (discarding) until the peer closes
// or the linger timer fires. Closing with unread input would make the kernel send a reset, and the
// peer could lose the last reply (an error telling it why).
void LineChannel::drain() {
    if (closed_ || draining_) return;
    draining_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    drainMore();
}

void LineChannel::drainMore() {
    auto self = shared_from_this();
    auto handler = [self](const boost::system::error_code& ec, std::size_t) {
        if (self->closed_) return;
        if (ec) return self->close(self->close_reason_);
        self->drainMore();
    };
    if (tls_) tls_->async_read_some(asio::buffer(chunk_), handler);
    else socket_.async_read_some(asio::buffer(chunk_), handler);
}

void LineChannel::close(const std::string& reason) { finish(reason); }

void LineChannel::finish(const std::string& reason) {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    outq_.clear();
    queued_bytes_ = 0;
    OnClose cb = std::move(on_close_);
    on_ready_ = nullptr;  // break reference cycles with the owner
    on_line_ = nullptr;
    on_oversize_ = nullptr;
    on_close_ = nullptr;
    if (cb) cb(reason);
}

// --- asyncConnect ----------------------------------------------------------------------------------

void asyncConnect(asio::io_context& io, const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
                  std::function<void(std::optional<tcp::socket>, const std::string&)> done) {
    struct State {
        tcp::resolver resolver;
        tcp::socket socket;
        asio::steady_timer timer;
        std::function<void(std::optional<tcp::socket>, const std::string&)> done;
        bool finished = false;
        explicit State(asio::io_context& io) : resolver(io), socket(io), timer(io) {}
        void finish(const std::string& error) {
            if (finished) return;
            finished = true;
            timer.cancel();
            resolver.cancel();
            if (error.empty()) {
                done(std::move(socket), "");
            } else {
                boost::system::error_code ec;
                socket.close(ec);
                done(std::nullopt, error);
            }
        }
    };
    auto st = std::make_shared<State>(io);
    st->done = std::move(done);
    st->timer.expires_after(timeout);
    st->timer.async_wait([st](const boost::system::error_code& ec) {
        if (ec) return;
        boost::system::error_code ignored;
        st->socket.close(ignored);
        st->finish("connection timed out");
    });
    st->resolver.async_resolve(host, std::to_string(port),
                               [st](const boost::system::error_code& ec, tcp::resolver::results_type results) {
                                   if (st->finished) return;
                                   if (ec) return st->finish("cannot resolve host: " + ec.message());
                                   asio::async_connect(st->socket, results,
                                                       [st](const boost::system::error_code& ec2, const tcp::endpoint&) {
                                                           if (st->finished) return;
                                                           st->finish(ec2 ? ec2.message() : "");
                                                       });
                               });
}

}  // namespace vs::protocol

#include "vswitchd/config_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "vswitchd/config_store.h"

namespace vs::vswitchd {
namespace {
constexpr std::size_t kChunk = 4u << 20;  // preallocation step
std::string err(const std::string& what, const std::filesystem::path& p) {
    return what + " " + p.string() + ": " + std::strerror(errno);
}
}  // namespace

ConfigJournal::~ConfigJournal() {
    if (fd_ >= 0) ::close(fd_);
}

ConfigJournal::ConfigJournal(ConfigJournal&& o) noexcept
    : path_(std::move(o.path_)), fd_(o.fd_), end_(o.end_), allocated_(o.allocated_), records_(o.records_),
      dirty_end_(o.dirty_end_) {
    o.fd_ = -1;
}

std::vector<std::string> ConfigJournal::load() {
    std::vector<std::string> out;
    int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return out;
        throw ConfigError("cannot read config journal " + path_.string() + ": " + std::strerror(errno) +
                          "; refusing to start");
    }
    fd_ = fd;
    std::string text;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    allocated_ = text.size();
    std::size_t used = text.find('\0');
    if (used == std::string::npos) used = text.size();
    std::size_t pos = 0;
    for (std::size_t nl; (nl = text.find('\n', pos)) != std::string::npos && nl < used; pos = nl + 1)
        out.push_back(text.substr(pos, nl - pos));
    end_ = pos;
    records_ = out.size();
    // Everything after the last complete record is the torn tail of an unacknowledged commit. It
    // need not be contiguous: after a power loss a later page of a record can be on disk while an
    // earlier one is still zeros ("rec\n\0\0\0cord\n"). Zero up to the last non-zero byte, not
    // just to the first zero, or a later append that ends inside the leftover would turn its
    // remainder ("cord") into a complete record that does not parse, and the next start would fail.
    std::size_t dirty = text.find_last_not_of('\0');
    dirty = dirty == std::string::npos ? 0 : dirty + 1;
    if (dirty > pos) {
        std::string zeros(dirty - pos, '\0');
        if (::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(pos)) < 0 || ::fdatasync(fd) != 0)
            throw ConfigError(err("cannot clear the torn tail of", path_) + "; refusing to start");
    }
    return out;
}

std::optional<std::string> ConfigJournal::ensureOpen(std::size_t need) {
    if (fd_ < 0) {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd_ < 0) return err("cannot open", path_);
    }
    if (end_ + need <= allocated_) return std::nullopt;
    std::size_t size = ((end_ + need) / kChunk + 1) * kChunk;
    if (int e = ::posix_fallocate(fd_, 0, static_cast<off_t>(size)); e != 0) {
        errno = e;
        return err("cannot preallocate", path_);
    }
    if (::fsync(fd_) != 0) return err("cannot fsync", path_);  // the new size is durable once
    allocated_ = size;
    return std::nullopt;
}

// A write or fdatasync that fails may still have put some or all of the record's bytes into the
// page cache, and the kernel may write them out later: a complete line that was never
// acknowledged. The next append starts at the same offset, and a shorter record would leave the
// failed one's tail after it, a "record" that does not parse, and the daemon would refuse to
// start. So the bytes a failed append may have left are zeroed in the same durable write as the
// next record (and at once, best effort).
std::optional<std::string> ConfigJournal::append(const std::string& record) {
    std::string line = record + "\n";
    std::size_t stale = dirty_end_ > end_ + line.size() ? dirty_end_ - end_ - line.size() : 0;
    line.append(stale, '\0');
    if (auto e = ensureOpen(line.size())) return e;
    auto fail = [&](const char* what) {
        std::string problem = err(what, path_);
        dirty_end_ = std::max(dirty_end_, end_ + line.size());
        std::string zeros(dirty_end_ - end_, '\0');
        (void)!::pwrite(fd_, zeros.data(), zeros.size(), static_cast<off_t>(end_));
        return problem;
    };
    if (::pwrite(fd_, line.data(), line.size(), static_cast<off_t>(end_)) != static_cast<ssize_t>(line.size()))
        return fail("cannot write");
    if (::fdatasync(fd_) != 0) return fail("cannot fdatasync");
    end_ += line.size() - stale;
    dirty_end_ = 0;
    ++records_;
    return std::nullopt;
}

std::optional<std::string> ConfigJournal::reset() {
    if (fd_ < 0 && end_ == 0) return std::nullopt;
    if (auto e = ensureOpen(0)) return e;
    if (::ftruncate(fd_, 0) != 0) return err("cannot truncate", path_);
    allocated_ = end_ = records_ = dirty_end_ = 0;
    return ensureOpen(1);
}

}  // namespace vs::vswitchd

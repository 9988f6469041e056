// Write-ahead journal of the store (config_store.h): each committed config transaction or batch
// of flow_mods is appended as one line, {"seq":N,"ops":[...]} or {"flow_seq":M,"mods":[...]},
// to PATH.journal and made durable with fdatasync before it is
// acknowledged. The file is preallocated, so a commit writes a few hundred bytes into space that
// already exists and fdatasync has no file-size change to record: about 0.5 ms here, against
// about 22 ms for rewriting and fsyncing the whole config file and its directory (measured on this
// kind of machine; docs/benchmarks.md). The config file itself (the snapshot) is rewritten with
// temp + fsync + rename + fsync(dir) only every few hundred commits, after which the journal is
// emptied.
//
// Crash safety: a record is either complete (ends with '\n') and was durable before its
// transaction was acknowledged, or it is the torn tail of a commit that was never acknowledged,
// which open() ignores (and zeroes); a failed append's bytes are zeroed by the next append (a
// failed fdatasync may still have written them). A complete record that does not parse or apply is corruption:
// the daemon refuses to start and leaves both files in place.
//
// Thread-safety: none; owned by the config store on the control thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vs::vswitchd {

class ConfigJournal {
public:
    explicit ConfigJournal(std::filesystem::path path) : path_(std::move(path)) {}
    ~ConfigJournal();
    ConfigJournal(ConfigJournal&& o) noexcept;
    ConfigJournal& operator=(ConfigJournal&&) = delete;
    ConfigJournal(const ConfigJournal&) = delete;

    // Complete records in order. Throws ConfigError if the file cannot be read. A torn last record
    // is dropped and its bytes zeroed so the next append starts clean.
    std::vector<std::string> load();
    // Appends `record` (one line, no '\n') durably. Returns the problem on failure.
    std::optional<std::string> append(const std::string& record);
    // Empties the journal durably (after the snapshot holds everything).
    std::optional<std::string> reset();
    std::size_t records() const { return records_; }
    std::size_t bytes() const { return end_; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::optional<std::string> ensureOpen(std::size_t need);

    std::filesystem::path path_;
    int fd_ = -1;
    std::size_t end_ = 0;        // offset after the last complete record
    std::size_t allocated_ = 0;  // preallocated size
    std::size_t records_ = 0;
    std::size_t dirty_end_ = 0;  // after a failed append: the end of the bytes it may have left
};

}  // namespace vs::vswitchd

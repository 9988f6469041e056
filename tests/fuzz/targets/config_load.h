// Fuzz entry point: the config loader (vswitchd/config_json.h configFromFileText) and the start-up
// path of the config store (ConfigStore::open: the snapshot file plus the write-ahead journal
// replay, config_journal.h).
//
// Input: CONFIG [SEPARATOR JOURNAL], where SEPARATOR is the line "%%journal%%". CONFIG is the
// config file's text (an empty CONFIG means "no file"), JOURNAL the journal file's bytes (torn
// tails, zero-filled preallocation and garbage included).
//
// Invariants:
//  - configFromFileText either returns a Config or throws ConfigFormatError (nothing else), and
//    what it returns survives configToFileText -> configFromFileText unchanged;
//  - ConfigStore::open either opens or throws ConfigError, and leaves the config file untouched;
//  - after a successful open the store is usable and stays consistent across restarts: opening
//    again gives the same config, a new transaction commits, and a third open gives the
//    committed config (a torn journal tail must never resurface after later appends).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <rapidjson/document.h>

#include "tests/fuzz/targets/common.h"
#include "vswitchd/config_json.h"
#include "vswitchd/config_store.h"

namespace vs::fuzz {

inline const std::filesystem::path& fuzzScratchDir() {
    static const std::filesystem::path dir = [] {
        // tmpfs when there is one: fsync is free there, and nothing reaches a disk.
        std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
        auto d = base / ("vsfuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

inline void writeRaw(const std::filesystem::path& p, std::string_view bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string readRaw(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline int configLoad(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "config_load";
    if (size > 65536) return 0;
    const std::string_view input = asText(data, size);
    constexpr std::string_view kSep = "%%journal%%\n";
    std::string_view config = input, journal;
    bool has_journal = false;
    if (auto at = input.find(kSep); at != std::string_view::npos && (at == 0 || input[at - 1] == '\n')) {
        config = input.substr(0, at);
        journal = input.substr(at + kSep.size());
        has_journal = true;
    }

    // 1. The strict loader and its round trip.
    try {
        vswitchd::Config cfg = vswitchd::configFromFileText(config);
        std::string text = vswitchd::configToFileText(cfg);
        vswitchd::Config again;
        try {
            again = vswitchd::configFromFileText(text);
        } catch (const vswitchd::ConfigFormatError& e) {
            fuzzFail(kName, std::string("a loaded config, written back, is refused: ") + e.what() + "\n" + text);
        }
        if (!(again == cfg)) fuzzFail(kName, "a loaded config does not survive write + load:\n" + text);
    } catch (const vswitchd::ConfigFormatError&) {
    }

    // 2. The store's start-up: snapshot + journal replay, on real files.
    const auto dir = fuzzScratchDir();
    const auto path = dir / "conf.json";
    const auto jpath = dir / "conf.json.journal";
    std::filesystem::remove(path);
    std::filesystem::remove(jpath);
    std::filesystem::remove(dir / "conf.json.tmp");
    if (!config.empty()) writeRaw(path, config);
    if (has_journal) writeRaw(jpath, journal);

    vswitchd::Config opened;
    try {
        auto store = vswitchd::ConfigStore::open(path);
        opened = store.config();
    } catch (const vswitchd::ConfigError&) {
        if (!config.empty() && readRaw(path) != config) fuzzFail(kName, "a refused config file was modified");
        return 0;
    }
    if (!config.empty() && readRaw(path) != config) fuzzFail(kName, "opening modified the config file");

    // Restart: the same config again.
    vswitchd::Config second;
    try {
        second = vswitchd::ConfigStore::open(path).config();
    } catch (const vswitchd::ConfigError& e) {
        fuzzFail(kName, std::string("a store that opened once refuses to open again: ") + e.what());
    }
    if (!(second == opened)) fuzzFail(kName, "opening twice gives two different configs");

    // A commit after start-up, then a restart: the commit is there, nothing else changed.
    vswitchd::Config committed;
    {
        auto store = vswitchd::ConfigStore::open(path);
        rapidjson::Document ops;
        ops.Parse(R"([{"op":"add-br","bridge":"fz0","may_exist":true},
                      {"op":"set","table":"Bridge","record":"fz0","column":"external_ids","key":"fz","value":"1"}])");
        auto r = store.transact(ops);
        if (!r.ok()) return 0;  // e.g. the name is taken by a port: a legitimate refusal
        committed = store.config();
        if (r.changed && committed.seq != opened.seq + 1) fuzzFail(kName, "a commit did not bump seq by one");
    }
    vswitchd::Config third;
    try {
        third = vswitchd::ConfigStore::open(path).config();
    } catch (const vswitchd::ConfigError& e) {
        fuzzFail(kName, std::string("after one more commit the store no longer opens: ") + e.what());
    }
    if (!(third == committed)) fuzzFail(kName, "after one more commit and a restart the config differs from the committed one");
    return 0;
}

}  // namespace vs::fuzz

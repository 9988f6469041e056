// The store's flow side (issue #14 item 4): flow_mods journaled beside the config's transactions,
// config records that carry the flow tables they reset, the flows file's cursors, and restoring
// the tables from both (vswitchd/config_store.h, flow_store.h, flow_journal.h).
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/unit/file_bytes.h"

#include "ofproto/ofp_parse.h"
#include "vswitchd/config_store.h"
#include "vswitchd/controller.h"
#include "vswitchd/flow_journal.h"

namespace vs::vswitchd {
namespace {
namespace fs = std::filesystem;

using test::readBytes;
using test::writeBytes;

ofproto::FlowMod mod(const std::string& text, ofproto::FlowMod::Command c = ofproto::FlowMod::Command::kAdd) {
    auto parsed = ofproto::parseFlowMod(text, c, {});
    if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) throw std::runtime_error(e->message);
    return std::get<ofproto::FlowMod>(parsed);
}

// A daemon's flow tables without ports or threads: the store's hooks read it, as vswitchd's do.
class FlowJournalTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/vs-flowjournal-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ / "conf.json";
    }
    void TearDown() override { fs::remove_all(dir_); }

    // Opens the store and a switch restored from it, as vswitchd's start does.
    void open() {
        store_.reset();
        known_.clear();
        of_ = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{});
        store_.emplace(ConfigStore::open(path_));
        store_->setFlowHooks(FlowHooks{&ControllerManager::flowResets,
                                       [this] { return exportFlowTables(*of_, store_->config()); }});
        syncBridges();
        restoreFlowTables(*of_, *store_);
        store_->dropRestoredFlows();
    }
    void syncBridges() {  // what the reconciler does to bridges
        for (const auto& name : known_)
            if (!store_->config().bridges.count(name)) of_->removeBridge(name);
        known_.clear();
        for (const auto& [name, bc] : store_->config().bridges) {
            of_->addBridge(name);
            known_.insert(name);
        }
    }
    void transact(const std::string& opsJson) {
        rapidjson::Document ops;
        ops.Parse(opsJson.c_str());
        ASSERT_TRUE(store_->transact(ops).ok()) << opsJson;
        syncBridges();
        store_->compactIfDue();
    }
    void flows(const std::string& br, const std::vector<ofproto::FlowMod>& mods) {
        std::vector<JournaledFlowMod> rec;
        for (const auto& m : mods) rec.push_back(journaledFlowMod(br, m));
        ASSERT_EQ(store_->appendFlowMods(rec), std::nullopt);
        of_->applyFlowMods(br, mods);
        store_->compactIfDue();
    }
    std::vector<ofproto::FlowMod> rules(const std::string& br) { return of_->exportFlows(br); }

    fs::path dir_, path_;
    std::unique_ptr<ofproto::Ofproto> of_;
    std::optional<ConfigStore> store_;
    std::set<std::string> known_;
};

TEST_F(FlowJournalTest, FlowModsAreJournaledAndReplayedInOrder) {
    open();
    transact(R"([{"op":"add-br","bridge":"br0"}])");
    flows("br0", {mod("priority=5,udp,actions=drop"), mod("priority=6,tcp,actions=drop")});
    flows("br0", {mod("priority=6,tcp", ofproto::FlowMod::Command::kDeleteStrict),
                  mod("udp,actions=output:3", ofproto::FlowMod::Command::kModify)});
    auto want = rules("br0");
    ASSERT_EQ(want.size(), 2u);  // NORMAL and the modified udp rule
    EXPECT_FALSE(fs::exists(path_.string() + ".flows")) << "one record per change, no table rewrite";
    open();
    EXPECT_EQ(rules("br0"), want);
}

TEST_F(FlowJournalTest, ADeletedBridgesRulesNeverComeBackOnItsNamesake) {
    open();
    transact(R"([{"op":"add-br","bridge":"br0"}])");
    auto defaults = rules("br0");
    flows("br0", {mod("priority=500,udp,actions=drop")});
    transact(R"([{"op":"del-br","bridge":"br0"}])");
    transact(R"([{"op":"add-br","bridge":"br0"}])");
    open();  // a crash right after the acknowledgement
    EXPECT_EQ(rules("br0"), defaults);
}

// The same through modify(), the path of changes made in C++ (OVSDB transactions): the change
// has no ops form, so its record carries the whole config beside the resets.
TEST_F(FlowJournalTest, AModifyThatDeletesABridgeJournalsItsReset) {
    open();
    transact(R"([{"op":"add-br","bridge":"br0"}])");
    auto defaults = rules("br0");
    flows("br0", {mod("priority=500,udp,actions=drop")});
    auto change = [&](auto&& edit) {
        ASSERT_TRUE(store_->modify(edit).ok());
        syncBridges();
        store_->compactIfDue();
    };
    change([](Config& c) { c.bridges.erase("br0"); });
    change([](Config& c) { c.bridges["br0"]; });
    open();  // a crash right after the acknowledgement
    EXPECT_EQ(rules("br0"), defaults);
    change([](Config& c) { c.bridges["br0"].fail_mode = "secure"; });
    open();
    EXPECT_TRUE(rules("br0").empty()) << "secure, no controller: Open vSwitch flushes every rule";
}

TEST_F(FlowJournalTest, AFlushByAFailModeChangeIsPartOfItsRecord) {
    open();
    transact(R"([{"op":"add-br","bridge":"br0"}])");
    flows("br0", {mod("priority=500,udp,actions=drop")});
    transact(R"([{"op":"set-fail-mode","bridge":"br0","mode":"secure"}])");
    open();
    EXPECT_TRUE(rules("br0").empty()) << "secure, no controller: Open vSwitch flushes every rule";
    transact(R"([{"op":"del-fail-mode","bridge":"br0"}])");
    open();
    ASSERT_EQ(rules("br0").size(), 1u);
    EXPECT_EQ(rules("br0")[0], ofproto::defaultNormalRule());
}

TEST_F(FlowJournalTest, CompactionWritesTheFlowsFileWithItsCursors) {
    open();
    transact(R"([{"op":"add-br","bridge":"br0"}])");
    for (int i = 0; i < 300; ++i) flows("br0", {mod("priority=" + std::to_string(i + 1) + ",udp,actions=drop")});
    EXPECT_LT(store_->journalRecords(), 256u);
    std::string file = readBytes(path_.string() + ".flows");
    EXPECT_NE(file.find("\"version\": 2"), std::string::npos) << file.substr(0, 200);
    EXPECT_NE(file.find("\"flow_seq\": 256"), std::string::npos) << file.substr(0, 200);
    auto want = rules("br0");
    ASSERT_EQ(want.size(), 301u);
    open();
    EXPECT_EQ(rules("br0"), want);
}

// A crash after the flows file and the config file were written but before the journal was
// emptied: every record is still there, and none may be applied twice.
TEST_F(FlowJournalTest, ACrashBeforeTheJournalResetReplaysNothingTwice) {
    open();
    transact(R"([{"op":"add-br","bridge":"br0"}])");
    for (int i = 0; i < 254; ++i) flows("br0", {mod("priority=" + std::to_string(i + 1) + ",udp,actions=drop")});
    transact(R"([{"op":"del-br","bridge":"br0"}])");
    std::string journal = readBytes(path_.string() + ".journal");
    transact(R"([{"op":"add-br","bridge":"br0"}])");  // the 256th record: compaction
    flows("br0", {mod("priority=9,tcp,actions=drop")});
    auto want = rules("br0");
    ASSERT_EQ(want.size(), 2u);
    std::string after = readBytes(path_.string() + ".journal");
    ASSERT_LT(after.find('\0'), 1000u) << "compacted";
    // The journal as it was before the reset, with the records after it appended.
    writeBytes(path_.string() + ".journal", journal.substr(0, journal.find('\0')) + after.substr(0, after.find('\0')));
    open();
    EXPECT_EQ(rules("br0"), want);
}

TEST_F(FlowJournalTest, CorruptFlowRecordsAreRefused) {
    open();
    transact(R"([{"op":"add-br","bridge":"br0"}])");
    transact(R"([{"op":"set","table":"Bridge","record":"br0","column":"other_config","key":"a","value":"1"}])");
    std::string good = readBytes(path_.string() + ".journal");
    good = good.substr(0, good.find('\0'));
    for (std::string_view rec : {R"({"flow_seq":1,"mods":[["br0","replace","priority=1 actions=drop"]]})",
                                   R"({"flow_seq":2,"mods":[]})", R"({"flow_seq":1,"mods":[["br0","add"]]})"}) {
        writeBytes(path_.string() + ".journal", good + std::string(rec) + "\n");
        try {
            ConfigStore::open(path_);
            ADD_FAILURE() << "accepted " << rec;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("is corrupt: record 2"), std::string::npos) << e.what();
        }
    }
    writeBytes(path_.string() + ".journal", good + R"({"flow_seq":1,"mods":[["br0","add","priority=1,bogus=2 actions=drop"]]})" + "\n");
    try {
        open();
        ADD_FAILURE() << "restored a rule that does not parse";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("bridge br0"), std::string::npos) << e.what();
    }
}

TEST_F(FlowJournalTest, VersionOneFlowsFilesStillLoad) {
    writeBytes(path_.string() + ".flows",
               R"({"format":"vswitch-flows","version":1,"bridges":{"br0":["priority=3,arp actions=drop"]}})");
    FlowSnapshot s = FlowStore(path_.string() + ".flows").load();
    EXPECT_EQ(s.config_seq, 0u);
    EXPECT_EQ(s.flow_seq, 0u);
    ASSERT_EQ(s.bridges.at("br0").size(), 1u);
}

}  // namespace
}  // namespace vs::vswitchd

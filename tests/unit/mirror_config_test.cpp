// Mirror configuration (vswitchd/mirror_config.h, docs/mirrors.md): the add-mirror / del-mirror ops
// and the Mirror table through the config store, the rules a transaction must keep (refused
// whole, nothing changed), del-port's weak references, the config file, and the OVSDB rows.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "ovsdb/vswitch_schema.h"
#include "vswitchd/config_json.h"
#include "vswitchd/config_store.h"
#include "vswitchd/mirror_config.h"
#include "vswitchd/ovsdb_mapping.h"

using namespace vs;
using namespace vs::vswitchd;
namespace fs = std::filesystem;

namespace {

class MirrorConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/vs-mirror-config-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        store_ = std::make_unique<ConfigStore>(ConfigStore::open(dir_ / "conf.json"));
        ok(R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"},
               {"op":"add-port","bridge":"br0","port":"p2"},{"op":"add-port","bridge":"br0","port":"p3"},
               {"op":"add-br","bridge":"br1"},{"op":"add-port","bridge":"br1","port":"q1"}])");
    }
    void TearDown() override {
        store_.reset();
        fs::remove_all(dir_);
    }
    TransactResult run(const std::string& ops) {
        rapidjson::Document d;
        d.Parse(ops.c_str());
        EXPECT_FALSE(d.HasParseError()) << ops;
        return store_->transact(d);
    }
    void ok(const std::string& ops) {
        auto r = run(ops);
        ASSERT_TRUE(r.ok()) << ops << " -> " << r.error->message;
    }
    void bad(const std::string& ops, const std::string& want) {
        Config before = store_->config();
        auto r = run(ops);
        ASSERT_FALSE(r.ok()) << ops;
        EXPECT_NE(r.error->message.find(want), std::string::npos) << r.error->message;
        EXPECT_EQ(store_->config(), before) << "a failed transaction must change nothing";
    }
    const BridgeConfig& br0() const { return store_->config().bridges.at("br0"); }

    fs::path dir_;
    std::unique_ptr<ConfigStore> store_;
};

TEST_F(MirrorConfigTest, AddMirrorParsesVsctlTextAndJson) {
    ok(R"([{"op":"add-mirror","bridge":"br0","mirror":"m0","columns":{"select-all":"true",
           "select-src-port":"p2,p1","select_vlan":"20,10,10","output-port":"p3"}}])");
    const MirrorConfig& m = br0().mirrors.at("m0");
    EXPECT_TRUE(m.select_all);
    EXPECT_EQ(m.select_src_port, (std::vector<std::string>{"p1", "p2"}));
    EXPECT_EQ(m.select_vlan, (std::vector<int>{10, 20}));
    EXPECT_EQ(m.output_port, "p3");
    ok(R"([{"op":"add-mirror","bridge":"br0","mirror":"r","columns":{"select_dst_port":["p1"],"output_vlan":99}}])");
    EXPECT_EQ(br0().mirrors.at("r").output_vlan, 99);
    ok(R"([{"op":"set","table":"Mirror","record":"r","column":"select_vlan","value":[5]}])");
    EXPECT_EQ(br0().mirrors.at("r").select_vlan, (std::vector<int>{5}));
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"r"}])", "already has a mirror named r");
    ok(R"([{"op":"add-mirror","bridge":"br0","mirror":"r","may_exist":true}])");
    // Persisted: the file loads back to the same mirrors.
    Config back = configFromFileText(configToFileText(store_->config()));
    EXPECT_EQ(back.bridges.at("br0").mirrors, br0().mirrors);
    ok(R"([{"op":"del-mirror","bridge":"br0","mirror":"r"},{"op":"clear","table":"Bridge","record":"br0","column":"mirrors"}])");
    EXPECT_TRUE(br0().mirrors.empty());
    bad(R"([{"op":"del-mirror","bridge":"br0","mirror":"r"}])", "has no mirror named r");
    ok(R"([{"op":"del-mirror","bridge":"br0","mirror":"r","if_exists":true}])");
}

TEST_F(MirrorConfigTest, BadMirrorsAreRefusedWhole) {
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"select_src_port":"p3","output_port":"p3"}}])",
        "Mirror m of bridge br0: output port p3 is also a selected port");
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"select_all":true,"output_port":"q1"}}])",
        "output port q1 is not a port of bridge br0");
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"select_src_port":"p9","output_port":"p3"}}])",
        "selected port p9 is not a port of bridge br0");
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"output_port":"p3","output_vlan":7}}])",
        "output_port and output_vlan are exclusive");
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"select_vlan":"4096","output_vlan":7}}])",
        "Mirror m select_vlan: invalid VLAN '4096': expected an integer in 0..4095");
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"output_vlan":0}}])", "1..4095");
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"select_all":"yes"}}])", "expected true or false");
    bad(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"snaplen":"100"}}])", "snaplen");
    bad(R"([{"op":"add-mirror","bridge":"br9","mirror":"m"}])", "no bridge named br9");
    ok(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"select_all":true,"output_port":"p3"}}])");
    bad(R"([{"op":"set","table":"Mirror","record":"m","column":"select_dst_port","value":"p3"}])", "also a selected port");
    std::string many = "[";
    for (int i = 0; i < 33; ++i) many += std::string(i ? "," : "") + R"({"op":"add-mirror","bridge":"br1","mirror":"x)" + std::to_string(i) + "\"}";
    bad(many + "]", "at most 32");
}

// Open vSwitch's Mirror columns are weak references: deleting a port takes it out of the mirrors
// (an output-less mirror stays, doing nothing).
TEST_F(MirrorConfigTest, DeletingAPortRemovesItFromMirrors) {
    ok(R"([{"op":"add-mirror","bridge":"br0","mirror":"m","columns":{"select_src_port":"p1,p2","output_port":"p3"}}])");
    ok(R"([{"op":"del-port","port":"p1"},{"op":"del-port","port":"p3"}])");
    const MirrorConfig& m = br0().mirrors.at("m");
    EXPECT_EQ(m.select_src_port, (std::vector<std::string>{"p2"}));
    EXPECT_TRUE(m.output_port.empty());
    EXPECT_TRUE(mirrorSpecs(br0()).at(0).out_port.empty());
}

TEST(MirrorOvsdb, RowsRoundTripWithPortReferencesAndStatistics) {
    ovsdb::Database db(std::make_shared<const ovsdb::Schema>(ovsdb::parseSchema(ovsdb::vswitchSchemaText())));
    Config cfg;
    BridgeConfig& br = cfg.bridges["br0"];
    br.ports["br0"].interfaces["br0"] = InterfaceConfig{"internal", {}, {}, {}, 65534};
    br.ports["p1"].interfaces["p1"].ofport = 1;
    br.ports["p3"].interfaces["p3"].ofport = 3;
    MirrorConfig& m = br.mirrors["m0"];
    m.select_src_port = {"p1"};
    m.select_vlan = {10};
    m.output_port = "p3";
    OvsdbStatus st;
    st.mirrorStats = [](const std::string& b, const std::string& n) -> std::optional<std::pair<std::uint64_t, std::uint64_t>> {
        if (b == "br0" && n == "m0") return std::make_pair(std::uint64_t{7}, std::uint64_t{700});
        return std::nullopt;
    };
    projectConfig(cfg, st, db);
    ASSERT_EQ(db.tables.at("Mirror").size(), 1u);
    const auto& row = db.tables.at("Mirror").begin()->second;
    auto stats = row.at("statistics").entries;
    EXPECT_EQ(std::get<std::int64_t>(stats.at(ovsdb::Atom{std::string("tx_packets")})), 7);
    EXPECT_EQ(std::get<std::int64_t>(stats.at(ovsdb::Atom{std::string("tx_bytes")})), 700);
    ovsdb::Uuid out = std::get<ovsdb::Uuid>(row.at("output_port").entries.begin()->first);
    EXPECT_TRUE(db.tables.at("Port").count(out));
    auto uuid = db.tables.at("Mirror").begin()->first;
    EXPECT_EQ(configFromDb(db, cfg), cfg);
    cfg.bridges["br0"].mirrors["m0"].select_vlan = {10, 20};
    projectConfig(cfg, st, db);
    EXPECT_TRUE(db.tables.at("Mirror").count(uuid)) << "the Mirror row keeps its UUID";
    EXPECT_EQ(configFromDb(db, cfg), cfg);
    // The output port made a selected port: the config's rules refuse the rows.
    for (auto& [u, r] : db.tables.at("Mirror")) r["select_dst_port"] = r.at("output_port");
    EXPECT_THROW(configFromDb(db, cfg), ovsdb::Error);
}

}  // namespace

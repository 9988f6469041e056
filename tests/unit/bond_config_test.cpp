// The config store's bond columns and member ops (docs/bonds.md): Port bond_mode, lacp,
// bond_updelay, bond_downdelay and the bonding other_config keys are validated; balance-tcp needs
// LACP; add-bond-iface / del-bond-iface keep at least one interface; a failed transaction changes
// nothing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "vswitchd/config_json.h"
#include "vswitchd/config_store.h"

using namespace vs::vswitchd;
using vs::protocol::ErrorCode;
namespace fs = std::filesystem;

namespace {

class BondConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/vs-bond-config-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        store_ = std::make_unique<ConfigStore>(ConfigStore::open(dir_ / "conf.json"));
        ok(R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p9"},
               {"op":"add-port","bridge":"br0","port":"bond0","interfaces":["a","b"]}])");
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
    // Must fail with a message containing `want`, changing nothing.
    void bad(const std::string& ops, const std::string& want) {
        Config before = store_->config();
        auto r = run(ops);
        ASSERT_FALSE(r.ok()) << ops;
        EXPECT_NE(r.error->message.find(want), std::string::npos) << r.error->message;
        EXPECT_EQ(store_->config(), before) << "a failed transaction must change nothing";
    }
    std::string set(const std::string& column, const std::string& value, const std::string& key = "") {
        return R"([{"op":"set","table":"Port","record":"bond0","column":")" + column + "\"" +
               (key.empty() ? "" : R"(,"key":")" + key + "\"") + R"(,"value":)" + value + "}]";
    }
    const PortConfig& bond() const { return store_->config().bridges.at("br0").ports.at("bond0"); }

    fs::path dir_;
    std::unique_ptr<ConfigStore> store_;
};

TEST_F(BondConfigTest, ColumnsTakeValidValues) {
    ok(set("bond_mode", R"("balance-slb")"));
    ok(set("lacp", R"("passive")"));
    ok(set("bond_updelay", "200"));
    ok(set("bond_downdelay", R"("150")"));
    ok(set("other_config", R"("fast")", "lacp-time"));
    ok(set("other_config", R"("true")", "lacp-fallback-ab"));
    ok(set("other_config", R"("0")", "bond-rebalance-interval"));
    ok(set("other_config", R"("a")", "bond-primary"));
    EXPECT_EQ(bond().bond_mode, "balance-slb");
    EXPECT_EQ(bond().lacp, "passive");
    EXPECT_EQ(bond().bond_updelay, 200);
    EXPECT_EQ(bond().bond_downdelay, 150);
    // And they survive a restart.
    auto reloaded = ConfigStore::open(dir_ / "conf.json");
    EXPECT_EQ(reloaded.config(), store_->config());
    ok(R"([{"op":"clear","table":"Port","record":"bond0","column":"bond_mode"}])");
    EXPECT_EQ(bond().bond_mode, "");
}

TEST_F(BondConfigTest, BadValuesAreRefusedWithTheirName) {
    bad(set("bond_mode", R"("round-robin")"), "bond_mode: invalid value 'round-robin'");
    bad(set("lacp", R"("on")"), "lacp: invalid value 'on'");
    bad(set("bond_updelay", "-1"), "bond_updelay");
    bad(set("bond_downdelay", R"("soon")"), "expected an integer");
    bad(set("other_config", R"("medium")", "lacp-time"), "lacp-time: invalid value 'medium': expected one of fast, slow");
    bad(set("other_config", R"("yes")", "lacp-fallback-ab"), "expected one of true, false");
    bad(set("other_config", R"("10001")", "bond-rebalance-interval"), "0..10000");
    bad(set("other_config", R"("a b")", "bond-primary"), "invalid name");
}

TEST_F(BondConfigTest, BalanceTcpNeedsLacpInTheSameTransaction) {
    bad(set("bond_mode", R"("balance-tcp")"), "balance-tcp requires LACP");
    ok(R"([{"op":"set","table":"Port","record":"bond0","column":"bond_mode","value":"balance-tcp"},
           {"op":"set","table":"Port","record":"bond0","column":"lacp","value":"active"}])");
    bad(set("lacp", R"("off")"), "balance-tcp requires LACP");
    bad(R"([{"op":"clear","table":"Port","record":"bond0","column":"lacp"}])", "balance-tcp requires LACP");
}

TEST_F(BondConfigTest, MembersComeAndGoButTheLastStays) {
    ok(R"([{"op":"add-bond-iface","bond":"bond0","interface":"c"}])");
    EXPECT_EQ(bond().interfaces.size(), 3u);
    EXPECT_EQ(bond().interfaces.at("c").ofport, 4) << "the lowest free ofport";
    bad(R"([{"op":"add-bond-iface","bond":"bond0","interface":"p9"}])", "a port named p9 already exists");
    bad(R"([{"op":"add-bond-iface","bond":"bond0","interface":"c"}])", "already has an interface named c");
    ok(R"([{"op":"add-bond-iface","bond":"bond0","interface":"c","may_exist":true}])");
    bad(R"([{"op":"add-bond-iface","bond":"nope","interface":"d"}])", "no port named nope");
    bad(R"([{"op":"add-bond-iface","bond":"br0","interface":"d"}])", "local port");
    bad(R"([{"op":"del-bond-iface","bond":"bond0","interface":"p9"}])", "does not have an interface p9");
    ok(R"([{"op":"del-bond-iface","bond":"bond0","interface":"a"},{"op":"del-bond-iface","interface":"b"}])");
    EXPECT_EQ(bond().interfaces.size(), 1u);
    bad(R"([{"op":"del-bond-iface","interface":"c"}])", "last interface");
    bad(R"([{"op":"del-bond-iface","interface":"zz"}])", "no interface named zz");
    ok(R"([{"op":"del-bond-iface","interface":"zz","if_exists":true}])");
    // An interface of another port cannot join a bond, whatever the op.
    bad(R"([{"op":"add-port","bridge":"br0","port":"bond1","interfaces":["x","p9"]}])", "p9");
    bad(R"([{"op":"add-port","bridge":"br0","port":"bond1","interfaces":[]}])", "non-empty");
}

TEST_F(BondConfigTest, ConfigFileWithBalanceTcpWithoutLacpIsRefused) {
    std::string text = configToFileText(store_->config());
    auto at = text.find("\"bond_mode\": null");
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, 17, "\"bond_mode\": \"balance-tcp\"");
    EXPECT_THROW(configFromFileText(text), ConfigFormatError);
}

}  // namespace

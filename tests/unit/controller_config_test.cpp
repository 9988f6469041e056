// Controller-channel configuration (vswitchd/config_controller.h): set-controller, fail modes,
// Controller columns and the SSL record are validated with messages that name the problem, are
// all-or-nothing, persist, and load back strictly.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "vswitchd/config_controller.h"
#include "vswitchd/config_json.h"
#include "vswitchd/config_store.h"

namespace vs::vswitchd {
namespace {

namespace fs = std::filesystem;
using protocol::ErrorCode;

class ControllerConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/vs-ctlcfg-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        store_.emplace(ConfigStore::open(dir_ / "conf.json"));
        ok(R"([{"op":"add-br","bridge":"br0"},{"op":"add-br","bridge":"br1"}])");
    }
    void TearDown() override { fs::remove_all(dir_); }

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
    std::string bad(const std::string& ops, ErrorCode code) {
        Config before = store_->config();
        auto r = run(ops);
        EXPECT_FALSE(r.ok()) << ops;
        if (r.ok()) return {};
        EXPECT_EQ(static_cast<int>(r.error->code), static_cast<int>(code)) << r.error->message;
        EXPECT_EQ(store_->config(), before) << "nothing changes";
        return r.error->message;
    }
    const BridgeConfig& br(const std::string& name) { return store_->config().bridges.at(name); }

    fs::path dir_;
    std::optional<ConfigStore> store_;
};

TEST_F(ControllerConfigTest, SetControllerReplacesTheSetAndKeepsColumnsOfUnchangedTargets) {
    ok(R"([{"op":"set-controller","bridge":"br0","targets":["tcp:127.0.0.1","ptcp:6700"]}])");
    ASSERT_EQ(br("br0").controllers.size(), 2u);
    ok(R"([{"op":"set","table":"Controller","record":"tcp:127.0.0.1","column":"inactivity_probe","value":1000}])");
    ok(R"([{"op":"set-controller","bridge":"br0","targets":["tcp:127.0.0.1","ssl:127.0.0.1:6654"]}])");
    const auto& c = br("br0").controllers;
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c.at("tcp:127.0.0.1").probeMs(), 1000) << "an unchanged target keeps its columns";
    EXPECT_EQ(c.at("ssl:127.0.0.1:6654").probeMs(), ControllerConfig::kDefaultInactivityProbeMs);
    EXPECT_FALSE(c.count("ptcp:6700"));
    ok(R"([{"op":"del-controller","bridge":"br0"}])");
    EXPECT_TRUE(br("br0").controllers.empty());
}

TEST_F(ControllerConfigTest, BadTargetsAreRefusedWithTheReason) {
    auto m = bad(R"([{"op":"set-controller","bridge":"br0","targets":["tcp:1.2.3.4:99999"]}])", ErrorCode::kInvalidValue);
    EXPECT_EQ(m, "invalid controller target 'tcp:1.2.3.4:99999': port 99999 is outside 1..65535");
    m = bad(R"([{"op":"set-controller","bridge":"br0","targets":["http://x"]}])", ErrorCode::kInvalidValue);
    EXPECT_NE(m.find("unknown connection type 'http'"), std::string::npos) << m;
    m = bad(R"([{"op":"set-controller","bridge":"br0","targets":["tcp:1.2.3.4","tcp:1.2.3.4:6653"]}])",
            ErrorCode::kInvalidValue);
    EXPECT_NE(m.find("listed twice"), std::string::npos) << m;
    m = bad(R"([{"op":"set-controller","bridge":"br9","targets":["tcp:1.2.3.4"]}])", ErrorCode::kNotFound);
    EXPECT_EQ(m, "no bridge named br9");
    bad(R"([{"op":"set-controller","bridge":"br0","targets":[]}])", ErrorCode::kInvalidParams);
}

TEST_F(ControllerConfigTest, FailMode) {
    ok(R"([{"op":"set-fail-mode","bridge":"br0","mode":"secure"}])");
    EXPECT_TRUE(isSecure(br("br0")));
    auto m = bad(R"([{"op":"set-fail-mode","bridge":"br0","mode":"open"}])", ErrorCode::kInvalidValue);
    EXPECT_EQ(m, "fail-mode must be \"standalone\" or \"secure\", not 'open'");
    m = bad(R"([{"op":"set","table":"Bridge","record":"br0","column":"fail_mode","value":"closed"}])", ErrorCode::kInvalidValue);
    EXPECT_NE(m.find("Bridge br0 fail_mode: invalid value 'closed'"), std::string::npos) << m;
    ok(R"([{"op":"del-fail-mode","bridge":"br0"}])");
    EXPECT_FALSE(isSecure(br("br0")));
    EXPECT_EQ(br("br0").fail_mode, "");
}

TEST_F(ControllerConfigTest, ControllerColumnsAreValidatedAndNamedByBridgeOrTarget) {
    ok(R"([{"op":"set-controller","bridge":"br0","targets":["tcp:127.0.0.1:6653"]}])");
    ok(R"([{"op":"set","table":"controller","record":"br0","column":"max_backoff","value":"2000"}])");
    EXPECT_EQ(br("br0").controllers.at("tcp:127.0.0.1:6653").maxBackoffMs(), 2000);
    ok(R"([{"op":"set","table":"Controller","record":"br0","column":"inactivity_probe","value":0}])");
    EXPECT_EQ(br("br0").controllers.at("tcp:127.0.0.1:6653").probeMs(), 0) << "0 turns probes off";
    auto m = bad(R"([{"op":"set","table":"Controller","record":"br0","column":"inactivity_probe","value":50}])",
                 ErrorCode::kInvalidValue);
    EXPECT_EQ(m, "Controller br0 inactivity_probe: invalid value '50': expected 0 or an integer in 100..86400000");
    m = bad(R"([{"op":"set","table":"Controller","record":"br0","column":"max_backoff","value":999}])", ErrorCode::kInvalidValue);
    EXPECT_NE(m.find("1000..86400000"), std::string::npos) << m;
    bad(R"([{"op":"set","table":"Controller","record":"br0","column":"is_connected","value":true}])", ErrorCode::kInvalidParams);
    bad(R"([{"op":"set","table":"Controller","record":"br1","column":"max_backoff","value":2000}])", ErrorCode::kNotFound);
    ok(R"([{"op":"set-controller","bridge":"br1","targets":["tcp:127.0.0.1:6653"]}])");
    m = bad(R"([{"op":"set","table":"Controller","record":"tcp:127.0.0.1:6653","column":"max_backoff","value":2000}])",
            ErrorCode::kInvalidValue);
    EXPECT_NE(m.find("is on bridges br0 and br1"), std::string::npos) << m;
    ok(R"([{"op":"clear","table":"Controller","record":"br0","column":"max_backoff"}])");
    EXPECT_EQ(br("br0").controllers.at("tcp:127.0.0.1:6653").maxBackoffMs(), ControllerConfig::kDefaultMaxBackoffMs);
    bad(R"([{"op":"set","table":"Bridge","record":"br0","column":"controller","value":{}}])", ErrorCode::kInvalidParams);
}

TEST_F(ControllerConfigTest, SslNeedsAbsolutePathsAndReadableMatchingFiles) {
    auto m = bad(R"([{"op":"set-ssl","private_key":"key.pem","certificate":"/c.pem","ca_cert":"/ca.pem"}])",
                 ErrorCode::kInvalidValue);
    EXPECT_EQ(m, "SSL private_key: 'key.pem' is not an absolute path");
    rapidjson::Document ops;
    ops.Parse(R"([{"op":"add-br","bridge":"x"},{"op":"set-ssl","private_key":"/nonexistent/k.pem","certificate":"/c.pem","ca_cert":"/ca.pem"}])");
    auto problem = checkSslOps(ops);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->first, 1);
    EXPECT_EQ(problem->second, "SSL: cannot read private key /nonexistent/k.pem: No such file or directory");
    ok(R"([{"op":"set-ssl","private_key":"/k.pem","certificate":"/c.pem","ca_cert":"/ca.pem"}])");
    ASSERT_TRUE(store_->config().ssl);
    EXPECT_EQ(store_->config().ssl->ca_cert, "/ca.pem");
    ok(R"([{"op":"del-ssl"}])");
    EXPECT_FALSE(store_->config().ssl);
}

TEST_F(ControllerConfigTest, PersistsAndLoadsBackStrictly) {
    ok(R"([{"op":"set-controller","bridge":"br0","targets":["ssl:127.0.0.1","pssl:6654:127.0.0.1"]},
           {"op":"set","table":"Controller","record":"ssl:127.0.0.1","column":"inactivity_probe","value":700},
           {"op":"set-fail-mode","bridge":"br0","mode":"secure"},
           {"op":"set-ssl","private_key":"/k.pem","certificate":"/c.pem","ca_cert":"/ca.pem"}])");
    Config reloaded = ConfigStore::open(dir_ / "conf.json").config();
    EXPECT_EQ(reloaded, store_->config()) << "controllers, fail mode and SSL survive a restart";
    std::string text = configToFileText(store_->config());
    std::string broken = text;
    broken.replace(broken.find("\"pssl:6654:127.0.0.1\""), 21, "\"pssl:99999\"");
    try {
        configFromFileText(broken);
        ADD_FAILURE() << "loaded a bad target";
    } catch (const ConfigFormatError& e) {
        EXPECT_NE(std::string(e.what()).find("$.bridges.br0.controller"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("outside 1..65535"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace vs::vswitchd

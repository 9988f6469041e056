// Config store: transaction ops and their validation, all-or-nothing commits, durable persistence,
// strict loading of the config file (vswitchd/config_store.h, config_ops.h, config_json.h).
#include "vswitchd/config_store.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/unit/file_bytes.h"

#include "vswitchd/config_json.h"
#include "vswitchd/config_ops.h"
#include "vswitchd/config_schema.h"

namespace vs::vswitchd {
namespace {

namespace fs = std::filesystem;
using protocol::ErrorCode;

using test::readBytes;
using test::writeBytes;

class ConfigStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/vs-config-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ / "conf.json";
    }
    void TearDown() override { fs::remove_all(dir_); }

    // Runs a transaction given as JSON text (an array of ops).
    TransactResult run(ConfigStore& store, const std::string& opsJson) {
        rapidjson::Document ops;
        ops.Parse(opsJson.c_str());
        EXPECT_FALSE(ops.HasParseError()) << opsJson;
        return store.transact(ops);
    }
    // Runs a transaction that must succeed.
    void ok(ConfigStore& store, const std::string& opsJson) {
        TransactResult r = run(store, opsJson);
        ASSERT_TRUE(r.ok()) << opsJson << " -> " << r.error->message;
    }
    // Runs a transaction that must fail with `code`; returns the error.
    TransactError bad(ConfigStore& store, const std::string& opsJson, ErrorCode code) {
        Config before = store.config();
        TransactResult r = run(store, opsJson);
        EXPECT_FALSE(r.ok()) << opsJson;
        if (r.ok()) return {};
        EXPECT_EQ(static_cast<int>(r.error->code), static_cast<int>(code)) << opsJson << " -> " << r.error->message;
        EXPECT_EQ(store.config(), before) << "a failed transaction must change nothing";
        EXPECT_FALSE(r.changed);
        return *r.error;
    }
    // Expects opening the file to fail as corrupt, naming the file and `needle`, leaving it as is.
    void expectCorrupt(const std::string& text, const std::string& needle) {
        writeBytes(path_, text);
        try {
            ConfigStore::open(path_);
            ADD_FAILURE() << "opened a corrupt file: " << text;
        } catch (const ConfigError& e) {
            std::string msg = e.what();
            EXPECT_NE(msg.find("config file " + path_.string() + " is corrupt: "), std::string::npos) << msg;
            EXPECT_NE(msg.find(needle), std::string::npos) << "expected '" << needle << "' in: " << msg;
            EXPECT_NE(msg.find("refusing to start (the file is left in place)"), std::string::npos) << msg;
        }
        EXPECT_EQ(readBytes(path_), text) << "the corrupt file must be left unchanged";
        EXPECT_FALSE(fs::exists(path_.string() + ".tmp"));
    }

    fs::path dir_;
    fs::path path_;
};

const InterfaceConfig& iface(const ConfigStore& s, const std::string& br, const std::string& port,
                             const std::string& name) {
    return s.config().bridges.at(br).ports.at(port).interfaces.at(name);
}

TEST_F(ConfigStoreTest, MissingFileIsEmptyConfigAndNothingIsCreated) {
    ConfigStore store = ConfigStore::open(path_);
    EXPECT_EQ(store.seq(), 0u);
    EXPECT_TRUE(store.config().bridges.empty());
    EXPECT_EQ(store.path(), path_);
    EXPECT_FALSE(fs::exists(path_));
}

TEST_F(ConfigStoreTest, FirstCommitCreatesFileAndDirectory) {
    fs::path nested = dir_ / "a" / "b" / "conf.json";
    ConfigStore store = ConfigStore::open(nested);
    ok(store, R"([{"op":"add-br","bridge":"br0"}])");
    ASSERT_TRUE(fs::exists(nested));
    EXPECT_FALSE(fs::exists(nested.string() + ".tmp"));
    std::string text = readBytes(nested);
    EXPECT_NE(text.find("\"format\": \"vswitch-config\""), std::string::npos) << text;
    EXPECT_EQ(ConfigStore::open(nested).config(), store.config());
}

TEST_F(ConfigStoreTest, RelativePathIsMadeAbsolute) {
    fs::path cwd = fs::current_path();
    fs::current_path(dir_);
    ConfigStore store = ConfigStore::open("rel.json");
    fs::current_path(cwd);
    EXPECT_EQ(store.path(), dir_ / "rel.json");
}

TEST_F(ConfigStoreTest, SeqBumpsPerChangingCommitOnly) {
    ConfigStore store = ConfigStore::open(path_);
    TransactResult r = run(store, R"([{"op":"add-br","bridge":"br0"}])");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.seq, 1u);
    r = run(store, R"([{"op":"add-br","bridge":"br1"},{"op":"add-port","bridge":"br1","port":"p1"}])");
    EXPECT_EQ(r.seq, 2u) << "one transaction, one seq";
    std::string before = readBytes(path_);
    r = run(store, R"([{"op":"add-br","bridge":"br0","may_exist":true}])");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(r.seq, 2u);
    r = run(store, "[]");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.seq, 2u);
    EXPECT_EQ(readBytes(path_), before);
    EXPECT_EQ(ConfigStore::open(path_).seq(), 2u);
}

TEST_F(ConfigStoreTest, AddBrAndDuplicates) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"}])");
    ASSERT_TRUE(store.config().bridges.count("br0"));
    // The bridge's local port, as in Open vSwitch: port br0, interface br0, internal, OFPP_LOCAL.
    const BridgeConfig& br0 = store.config().bridges.at("br0");
    ASSERT_EQ(br0.ports.size(), 1u);
    ASSERT_EQ(br0.ports.at("br0").interfaces.size(), 1u);
    EXPECT_EQ(iface(store, "br0", "br0", "br0").type, "internal");
    EXPECT_EQ(iface(store, "br0", "br0", "br0").ofport, 65534);
    EXPECT_EQ(kLocalOfport, 65534);
    auto e = bad(store, R"([{"op":"add-br","bridge":"br0"}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "cannot create a bridge named br0 because a bridge named br0 already exists");
    EXPECT_EQ(e.opIndex, 0);
    ok(store, R"([{"op":"add-br","bridge":"br0","may_exist":true}])");
}

TEST_F(ConfigStoreTest, InvalidNamesAreRefused) {
    ConfigStore store = ConfigStore::open(path_);
    for (std::string name : {"", "a b", "0123456789abcdef", ".", "..", "a/b", "br\\u00e9", "x:y"}) {
        auto e = bad(store, R"([{"op":"add-br","bridge":")" + name + R"("}])", ErrorCode::kInvalidValue);
        EXPECT_EQ(e.message.rfind("invalid name '", 0), 0u) << e.message;
    }
    auto e = bad(store, R"([{"op":"add-br","bridge":"a b"}])", ErrorCode::kInvalidValue);
    EXPECT_EQ(e.message.rfind("invalid name 'a b': ", 0), 0u) << e.message;
    ok(store, R"([{"op":"add-br","bridge":"0123456789abcde"},{"op":"add-br","bridge":"a.b_c-D"}])");
    ok(store, R"([{"op":"add-port","bridge":"a.b_c-D","port":"..."}])");
    bad(store, R"([{"op":"add-port","bridge":"a.b_c-D","port":"p 1"}])", ErrorCode::kInvalidValue);
    bad(store, R"([{"op":"add-port","bridge":"a.b_c-D","port":"p1","interfaces":["ok","b@d"]}])",
        ErrorCode::kInvalidValue);
}

TEST_F(ConfigStoreTest, NamesShareOneNamespace) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-br","bridge":"br1"},
                  {"op":"add-port","bridge":"br0","port":"bond0","interfaces":["eth0","eth1"]},
                  {"op":"add-port","bridge":"br0","port":"p1"}])");
    auto e = bad(store, R"([{"op":"add-br","bridge":"p1"}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "cannot create a bridge named p1 because a port named p1 already exists on bridge br0");
    e = bad(store, R"([{"op":"add-br","bridge":"eth0"}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message,
              "cannot create a bridge named eth0 because an interface named eth0 already exists on bridge br0");
    e = bad(store, R"([{"op":"add-port","bridge":"br0","port":"br1"}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "cannot create a port named br1 because a bridge named br1 already exists");
    e = bad(store, R"([{"op":"add-port","bridge":"br0","port":"br1","may_exist":true}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "cannot create a port named br1 because a bridge named br1 already exists");
    e = bad(store, R"([{"op":"add-port","bridge":"br0","port":"br0"}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "cannot create a port named br0 because a bridge named br0 already exists");
    TransactResult same = run(store, R"([{"op":"add-port","bridge":"br0","port":"br0","may_exist":true}])");
    ASSERT_TRUE(same.ok()) << "--may-exist add-port BR BR: the local port is there already";
    EXPECT_FALSE(same.changed);
    e = bad(store, R"([{"op":"add-port","bridge":"br1","port":"p2","interfaces":["br0"]}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "cannot create an interface named br0 because a bridge named br0 already exists");
    e = bad(store, R"([{"op":"add-port","bridge":"br1","port":"eth1"}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "cannot create a port named eth1 because an interface named eth1 already exists on bridge br0");
    e = bad(store, R"([{"op":"add-port","bridge":"br1","port":"p2","interfaces":["eth0"]}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message,
              "cannot create an interface named eth0 because an interface named eth0 already exists on bridge br0");
}

TEST_F(ConfigStoreTest, DelBr) {
    ConfigStore store = ConfigStore::open(path_);
    auto e = bad(store, R"([{"op":"del-br","bridge":"br9"}])", ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "no bridge named br9");
    ok(store, R"([{"op":"del-br","bridge":"br9","if_exists":true}])");
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"}])");
    ok(store, R"([{"op":"del-br","bridge":"br0"}])");
    EXPECT_TRUE(store.config().bridges.empty()) << "the local port goes with its bridge";
    ok(store, R"([{"op":"add-br","bridge":"p1"}])") ;  // the port's name is free again
    ok(store, R"([{"op":"add-br","bridge":"br1"},{"op":"add-port","bridge":"br1","port":"br0"}])");  // and br0
}

TEST_F(ConfigStoreTest, AddPortBasics) {
    ConfigStore store = ConfigStore::open(path_);
    auto e = bad(store, R"([{"op":"add-port","bridge":"br9","port":"p1"}])", ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "no bridge named br9");
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"},
                  {"op":"add-port","bridge":"br0","port":"p2"}])");
    const PortConfig& p1 = store.config().bridges.at("br0").ports.at("p1");
    ASSERT_EQ(p1.interfaces.size(), 1u);
    EXPECT_EQ(p1.interfaces.begin()->first, "p1");
    EXPECT_EQ(iface(store, "br0", "p1", "p1").type, "system");
    EXPECT_EQ(iface(store, "br0", "p1", "p1").ofport, 1);
    EXPECT_EQ(iface(store, "br0", "p2", "p2").ofport, 2);
}

TEST_F(ConfigStoreTest, AddPortExistingPort) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-br","bridge":"br1"},
                  {"op":"add-port","bridge":"br1","port":"p1"}])");
    auto e = bad(store, R"([{"op":"add-port","bridge":"br1","port":"p1"}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "bridge br1 already has a port named p1");
    e = bad(store, R"([{"op":"add-port","bridge":"br0","port":"p1"}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "p1 is already a port on bridge br1");
    e = bad(store, R"([{"op":"add-port","bridge":"br0","port":"p1","may_exist":true}])", ErrorCode::kAlreadyExists);
    EXPECT_EQ(e.message, "p1 is already a port on bridge br1");
    TransactResult r = run(store, R"([{"op":"add-port","bridge":"br1","port":"p1","may_exist":true}])");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.changed);
    e = bad(store, R"([{"op":"add-port","bridge":"br1","port":"p1","interfaces":["x1"],"may_exist":true}])",
            ErrorCode::kAlreadyExists);
    EXPECT_NE(e.message.find("already exists with interfaces p1, not x1"), std::string::npos) << e.message;
}

TEST_F(ConfigStoreTest, AddPortInterfacesField) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"a"},
                  {"op":"add-port","bridge":"br0","port":"bond0","interfaces":["eth1","eth0"]}])");
    EXPECT_EQ(iface(store, "br0", "bond0", "eth1").ofport, 2) << "ofports in the order given";
    EXPECT_EQ(iface(store, "br0", "bond0", "eth0").ofport, 3);
    for (std::string v : {R"("eth2")", "[]", "[1]", "null"}) {
        auto e = bad(store, R"([{"op":"add-port","bridge":"br0","port":"b1","interfaces":)" + v + "}]",
                     ErrorCode::kInvalidParams);
        EXPECT_NE(e.message.find("'interfaces'"), std::string::npos) << e.message;
    }
    auto e = bad(store, R"([{"op":"add-port","bridge":"br0","port":"b1","interfaces":["x","x"]}])",
                 ErrorCode::kInvalidValue);
    EXPECT_EQ(e.message, "interface x is listed twice in field 'interfaces'");
}

TEST_F(ConfigStoreTest, OfportAllocationIsLowestFreeStableAndPerBridge) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-br","bridge":"br1"},
                  {"op":"add-port","bridge":"br0","port":"p1"},{"op":"add-port","bridge":"br0","port":"p2"},
                  {"op":"add-port","bridge":"br0","port":"p3"},{"op":"add-port","bridge":"br1","port":"q1"}])");
    EXPECT_EQ(iface(store, "br1", "q1", "q1").ofport, 1) << "ofports are per bridge";
    ok(store, R"([{"op":"del-port","port":"p2"}])");
    EXPECT_EQ(iface(store, "br0", "p3", "p3").ofport, 3) << "existing ofports never move";
    ok(store, R"([{"op":"add-port","bridge":"br0","port":"p4"},{"op":"add-port","bridge":"br0","port":"p5"}])");
    EXPECT_EQ(iface(store, "br0", "p4", "p4").ofport, 2) << "the freed number is reused";
    EXPECT_EQ(iface(store, "br0", "p5", "p5").ofport, 4);
    ConfigStore again = ConfigStore::open(path_);
    EXPECT_EQ(iface(again, "br0", "p4", "p4").ofport, 2) << "ofports survive a restart";
}

TEST_F(ConfigStoreTest, OfportSpaceExhausted) {
    ConfigStore store = ConfigStore::open(path_);
    TransactResult r = store.modify([](Config& c) {
        c.bridges["br0"].ports.emplace("br0", localPortConfig("br0"));
        PortConfig& p = c.bridges["br0"].ports["big"];
        for (int i = kMinOfport; i <= kMaxOfport; ++i) p.interfaces["i" + std::to_string(i)].ofport = i;
    });
    ASSERT_TRUE(r.ok());
    auto e = bad(store, R"([{"op":"add-port","bridge":"br0","port":"p1"}])", ErrorCode::kInvalidValue);
    EXPECT_EQ(e.message, "bridge br0 has no free ofport left");
}

TEST_F(ConfigStoreTest, DelPort) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-br","bridge":"br1"},
                  {"op":"add-port","bridge":"br0","port":"p1"},
                  {"op":"add-port","bridge":"br0","port":"bond0","interfaces":["eth0","eth1"]}])");
    auto e = bad(store, R"([{"op":"del-port","bridge":"br0","port":"p9"}])", ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "no port named p9");
    ok(store, R"([{"op":"del-port","bridge":"br0","port":"p9","if_exists":true}])");
    e = bad(store, R"([{"op":"del-port","bridge":"br9","port":"p1"}])", ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "no bridge named br9");
    e = bad(store, R"([{"op":"del-port","bridge":"br1","port":"p1"}])", ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "bridge br1 does not have a port p1");
    bad(store, R"([{"op":"del-port","bridge":"br1","port":"p1","if_exists":true}])", ErrorCode::kNotFound);
    ok(store, R"([{"op":"del-port","bridge":"br0","port":"eth1"}])");  // an interface names its port
    EXPECT_FALSE(store.config().bridges.at("br0").ports.count("bond0"));
    ok(store, R"([{"op":"del-port","port":"p1"}])");  // bridge is optional
    ASSERT_EQ(store.config().bridges.at("br0").ports.size(), 1u);
    EXPECT_TRUE(store.config().bridges.at("br0").ports.count("br0")) << "only the local port is left";
}

TEST_F(ConfigStoreTest, LocalPortCannotBeDeletedOrChanged) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-br","bridge":"br1"}])");
    const std::string refused =
        "cannot delete port br0 because it is the local port for bridge br0 (deleting this port requires deleting "
        "the entire bridge)";
    for (std::string op : {R"({"op":"del-port","bridge":"br0","port":"br0"})", R"({"op":"del-port","port":"br0"})",
                           R"({"op":"del-port","port":"br0","if_exists":true})"}) {
        auto e = bad(store, "[" + op + "]", ErrorCode::kInvalidValue);
        EXPECT_EQ(e.message, refused) << op;
    }
    auto e = bad(store, R"([{"op":"del-port","bridge":"br1","port":"br0"}])", ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "bridge br1 does not have a port br0");
    for (std::string t : {"system", "tap", "vxlan"}) {
        e = bad(store, R"([{"op":"set","table":"Interface","record":"br0","column":"type","value":")" + t + R"("}])",
                ErrorCode::kInvalidValue);
        EXPECT_EQ(e.message, "Interface br0 type: the local interface br0 of bridge br0 must be of type internal, not " + t);
    }
    e = bad(store, R"([{"op":"clear","table":"Interface","record":"br0","column":"type"}])", ErrorCode::kInvalidValue);
    EXPECT_EQ(e.opIndex, 0);
    // Its other columns are the user's, as on any port (VLAN of the host's own interface, ids...).
    ok(store, R"([{"op":"set","table":"Port","record":"br0","column":"tag","value":10},
                  {"op":"set","table":"Interface","record":"br0","column":"external_ids","key":"k","value":"v"},
                  {"op":"set","table":"Interface","record":"br0","column":"type","value":"internal"}])");
    EXPECT_EQ(store.config().bridges.at("br0").ports.at("br0").tag, 10);
}

TEST_F(ConfigStoreTest, SetMapColumns) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"},
      {"op":"set","table":"Bridge","record":"br0","column":"other_config","key":"mac-aging-time","value":"30"},
      {"op":"set","table":"Bridge","record":"br0","column":"external_ids","value":{"a":"1","b":"2"}},
      {"op":"set","table":"Port","record":"p1","column":"external_ids","key":"k","value":"v"},
      {"op":"set","table":"Interface","record":"p1","column":"options","key":"remote_ip","value":"10.0.0.1"},
      {"op":"set","table":"interface","record":"p1","column":"other_config","value":{}}])");
    const BridgeConfig& br = store.config().bridges.at("br0");
    EXPECT_EQ(br.other_config.at("mac-aging-time"), "30");
    EXPECT_EQ(br.external_ids, (StringMap{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(br.ports.at("p1").external_ids.at("k"), "v");
    EXPECT_EQ(iface(store, "br0", "p1", "p1").options.at("remote_ip"), "10.0.0.1");
    ok(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"external_ids","value":{"c":"3"}}])");
    EXPECT_EQ(store.config().bridges.at("br0").external_ids, (StringMap{{"c", "3"}})) << "a whole map replaces";
    ok(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"other_config",
                   "value":{"mac-table-size":"1000000","custom":"x"}}])");
}

TEST_F(ConfigStoreTest, KnownOtherConfigKeysAreValidated) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"}])");
    for (std::string v : {"0", "1000001", "abc", "-5", "1e3", " 5", "", "+5", "99999999999999999999"}) {
        auto e = bad(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"other_config",
                                 "key":"mac-aging-time","value":")" + v + R"("}])",
                     ErrorCode::kInvalidValue);
        EXPECT_EQ(e.message, "Bridge br0 other_config:mac-aging-time: invalid value '" + v +
                                 "': expected an integer in 1..1000000");
    }
    auto e = bad(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"other_config",
                             "value":{"mac-table-size":"0"}}])", ErrorCode::kInvalidValue);
    EXPECT_NE(e.message.find("other_config:mac-table-size"), std::string::npos) << e.message;
    ok(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"other_config","key":"mac-aging-time","value":"1"}])");
}

TEST_F(ConfigStoreTest, InterfaceType) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"}])");
    for (std::string t : {"internal", "tap", "vxlan", "patch", "dummy", "system"}) {
        ok(store, R"([{"op":"set","table":"Interface","record":"p1","column":"type","value":")" + t + R"("}])");
        EXPECT_EQ(iface(store, "br0", "p1", "p1").type, t);
    }
    ok(store, R"([{"op":"set","table":"Interface","record":"p1","column":"type","value":"vxlan"},
                  {"op":"set","table":"Interface","record":"p1","column":"type","value":""}])");
    EXPECT_EQ(iface(store, "br0", "p1", "p1").type, "system") << "empty type means system";
    auto e = bad(store, R"([{"op":"set","table":"Interface","record":"p1","column":"type","value":"stt"}])",
                 ErrorCode::kInvalidValue);
    EXPECT_EQ(e.message,
              "Interface p1 type: invalid value 'stt': expected one of system, internal, tap, vxlan, geneve, gre, patch, dummy");
    e = bad(store, R"([{"op":"set","table":"Interface","record":"p1","column":"type","key":"x","value":"tap"}])",
            ErrorCode::kInvalidParams);
    EXPECT_NE(e.message.find("not a map"), std::string::npos);
    bad(store, R"([{"op":"set","table":"Interface","record":"p1","column":"type","value":5}])",
        ErrorCode::kInvalidParams);
    ok(store, R"([{"op":"set","table":"Interface","record":"p1","column":"type","value":"tap"},
                  {"op":"clear","table":"Interface","record":"p1","column":"type"}])");
    EXPECT_EQ(iface(store, "br0", "p1", "p1").type, "system") << "clear resets to the default";
}

TEST_F(ConfigStoreTest, SetErrors) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"}])");
    auto e = bad(store, R"([{"op":"set","table":"Flows","record":"br0","column":"x","value":"y"}])",
                 ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "unknown table 'Flows'");
    e = bad(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"colour","value":"y"}])",
            ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "Bridge does not contain a column whose name matches 'colour'");
    e = bad(store, R"([{"op":"set","table":"Bridge","record":"br9","column":"external_ids","value":{}}])",
            ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "no bridge named br9");
    e = bad(store, R"([{"op":"set","table":"Interface","record":"x9","column":"type","value":"tap"}])",
            ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "no interface named x9");
    e = bad(store, R"([{"op":"set","table":"Port","record":"x9","column":"external_ids","value":{}}])",
            ErrorCode::kNotFound);
    EXPECT_EQ(e.message, "no port named x9");
    e = bad(store, R"([{"op":"set","table":"Interface","record":"p1","column":"ofport","value":7}])",
            ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "column ofport of table Interface is read-only");
    bad(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"ports","value":{}}])",
        ErrorCode::kInvalidParams);
    e = bad(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"external_ids","key":"k","value":5}])",
            ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "Bridge br0 external_ids:k: expected a string value");
    e = bad(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"external_ids","value":"k=v"}])",
            ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "Bridge br0 external_ids: expected a JSON object of strings");
    e = bad(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"external_ids","value":{"k":1}}])",
            ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "Bridge br0 external_ids:k: expected a string value");
    e = bad(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"external_ids","key":"k"}])",
            ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "missing field 'value'");
}

TEST_F(ConfigStoreTest, ClearAndRemove) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},
      {"op":"set","table":"Bridge","record":"br0","column":"external_ids","value":{"a":"1","b":"2"}},
      {"op":"set","table":"Bridge","record":"br0","column":"other_config","value":{"x":"1"}}])");
    ok(store, R"([{"op":"remove","table":"Bridge","record":"br0","column":"external_ids","key":"a"}])");
    EXPECT_EQ(store.config().bridges.at("br0").external_ids, (StringMap{{"b", "2"}}));
    TransactResult r = run(store, R"([{"op":"remove","table":"Bridge","record":"br0","column":"external_ids","key":"zz"}])");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.changed) << "removing an absent key is a no-op";
    ok(store, R"([{"op":"clear","table":"Bridge","record":"br0","column":"other_config"}])");
    EXPECT_TRUE(store.config().bridges.at("br0").other_config.empty());
    ok(store, R"([{"op":"add-port","bridge":"br0","port":"p1"}])");
    auto e = bad(store, R"([{"op":"remove","table":"Interface","record":"p1","column":"type","key":"x"}])",
                 ErrorCode::kInvalidParams);
    EXPECT_NE(e.message.find("column type of table Interface is not a map"), std::string::npos) << e.message;
    bad(store, R"([{"op":"remove","table":"Bridge","record":"br0","column":"external_ids"}])", ErrorCode::kInvalidParams);
    bad(store, R"([{"op":"clear","table":"Interface","record":"p1","column":"ofport"}])", ErrorCode::kInvalidParams);
    bad(store, R"([{"op":"clear","table":"Bridge","record":"br9","column":"external_ids"}])", ErrorCode::kNotFound);
}

TEST_F(ConfigStoreTest, MalformedOps) {
    ConfigStore store = ConfigStore::open(path_);
    rapidjson::Document notArray;
    notArray.Parse(R"({"op":"add-br"})");
    TransactResult r = store.transact(notArray);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->code, ErrorCode::kInvalidParams);
    EXPECT_EQ(r.error->opIndex, -1);
    auto e = bad(store, R"([{"op":"add-br","bridge":"br0"}, 5])", ErrorCode::kInvalidParams);
    EXPECT_EQ(e.opIndex, 1);
    EXPECT_EQ(e.message, "an op must be a JSON object");
    e = bad(store, R"([{"bridge":"br0"}])", ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "field 'op' must be a string");
    e = bad(store, R"([{"op":"add-bridge","bridge":"br0"}])", ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "unknown op 'add-bridge'");
    e = bad(store, R"([{"op":"add-br","brige":"br0"}])", ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "unknown field 'brige'");
    e = bad(store, R"([{"op":"add-br"}])", ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "missing field 'bridge'");
    e = bad(store, R"([{"op":"add-br","bridge":7}])", ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "field 'bridge' must be a string");
    e = bad(store, R"([{"op":"add-br","bridge":"br0","may_exist":"yes"}])", ErrorCode::kInvalidParams);
    EXPECT_EQ(e.message, "field 'may_exist' must be true or false");
}

TEST_F(ConfigStoreTest, AllOrNothing) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"}])");
    Config before = store.config();
    std::string fileBefore = readBytes(path_);
    auto e = bad(store, R"([{"op":"add-br","bridge":"br1"},{"op":"add-port","bridge":"br1","port":"p1"},
                            {"op":"add-port","bridge":"br9","port":"p2"},{"op":"add-br","bridge":"br2"}])",
                 ErrorCode::kNotFound);
    EXPECT_EQ(e.opIndex, 2);
    EXPECT_EQ(e.message, "no bridge named br9");
    EXPECT_EQ(store.config(), before);
    EXPECT_EQ(store.seq(), 1u);
    EXPECT_EQ(readBytes(path_), fileBefore);
    EXPECT_EQ(ConfigStore::open(path_).config(), before);
    // Later ops see earlier ops' effects within one transaction.
    ok(store, R"([{"op":"add-br","bridge":"br1"},{"op":"add-port","bridge":"br1","port":"p1"},
                  {"op":"del-port","bridge":"br1","port":"p1"},{"op":"add-port","bridge":"br1","port":"p1"}])");
    EXPECT_EQ(iface(store, "br1", "p1", "p1").ofport, 1);
}

TEST_F(ConfigStoreTest, PersistFailureChangesNothing) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"}])");
    std::string fileBefore = readBytes(path_);
    fs::create_directory(path_.string() + ".journal");  // the journal cannot be written
    auto e = bad(store, R"([{"op":"add-br","bridge":"br1"}])", ErrorCode::kPersistFailed);
    EXPECT_NE(e.message.find(path_.string() + ".journal"), std::string::npos) << e.message;
    EXPECT_EQ(e.opIndex, -1);
    EXPECT_EQ(store.seq(), 1u);
    EXPECT_EQ(readBytes(path_), fileBefore);
    fs::remove(path_.string() + ".journal");
    TransactResult r = run(store, R"([{"op":"add-br","bridge":"br1"}])");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.seq, 2u);
}

TEST_F(ConfigStoreTest, LeftoverTempFileIsIgnoredAndOverwritten) {
    {
        ConfigStore store = ConfigStore::open(path_);
        ok(store, R"([{"op":"add-br","bridge":"br0"}])");
    }
    writeBytes(path_.string() + ".tmp", "{\"format\":\"vswitch-con");  // a torn commit
    ConfigStore store = ConfigStore::open(path_);
    EXPECT_EQ(store.seq(), 1u);
    ok(store, R"([{"op":"add-br","bridge":"br1"}])");
    EXPECT_EQ(ConfigStore::open(path_).config(), store.config()) << "the torn temp file is never read";
}

TEST_F(ConfigStoreTest, CommitsAfterTheFirstGoToTheJournal) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"}])");
    std::string snapshot = readBytes(path_);
    ok(store, R"([{"op":"add-port","bridge":"br0","port":"p1"}])");
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"tag","value":7}])");
    EXPECT_EQ(readBytes(path_), snapshot) << "the snapshot is not rewritten per commit";
    EXPECT_EQ(store.journalRecords(), 2u);
    ConfigStore again = ConfigStore::open(path_);
    EXPECT_EQ(again.config(), store.config());
    EXPECT_EQ(again.seq(), 3u);
}

TEST_F(ConfigStoreTest, TornJournalTailIsIgnored) {
    Config acknowledged;
    {
        ConfigStore store = ConfigStore::open(path_);
        ok(store, R"([{"op":"add-br","bridge":"br0"}])");
        ok(store, R"([{"op":"add-br","bridge":"br1"}])");
        acknowledged = store.config();
    }
    {  // a commit cut short by a crash: part of a record, no newline
        std::fstream f(path_.string() + ".journal", std::ios::in | std::ios::out | std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(f)), {});
        std::size_t end = text.find('\0');
        f.seekp(static_cast<std::streamoff>(end));
        f << R"({"seq":3,"ops":[{"op":"add-br","bri)";
    }
    ConfigStore store = ConfigStore::open(path_);
    EXPECT_EQ(store.config(), acknowledged);
    ok(store, R"([{"op":"add-br","bridge":"br2"}])");
    EXPECT_EQ(ConfigStore::open(path_).config(), store.config()) << "appends after the torn tail replay";
}

TEST_F(ConfigStoreTest, TornTailWithALaterPageOnDiskIsCleared) {
    {
        ConfigStore store = ConfigStore::open(path_);
        ok(store, R"([{"op":"add-br","bridge":"br0"}])");
        ok(store, R"([{"op":"add-br","bridge":"br1"}])");
    }
    {  // power loss: the end of an unacknowledged record reached the disk, its start did not
        std::fstream f(path_.string() + ".journal", std::ios::in | std::ios::out | std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(f)), {});
        f.seekp(static_cast<std::streamoff>(text.find('\0') + 20));
        f << std::string(60, 'x') << "\"}]}\n";  // runs past where the next record will end
    }
    {
        ConfigStore store = ConfigStore::open(path_);
        ok(store, R"([{"op":"add-br","bridge":"b2"}])");  // shorter than the gap: lands before the leftover
    }
    ConfigStore again = ConfigStore::open(path_);  // refused if the leftover became a "record"
    EXPECT_TRUE(again.config().bridges.count("b2"));
}

TEST_F(ConfigStoreTest, CorruptJournalRecordIsRefused) {
    {
        ConfigStore store = ConfigStore::open(path_);
        ok(store, R"([{"op":"add-br","bridge":"br0"}])");
        ok(store, R"([{"op":"add-br","bridge":"br1"}])");
    }
    std::string journal = path_.string() + ".journal";
    std::string text = readBytes(journal);
    text.replace(text.find("add-br"), 6, "add-XX");
    writeBytes(journal, text);
    try {
        ConfigStore::open(path_);
        ADD_FAILURE() << "opened a corrupt journal";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("config journal " + journal + " is corrupt: record 1"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(readBytes(journal), text) << "left in place";
}

TEST_F(ConfigStoreTest, JournalIsCompactedIntoTheSnapshot) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"}])");
    for (int i = 0; i < 300; ++i)
        ok(store, R"([{"op":"set","table":"Bridge","record":"br0","column":"other_config","key":"n","value":")" +
                      std::to_string(i) + R"("}])");
    EXPECT_LT(store.journalRecords(), 256u);
    EXPECT_NE(readBytes(path_).find("\"n\": \"2"), std::string::npos) << "the snapshot took the commits in";
    EXPECT_EQ(ConfigStore::open(path_).config(), store.config());
}

TEST_F(ConfigStoreTest, CommitThenReopenGivesEqualConfig) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-br","bridge":"br1"},
      {"op":"add-port","bridge":"br0","port":"p1"},
      {"op":"add-port","bridge":"br0","port":"bond0","interfaces":["eth0","eth1"]},
      {"op":"add-port","bridge":"br1","port":"vx1"},
      {"op":"set","table":"Interface","record":"vx1","column":"type","value":"vxlan"},
      {"op":"set","table":"Interface","record":"vx1","column":"options","value":{"remote_ip":"192.0.2.1","key":"5000"}},
      {"op":"set","table":"Port","record":"bond0","column":"other_config","key":"bond-mode","value":"balance-slb"},
      {"op":"set","table":"Bridge","record":"br0","column":"other_config","key":"mac-table-size","value":"2048"},
      {"op":"set","table":"Bridge","record":"br0","column":"external_ids","key":"odd \"key\"\n","value":"v\u00e9"}])");
    ConfigStore again = ConfigStore::open(path_);
    EXPECT_EQ(again.config(), store.config());
    EXPECT_EQ(again.seq(), 1u);
    struct stat st{};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(ConfigStoreTest, CorruptFilesAreRefusedAndLeftInPlace) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"}])");
    const std::string good = readBytes(path_);
    expectCorrupt(good.substr(0, good.size() / 2), "invalid JSON at offset");
    expectCorrupt("", "the file is empty");
    expectCorrupt("[]", "$: expected a JSON object");
    expectCorrupt(R"({"format":"other","version":1,"seq":0,"bridges":{}})", "$.format: expected \"vswitch-config\"");
    expectCorrupt(R"({"version":1,"seq":0,"bridges":{}})", "missing member 'format'");
    expectCorrupt(R"({"format":"vswitch-config","version":2,"seq":0,"bridges":{}})", "$.version: unsupported version 2");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":"3","bridges":{}})", "$.seq: expected");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0})", "missing member 'bridges'");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{},"extra":1})", "$.extra: unknown member");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"a b":{}}})",
                  "$.bridges[\"a b\"]: invalid name 'a b'");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":[]}}})",
                  "$.bridges.br0.ports: expected a JSON object");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"p1":{"interfaces":{"p1":{"ofport":"1"}}}}}}})",
                  "$.bridges.br0.ports.p1.interfaces.p1.ofport: expected an integer in 1..65279");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"p1":{"interfaces":{"p1":{}}}}}}})",
                  "$.bridges.br0.ports.p1.interfaces.p1: missing member 'ofport'");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"p1":{"interfaces":{}}}}}})",
                  "a port must have at least one interface");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"p1":{"interfaces":{"p1":{"ofport":1,"type":"stt"}}}}}}})",
                  "$.bridges.br0.ports.p1.interfaces.p1.type: invalid value 'stt'");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"other_config":{"mac-aging-time":"x"}}}})",
                  "$.bridges.br0.other_config.mac-aging-time: invalid value 'x'");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{
        "p1":{"interfaces":{"p1":{"ofport":1}}},"p2":{"interfaces":{"p2":{"ofport":1}}}}}}})",
                  "ofport 1 is also used by interface p1 of bridge br0");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{},"br1":{"ports":{
        "br0":{"interfaces":{"br0":{"ofport":1}}}}}}})",
                  "$.bridges.br1.ports.br0: name br0 is already used by bridge br0");
    // ofport 65534 (OFPP_LOCAL) belongs to the local port only, and the local port is internal.
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"p1":{"interfaces":{"p1":{"ofport":65534}}}}}}})",
                  "$.bridges.br0.ports.p1.interfaces.p1.ofport: ofport 65534 (OFPP_LOCAL) is reserved for the local port of bridge br0");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"p1":{"interfaces":{"p1":{"ofport":65535}}}}}}})",
                  "$.bridges.br0.ports.p1.interfaces.p1.ofport: expected an integer in 1..65279 (or 65534 for a bridge's local port)");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"br0":{"interfaces":{"br0":{"ofport":65534}}}}}}})",
                  "$.bridges.br0.ports.br0.interfaces.br0.type: the local interface br0 of bridge br0 must be of type internal, not system");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"br0":{"interfaces":{"br0":{"ofport":3,"type":"internal"}}}}}}})",
                  "$.bridges.br0.ports.br0.interfaces.br0.ofport: the local interface br0 of bridge br0 must have ofport 65534");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{"ports":{"br0":{"interfaces":{"x":{"ofport":65534,"type":"internal"}}}}}}})",
                  "$.bridges.br0.ports.br0: the local port br0 of bridge br0 must have exactly one interface, br0");
    expectCorrupt(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{"br0":{},"br0":{}}})",
                  "$.bridges.br0: duplicate name br0");
    expectCorrupt("{\"format\":\"vswitch-config\",\"version\":1,\"seq\":0,\"bridges\":{\"\xff\":{}}}",
                  "invalid JSON");
}

TEST_F(ConfigStoreTest, FileWithoutLocalPortsGetsThem) {
    // Written before bridges had local ports: it loads, and each bridge gets its local port.
    writeBytes(path_, R"({"format":"vswitch-config","version":1,"seq":4,"bridges":{"br0":{"ports":{
        "p1":{"interfaces":{"p1":{"ofport":1}}}}},"br1":{}}})");
    ConfigStore store = ConfigStore::open(path_);
    EXPECT_EQ(store.seq(), 4u);
    EXPECT_EQ(iface(store, "br0", "br0", "br0").ofport, kLocalOfport);
    EXPECT_EQ(iface(store, "br0", "br0", "br0").type, "internal");
    EXPECT_EQ(iface(store, "br1", "br1", "br1").ofport, kLocalOfport);
    EXPECT_EQ(iface(store, "br0", "p1", "p1").ofport, 1);
    ok(store, R"([{"op":"add-port","bridge":"br1","port":"q1"}])");
    EXPECT_EQ(ConfigStore::open(path_).config(), store.config()) << "the local ports are saved with the next commit";
}

TEST_F(ConfigStoreTest, UnreadableFileIsRefused) {
    fs::create_directory(path_);  // a directory where the file should be
    EXPECT_THROW(ConfigStore::open(path_), ConfigError);
    EXPECT_TRUE(fs::is_directory(path_));
}

TEST_F(ConfigStoreTest, TransactErrorToRpcError) {
    RpcError withIndex = TransactError{ErrorCode::kNotFound, "no bridge named br9", 2}.toRpcError();
    EXPECT_EQ(withIndex.code, -32001);
    EXPECT_STREQ(withIndex.what(), "no bridge named br9");
    ASSERT_TRUE(withIndex.data);
    EXPECT_EQ((*withIndex.data)["op_index"].GetInt(), 2);
    RpcError persist = TransactError{ErrorCode::kPersistFailed, "x", -1}.toRpcError();
    EXPECT_EQ(persist.code, -32004);
    EXPECT_FALSE(persist.data);
}

TEST_F(ConfigStoreTest, ConfigToJsonShape) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"}])");
    rapidjson::Document doc;
    rapidjson::Value v = configToJson(store.config(), doc.GetAllocator());
    EXPECT_EQ(protocol::toJson(v),
              R"({"bridges":{"br0":{"other_config":{},"external_ids":{},"fail_mode":null,"controller":{},)"
              R"("stp_enable":false,"rstp_enable":false,"mirrors":{},"ports":{)"
              R"("br0":{"tag":null,"trunks":[],"vlan_mode":null,)"
              R"("bond_mode":null,"lacp":null,"bond_updelay":0,"bond_downdelay":0,"other_config":{},"external_ids":{},"qos":null,)"
              R"("interfaces":{"br0":{"type":"internal","options":{},"other_config":{},"external_ids":{},"ofport":65534,)"
              R"("ingress_policing_rate":0,"ingress_policing_burst":0}}},)"
              R"("p1":{"tag":null,"trunks":[],"vlan_mode":null,)"
              R"("bond_mode":null,"lacp":null,"bond_updelay":0,"bond_downdelay":0,)"
              R"("other_config":{},"external_ids":{},"qos":null,"interfaces":{"p1":{"type":"system","options":{},"other_config":{},)"
              R"("external_ids":{},"ofport":1,"ingress_policing_rate":0,"ingress_policing_burst":0}}}}}},"ssl":null})");
}

TEST_F(ConfigStoreTest, PortVlanColumns) {
    ConfigStore store = ConfigStore::open(path_);
    ok(store, R"([{"op":"add-br","bridge":"br0"},{"op":"add-port","bridge":"br0","port":"p1"}])");
    auto port = [&] { return store.config().bridges.at("br0").ports.at("p1"); };
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"tag","value":10}])");
    EXPECT_EQ(port().tag, 10);
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"tag","value":"4095"}])");
    EXPECT_EQ(port().tag, 4095);
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":"30,10,20,10"}])");
    EXPECT_EQ(port().trunks, (std::vector<int>{10, 20, 30})) << "a set: sorted, unique";
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":[5,6]}])");
    EXPECT_EQ(port().trunks, (std::vector<int>{5, 6}));
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":" 7, 8 "}])");
    EXPECT_EQ(port().trunks, (std::vector<int>{7, 8})) << "blanks around the IDs are allowed";
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":9}])");
    EXPECT_EQ(port().trunks, (std::vector<int>{9}));
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":""}])");
    EXPECT_TRUE(port().trunks.empty());
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":[5,6]}])");
    for (std::string m : {"access", "trunk", "native-tagged", "native-untagged"}) {
        ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"vlan_mode","value":")" + m + R"("}])");
        EXPECT_EQ(port().vlan_mode, m);
    }
    Config before = store.config();
    auto e = bad(store, R"([{"op":"set","table":"Port","record":"p1","column":"tag","value":5000}])",
                 ErrorCode::kInvalidValue);
    EXPECT_NE(e.message.find("VLAN 5000 is outside 0..4095"), std::string::npos) << e.message;
    EXPECT_EQ(e.message, "Port p1 tag: VLAN 5000 is outside 0..4095");
    e = bad(store, R"([{"op":"set","table":"Port","record":"p1","column":"tag","value":-1}])", ErrorCode::kInvalidValue);
    EXPECT_EQ(e.message, "Port p1 tag: VLAN -1 is outside 0..4095");
    e = bad(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":"10,x"}])",
            ErrorCode::kInvalidValue);
    EXPECT_EQ(e.message, "Port p1 trunks: invalid VLAN 'x': expected an integer in 0..4095");
    e = bad(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":"10,,20"}])",
            ErrorCode::kInvalidValue);
    e = bad(store, R"([{"op":"set","table":"Port","record":"p1","column":"trunks","value":[10,4096]}])",
            ErrorCode::kInvalidValue);
    EXPECT_EQ(e.message, "Port p1 trunks: VLAN 4096 is outside 0..4095");
    e = bad(store, R"([{"op":"set","table":"Port","record":"p1","column":"vlan_mode","value":"hybrid"}])",
            ErrorCode::kInvalidValue);
    EXPECT_NE(e.message.find("expected one of access, trunk, native-tagged, native-untagged"), std::string::npos)
        << e.message;
    EXPECT_EQ(store.config(), before);
    ok(store, R"([{"op":"clear","table":"Port","record":"p1","column":"tag"},
                  {"op":"clear","table":"Port","record":"p1","column":"trunks"}])");
    EXPECT_FALSE(port().tag.has_value());
    EXPECT_TRUE(port().trunks.empty());
    ok(store, R"([{"op":"clear","table":"Port","record":"p1","column":"vlan_mode"}])");
    EXPECT_EQ(port().vlan_mode, "");
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"vlan_mode","value":"trunk"},
                  {"op":"set","table":"Port","record":"p1","column":"vlan_mode","value":null}])");
    EXPECT_EQ(port().vlan_mode, "") << "null unsets vlan_mode, as for tag";
    // Persisted and reloaded.
    ok(store, R"([{"op":"set","table":"Port","record":"p1","column":"tag","value":7}])");
    EXPECT_EQ(ConfigStore::open(path_).config(), store.config());
}

TEST_F(ConfigStoreTest, DeviceOrWorldWritableConfigIsRefused) {
    try {
        ConfigStore::open("/dev/null");
        ADD_FAILURE() << "opened /dev/null as a config file";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("/dev/null is not a regular file"), std::string::npos) << e.what();
    }
    struct stat st {};
    ASSERT_EQ(::stat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << "/dev/null must stay a device";
    writeBytes(path_, "{}");
    ::chmod(path_.c_str(), 0666);
    try {
        ConfigStore::open(path_);
        ADD_FAILURE() << "opened a world-writable config file";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("is world-writable"), std::string::npos) << e.what();
    }
    EXPECT_EQ(readBytes(path_), "{}");
}

}  // namespace
}  // namespace vs::vswitchd

// vsappctl fdb/show's text: Open vSwitch's layout with the port column as wide as the longest
// port name, rows sorted by port (p2 before p10), VLAN, then MAC (utilities/appctl.h).
#include <gtest/gtest.h>

#include "utilities/appctl.h"

namespace vs::utilities {
namespace {

std::string text(std::string_view command, const char* json) {
    rapidjson::Document d;
    d.Parse(json);
    return formatAppctlText(command, d);
}

TEST(AppctlFdbShow, WideNamesAlignAndRowsAreSorted) {
    EXPECT_EQ(text("fdb/show", R"({"entries":[
        {"port":"p10","ofport":3,"vlan":5,"mac":"02:00:00:00:00:05","age":1},
        {"port":"vsveth123456789","ofport":4,"vlan":0,"mac":"02:00:00:00:00:04","age":200},
        {"port":"p2","ofport":2,"vlan":7,"mac":"02:00:00:00:00:03","age":2},
        {"port":"p2","ofport":2,"vlan":7,"mac":"02:00:00:00:00:01","age":3},
        {"port":"p2","ofport":2,"vlan":0,"mac":"02:00:00:00:00:09","age":4}]})"),
              "           port  VLAN  MAC                Age\n"
              "             p2     0  02:00:00:00:00:09    4\n"
              "             p2     7  02:00:00:00:00:01    3\n"
              "             p2     7  02:00:00:00:00:03    2\n"
              "            p10     5  02:00:00:00:00:05    1\n"
              "vsveth123456789     0  02:00:00:00:00:04  200\n");
}

TEST(AppctlFdbShow, EmptyTableKeepsOvsHeader) {
    EXPECT_EQ(text("fdb/show", R"({"entries":[]})"), " port  VLAN  MAC                Age\n");
}

}  // namespace
}  // namespace vs::utilities

// vsctl: configure vswitchd over its management socket (ovs-vsctl syntax). See docs/vsctl.md.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "utilities/vsctl.h"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto connect = [](const vs::utilities::CommonOptions& options) -> std::unique_ptr<vs::utilities::RpcCaller> {
        return std::make_unique<vs::utilities::ClientRpc>(options, std::cerr);
    };
    return vs::utilities::vsctlMain(args, std::cout, std::cerr, connect);
}

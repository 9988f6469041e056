// vsofctl: the flow tables of vswitchd bridges (ovs-ofctl syntax). See docs/vsofctl.md.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "utilities/vsofctl.h"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto connect = [](const vs::utilities::CommonOptions& options) -> std::unique_ptr<vs::utilities::RpcCaller> {
        return std::make_unique<vs::utilities::ClientRpc>(options, std::cerr);
    };
    return vs::utilities::vsofctlMain(args, std::cin, std::cout, std::cerr, connect);
}

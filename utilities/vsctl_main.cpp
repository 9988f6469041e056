// vsctl: configure vswitchd over its management socket (ovs-vsctl syntax). See docs/vsctl.md.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "utilities/vsctl.h"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    // Installed or linked as ovs-vsctl (docs/vsctl.md): like ovs-vsctl, find the sockets in
    // $OVS_RUNDIR when it is set (and $VSWITCH_SOCKET is not).
    if (argc > 0 && std::filesystem::path(argv[0]).filename() == "ovs-vsctl") {
        const char* rundir = std::getenv("OVS_RUNDIR");
        const char* socket = std::getenv("VSWITCH_SOCKET");
        if (rundir && *rundir && !(socket && *socket))
            setenv("VSWITCH_SOCKET", (std::filesystem::path(rundir) / "vswitchd.sock").c_str(), 1);
    }
    auto connect = [](const vs::utilities::CommonOptions& options) -> std::unique_ptr<vs::utilities::RpcCaller> {
        return std::make_unique<vs::utilities::ClientRpc>(options, std::cerr);
    };
    return vs::utilities::vsctlMain(args, std::cout, std::cerr, connect);
}

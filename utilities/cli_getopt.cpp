// The tools' option walker over getopt_long (cli_getopt.h).
#include "utilities/cli_getopt.h"

#include <getopt.h>

#include <algorithm>

#include "utilities/vsctl_cli.h"

namespace vs::utilities {
namespace {

// getopt_long reports long options as kLongBase + their index in `defs`, so that "--timeout" and
// "-t" can be told apart in error messages (optopt holds that value).
constexpr int kLongBase = 0x1000;

int hasArg(OptionDef::Arg a) {
    return a == OptionDef::kNone ? no_argument : a == OptionDef::kRequired ? required_argument : optional_argument;
}

std::string longSpelling(const OptionDef& d) { return std::string("--") + d.longName; }

// "--frob=1" -> "--frob".
std::string typedName(const std::string& arg) { return arg.substr(0, arg.find('=')); }

[[noreturn]] void unknownLong(const std::string& typed, std::span<const OptionDef> defs) {
    const std::string name = typedName(typed).substr(2);
    std::string candidates;
    int n = 0;
    for (const auto& d : defs)
        if (d.longName && std::string_view(d.longName).starts_with(name)) {
            candidates += " '" + longSpelling(d) + "'";
            ++n;
        }
    if (n >= 2 && !name.empty())
        throw CliError("option '" + typedName(typed) + "' is ambiguous; possibilities:" + candidates);
    throw CliError("unrecognized option '" + typedName(typed) + "'; use --help for help");
}

}  // namespace

ParsedArgs parseCommandLine(const std::vector<std::string>& args, std::span<const OptionDef> defs,
                            const StopAfterWord& stopAfter) {
    // '-': return non-options in order (the caller decides where options end, whatever
    // POSIXLY_CORRECT says); ':': report a missing value as ':' and print nothing.
    std::string shortopts = "-:";
    std::vector<option> longopts;
    for (std::size_t i = 0; i < defs.size(); ++i) {
        const OptionDef& d = defs[i];
        if (d.shortName) {
            shortopts += d.shortName;
            if (d.arg != OptionDef::kNone) shortopts += d.arg == OptionDef::kRequired ? ":" : "::";
        }
        if (d.longName) longopts.push_back({d.longName, hasArg(d.arg), nullptr, kLongBase + static_cast<int>(i)});
    }
    longopts.push_back({nullptr, 0, nullptr, 0});

    std::vector<std::string> storage;
    storage.reserve(args.size() + 1);
    storage.emplace_back("vs");
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    const int argc = static_cast<int>(storage.size());

    auto shortDef = [defs](int c) -> const OptionDef* {
        for (const auto& d : defs)
            if (d.shortName && d.shortName == c) return &d;
        return nullptr;
    };

    ParsedArgs out;
    optind = 0;  // glibc: 0 re-initialises getopt completely (a previous parse left state behind)
    opterr = 0;
    for (;;) {
        const int next = std::max(optind, 1);  // the element getopt looks at when not inside a cluster
        const int c = getopt_long(argc, argv.data(), shortopts.c_str(), longopts.data(), nullptr);
        if (c == -1) {
            if (next < argc && storage[static_cast<std::size_t>(next)] == "--") out.dashDashAfter = out.words.size();
            for (int i = optind; i < argc; ++i) out.words.push_back(storage[static_cast<std::size_t>(i)]);
            return out;
        }
        if (c == 1) {  // a word
            out.words.emplace_back(optarg);
            if (stopAfter && stopAfter(out.words.back(), out.words.size() - 1)) {
                for (int i = optind; i < argc; ++i) out.words.push_back(storage[static_cast<std::size_t>(i)]);
                return out;
            }
            continue;
        }
        if (c == '?' || c == ':') {
            const bool missing = c == ':';
            if (optopt >= kLongBase) {
                const std::string name = longSpelling(defs[static_cast<std::size_t>(optopt - kLongBase)]);
                throw CliError("option '" + name + (missing ? "' requires an argument" : "' doesn't allow an argument"));
            }
            if (optopt == 0) unknownLong(storage[static_cast<std::size_t>(optind - 1)], defs);
            const std::string name = std::string("-") + static_cast<char>(optopt);
            if (missing) throw CliError("option '" + name + "' requires an argument");
            throw CliError("unrecognized option '" + name + "'; use --help for help");
        }
        ParsedOption p;
        if (c >= kLongBase) {
            const OptionDef& d = defs[static_cast<std::size_t>(c - kLongBase)];
            p.id = d.id;
            p.spelling = longSpelling(d);
        } else {
            const OptionDef* d = shortDef(c);
            if (!d) throw CliError(std::string("internal error: option '-") + static_cast<char>(c) + "' has no definition");
            p.id = d->id;
            p.spelling = std::string("-") + static_cast<char>(c);
        }
        if (optarg) p.value = optarg;
        out.options.push_back(std::move(p));
    }
}

}  // namespace vs::utilities

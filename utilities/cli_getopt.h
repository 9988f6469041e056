// The command-line tools' option parsing: one walker over glibc's getopt_long (issue #14 item 7:
// the hand-written parsers gave way to it). Each tool describes its options in a table; the
// walker returns them in command-line order, and the words that are not options, and turns
// getopt's error codes into CliErrors that name the option:
//   unrecognized option '--frob'; use --help for help
//   option '--timeout' requires an argument
//   option '--verbose' doesn't allow an argument
//   option '--s' is ambiguous; possibilities: '--socket' '--strict'
// getopt_long runs in "return in order" mode, so the caller decides where options end: after
// every word (GNU style, options anywhere: vsofctl), or after a given word (POSIX/ovs-vsctl style,
// options only before the command: vsctl; or before an unknown vsappctl command, whose arguments
// are passed on verbatim). "--" always ends the options; "-" alone is a word. Long options may be
// abbreviated to any unambiguous prefix, as with every getopt_long program.
//
// Thread-safety: NOT thread-safe (getopt_long keeps its state in the globals optind/optarg);
// call from one thread at a time. Each call resets that state, so calls may follow each other.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vs::utilities {

struct OptionDef {
    enum Arg { kNone, kRequired, kOptional };  // kOptional: only as --name=VALUE (getopt rule)
    const char* longName;  // without "--"; nullptr: short form only
    char shortName;        // 0: long form only
    Arg arg;
    int id;                // the caller's key, reported in ParsedOption::id
};

struct ParsedOption {
    int id;
    std::string spelling;              // "--timeout" / "-t": the option's full name as given
    std::optional<std::string> value;  // for kRequired always set; kOptional when "=VALUE" given
};

struct ParsedArgs {
    std::vector<ParsedOption> options;  // in command-line order
    std::vector<std::string> words;     // the other arguments, in order
    // The number of words seen before a "--" that ended the options (the "--" itself is not a
    // word); nullopt when no "--" ended them.
    std::optional<std::size_t> dashDashAfter;
};

// Called with each word (and its index among the words) while options are still being parsed;
// returning true ends the options: the arguments after that word become words, verbatim.
using StopAfterWord = std::function<bool(const std::string& word, std::size_t index)>;

// Parses `args` (argv without the program name) against `defs`. Throws CliError (the messages
// above) on an unknown or ambiguous option, a missing value or a value given to an option that
// takes none. A def may give an option both a short and a long name; several defs may share an
// id (aliases such as vsctl's -T for --timeout).
ParsedArgs parseCommandLine(const std::vector<std::string>& args, std::span<const OptionDef> defs,
                            const StopAfterWord& stopAfter = {});

}  // namespace vs::utilities

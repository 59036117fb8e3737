// dray-cli: submit jobs to a running dray and watch them, docker/kubectl style.
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <Poco/String.h>

#include "app/cli/commands.hpp"

namespace {

const char* kUsage =
    "usage: dray-cli [--url URL] COMMAND [ARGS]\n"
    "  submit FILE|- [--wait] [--follow]   post a job; --wait exits with the job's result,\n"
    "                                      --follow also streams its log\n"
    "  ls                                  list jobs\n"
    "  status ID [--json]                  state, times and steps of a job\n"
    "  logs ID [-f]                        print the log; -f follows until the job ends\n"
    "  wait ID                             wait until the job ends; exit status as --wait\n"
    "  cancel ID                           stop a queued or running job\n"
    "  rm ID                               delete a job (canceling it first)\n"
    "The URL comes from --url, else DRAY_URL, else http://127.0.0.1:3000.\n"
    "Authentication: the bearer token comes from --token-file FILE, else DRAY_TOKEN. For https://\n"
    "URLs --cacert FILE names the CA to trust, --cert FILE --key FILE a client certificate (mTLS).\n"
    "Exit codes: 0 ok/complete, 1 job error, 2 job canceled, 3 dray refused or unreachable, 64 usage.\n";

// The first line of a token file, without surrounding white space.
std::string readToken(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) throw std::invalid_argument("cannot read a token from " + path);
  return Poco::trim(token);
}

dray::cli::Options parse(int argc, char** argv) {
  dray::cli::Options options;
  const char* env = std::getenv("DRAY_URL");
  options.url = env && *env ? env : "http://127.0.0.1:3000";
  const char* token = std::getenv("DRAY_TOKEN");
  options.credentials.token = token ? token : "";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--url" && i + 1 < argc) {
      options.url = argv[++i];
    } else if (arg == "--token-file" && i + 1 < argc) {
      options.credentials.token = readToken(argv[++i]);
    } else if (arg == "--cacert" && i + 1 < argc) {
      options.credentials.ca_file = argv[++i];
    } else if (arg == "--cert" && i + 1 < argc) {
      options.credentials.cert_file = argv[++i];
    } else if (arg == "--key" && i + 1 < argc) {
      options.credentials.key_file = argv[++i];
    } else if (arg == "--wait") {
      options.wait = true;
    } else if (arg == "--follow" || arg == "-f") {
      options.follow = true;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      throw std::invalid_argument("unknown option '" + arg + "'");
    } else {
      options.args.push_back(arg);
    }
  }
  if (options.args.empty()) throw std::invalid_argument("no command given");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  dray::cli::Options options;
  try {
    options = parse(argc, argv);
    if (options.args[0] == "help") {
      std::cout << kUsage;
      return dray::cli::kOk;
    }
    if (options.credentials.cert_file.empty() != options.credentials.key_file.empty()) {
      throw std::invalid_argument("--cert and --key go together");
    }
    dray::cli::ApiClient api(options.url, options.credentials);
    return dray::cli::runCommand(api, options);
  } catch (const std::invalid_argument& e) {
    std::cerr << "dray-cli: " << e.what() << "\n" << kUsage;
    return dray::cli::kUsage;
  } catch (const dray::cli::ApiError& e) {
    std::cerr << "dray-cli: " << e.what() << (e.status() ? " (HTTP " + std::to_string(e.status()) + ")" : "") << "\n";
    return dray::cli::kApiError;
  } catch (const std::exception& e) {
    std::cerr << "dray-cli: " << e.what() << "\n";
    return dray::cli::kApiError;
  }
}

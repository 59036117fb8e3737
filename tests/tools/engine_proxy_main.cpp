// dray-engine-proxy: the fault-injecting engine proxy by hand, for trying issue #13 faults on
// a running dray. Usage: dray-engine-proxy <listen-socket> [<engine-socket>]
// Commands on stdin, one a line: stall <METHOD|*> <path-regex> | freeze | release | status | quit
#include <exception>
#include <iostream>
#include <sstream>
#include <string>

#include "tests/tools/engine_proxy.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: " << argv[0] << " <listen-socket> [<engine-socket>]\n";
    return 2;
  }
  try {
    dray::test::EngineProxy proxy(argc == 3 ? argv[2] : "/var/run/docker.sock", argv[1]);
    proxy.start();
    std::cout << "listening: DOCKER_HOST=" << proxy.address() << std::endl;
    std::string line;
    // EOF on stdin quits too, so a script that dies does not leave the proxy behind.
    while (std::getline(std::cin, line)) {
      std::istringstream words(line);
      std::string command;
      words >> command;
      if (command == "stall") {
        std::string method;
        std::string regex;
        words >> method >> regex;
        if (regex.empty()) {
          std::cout << "usage: stall <METHOD|*> <path-regex>" << std::endl;
          continue;
        }
        try {
          const std::size_t rule = proxy.stall(method, regex);
          std::cout << "rule " << rule << std::endl;
        } catch (const std::exception& e) {  // a bad regex is a typo, not a reason to quit
          std::cout << "bad regex: " << e.what() << std::endl;
        }
      } else if (command == "freeze") {
        proxy.freezeStreams();
        std::cout << "frozen" << std::endl;
      } else if (command == "release") {
        proxy.releaseAll();
        std::cout << "released" << std::endl;
      } else if (command == "status") {
        std::cout << "connections " << proxy.connectionCount() << ", stalled " << proxy.stalledCount() << ", upgraded "
                  << proxy.upgradedCount() << std::endl;
      } else if (command == "quit") {
        break;
      } else if (!command.empty()) {
        std::cout << "commands: stall <METHOD|*> <regex> | freeze | release | status | quit" << std::endl;
      }
    }
    proxy.stop();
  } catch (const std::exception& e) {
    std::cerr << "dray-engine-proxy: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

#include "tests/support/second_engine.hpp"

#include <csignal>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

namespace dray::test {

using namespace std::chrono_literals;

SecondEngine::SecondEngine(const std::vector<std::string>& images) : socket_(dir_.path() + "/docker.sock") {
  const std::string& dir = dir_.path();
  std::vector<std::string> args = {
      "--data-root", dir + "/data",       "--exec-root",   dir + "/exec",      "--pidfile",        dir + "/dockerd.pid",
      "-H",          "unix://" + socket_, "--bridge=none", "--iptables=false", "--ip6tables=false"};
  const std::string command = "exec dockerd \"$@\" >" + dir + "/dockerd.log 2>&1";
  std::vector<std::string> shell_args = {"-c", command, "dockerd"};
  shell_args.insert(shell_args.end(), args.begin(), args.end());
  daemon_ = std::make_unique<Poco::ProcessHandle>(Poco::Process::launch("/bin/sh", shell_args));
  const bool up = waitUntil(
      [this] {
        int status = 0;
        shell("docker -H " + host() + " info >/dev/null 2>&1", &status);
        return status == 0;
      },
      60s, 200ms);
  INFO(shell("tail -30 " + dir + "/dockerd.log"));
  REQUIRE(up);
  std::string list;
  for (const auto& image : images) list += " " + image;
  int status = 0;
  const std::string out = shell("docker save" + list + " | docker -H " + host() + " load 2>&1", &status);
  INFO(out);
  REQUIRE(status == 0);
}

SecondEngine::~SecondEngine() {
  // Containers first (a test may have left some on purpose); then a clean stop, so that
  // dockerd unmounts what it mounted before its directory is removed.
  shell("docker -H " + host() + " ps -aq | xargs -r docker -H " + host() + " rm -f >/dev/null 2>&1");
  ::kill(static_cast<pid_t>(daemon_->id()), SIGTERM);
  // tryWait reaps: a zombie would still look alive to kill(pid, 0).
  if (!waitUntil([this] { return daemon_->tryWait() != -1; }, 30s, 100ms)) {
    ::kill(static_cast<pid_t>(daemon_->id()), SIGKILL);
    daemon_->wait();
  }
}

std::string SecondEngine::docker(const std::string& arguments) const {
  return shell("docker -H " + host() + " " + arguments);
}

ContainerCreations::ContainerCreations(const std::string& host) {
  const std::string engine = host.empty() ? "" : " -H " + host;
  const std::string command = "exec docker" + engine +
                              " events --filter type=container --filter event=create --format "
                              "'{{index .Actor.Attributes \"dray.job\"}}' >" +
                              dir_.path() + "/created";
  events_ = std::make_unique<Poco::ProcessHandle>(Poco::Process::launch("/bin/sh", {"-c", command}));
  // The stream is live once `docker events` has connected: give it a moment.
  std::this_thread::sleep_for(500ms);
}

ContainerCreations::~ContainerCreations() {
  Poco::Process::kill(*events_);
  events_->wait();
}

std::vector<std::string> ContainerCreations::jobs() const {
  std::this_thread::sleep_for(300ms);  // the last events on their way
  std::vector<std::string> ids;
  std::istringstream lines(shell("cat " + dir_.path() + "/created"));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) ids.push_back(line);
  }
  return ids;
}

}  // namespace dray::test

#include "test_support.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include <catch2/catch.hpp>

namespace dray::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  path_ = Poco::TemporaryFile::tempName();
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::uint16_t freePort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(interval);
  }
}

Poco::JSON::Object::Ptr HttpResult::json() const {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

HttpResult httpRequest(std::uint16_t port, const std::string& method, const std::string& path,
                       const std::string& body, const std::map<std::string, std::string>& headers) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT") {
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    if (!request.has("Content-Type")) request.setContentType("application/json");
  }
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpResult result;
  result.status = response.getStatus();
  for (const auto& [name, value] : response) result.headers[name] = value;
  Poco::StreamCopier::copyToString(in, result.body);
  return result;
}

std::string rawRequest(std::uint16_t port, const std::string& bytes) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  socket.shutdownSend();
  std::string answer;
  std::array<char, 4096> buffer;
  try {
    for (;;) {
      int n = socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) break;
      answer.append(buffer.data(), static_cast<std::size_t>(n));
    }
  } catch (const Poco::Exception&) {
  }
  return answer;
}

DrayProcess::DrayProcess(std::map<std::string, std::string> env) : port_(freePort()) {
  env.try_emplace("DRAY_PLUGIN_PATH", pluginDir());
  env.try_emplace("DRAY_STORAGE", "memory");
  env.try_emplace("LOG_LEVEL", "debug");
  Poco::Process::Env process_env(env.begin(), env.end());
  std::string command = "exec \"$0\" -p " + std::to_string(port_) + " >>" + dir_.path() + "/dray.log 2>&1";
  handle_ = std::make_unique<Poco::ProcessHandle>(
      Poco::Process::launch("/bin/sh", {"-c", command, drayBinary()}, nullptr, nullptr, nullptr, process_env));
  bool up = waitUntil(
      [this] {
        if (!running()) return true;
        try {
          return get("/jobs").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      20s);
  INFO(log());
  REQUIRE(up);
  REQUIRE(running());
}

DrayProcess::~DrayProcess() {
  if (!stopped_ && running()) stop();
}

bool DrayProcess::running() const { return !stopped_ && Poco::Process::isRunning(*handle_); }

int DrayProcess::stop() {
  Poco::Process::requestTermination(handle_->id());
  stopped_ = true;
  return handle_->wait();
}

std::string DrayProcess::log() const {
  std::ifstream in(dir_.path() + "/dray.log");
  std::stringstream text;
  text << in.rdbuf();
  return "--- dray log ---\n" + text.str();
}

std::string DrayProcess::submit(const std::string& job_json) const {
  HttpResult result = post("/jobs", job_json);
  INFO(result.body);
  REQUIRE(result.status == 201);
  return result.json()->getValue<std::string>("id");
}

std::string DrayProcess::waitForJob(const std::string& id, std::chrono::seconds timeout) const {
  std::string status = "timeout";
  waitUntil(
      [&] {
        HttpResult result = get("/jobs/" + id);
        if (result.status != 200) return false;
        std::string current = result.json()->getValue<std::string>("status");
        if (current == "running") return false;
        status = current;
        return true;
      },
      timeout, 100ms);
  return status;
}

std::vector<std::string> DrayProcess::logLines(const std::string& id, std::size_t index) const {
  HttpResult result = get("/jobs/" + id + "/log?index=" + std::to_string(index));
  REQUIRE(result.status == 200);
  std::vector<std::string> lines;
  auto array = result.json()->getArray("lines");
  for (std::size_t i = 0; i < array->size(); ++i) lines.push_back(array->getElement<std::string>(i));
  return lines;
}

std::string shell(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buffer;
  std::size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  int rc = pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return output;
}

std::vector<std::string> containersOfJob(const std::string& job_id) {
  int status = 0;
  std::string out = shell("docker ps -aq --filter label=dray.job=" + job_id, &status);
  REQUIRE(status == 0);
  std::vector<std::string> ids;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) ids.push_back(line);
  }
  return ids;
}

std::string drayBinary() { return DRAY_TEST_BINARY; }
std::string pluginDir() { return DRAY_TEST_PLUGIN_DIR; }
std::string testPluginDir() { return DRAY_TEST_FIXTURE_PLUGIN_DIR; }

}  // namespace dray::test

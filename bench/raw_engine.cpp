#include "bench/raw_engine.hpp"

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/Buffer.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

namespace bench {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;
using Poco::Net::HTTPRequest;
using Poco::Net::HTTPResponse;
using Poco::Net::SocketAddress;
using Poco::Net::StreamSocket;
using Clock = std::chrono::steady_clock;

constexpr const char* kApi = "/v1.41";
// Generous: a benchmark step that hangs should fail the run, not stall it forever.
const Poco::Timespan kTimeout(300, 0);

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// An HTTP session over the engine's unix socket. Poco's own connect() cannot reach a unix
// socket (it sets TCP_NODELAY, and wants a host), so this one connects itself; keeping the
// host "localhost" lets Poco send a Host header and reconnect after an idle close.
class UnixSession final : public Poco::Net::HTTPClientSession {
 public:
  explicit UnixSession(std::string path) : HTTPClientSession("localhost", 80), path_(std::move(path)) {
    setKeepAlive(true);
    setTimeout(kTimeout);
  }

 protected:
  void connect(const SocketAddress&) override {
    StreamSocket socket;
    socket.connect(SocketAddress(SocketAddress::UNIX_LOCAL, path_), kTimeout);
    socket.setReceiveTimeout(kTimeout);
    socket.setSendTimeout(kTimeout);
    attachSocket(socket);
    Poco::Buffer<char> stale(0);
    drainBuffer(stale);
  }

 private:
  std::string path_;
};

EngineReply exchange(Poco::Net::HTTPClientSession& session, const std::string& method, const std::string& path,
                     const std::string& json_body) {
  HTTPRequest request(method, std::string(kApi) + path, HTTPRequest::HTTP_1_1);
  request.setContentLength(static_cast<std::streamsize>(json_body.size()));
  if (!json_body.empty()) request.setContentType("application/json");
  session.sendRequest(request) << json_body;
  HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  EngineReply reply;
  reply.status = response.getStatus();
  Poco::StreamCopier::copyToString(in, reply.body);  // always to the end, or the session breaks
  return reply;
}

void expectStatus(const EngineReply& reply, int wanted, const std::string& what) {
  if (reply.status != wanted) {
    throw std::runtime_error(what + ": engine answered " + std::to_string(reply.status) + " " + reply.body);
  }
}

Object::Ptr parseObject(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Object::Ptr>();
}

Array strings(const std::vector<std::string>& values) {
  Array array;
  for (const auto& value : values) array.add(value);
  return array;
}

// The same HostConfig dray sends (written out here, not shared), so the engine does the
// same work per container on both sides and the ratio measures dray, not a setting.
Object hostConfig() {
  Object host;
  host.set("Privileged", false);
  host.set("Binds", Array());
  host.set("Mounts", Array());
  host.set("Devices", Array());
  host.set("DeviceCgroupRules", Array());
  host.set("CapAdd", Array());
  host.set("VolumesFrom", Array());
  host.set("SecurityOpt", strings({"no-new-privileges"}));
  host.set("NetworkMode", "default");
  host.set("PidMode", "");
  host.set("IpcMode", "private");
  host.set("UTSMode", "");
  host.set("UsernsMode", "");
  host.set("PublishAllPorts", false);
  host.set("AutoRemove", false);
  Object logs;
  logs.set("Type", "none");
  logs.set("Config", Object());
  host.set("LogConfig", logs);
  return host;
}

// Splits the attach stream's frames, [kind(1 stdout, 2 stderr), 0, 0, 0, length(u32 BE)]
// + payload, which arrive cut at arbitrary places.
class Demuxer {
 public:
  explicit Demuxer(StepResult& result) : result_(result) {}

  void feed(const char* data, std::size_t size) {
    pending_.append(data, size);
    std::size_t at = 0;
    while (pending_.size() - at >= 8) {
      const auto* head = reinterpret_cast<const unsigned char*>(pending_.data() + at);
      const std::size_t length = (std::size_t{head[4]} << 24) | (std::size_t{head[5]} << 16) |
                                 (std::size_t{head[6]} << 8) | std::size_t{head[7]};
      if (pending_.size() - at - 8 < length) break;
      std::string& sink = head[0] == 2 ? result_.err : result_.out;
      sink.append(pending_, at + 8, length);
      at += 8 + length;
    }
    pending_.erase(0, at);
  }

  bool clean() const { return pending_.empty(); }

 private:
  StepResult& result_;
  std::string pending_;
};

}  // namespace

RawEngine::RawEngine(std::string socket_path)
    : socket_path_(std::move(socket_path)), session_(std::make_unique<UnixSession>(socket_path_)) {}

RawEngine::~RawEngine() = default;

EngineReply RawEngine::call(const std::string& method, const std::string& path, const std::string& json_body) {
  try {
    return exchange(*session_, method, path, json_body);
  } catch (...) {
    session_ = std::make_unique<UnixSession>(socket_path_);  // never reuse a session that failed
    throw;
  }
}

EngineReply RawEngine::callOnNewConnection(const std::string& method, const std::string& path) {
  UnixSession once(socket_path_);
  once.setKeepAlive(false);  // "Connection: close", as a client without pooling sends
  return exchange(once, method, path, "");
}

std::string RawEngine::create(const std::string& image, const std::vector<std::string>& env) {
  Object body;
  body.set("Image", image);
  body.set("Env", strings(env));
  Object labels;
  labels.set("dray.bench", "floor");
  body.set("Labels", labels);
  body.set("AttachStdin", true);
  body.set("AttachStdout", true);
  body.set("AttachStderr", true);
  body.set("OpenStdin", true);
  body.set("StdinOnce", true);
  body.set("Tty", false);
  body.set("HostConfig", hostConfig());
  std::ostringstream json;
  body.stringify(json);
  EngineReply reply = call("POST", "/containers/create", json.str());
  expectStatus(reply, 201, "create " + image);
  return parseObject(reply.body)->getValue<std::string>("Id");
}

StepResult RawEngine::stream(const std::string& id, const std::string& input) {
  // Attach before start, on a connection of its own that the upgrade consumes, so no
  // output can be missed.
  auto phase = Clock::now();
  UnixSession attach_session(socket_path_);
  HTTPRequest request(HTTPRequest::HTTP_POST,
                      std::string(kApi) + "/containers/" + id + "/attach?stream=1&stdin=1&stdout=1&stderr=1",
                      HTTPRequest::HTTP_1_1);
  request.set("Connection", "Upgrade");
  request.set("Upgrade", "tcp");
  attach_session.sendRequest(request);
  HTTPResponse response;
  attach_session.receiveResponse(response);
  if (response.getStatus() != HTTPResponse::HTTP_SWITCHING_PROTOCOLS) {
    throw std::runtime_error("attach " + id + ": engine answered " + std::to_string(response.getStatus()));
  }
  Poco::Buffer<char> leftover(0);
  attach_session.drainBuffer(leftover);
  StreamSocket raw = attach_session.detachSocket();
  raw.setReceiveTimeout(kTimeout);
  phases_.attach = msSince(phase);

  phase = Clock::now();
  expectStatus(call("POST", "/containers/" + id + "/start"), 204, "start " + id);
  phases_.start = msSince(phase);

  phase = Clock::now();
  StepResult result;
  Demuxer demuxer(result);
  demuxer.feed(leftover.begin(), leftover.size());
  // The writer runs beside the reader: a step like `cat` only reads while it can write.
  std::thread writer([&raw, &input] {
    try {
      for (std::size_t sent = 0; sent < input.size();) {
        sent += static_cast<std::size_t>(raw.sendBytes(input.data() + sent, static_cast<int>(input.size() - sent)));
      }
      raw.shutdownSend();  // the step sees end of input (StdinOnce)
    } catch (const Poco::Exception&) {
      // The step ended without reading all of its input; its exit code tells.
    }
  });
  std::vector<char> buffer(64 * 1024);
  try {
    for (int got; (got = raw.receiveBytes(buffer.data(), static_cast<int>(buffer.size()))) > 0;) {
      demuxer.feed(buffer.data(), static_cast<std::size_t>(got));
    }
  } catch (...) {
    raw.shutdown();
    writer.join();
    throw;
  }
  // Both directions: a step that never read its stdin would leave the writer blocked.
  try {
    raw.shutdown();
  } catch (const Poco::Exception&) {
  }
  writer.join();
  if (!demuxer.clean()) throw std::runtime_error("attach " + id + ": stream ended inside a frame");
  phases_.stream = msSince(phase);

  phase = Clock::now();
  EngineReply waited = call("POST", "/containers/" + id + "/wait");
  expectStatus(waited, 200, "wait " + id);
  result.exit_code = parseObject(waited.body)->getValue<int>("StatusCode");
  phases_.wait = msSince(phase);
  return result;
}

void RawEngine::remove(const std::string& id) {
  EngineReply reply = call("DELETE", "/containers/" + id + "?force=1");
  if (reply.status != 204 && reply.status != 404) expectStatus(reply, 204, "remove " + id);
}

StepResult RawEngine::runStep(const std::string& image, const std::vector<std::string>& env, const std::string& input) {
  phases_ = {};
  auto phase = Clock::now();
  const std::string id = create(image, env);
  phases_.create = msSince(phase);
  StepResult result;
  try {
    result = stream(id, input);
  } catch (...) {
    try {
      remove(id);
    } catch (...) {
    }
    throw;
  }
  phase = Clock::now();
  remove(id);
  phases_.remove = msSince(phase);
  return result;
}

}  // namespace bench

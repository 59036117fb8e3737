#include "plugins/runtime/docker/docker_runtime.hpp"

#include <atomic>
#include <cstdio>
#include <optional>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include "dray/sdk/errors.hpp"
#include "plugins/runtime/docker/call_deadline.hpp"
#include "plugins/runtime/docker/container_files.hpp"
#include "plugins/runtime/docker/prepared_container.hpp"
#include "plugins/runtime/docker/pull_progress.hpp"
#include "plugins/runtime/docker/pull_reference.hpp"
#include "plugins/runtime/docker/stop_guard.hpp"
#include "plugins/runtime/docker/stream_pump.hpp"

namespace dray::plugins::runtime::docker {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// Wait blocks for as long as the step runs; step timeouts are enforced by killing.
const Poco::Timespan kWaitTimeout(7 * 24 * 3600, 0);

// The least time between two progress lines of a pull in the job log.
constexpr std::chrono::milliseconds kPullProgressInterval(5000);

// `text` with every occurrence of `secret` replaced.
std::string scrub(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
    text.replace(at, secret.size(), "***");
  }
  return text;
}

std::string encodeQuery(const std::string& value) {
  std::string encoded;
  Poco::URI::encode(value, "!#$&'()*+,/:;=?@[]\"{}", encoded);
  return encoded;
}

std::string encodePath(const std::string& value) {
  std::string encoded;
  Poco::URI::encode(value, "?#%", encoded);
  return encoded;
}

std::string stringify(const Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

Object::Ptr parseObject(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Object::Ptr>();
}

Array strings(std::initializer_list<const char*> values) {
  Array array;
  for (const char* value : values) array.add(std::string(value));
  return array;
}

// A step gets nothing of the host: no binds, mounts, devices, extra capabilities or
// privileges, and its own PID and IPC namespaces. ContainerSpec (which output channels may
// adjust) has no field for any of these; spelling them out keeps a daemon default or a
// later field from quietly granting one. no-new-privileges stops setuid binaries in an
// image from gaining more than the step started with. The network is the engine's default
// unless the step's resources name one (the host checked it against the server's limits).
Object hostConfig(const sdk::Resources& resources) {
  Object host;
  host.set("Privileged", false);
  host.set("Binds", Array());
  host.set("Mounts", Array());
  host.set("Devices", Array());
  host.set("DeviceCgroupRules", Array());
  host.set("CapAdd", Array());
  host.set("VolumesFrom", Array());
  host.set("SecurityOpt", strings({"no-new-privileges"}));
  host.set("NetworkMode", resources.network_mode.empty() ? std::string("default") : resources.network_mode);
  host.set("PidMode", "");
  host.set("IpcMode", "private");
  host.set("UTSMode", "");
  host.set("UsernsMode", "");
  host.set("PublishAllPorts", false);
  host.set("AutoRemove", false);  // we remove, after copying files out
  // dray reads the output through attach; the engine's own json-file copy would cost a
  // second write of every byte (a flood of short lines took the engine minutes).
  Object logs;
  logs.set("Type", "none");
  logs.set("Config", Object());
  host.set("LogConfig", logs);
  // 0 leaves the engine's default (no limit).
  if (resources.cpu_shares > 0) host.set("CpuShares", resources.cpu_shares);
  if (resources.nano_cpus > 0) host.set("NanoCpus", resources.nano_cpus);
  if (resources.pids_limit > 0) host.set("PidsLimit", resources.pids_limit);
  if (resources.memory > 0) {
    host.set("Memory", resources.memory);
    // Memory plus swap: equal to Memory means no swap, so the limit is a real one (the
    // engine's default would allow as much swap again).
    host.set("MemorySwap", resources.memory);
  }
  return host;
}

}  // namespace

std::string createBody(const sdk::ContainerSpec& spec) {
  Object body;
  body.set("Image", spec.image);
  Array env;
  for (const auto& entry : spec.env) env.add(entry);
  body.set("Env", env);
  Object labels;
  for (const auto& [key, value] : spec.labels) labels.set(key, value);
  body.set("Labels", labels);
  body.set("AttachStdin", true);
  body.set("AttachStdout", true);
  body.set("AttachStderr", true);
  body.set("OpenStdin", true);
  body.set("StdinOnce", true);
  body.set("Tty", false);
  body.set("HostConfig", hostConfig(spec.resources));
  return stringify(body);
}

DockerRuntime::DockerRuntime(DockerEndpoint endpoint, sdk::Logger& logger, DockerTimeouts timeouts,
                             RegistryAuth registry_auth)
    : client_(std::move(endpoint)), timeouts_(timeouts), registry_auth_(std::move(registry_auth)), logger_(logger),
      reaper_(std::make_unique<ContainerReaper>(client_, logger_, timeouts_.call)) {}

bool DockerRuntime::imagePresent(const std::string& image, CallInterrupt& interrupt) {
  DockerResponse response =
      client_.request("GET", "/images/" + encodePath(image) + "/json", "", timeouts_.call, &interrupt);
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  throw sdk::EngineError("cannot inspect image " + image + ": " + engineMessage(response.body));
}

void DockerRuntime::pull(const std::string& image, sdk::Logger& job_log, CallInterrupt& interrupt) {
  ImageReference ref = parseImageReference(image);
  std::string path = "/images/create?fromImage=" + encodeQuery(ref.repository) +
                     "&tag=" + encodeQuery(ref.digest.empty() ? ref.tag : ref.digest);
  Headers headers;
  std::string password;  // to scrub from what the engine says, should it ever echo it
  std::string start = "pulling image " + image;
  if (const RegistryCredentials* credentials = registry_auth_.find(image)) {
    headers.emplace_back("X-Registry-Auth", registryAuthHeader(*credentials));
    password = credentials->password;
    start += " with the credentials for " + credentials->server_address;
  }
  job_log.info(start);
  PullProgress progress(image, PullProgress::Clock::now(), kPullProgressInterval);
  const auto limit = std::chrono::milliseconds(timeouts_.pull.totalMilliseconds());
  char limit_text[32];
  std::snprintf(limit_text, sizeof limit_text, "%g", static_cast<double>(limit.count()) / 1000);
  const std::string timed_out =
      "cannot pull image " + image + ": no image after " + limit_text + " s (DRAY_PULL_TIMEOUT)";
  DockerResponse response;
  bool broken = false;
  {
    // A pull that trickles progress never trips a socket timeout: bound the whole call.
    CallDeadline deadline(interrupt, limit);
    try {
      response = client_.streamed(
          "POST", path,
          [&](std::istream& in) {
            std::string line;
            while (std::getline(in, line)) {
              std::string note = progress.feed(line, PullProgress::Clock::now());
              if (!note.empty()) job_log.info(note);
            }
            broken = in.bad();  // a cut socket or a timeout ends the stream without its end
          },
          timeouts_.pull, &interrupt, headers);
    } catch (const sdk::EngineError&) {
      if (deadline.expired()) throw sdk::ImageUnavailable(timed_out);
      throw;
    }
    if (deadline.expired()) throw sdk::ImageUnavailable(timed_out);
  }
  if (interrupt.fired()) throw sdk::EngineError("canceled");
  if (broken) throw sdk::EngineError("cannot pull image " + image + ": the engine's progress stream broke off");
  // The engine answers 200 and reports failures inside the progress stream.
  std::string error = response.status / 100 == 2 ? progress.error() : engineMessage(response.body);
  if (!error.empty()) throw sdk::ImageUnavailable("cannot pull image " + image + ": " + scrub(error, password));
  job_log.info(progress.summary(PullProgress::Clock::now()));
}

void DockerRuntime::ensureImage(const std::string& image, bool refresh, sdk::Logger& job_log, std::stop_token stop) {
  if (!refresh) {
    std::lock_guard lock(known_mutex_);
    if (known_images_.count(image)) return;
  }
  CallInterrupt interrupt;
  std::stop_callback on_stop(stop, [&interrupt] { interrupt.fire(); });  // never blocks
  try {
    if (refresh || !imagePresent(image, interrupt)) pull(image, job_log, interrupt);
  } catch (const sdk::EngineError&) {
    if (interrupt.fired()) throw sdk::EngineError("canceled");
    throw;
  }
  std::lock_guard lock(known_mutex_);
  known_images_.insert(image);
}

std::string DockerRuntime::create(const sdk::ContainerSpec& spec, CallInterrupt& interrupt) {
  DockerResponse response;
  try {
    response = client_.request("POST", "/containers/create", createBody(spec), timeouts_.call, &interrupt);
  } catch (const sdk::EngineError&) {
    // The engine may have created it and only the answer was lost: find it by its labels.
    std::vector<std::string> labels;
    for (const auto& [key, value] : spec.labels) labels.push_back(key + "=" + value);
    if (!labels.empty()) {
      reaper_->removeLabelled(std::move(labels), std::chrono::milliseconds(timeouts_.call.totalMilliseconds()));
    }
    if (interrupt.fired()) throw sdk::EngineError("canceled");
    throw;
  }
  if (response.status == 404) {
    // Removed behind our back: forget it, so the next step checks (and pulls) again.
    std::lock_guard lock(known_mutex_);
    known_images_.erase(spec.image);
  }
  if (response.status != 201) {
    throw sdk::EngineError("cannot create a container from " + spec.image + ": " + engineMessage(response.body));
  }
  return parseObject(response.body)->getValue<std::string>("Id");
}

void DockerRuntime::start(const std::string& id, CallInterrupt& interrupt) {
  DockerResponse response = client_.request("POST", "/containers/" + id + "/start", "", timeouts_.call, &interrupt);
  if (response.status != 204 && response.status != 304) {
    throw sdk::EngineError("cannot start container " + id + ": " + engineMessage(response.body));
  }
}

void DockerRuntime::kill(const std::string& id, CallInterrupt& interrupt) {
  try {
    DockerResponse response = client_.request("POST", "/containers/" + id + "/kill", "", timeouts_.call, &interrupt);
    // 409: not running (never started, or already exited): nothing to kill.
    if (response.status != 204 && response.status != 404 && response.status != 409) {
      logger_.warn("cannot kill container " + id.substr(0, 12) + ": " + engineMessage(response.body));
    }
  } catch (const std::exception& e) {
    logger_.warn("cannot kill container " + id.substr(0, 12) + ": " + e.what());
  }
}

int DockerRuntime::wait(const std::string& id, CallInterrupt& interrupt) {
  // Wait blocks for as long as the step runs: step timeouts and cancel end it through the
  // kill (or, when the kill does not take effect, through the interrupt).
  DockerResponse response = client_.request("POST", "/containers/" + id + "/wait", "", kWaitTimeout, &interrupt);
  if (response.status != 200) {
    throw sdk::EngineError("cannot wait for container " + id + ": " + engineMessage(response.body));
  }
  return parseObject(response.body)->getValue<int>("StatusCode");
}

bool DockerRuntime::oomKilled(const std::string& id, CallInterrupt& interrupt) {
  DockerResponse response = client_.request("GET", "/containers/" + id + "/json", "", timeouts_.call, &interrupt);
  if (response.status != 200) return false;  // the exit code still tells the step failed
  auto state = parseObject(response.body)->getObject("State");
  return state && state->optValue<bool>("OOMKilled", false);
}

sdk::PreparedContainerPtr DockerRuntime::prepare(const sdk::ContainerSpec& spec, std::stop_token stop) {
  // A stop lets a create finish (it is quick, and its container is then removed like any
  // other), unless the engine sits on it past the kill grace: then the call is cut and the
  // container, if the engine makes it after all, found later by its labels.
  CallInterrupt interrupt;
  StopGuard guard(stop, timeouts_.kill_grace, {}, interrupt);
  const std::string id = create(spec, interrupt);
  auto container = std::make_unique<DockerPreparedContainer>(*this, id);
  logger_.debug("container " + id.substr(0, 12) + " created from " + spec.image);
  try {
    container->attach(interrupt);
  } catch (const sdk::EngineError&) {
    if (interrupt.fired()) throw sdk::EngineError("canceled");
    throw;
  }
  return container;
}

std::vector<std::string> DockerRuntime::listLabelled(const std::string& key) {
  Object filter;
  Array labels;
  labels.add(key);
  filter.set("label", labels);
  DockerResponse response =
      client_.request("GET", "/containers/json?all=1&filters=" + encodeQuery(stringify(filter)), "", timeouts_.call);
  if (response.status != 200) throw sdk::EngineError("cannot list containers: " + engineMessage(response.body));
  Poco::JSON::Parser parser;
  auto list = parser.parse(response.body).extract<Array::Ptr>();
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < list->size(); ++i) ids.push_back(list->getObject(i)->getValue<std::string>("Id"));
  return ids;
}

sdk::HealthReport DockerRuntime::checkHealth() {
  try {
    DockerResponse response = client_.request("GET", "/_ping", "", std::min(timeouts_.call, Poco::Timespan(5, 0)));
    if (response.status == 200) return {true, "Docker engine at " + client_.endpoint().describe() + " answers"};
    return {false,
            "Docker engine at " + client_.endpoint().describe() + " answered " + std::to_string(response.status)};
  } catch (const std::exception& e) {
    return {false, e.what()};
  }
}

bool DockerRuntime::remove(const std::string& container_id) {
  try {
    DockerResponse response = client_.request("DELETE", "/containers/" + container_id + "?force=1", "", timeouts_.call);
    if (response.status == 204 || response.status == 404) {
      if (response.status == 204) logger_.debug("container " + container_id.substr(0, 12) + " removed");
      return true;
    }
    logger_.warn("cannot remove container " + container_id.substr(0, 12) + ": " + engineMessage(response.body) +
                 "; retrying in the background");
  } catch (const std::exception& e) {
    logger_.warn("cannot remove container " + container_id.substr(0, 12) + ": " + e.what() +
                 "; retrying in the background");
  }
  reaper_->remove(container_id);
  return false;
}

}  // namespace dray::plugins::runtime::docker

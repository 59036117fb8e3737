#include "plugins/runtime/docker/docker_runtime.hpp"

#include <atomic>
#include <optional>
#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include "dray/sdk/errors.hpp"
#include "plugins/runtime/docker/container_files.hpp"
#include "plugins/runtime/docker/prepared_container.hpp"
#include "plugins/runtime/docker/pull_reference.hpp"
#include "plugins/runtime/docker/stop_guard.hpp"
#include "plugins/runtime/docker/stream_pump.hpp"

namespace dray::plugins::runtime::docker {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

// Wait blocks for as long as the step runs; step timeouts are enforced by killing.
const Poco::Timespan kWaitTimeout(7 * 24 * 3600, 0);

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
// privileges, and its own PID, IPC and network namespaces. ContainerSpec (which output
// channels may adjust) has no field for any of these; spelling them out keeps a daemon
// default or a later field from quietly granting one. no-new-privileges stops setuid
// binaries in an image from gaining more than the step started with.
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
  host.set("AutoRemove", false);  // we remove, after copying files out
  // dray reads the output through attach; the engine's own json-file copy would cost a
  // second write of every byte (a flood of short lines took the engine minutes).
  Object logs;
  logs.set("Type", "none");
  logs.set("Config", Object());
  host.set("LogConfig", logs);
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
  body.set("HostConfig", hostConfig());
  return stringify(body);
}

DockerRuntime::DockerRuntime(DockerEndpoint endpoint, sdk::Logger& logger, DockerTimeouts timeouts)
    : client_(std::move(endpoint)), timeouts_(timeouts), logger_(logger),
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
  job_log.info("pulling image " + image);
  std::string error;
  // The engine answers 200 and reports failures inside the progress stream.
  DockerResponse response = client_.streamed(
      "POST", path,
      [&error](std::istream& in) {
        std::string line;
        while (std::getline(in, line)) {
          if (line.find("\"error\"") == std::string::npos) continue;
          try {
            error = parseObject(line)->getValue<std::string>("error");
          } catch (const std::exception&) {
            error = line;
          }
        }
      },
      timeouts_.pull, &interrupt);
  if (response.status / 100 != 2) error = engineMessage(response.body);
  if (!error.empty()) throw sdk::ImageUnavailable("cannot pull image " + image + ": " + error);
  job_log.info("pulled image " + image);
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

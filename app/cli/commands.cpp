#include "app/cli/commands.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include <Poco/JSON/Parser.h>

namespace dray::cli {
namespace {

using Clock = std::chrono::steady_clock;

int exitCodeFor(const std::string& status) {
  if (status == "complete") return kOk;
  if (status == "canceled") return kJobCanceled;
  return kJobError;
}

bool finished(const Poco::JSON::Object::Ptr& job) {
  const std::string state = job->optValue<std::string>("state", job->getValue<std::string>("status"));
  return state != "running" && state != "queued";
}

std::string readJobFile(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path);
    if (!in) throw ApiError(0, "cannot read " + path);
    text << in.rdbuf();
  }
  return text.str();
}

// "step 2/3 uppercase (dray-test/upper) 1.4s" for the step running now.
std::string progressLine(const Poco::JSON::Object::Ptr& job, Clock::time_point since) {
  auto steps = job->getArray("steps");
  const std::size_t total = steps ? steps->size() : 0;
  std::size_t current = 0;
  std::string label;
  for (std::size_t i = 0; i < total; ++i) {
    auto step = steps->getObject(i);
    if (step->getValue<std::string>("state") == "running") {
      current = i + 1;
      label = step->getValue<std::string>("name");
      label += (label.empty() ? "(" : " (") + step->getValue<std::string>("image") + ")";
    }
  }
  std::ostringstream out;
  double elapsed = std::chrono::duration<double>(Clock::now() - since).count();
  if (current == 0) {
    out << job->getValue<std::string>("state");
  } else {
    out << "step " << current << "/" << total << " " << label;
  }
  out << " " << std::fixed << std::setprecision(1) << elapsed << "s";
  return out.str();
}

// Reads the log from `index` page by page until a page comes back empty, printing the
// lines if asked (after clearing a progress line on stderr); returns the next index.
std::size_t readLogFrom(ApiClient& api, const std::string& id, std::size_t index, bool print_lines,
                        bool clear_progress) {
  for (auto lines = api.log(id, index); lines->size() > 0; lines = api.log(id, index)) {
    if (clear_progress) std::cerr << "\r\033[K";
    for (std::size_t i = 0; i < lines->size(); ++i) {
      if (print_lines) std::cout << lines->getElement<std::string>(i) << '\n';
    }
    std::cout << std::flush;
    index += lines->size();
  }
  return index;
}

std::string seconds(Clock::time_point since) {
  std::ostringstream out;
  out << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count() / 1000.0 << "s";
  return out.str();
}

// Against a dray without live events: prints new log lines until the job ends, polling;
// on a terminal also a live progress line.
int followByPolling(ApiClient& api, const std::string& id, bool print_lines) {
  const bool tty = ::isatty(STDERR_FILENO);
  const auto since = Clock::now();
  std::size_t index = 0;
  for (;;) {
    auto job = api.job(id);  // read before the log: no line written before the end is missed
    index = readLogFrom(api, id, index, print_lines, tty);
    if (finished(job)) {
      const std::string status = job->getValue<std::string>("status");
      if (tty) std::cerr << "\r\033[K";
      std::cerr << "job " << id << " " << status << " after " << seconds(since) << "\n";
      return exitCodeFor(status);
    }
    if (tty) std::cerr << "\r\033[K" << progressLine(job, since) << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Poco::JSON::Object::Ptr jsonOf(const SseEvent& event) {
  return Poco::JSON::Parser().parse(event.data).extract<Poco::JSON::Object::Ptr>();
}

// Prints the job's log lines as they come (live events), until it ends; on a terminal also
// a progress line. Falls back to polling against a dray without live events.
int follow(ApiClient& api, const std::string& id, bool print_lines) {
  const bool tty = ::isatty(STDERR_FILENO);
  const auto since = Clock::now();
  std::string status;
  std::size_t total = 0;
  std::string progress = "queued";
  auto outcome = api.followEvents(id, [&](const SseEvent& event) {
    if (event.event == "log") {
      if (tty) std::cerr << "\r\033[K";
      if (print_lines) std::cout << jsonOf(event)->getValue<std::string>("line") << '\n' << std::flush;
    } else if (event.event == "state") {
      auto state = jsonOf(event);
      total = state->getValue<std::size_t>("totalSteps");
      if (state->getValue<std::string>("state") == "queued") progress = "queued";
    } else if (event.event == "step") {
      auto step = jsonOf(event);
      std::string label = step->getValue<std::string>("name");
      label += (label.empty() ? "(" : " (") + step->getValue<std::string>("image") + ")";
      progress = "step " + std::to_string(step->getValue<std::size_t>("index") + 1) + "/" + std::to_string(total) +
                 " " + label;
    } else if (event.event == "end") {
      status = jsonOf(event)->getValue<std::string>("status");
    } else if (event.event == "removed") {
      status = "deleted";
    }
    if (tty && status.empty()) std::cerr << "\r\033[K" << progress << " " << seconds(since) << std::flush;
  });
  if (outcome == ApiClient::Follow::kUnsupported) return followByPolling(api, id, print_lines);
  if (tty) std::cerr << "\r\033[K";
  std::cerr << "job " << id << " " << status << " after " << seconds(since) << "\n";
  return exitCodeFor(status);
}

// Waits for the job's end with the long-poll (a minute per request), then says how it ended.
int waitForEnd(ApiClient& api, const std::string& id) {
  const auto since = Clock::now();
  for (;;) {
    const auto asked = Clock::now();
    auto job = api.waitForJob(id, 60);
    if (finished(job)) {
      const std::string status = job->getValue<std::string>("status");
      std::cerr << "job " << id << " " << status << " after " << seconds(since) << "\n";
      return exitCodeFor(status);
    }
    // A dray without the long-poll answers at once: do not hammer it.
    if (Clock::now() - asked < std::chrono::seconds(1)) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

int submit(ApiClient& api, const Options& options) {
  if (options.args.size() != 2) throw std::invalid_argument("submit needs one job file (or - for stdin)");
  std::string id = api.submit(readJobFile(options.args[1]));
  std::cout << id << std::endl;
  if (options.follow) return follow(api, id, true);
  if (options.wait) return waitForEnd(api, id);
  return kOk;
}

int wait(ApiClient& api, const Options& options) {
  if (options.args.size() != 2) throw std::invalid_argument("wait needs a job id");
  return waitForEnd(api, options.args[1]);
}

int list(ApiClient& api) {
  auto ids = api.list();
  std::printf("%-36s  %-9s  %-5s  %-27s  %s\n", "ID", "STATE", "STEPS", "CREATED", "NAME");
  for (std::size_t i = 0; i < ids->size(); ++i) {
    std::string id = ids->getObject(i)->getValue<std::string>("id");
    auto job = api.job(id);
    std::string steps = std::to_string(job->getValue<int>("stepsCompleted")) + "/" +
                        std::to_string(job->optValue<int>("totalSteps", 0));
    std::printf("%-36s  %-9s  %-5s  %-27s  %s\n", id.c_str(), job->optValue<std::string>("state", "").c_str(),
                steps.c_str(), job->optValue<std::string>("createdAt", "").c_str(),
                job->optValue<std::string>("name", "").c_str());
  }
  return kOk;
}

int status(ApiClient& api, const Options& options) {
  if (options.args.size() != 2) throw std::invalid_argument("status needs a job id");
  auto job = api.job(options.args[1]);
  if (options.json) {
    job->stringify(std::cout);
    std::cout << '\n';
    return kOk;
  }
  std::cout << "id:        " << job->getValue<std::string>("id") << '\n'
            << "name:      " << job->optValue<std::string>("name", "") << '\n'
            << "state:     " << job->optValue<std::string>("state", job->getValue<std::string>("status")) << '\n'
            << "steps:     " << job->getValue<int>("stepsCompleted") << "/" << job->optValue<int>("totalSteps", 0)
            << " completed\n"
            << "created:   " << job->optValue<std::string>("createdAt", "") << '\n'
            << "started:   " << job->optValue<std::string>("startedAt", "") << '\n'
            << "finished:  " << job->optValue<std::string>("finishedAt", "") << '\n';
  if (auto steps = job->getArray("steps")) {
    std::printf("\n%-4s  %-9s  %-4s  %-30s  %s\n", "STEP", "STATE", "EXIT", "IMAGE", "NAME");
    for (std::size_t i = 0; i < steps->size(); ++i) {
      auto step = steps->getObject(i);
      std::string exit_code = step->has("exitCode") ? std::to_string(step->getValue<int>("exitCode")) : "-";
      std::printf("%-4zu  %-9s  %-4s  %-30s  %s\n", i + 1, step->getValue<std::string>("state").c_str(),
                  exit_code.c_str(), step->getValue<std::string>("image").c_str(),
                  step->getValue<std::string>("name").c_str());
    }
  }
  return kOk;
}

int logs(ApiClient& api, const Options& options) {
  if (options.args.size() != 2) throw std::invalid_argument("logs needs a job id");
  const std::string& id = options.args[1];
  if (options.follow) return follow(api, id, true);
  readLogFrom(api, id, 0, true, false);
  return kOk;
}

int simple(const Options& options, const char* what, void (ApiClient::*call)(const std::string&), ApiClient& api) {
  if (options.args.size() != 2) throw std::invalid_argument(std::string(what) + " needs a job id");
  (api.*call)(options.args[1]);
  return kOk;
}

}  // namespace

int runCommand(ApiClient& api, const Options& options) {
  const std::string& command = options.args.at(0);
  if (command == "submit") return submit(api, options);
  if (command == "ls") return list(api);
  if (command == "status") return status(api, options);
  if (command == "logs") return logs(api, options);
  if (command == "wait") return wait(api, options);
  if (command == "cancel") return simple(options, "cancel", &ApiClient::cancel, api);
  if (command == "rm") return simple(options, "rm", &ApiClient::remove, api);
  throw std::invalid_argument("unknown command '" + command + "'");
}

}  // namespace dray::cli

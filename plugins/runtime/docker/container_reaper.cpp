#include "plugins/runtime/docker/container_reaper.hpp"

#include <algorithm>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

namespace dray::plugins::runtime::docker {
namespace {

constexpr auto kFirstRetry = std::chrono::seconds(1);
constexpr auto kLongestRetry = std::chrono::seconds(60);

std::string labelFilter(const std::vector<std::string>& labels) {
  Poco::JSON::Array list;
  for (const auto& label : labels) list.add(label);
  Poco::JSON::Object filter;
  filter.set("label", list);
  std::ostringstream json;
  filter.stringify(json);
  std::string encoded;
  Poco::URI::encode(json.str(), "!#$&'()*+,/:;=?@[]\"{}", encoded);
  return encoded;
}

}  // namespace

ContainerReaper::ContainerReaper(DockerClient& client, sdk::Logger& logger, Poco::Timespan call_timeout)
    : client_(client), logger_(logger), call_timeout_(call_timeout), thread_([this] { loop(); }) {}

ContainerReaper::~ContainerReaper() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  interrupt_.fire();
  wake_.notify_all();
  thread_.join();
  // After the join: a task cut short in flight is back in the list.
  std::vector<std::string> left;
  for (const auto& [due, task] : tasks_) {
    left.push_back(task.container.empty() ? "labelled " + task.labels.front() : task.container.substr(0, 12));
  }
  if (!left.empty()) {
    std::string names;
    for (const auto& name : left) names += (names.empty() ? "" : ", ") + name;
    logger_.warn("abandoning " + std::to_string(left.size()) + " containers the engine would not remove: " + names +
                 " (a restart of this dray instance removes them)");
  }
}

void ContainerReaper::remove(const std::string& id) { schedule(Task{id, {}, 0, Clock::now()}); }

void ContainerReaper::removeLabelled(std::vector<std::string> labels, std::chrono::milliseconds delay) {
  schedule(Task{"", std::move(labels), 0, Clock::now() + delay, 3});
}

void ContainerReaper::schedule(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    tasks_.emplace(task.due, std::move(task));
  }
  wake_.notify_all();
}

std::size_t ContainerReaper::pending() const {
  std::lock_guard lock(mutex_);
  // Containers only: a label search that finds nothing has nothing left behind.
  auto waiting =
      std::count_if(tasks_.begin(), tasks_.end(), [](const auto& entry) { return !entry.second.container.empty(); });
  return static_cast<std::size_t>(waiting) + in_flight_;
}

bool ContainerReaper::attempt(Task& task) {
  if (!task.container.empty()) {
    DockerResponse response =
        client_.request("DELETE", "/containers/" + task.container + "?force=1", "", call_timeout_, &interrupt_);
    if (response.status == 204 || response.status == 404) {
      if (task.attempts > 0) logger_.info("reaper: container " + task.container.substr(0, 12) + " removed");
      return true;
    }
    throw sdk::EngineError(engineMessage(response.body));
  }
  DockerResponse response = client_.request("GET", "/containers/json?all=1&filters=" + labelFilter(task.labels), "",
                                            call_timeout_, &interrupt_);
  if (response.status != 200) throw sdk::EngineError(engineMessage(response.body));
  auto list = Poco::JSON::Parser().parse(response.body).extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < list->size(); ++i) remove(list->getObject(i)->getValue<std::string>("Id"));
  if (task.searches_left > 0) {  // look again later: the create may still be under way
    schedule(Task{"", task.labels, 0, Clock::now() + kLongestRetry / 2, task.searches_left - 1});
  }
  return true;
}

void ContainerReaper::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto next = tasks_.begin();
    if (next->first > Clock::now()) {
      const Clock::time_point due = next->first;  // a copy: the entry may go while this waits
      wake_.wait_until(lock, due);
      continue;
    }
    Task task = std::move(next->second);
    tasks_.erase(next);
    const bool container = !task.container.empty();
    if (container) ++in_flight_;
    lock.unlock();
    bool done = false;
    std::string error;
    try {
      done = attempt(task);
    } catch (const std::exception& e) {
      error = e.what();
    }
    lock.lock();
    if (container) --in_flight_;
    if (done || stopping_) {
      if (!done) tasks_.emplace(Clock::now(), std::move(task));  // listed as abandoned
      continue;
    }
    ++task.attempts;
    auto delay = std::min<Clock::duration>(kFirstRetry * (1u << std::min(task.attempts - 1, 6u)), kLongestRetry);
    const std::string what = task.container.empty() ? "the containers labelled " + task.labels.front()
                                                    : "container " + task.container.substr(0, 12);
    logger_.warn("reaper: cannot remove " + what + " (try " + std::to_string(task.attempts) + "): " + error +
                 "; next try in " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(delay).count()) +
                 " s");
    task.due = Clock::now() + delay;
    tasks_.emplace(task.due, std::move(task));
  }
}

}  // namespace dray::plugins::runtime::docker

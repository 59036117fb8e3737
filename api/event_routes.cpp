#include "api/event_routes.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/JSONString.h>
#include <Poco/NumberParser.h>

#include "api/job_feed.hpp"
#include "api/job_routes.hpp"
#include "core/job_json.hpp"
#include "core/job_state.hpp"

namespace dray::api {
namespace {

constexpr std::size_t kPageLines = 64;          // log lines per storage read
constexpr std::size_t kPieceBytes = 64 << 10;   // a piece is cut after this much
constexpr std::size_t kMaxPendingJobs = 10000;  // /events: changed jobs not yet looked at
constexpr unsigned kMaxWaitSeconds = 300;       // GET /jobs/{id}?wait=

void appendEvent(std::string& out, std::string_view event, const std::string& data,
                 std::optional<std::size_t> id = std::nullopt) {
  if (id) out.append("id: ").append(std::to_string(*id)).append("\n");
  out.append("event: ").append(event).append("\ndata: ").append(data).append("\n\n");
}

Response eventStreamResponse(std::shared_ptr<BodyProducer> stream) {
  Response response{200, "", "text/event-stream", {}};
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("X-Accel-Buffering", "no");  // a proxy in front must not hold events back
  response.stream = std::move(stream);
  return response;
}

std::string stateKey(const core::JobView& job) {
  return job.record.status + '|' + job.state + '|' + std::to_string(job.record.completed_steps) + '|' +
         job.record.started_at + '|' + job.record.finished_at;
}

// What a follower has been told of the job's state; the step count comes with the steps.
std::string statusKey(const core::JobView& job) { return job.record.status + '|' + job.state; }

// Wakes a producer from JobWatch: a timer tick ("" with kRecord) is a heartbeat.
template <typename Stream>
core::JobWatch::Waker wakerFor(const std::shared_ptr<Stream>& stream) {
  return [weak = std::weak_ptr<Stream>(stream)](const std::string& id, sdk::JobChange change) {
    if (auto alive = weak.lock()) alive->notice(id, change);
  };
}

// GET /jobs/{id}/events. Reads the log before the record in every round: a step's start is
// recorded before its first line, so every line read has its step's start in the record
// read after it, and events come out in the order of their log positions (StepRecord::
// log_from/log_until). Once the record says the job ended the log is complete, and the
// rest of it is sent before `end`.
// Storage is read through the job's feed, shared with the job's other followers.
class JobEventStream final : public BodyProducer, public std::enable_shared_from_this<JobEventStream> {
 public:
  JobEventStream(std::shared_ptr<JobFeed> feed, std::string id, std::optional<std::size_t> last_event_id)
      : feed_(std::move(feed)), id_(std::move(id)) {
    if (last_event_id) cursor_ = floor_ = *last_event_id + 1;
  }
  ~JobEventStream() override {
    if (follower_key_) feed_->leave(follower_key_);
  }

  void follow() { follower_key_ = feed_->join(wakerFor(shared_from_this())); }

  void notice(const std::string& id, sdk::JobChange change) {
    if (id.empty() && change == sdk::JobChange::kRecord) heartbeat_due_ = true;
    wake();
  }

  std::optional<std::string> next() override {
    if (done_) return std::nullopt;
    std::string out;
    if (position_ == page_.size()) readPage();
    const JobFeed::Record record = feed_->record(page_read_);  // read after the page: see above
    const auto& job = record.job;
    if (!job) {
      Poco::JSON::Object removed;
      removed.set("id", id_);
      appendEvent(out, "removed", core::toJsonText(removed));
      done_ = true;
      return out;
    }
    if (!opened_) open(*job, out);
    const bool ended = core::hasEnded(*job);
    if (ended && !log_final_) {
      log_final_ = true;
      ended_read_ = record.read;
      if (position_ == page_.size()) readPage();  // the page before may predate the last lines
    }
    if (!ended && statusKey(*job) != sent_state_) {
      // A job starts before its first step does: the state comes before the steps' events,
      // however many changes this one read covers. Steps done are counted by their events.
      core::JobView shown = *job;
      shown.record.completed_steps = completed_sent_;
      appendEvent(out, "state", core::toJsonText(core::jobSummary(shown)));
      sent_state_ = statusKey(*job);
      sent_job_ = std::move(shown);
    }
    const bool steps_done = sendSteps(*job, *record.texts, out);
    while (out.size() < kPieceBytes && position_ < page_.size()) sendLine(out);
    const bool log_done = log_final_ && page_final_ && at_log_end_ && position_ == page_.size();
    if (ended && steps_done && log_done) {  // the final state (a live one was sent above), then `end`
      if (statusKey(*job) != sent_state_) {
        appendEvent(out, "state", core::toJsonText(core::jobSummary(*job)));
        sent_state_ = statusKey(*job);
        sent_job_ = *job;
      }
      appendEvent(out, "end", record.texts->get("end", [&] { return core::toJsonText(core::jobObject(*job)); }));
      done_ = true;
    }
    if (heartbeat_due_.exchange(false) && out.empty()) out = ": heartbeat\n\n";
    return out;  // empty: nothing yet, wait for notice()
  }

 private:
  struct StepEvent {
    std::size_t position;  // sent before the log line of this index
    bool end;
    std::size_t index;
    sdk::StepRecord step;
  };
  struct Sent {
    unsigned attempt = 0;
    bool ended = false;
  };

  // The first events: how long to wait before reconnecting, and the state. From the start
  // of the history, a job that started is shown as it was then (running, no step done);
  // the steps' events bring it up to date. A resumed stream gets the state as it is.
  void open(const core::JobView& job, std::string& out) {
    opened_ = true;
    out += "retry: 2000\n\n";
    core::JobView shown = job;
    if (floor_ == 0 && !job.record.started_at.empty()) {
      shown.record.status = shown.state = sdk::kStatusRunning;
      shown.record.completed_steps = 0;
      shown.record.finished_at.clear();
    } else {
      completed_sent_ = job.record.completed_steps;
    }
    appendEvent(out, "state", core::toJsonText(core::jobSummary(shown)));
    sent_state_ = statusKey(shown);
    sent_job_ = shown;
  }

  // The job is looked up right after (next()), so an empty page needs no lookup of its own.
  // Once the job has ended, the page is one read after the record that said so.
  void readPage() {
    page_final_ = log_final_;
    JobFeed::Page page = feed_->logPage(cursor_, kPageLines, log_final_ ? ended_read_ : 0);
    page_ = std::move(page.lines);
    page_read_ = page.read;
    position_ = 0;
    at_log_end_ = page.at_end;
  }

  // The commonest event, sent to every follower: written without building a JSON object
  // (the same text as {"index": N, "line": "..."} stringified, in that order).
  void sendLine(std::string& out) {
    const std::string data = "{\"index\":" + std::to_string(cursor_) +
                             ",\"line\":" + Poco::toJSON(page_[position_], Poco::JSON_WRAP_STRINGS) + '}';
    appendEvent(out, "log", data, cursor_);
    ++position_;
    ++cursor_;
  }

  // Sends the step events due by now, lines before each of them first. True when none is
  // left waiting for lines that are not readable yet.
  bool sendSteps(const core::JobView& job, JobFeed::Texts& texts, std::string& out) {
    std::vector<StepEvent> due = stepEvents(job.record);
    for (const StepEvent& event : due) {
      while (cursor_ < event.position && position_ < page_.size() && out.size() < kPieceBytes) sendLine(out);
      const bool lines_exhausted = log_final_ && page_final_ && at_log_end_ && position_ == page_.size();
      if (cursor_ < event.position && !lines_exhausted) return false;
      Sent& sent = sent_[event.index];
      sent.attempt = event.step.attempts;
      sent.ended = event.end;
      if (event.position < floor_) continue;  // before the client's Last-Event-ID: it has it
      const std::string key = "step " + std::to_string(event.index) + (event.end ? " end" : " start");
      appendEvent(out, "step",
                  texts.get(key, [&] { return core::toJsonText(core::stepObject(event.step, event.index)); }));
      if (event.end && event.step.state == sdk::kStatusComplete) {
        // One more step done: the job's count as it was then (the record may be ahead).
        sent_job_.record.completed_steps = ++completed_sent_;
        appendEvent(out, "state", core::toJsonText(core::jobSummary(sent_job_)));
      }
    }
    return true;
  }

  std::vector<StepEvent> stepEvents(const sdk::JobRecord& record) {
    if (sent_.size() < record.steps.size()) sent_.resize(record.steps.size());
    std::vector<StepEvent> events;
    for (std::size_t i = 0; i < record.steps.size(); ++i) {
      const sdk::StepRecord& step = record.steps[i];
      const Sent& sent = sent_[i];
      if (step.attempts == 0 || step.attempts < sent.attempt) continue;
      const bool ended = core::isFinal(step.state);
      if (sent.attempt < step.attempts) {
        sdk::StepRecord started = step;  // as it was when the attempt began
        started.state = sdk::kStatusRunning;
        started.exit_code = -1;
        started.finished_at.clear();
        events.push_back({step.log_from, false, i, started});
      }
      if (ended && !(sent.attempt == step.attempts && sent.ended)) {
        events.push_back({std::max(step.log_until, step.log_from), true, i, step});
      }
    }
    std::stable_sort(events.begin(), events.end(), [](const StepEvent& a, const StepEvent& b) {
      if (a.position != b.position) return a.position < b.position;
      if (a.end != b.end) return a.end;  // a step that ends where the next begins ends first
      return a.index < b.index;
    });
    return events;
  }

  const std::shared_ptr<JobFeed> feed_;
  const std::string id_;
  std::uint64_t follower_key_ = 0;
  std::atomic<bool> heartbeat_due_{false};
  std::uint64_t page_read_ = 0;   // when page_ was read (JobFeed's read stamps)
  std::uint64_t ended_read_ = 0;  // when the record that said the job had ended was read
  std::size_t cursor_ = 0;        // index of the next log line to send
  std::size_t floor_ = 0;         // events before this log position were sent on an earlier connection
  std::vector<std::string> page_;
  std::size_t position_ = 0;  // next line of page_ to send
  bool at_log_end_ = false;   // page_ was the last of the log when it was read
  bool page_final_ = false;   // ... and was read after the job had ended
  bool log_final_ = false;    // the job has ended: the log grows no more
  std::vector<Sent> sent_;    // per step
  std::string sent_state_;    // statusKey() of the last state sent
  core::JobView sent_job_;    // the state last sent, for the step count's updates
  std::size_t completed_sent_ = 0;
  bool opened_ = false;
  bool done_ = false;
};

// GET /events: `state` events of every job that changes.
class AllJobsEventStream final : public BodyProducer, public std::enable_shared_from_this<AllJobsEventStream> {
 public:
  AllJobsEventStream(core::JobService& service, std::string status, Caller caller)
      : service_(service), status_(std::move(status)), caller_(std::move(caller)) {}

  void follow(core::JobWatch& watch) { subscription_ = watch.watch("", wakerFor(shared_from_this()), true); }

  void notice(const std::string& id, sdk::JobChange change) {
    if (change == sdk::JobChange::kLog) return;  // lines do not change a job's state
    {
      std::lock_guard lock(mutex_);
      if (change == sdk::JobChange::kResync) {
        resync_ = true;
      } else if (id.empty()) {
        heartbeat_due_ = true;
      } else if (pending_.size() < kMaxPendingJobs) {
        pending_.insert(id);
      } else {
        resync_ = true;  // too far behind to say what changed: the client reloads
      }
    }
    wake();
  }

  std::optional<std::string> next() override {
    std::unordered_set<std::string> changed;
    bool resync = false;
    bool heartbeat = false;
    {
      std::lock_guard lock(mutex_);
      changed.swap(pending_);
      std::swap(resync, resync_);
      std::swap(heartbeat, heartbeat_due_);
    }
    std::string out;
    if (!opened_) {
      out += "retry: 2000\n\n";
      opened_ = true;
    }
    if (resync) {
      appendEvent(out, "resync", "{}");  // notices were lost: what the client shows may be stale
      sent_.clear();
    }
    for (const auto& id : changed) {
      auto job = service_.find(id);
      if (job && !visibleTo(caller_, *job)) continue;  // a user token sees only its own jobs
      if (!job) {
        // Who created a deleted job is unknown: a user token hears only of those it was shown.
        const bool shown = caller_.role == Role::kUser ? shown_.erase(id) > 0 : status_.empty();
        if (sent_.erase(id) || shown) {
          Poco::JSON::Object removed;
          removed.set("id", id);
          appendEvent(out, "removed", core::toJsonText(removed));
        }
        continue;
      }
      const std::string key = stateKey(*job);
      auto& sent = sent_[id];
      if (sent == key) continue;
      sent = key;
      if (core::hasEnded(*job)) sent_.erase(id);  // keeps the map as small as the live jobs
      if (!status_.empty() && job->state != status_) continue;
      if (caller_.role == Role::kUser) shown_.insert(id);
      appendEvent(out, "state", core::toJsonText(core::jobSummary(*job)));
    }
    if (heartbeat && out.empty()) out = ": heartbeat\n\n";
    return out;
  }

 private:
  core::JobService& service_;
  const std::string status_;
  const Caller caller_;
  core::JobWatch::Subscription subscription_;
  std::mutex mutex_;
  std::unordered_set<std::string> pending_;
  bool resync_ = false;
  bool heartbeat_due_ = false;
  std::unordered_map<std::string, std::string> sent_;  // job id -> state key last sent
  std::unordered_set<std::string> shown_;              // for a user token: its jobs shown, until removed
  bool opened_ = false;
};

// GET /jobs/{id}?wait=SECONDS: one answer, sent when the job has ended or the time is up.
class LongPollAnswer final : public BodyProducer, public std::enable_shared_from_this<LongPollAnswer> {
 public:
  LongPollAnswer(core::JobService& service, core::JobView job, std::chrono::steady_clock::time_point deadline)
      : service_(service), last_(std::move(job)), deadline_(deadline) {}

  void follow(core::JobWatch& watch) {
    subscription_ = watch.watch(last_.record.id, wakerFor(shared_from_this()));
    subscription_.wakeAt(deadline_);
  }

  void notice(const std::string&, sdk::JobChange) { wake(); }

  std::optional<std::string> next() override {
    if (answered_) return std::nullopt;
    if (auto job = service_.find(last_.record.id)) last_ = std::move(*job);  // gone: the last record seen
    if (!core::hasEnded(last_) && std::chrono::steady_clock::now() < deadline_) return std::string();
    answered_ = true;
    subscription_.reset();
    return core::toJsonText(core::jobObject(last_));
  }

 private:
  core::JobService& service_;
  core::JobView last_;
  const std::chrono::steady_clock::time_point deadline_;
  core::JobWatch::Subscription subscription_;
  bool answered_ = false;
};

std::optional<std::size_t> lastEventId(const Request& request) {
  std::string text = request.header("Last-Event-ID");
  if (text.empty()) {
    auto it = request.query.find("lastEventId");  // for clients that cannot set headers
    if (it != request.query.end()) text = it->second;
  }
  if (text.empty()) return std::nullopt;
  Poco::UInt64 value = 0;
  if (!Poco::NumberParser::tryParseUnsigned64(text, value) || text.front() == '+')
    throw HttpError(400, "Last-Event-ID must be a log line index (a whole number), got '" + text + "'");
  return static_cast<std::size_t>(value);
}

Response followJob(core::JobService& service, JobFeeds& feeds, const std::string& id, const Request& request) {
  const auto last = lastEventId(request);
  if (!service.find(id)) throw HttpError(404, "no such job: " + id);
  auto stream = std::make_shared<JobEventStream>(feeds.feedFor(id), id, last);
  stream->follow();
  return eventStreamResponse(std::move(stream));
}

Response followAllJobs(core::JobService& service, core::JobWatch& watch, const Request& request) {
  auto stream = std::make_shared<AllJobsEventStream>(service, stateFilter(request), request.caller);
  stream->follow(watch);
  return eventStreamResponse(std::move(stream));
}

}  // namespace

Response getJobMaybeWaiting(core::JobService& service, core::JobWatch& watch, const std::string& id,
                            const Request& request) {
  std::optional<unsigned> wait;
  if (auto it = request.query.find("wait"); it != request.query.end()) {
    Poco::UInt64 seconds = 0;
    if (!Poco::NumberParser::tryParseUnsigned64(it->second, seconds) || it->second.front() == '+' ||
        seconds > kMaxWaitSeconds) {
      throw HttpError(400, "wait must be a whole number of seconds from 0 to " + std::to_string(kMaxWaitSeconds) +
                               ", got '" + it->second + "'");
    }
    wait = static_cast<unsigned>(seconds);
  }
  auto job = service.find(id);
  if (!job) throw HttpError(404, "no such job: " + id);
  if (!wait || *wait == 0 || core::hasEnded(*job)) return jsonResponse(200, core::jobObject(*job));
  auto answer = std::make_shared<LongPollAnswer>(service, std::move(*job),
                                                 std::chrono::steady_clock::now() + std::chrono::seconds(*wait));
  answer->follow(watch);
  Response response{200, "", "application/json", {}};
  response.stream = std::move(answer);
  return response;
}

void addEventRoutes(Router& router, core::JobService& service, core::JobWatch& watch) {
  // Shared by the routes, and by the feeds while their streams live (they may outlive the router).
  auto feeds = std::make_shared<JobFeeds>(service, watch);
  router.add("GET", "/jobs/{id}/events",
             [&service, feeds](const Request& r, const PathParams& p) { return followJob(service, *feeds, p[0], r); });
  router.add("GET", "/events",
             [&service, &watch](const Request& r, const PathParams&) { return followAllJobs(service, watch, r); });
}

}  // namespace dray::api

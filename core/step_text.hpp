#pragma once

// How the job log and the process log name a step, its limits and durations (both
// pipelines and the runner).
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/job_resolver.hpp"

namespace dray::core {

/// `step 2 "name" (image)`, as the client wrote the image.
inline std::string describeStep(const ResolvedStep& step) {
  std::string text = "step " + std::to_string(step.spec.index + 1);
  if (!step.spec.name.empty()) text += " \"" + step.spec.name + "\"";
  return text + " (" + step.source + ")";
}

/// `value` printed with `format` ("%g": 1.5, 300, 0.25).
inline std::string decimal(double value, const char* format = "%g") {
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

/// Seconds as the job log says them: "1.5 s".
inline std::string describeSeconds(double seconds) { return decimal(seconds) + " s"; }

/// A memory limit as a person reads it.
inline std::string describeMemory(std::int64_t bytes) {
  if (bytes <= 0) return "none set";
  if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace dray::core

// The step record as the Redis storage keeps it (JSON in the `jobs:<id>:steps` hash).
// Two checks per input: (1) the input read as a stored record, maybe hand-edited or
// foreign: decoding never throws, every field that is present and well-typed is taken, and
// re-encoding what was decoded reads back the same; (2) the input cut into a record's
// fields (when they are valid UTF-8, as every real one is): encode then decode gives the
// record back exactly.
#include <climits>
#include <cstring>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "plugins/storage/redis/step_record_codec.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dray::plugins::storage::redis::decodeStepRecord;
using dray::plugins::storage::redis::encodeStepRecord;
using dray::sdk::StepRecord;

bool same(const StepRecord& a, const StepRecord& b) {
  return a.name == b.name && a.image == b.image && a.state == b.state && a.exit_code == b.exit_code &&
         a.started_at == b.started_at && a.finished_at == b.finished_at;
}

StepRecord decode(const std::string& json) {
  try {
    return decodeStepRecord(json);
  } catch (...) {
    FUZZ_FAIL("decodeStepRecord threw");  // documented: malformed fields keep their defaults
  }
}

// What a present, well-typed field must decode to, read with Poco directly.
void checkFields(const std::string& json, const StepRecord& decoded) {
  Poco::JSON::Object::Ptr object;
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var root = parser.parse(json);
    if (root.type() != typeid(Poco::JSON::Object::Ptr)) return;
    object = root.extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    return;
  }
  auto expectString = [&](const char* key, const std::string& field) {
    if (!object->has(key)) return;
    Poco::Dynamic::Var value = object->get(key);
    if (value.isString()) FUZZ_CHECK(field == value.extract<std::string>());
  };
  expectString("name", decoded.name);
  expectString("image", decoded.image);
  expectString("state", decoded.state);
  expectString("startedAt", decoded.started_at);
  expectString("finishedAt", decoded.finished_at);
  if (object->has("exitCode")) {
    Poco::Dynamic::Var value = object->get("exitCode");
    if (value.isInteger() && !value.isString()) {
      Poco::Int64 code = 0;
      try {
        code = value.convert<Poco::Int64>();
      } catch (const std::exception&) {
        return;  // beyond 64 bits
      }
      if (code >= INT_MIN && code <= INT_MAX) FUZZ_CHECK(decoded.exit_code == code);
    }
  }
}

// Five NUL-separated strings, then the exit code (4 bytes, little-endian) if any are left.
StepRecord recordFrom(std::string_view data) {
  StepRecord record;
  std::string* fields[] = {&record.name, &record.image, &record.state, &record.started_at, &record.finished_at};
  for (std::string* field : fields) {
    const std::size_t end = data.find('\0');
    *field = std::string(data.substr(0, end));
    data.remove_prefix(end == std::string_view::npos ? data.size() : end + 1);
  }
  if (data.size() >= 4) {
    std::uint32_t code = 0;
    std::memcpy(&code, data.data(), 4);
    record.exit_code = static_cast<int>(code);
  }
  return record;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  const StepRecord decoded = decode(input);
  checkFields(input, decoded);
  FUZZ_CHECK(same(decode(encodeStepRecord(decoded)), decoded));

  // Every string of a record comes from a job document (which the JSON parser only accepts
  // in valid UTF-8), an image reference, a state or a time stamp: valid UTF-8 all.
  const StepRecord record = recordFrom(input);
  for (const std::string* field :
       {&record.name, &record.image, &record.state, &record.started_at, &record.finished_at}) {
    if (!dray::fuzz::validUtf8(*field)) return 0;
  }
  const std::string encoded = encodeStepRecord(record);
  if (!same(decode(encoded), record)) {
    std::fprintf(stderr, "record does not survive encode/decode: %s\n", encoded.c_str());
    FUZZ_FAIL("decode(encode(record)) == record");
  }
  return 0;
}

#include "api/json_shape.hpp"

#include <string>
#include <vector>

#include "api/http_types.hpp"

namespace dray::api {

void checkJsonShape(std::string_view body, std::size_t max_keys, std::size_t max_depth, std::size_t max_values) {
  // One entry per open container: its key count, or SIZE_MAX for an array.
  constexpr std::size_t kArray = static_cast<std::size_t>(-1);
  std::vector<std::size_t> open;
  bool in_string = false;
  std::size_t values = 1;  // containers and separators: about one per value
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (open.size() >= max_depth)
          throw HttpError(400, "JSON nested deeper than " + std::to_string(max_depth) + " levels");
        open.push_back(c == '{' ? 0 : kArray);
        [[fallthrough]];
      case ',':
        if (++values > max_values) {
          throw HttpError(400, "the JSON body has more than " + std::to_string(max_values) + " values");
        }
        break;
      case '}':
      case ']':
        if (!open.empty()) open.pop_back();
        break;
      case ':':
        if (!open.empty() && open.back() != kArray && ++open.back() > max_keys) {
          throw HttpError(400, "a JSON object has more than " + std::to_string(max_keys) + " keys");
        }
        break;
      default:
        break;
    }
  }
}

}  // namespace dray::api

#include "core/image_policy.hpp"

#include <Poco/StringTokenizer.h>

namespace dray::core {

bool globMatch(std::string_view glob, std::string_view text) {
  // matched[j]: the glob read so far matches text[0, j). One row per glob token.
  std::vector<char> matched(text.size() + 1, 0);
  matched[0] = 1;
  std::size_t i = 0;
  while (i < glob.size()) {
    if (glob[i] == '*') {
      const bool any = i + 1 < glob.size() && glob[i + 1] == '*';
      while (i < glob.size() && glob[i] == '*') ++i;  // "***" is "**"
      // A star extends every match by characters it may cover.
      for (std::size_t j = 1; j <= text.size(); ++j) {
        if (!matched[j] && matched[j - 1] && (any || text[j - 1] != '/')) matched[j] = 1;
      }
      continue;
    }
    for (std::size_t j = text.size(); j > 0; --j) matched[j] = matched[j - 1] && text[j - 1] == glob[i];
    matched[0] = 0;
    ++i;
  }
  return matched[text.size()] != 0;
}

std::vector<std::string> ImagePolicy::splitSetting(std::string_view setting) {
  Poco::StringTokenizer parts(std::string(setting), ",",
                              Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
  return {parts.begin(), parts.end()};
}

ImagePolicy ImagePolicy::fromSetting(std::string_view setting) { return ImagePolicy(splitSetting(setting)); }

ImagePolicy::ImagePolicy(const std::vector<std::string>& patterns) {
  for (const auto& text : patterns) {
    try {
      ImageReference parsed = parseImageReference(text, ReferenceSyntax::kPattern);
      patterns_.push_back({parsed.name(), parsed.tag, parsed.digest});
    } catch (const ImageReferenceError& e) {
      throw ImageReferenceError("pattern '" + text + "': " + e.what());
    }
  }
}

bool ImagePolicy::allows(const ImageReference& image) const {
  if (patterns_.empty()) return true;
  const std::string name = image.name();
  for (const Pattern& pattern : patterns_) {
    if (!pattern.digest.empty() && pattern.digest != image.digest) continue;
    // A tag pattern needs a tag: a digest-only reference does not satisfy `app:1.*`.
    if (!pattern.tag.empty() && (image.tag.empty() || !globMatch(pattern.tag, image.tag))) continue;
    if (globMatch(pattern.name, name)) return true;
  }
  return false;
}

std::string ImagePolicy::describe() const {
  std::string text;
  for (const Pattern& pattern : patterns_) {
    if (!text.empty()) text += ", ";
    text += pattern.name;
    if (!pattern.tag.empty()) text += ":" + pattern.tag;
    if (!pattern.digest.empty()) text += "@" + pattern.digest;
  }
  return text;
}

}  // namespace dray::core

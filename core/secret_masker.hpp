#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace dray::core {

/// What replaces a secret in the job log (and in echoed job documents).
inline constexpr std::string_view kSecretMask = "***";

/// Values shorter than this are not searched for inside lines: they would mask ordinary
/// words everywhere. The API refuses shorter secrets; a short line of a multi-line secret
/// is masked only when it is a whole log line.
inline constexpr std::size_t kMinSecretLength = 4;

/// Replaces every occurrence of a job's secret values in a log line with "***".
/// A multi-line value counts as one value per line ('\r' before '\n' dropped), since the
/// log is split into lines before masking. Overlapping and adjacent occurrences merge into
/// one "***". Matching is one Aho-Corasick pass over the line, so the cost does not grow
/// with the number of secrets. Immutable after construction: share it between threads.
class SecretMasker {
 public:
  explicit SecretMasker(const std::vector<std::string>& secrets);

  /// True when there is nothing to mask.
  bool empty() const { return nodes_.size() == 1 && whole_lines_.empty(); }

  /// Appends `line` with secrets masked to `out` and returns true; returns false and leaves
  /// `out` alone when the line holds no secret (no allocation then).
  bool maskInto(std::string_view line, std::string& out) const;

  /// `line` with secrets masked.
  std::string mask(std::string_view line) const;

  /// Where a line that must be cut (it is too long for one log line) can be cut without
  /// splitting a secret: the largest position at most `text.size()` minus (longest secret
  /// − 1) that lies inside no occurrence. What follows it is carried over to the next
  /// piece, so a secret straddling the cut is still seen whole.
  std::size_t safeCut(std::string_view text) const;

 private:
  // Most trie nodes of long values have one child: it is kept inline (no allocation),
  // further children in `more`, sorted by byte. About 40 bytes per byte of secret.
  struct Node {
    std::uint32_t fail = 0;
    std::uint32_t longest = 0;  // longest secret ending here, own or via the fail chain
    std::uint32_t only = 0;     // first child, 0 = none (the root is never a child)
    unsigned char only_byte = 0;
    std::vector<std::pair<unsigned char, std::uint32_t>> more;
  };
  struct Span {
    std::size_t begin;
    std::size_t end;
  };

  void add(std::string_view secret);
  void link();
  std::uint32_t child(std::uint32_t node, unsigned char byte) const;
  std::uint32_t step(std::uint32_t node, unsigned char byte) const;

  std::vector<Node> nodes_{Node{}};              // nodes_[0] is the root
  std::array<std::uint32_t, 256> root_next_{};   // the root's transitions, the hot path
  std::unordered_set<std::string> whole_lines_;  // short pieces, masked only as whole lines
  std::size_t longest_secret_ = 0;
};

using SecretMaskerPtr = std::shared_ptr<const SecretMasker>;

}  // namespace dray::core
